//! Readable sizes for messages: one formatter for every refusal of the library, the CLI and the
//! Python package, so that no message rounds a size to `0.0 GiB`.

/// Formats a byte count with binary units that show the number (`512 B`, `1.5 KiB`, `74.5 GiB`,
/// `3.2e3 TiB`): never `0.0 GiB`.
pub fn readable_bytes(bytes: u128) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    match unit {
        0 => format!("{bytes} B"),
        _ if v >= 1e4 => format!("{v:.1e} {}", UNITS[unit]),
        _ => format!("{v:.1} {}", UNITS[unit]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readable_units_show_the_number() {
        assert_eq!(readable_bytes(0), "0 B");
        assert_eq!(readable_bytes(512), "512 B");
        assert_eq!(readable_bytes(1023), "1023 B");
        assert_eq!(readable_bytes(1536), "1.5 KiB");
        assert_eq!(readable_bytes(8_000_000), "7.6 MiB");
        assert_eq!(readable_bytes(3 << 30), "3.0 GiB");
        assert_eq!(readable_bytes(80_000_000_000), "74.5 GiB");
        assert!(readable_bytes(u128::MAX).ends_with("TiB"));
    }
}
