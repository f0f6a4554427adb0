//! The library's error type: every variant carries a message that names what is wrong.

/// Errors reported by the library. Each message is one line and names the offending input.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Inputs whose shapes do not fit together (e.g. `w2` length ≠ rows of `w1`).
    #[error("shape mismatch: {0}")]
    Shape(String),
    /// A value that is not allowed (non-finite weight, ν ≤ 2, empty network, ...).
    #[error("invalid value: {0}")]
    Invalid(String),
    /// A dense allocation that would not fit: the message says how much it needs.
    #[error("too large: {0}")]
    TooLarge(String),
    /// A malformed network file (`INTERFACE.md`): the message names the key, row or column.
    #[error("{0}")]
    Format(String),
    /// A numerical routine that did not converge.
    #[error("numerical failure: {0}")]
    Numerical(String),
}

/// Result alias for the library.
pub type Result<T> = std::result::Result<T, Error>;
