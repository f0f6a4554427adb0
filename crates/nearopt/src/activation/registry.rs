//! The one registry of activation kinds: the network file reader, the CLI's `--activation`
//! parser and `docs/activations.md` (checked by a test) all read [`REGISTRY`]. Adding an
//! activation is its file, its [`super::Activation`] variant and one entry here.

use super::Activation;
use serde_json::{Map, Value};

/// The type of an activation parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyType {
    /// One finite number.
    Number,
    /// A non-empty list of finite numbers.
    NumberList,
}

/// One parameter of an activation kind (a key of its JSON object besides `kind`).
#[derive(Clone, Copy, Debug)]
pub struct ParamKey {
    /// The JSON key (and the CLI flag `--KEY`).
    pub name: &'static str,
    /// Its type.
    pub ty: KeyType,
    /// Default the CLI uses when the flag is not given (`None`: the flag is required).
    pub cli_default: Option<f64>,
}

/// One activation kind.
#[derive(Clone, Copy, Debug)]
pub struct ActivationKind {
    /// The `kind` string of the file format.
    pub kind: &'static str,
    /// Its parameters.
    pub keys: &'static [ParamKey],
    /// One line for the docs and the CLI help: the formula and the route to its moments.
    pub doc: &'static str,
    /// Builds the activation from its parameters (already type-checked).
    pub build: fn(&Params) -> Activation,
}

/// Parameter values by key, type-checked against the kind's [`ParamKey`]s.
#[derive(Clone, Debug, Default)]
pub struct Params {
    numbers: Vec<(&'static str, f64)>,
    lists: Vec<(&'static str, Vec<f64>)>,
}

impl Params {
    /// The number under `key` (type-checked before `build` runs).
    pub fn number(&self, key: &str) -> f64 {
        self.numbers
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| *v)
            .expect("registry keys are checked before building")
    }
    /// The list under `key`.
    pub fn list(&self, key: &str) -> Vec<f64> {
        self.lists
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.clone())
            .expect("registry keys are checked before building")
    }
}

const fn num(name: &'static str, cli_default: Option<f64>) -> ParamKey {
    ParamKey {
        name,
        ty: KeyType::Number,
        cli_default,
    }
}

/// Every activation kind, in the order the docs list them.
pub static REGISTRY: &[ActivationKind] = &[
    ActivationKind {
        kind: "linear",
        keys: &[],
        doc: "g(x) = x; closed form (paper Eqs. 8-10)",
        build: |_| Activation::Linear,
    },
    ActivationKind {
        kind: "quadratic",
        keys: &[num("epsilon", Some(1.0))],
        doc: "g(x) = x + epsilon x^2; closed form (corrected Eqs. 11-13)",
        build: |p| Activation::Quadratic {
            epsilon: p.number("epsilon"),
        },
    },
    ActivationKind {
        kind: "polynomial",
        keys: &[ParamKey {
            name: "coefficients",
            ty: KeyType::NumberList,
            cli_default: None,
        }],
        doc: "g(x) = sum_k c_k x^k; exact Gaussian moments (Isserlis), with biases by a Taylor shift",
        build: |p| Activation::Polynomial {
            coefficients: p.list("coefficients"),
        },
    },
    ActivationKind {
        kind: "erf",
        keys: &[],
        doc: "g(x) = erf(x/sqrt 2); closed form without biases (Eqs. 16-18), quadrature with",
        build: |_| Activation::Erf,
    },
    ActivationKind {
        kind: "tanh",
        keys: &[],
        doc: "g(x) = tanh(x); adaptive quadrature (smooth route)",
        build: |_| Activation::Tanh,
    },
    ActivationKind {
        kind: "relu",
        keys: &[],
        doc: "g(x) = max(x, 0); arc-cosine kernels (Cho & Saul 2009) without biases, projection quadrature with",
        build: |_| Activation::Relu,
    },
    ActivationKind {
        kind: "leaky_relu",
        keys: &[num("slope", Some(0.01))],
        doc: "g(x) = x for x > 0, slope x otherwise; from the ReLU kernels without biases, projection quadrature with",
        build: |p| Activation::LeakyRelu {
            slope: p.number("slope"),
        },
    },
    ActivationKind {
        kind: "gelu",
        keys: &[],
        doc: "g(x) = x Phi(x) (exact GELU); adaptive quadrature (smooth route)",
        build: |_| Activation::Gelu,
    },
    ActivationKind {
        kind: "silu",
        keys: &[],
        doc: "g(x) = x / (1 + e^-x); adaptive quadrature (smooth route)",
        build: |_| Activation::Silu,
    },
    ActivationKind {
        kind: "softplus",
        keys: &[],
        doc: "g(x) = ln(1 + e^x); adaptive quadrature (smooth route)",
        build: |_| Activation::Softplus,
    },
    ActivationKind {
        kind: "sigmoid",
        keys: &[],
        doc: "g(x) = 1 / (1 + e^-x); adaptive quadrature (smooth route)",
        build: |_| Activation::Sigmoid,
    },
];

/// The registry entry of `kind`.
pub fn lookup(kind: &str) -> Option<&'static ActivationKind> {
    REGISTRY.iter().find(|k| k.kind == kind)
}

/// `linear, quadratic, ...`: the known kinds, for messages.
pub fn known_kinds() -> String {
    REGISTRY
        .iter()
        .map(|k| k.kind)
        .collect::<Vec<_>>()
        .join(", ")
}

/// An activation from a JSON object `{"kind": ..., key: value, ...}` (the file format):
/// unknown kinds and keys, missing keys and wrong types are errors naming them.
pub fn from_json(map: &Map<String, Value>) -> Result<Activation, String> {
    let kind = match map.get("kind") {
        Some(Value::String(k)) => k.as_str(),
        Some(other) => return Err(format!("activation `kind` must be a string, got {other}")),
        None => return Err("activation has no `kind` key".into()),
    };
    let entry = lookup(kind).ok_or_else(|| {
        format!(
            "unknown activation kind `{}` (known: {})",
            if kind.chars().count() > 60 {
                format!("{}…", kind.chars().take(60).collect::<String>())
            } else {
                kind.to_string()
            },
            known_kinds()
        )
    })?;
    if let Some(k) = map
        .keys()
        .find(|k| *k != "kind" && !entry.keys.iter().any(|p| p.name == k.as_str()))
    {
        let allowed: Vec<&str> = std::iter::once("kind")
            .chain(entry.keys.iter().map(|p| p.name))
            .collect();
        return Err(format!(
            "unknown key `{}` in activation of kind `{kind}` (allowed: {})",
            k.chars().take(60).collect::<String>(),
            allowed.join(", ")
        ));
    }
    let mut params = Params::default();
    for key in entry.keys {
        let v = map
            .get(key.name)
            .ok_or_else(|| format!("activation of kind `{kind}` needs the key `{}`", key.name))?;
        match key.ty {
            KeyType::Number => {
                let x = v.as_f64().ok_or_else(|| {
                    format!("activation `{}` must be a number, got {v}", key.name)
                })?;
                params.numbers.push((key.name, x));
            }
            KeyType::NumberList => {
                let arr = v.as_array().ok_or_else(|| {
                    format!("activation `{}` must be an array, got {v}", key.name)
                })?;
                let xs = arr
                    .iter()
                    .enumerate()
                    .map(|(i, v)| {
                        v.as_f64().ok_or_else(|| {
                            format!("activation {}[{i}] must be a number, got {v}", key.name)
                        })
                    })
                    .collect::<Result<Vec<f64>, String>>()?;
                params.lists.push((key.name, xs));
            }
        }
    }
    Ok((entry.build)(&params))
}

/// An activation from CLI-style text: `kind` with parameter values as given by flags
/// (`--epsilon 0.5`, `--coefficients 0,1,0.5`, `--slope 0.1`), registry defaults for the
/// missing ones. A value for a key the kind does not have is an error naming the flag.
pub fn from_flags(kind: &str, given: &[(&str, &str)]) -> Result<Activation, String> {
    let kind = kind.trim().to_ascii_lowercase();
    let entry = lookup(&kind)
        .ok_or_else(|| format!("unknown activation `{kind}` (known: {})", known_kinds()))?;
    for (flag, _) in given {
        if !entry.keys.iter().any(|k| k.name == *flag) {
            let owners: Vec<&str> = REGISTRY
                .iter()
                .filter(|e| e.keys.iter().any(|k| k.name == *flag))
                .map(|e| e.kind)
                .collect();
            return Err(format!(
                "--{flag} only applies to --activation {} (got `{kind}`)",
                owners.join(" or ")
            ));
        }
    }
    let mut map = Map::new();
    map.insert("kind".into(), Value::String(kind.clone()));
    for key in entry.keys {
        let text = given.iter().find(|(f, _)| *f == key.name).map(|(_, t)| *t);
        let value = match (key.ty, text, key.cli_default) {
            (KeyType::Number, Some(t), _) => {
                let x: f64 = t
                    .trim()
                    .parse()
                    .map_err(|_| format!("--{} must be a number, got `{}`", key.name, t.trim()))?;
                Value::from(x)
            }
            (KeyType::Number, None, Some(d)) => Value::from(d),
            (KeyType::NumberList, Some(t), _) => {
                let xs = t
                    .split(',')
                    .enumerate()
                    .map(|(i, c)| {
                        c.trim().parse::<f64>().map_err(|_| {
                            format!(
                                "--{} entry {i} (`{}`) is not a number",
                                key.name,
                                c.trim().chars().take(60).collect::<String>()
                            )
                        })
                    })
                    .collect::<Result<Vec<f64>, String>>()?;
                Value::from(xs)
            }
            (_, None, _) => {
                return Err(format!(
                    "--activation {kind} needs --{} ({})",
                    key.name, entry.doc
                ))
            }
        };
        map.insert(key.name.into(), value);
    }
    let act = from_json(&map)?;
    act.validate().map_err(|e| e.to_string())?;
    Ok(act)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `docs/activations.md` lists every registry entry with its doc line and keys.
    #[test]
    fn the_docs_list_every_registered_activation() {
        let docs = include_str!("../../../../docs/activations.md");
        for e in REGISTRY {
            let row = docs
                .lines()
                .find(|l| l.starts_with(&format!("| `{}` |", e.kind)))
                .unwrap_or_else(|| panic!("docs/activations.md has no row for `{}`", e.kind));
            assert!(row.contains(e.doc), "`{}`: doc line differs: {row}", e.kind);
            for k in e.keys {
                assert!(
                    row.contains(&format!("`{}`", k.name)),
                    "`{}` key {}",
                    e.kind,
                    k.name
                );
            }
        }
    }
}
