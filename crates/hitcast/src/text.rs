//! Text for people: grouped digits, shared by the pages and the terminal.

/// `1234567` -> `"1,234,567"`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A size in bytes as people read it, in decimal units: `100000` -> `"100 KB"`, `64000000` ->
/// `"64 MB"`, `1500000` -> `"1.5 MB"` (a limit of under a megabyte is not "0 MB").
pub fn bytes(n: u64) -> String {
    let (value, unit) = match n {
        0..=999 => return format!("{n} bytes"),
        1_000..=999_999 => (n as f64 / 1e3, "KB"),
        1_000_000..=999_999_999 => (n as f64 / 1e6, "MB"),
        _ => (n as f64 / 1e9, "GB"),
    };
    let shown = if value < 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.0}")
    };
    format!("{} {unit}", shown.trim_end_matches(".0"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_in_decimal_units() {
        assert_eq!(bytes(512), "512 bytes");
        assert_eq!(bytes(100_000), "100 KB");
        assert_eq!(bytes(1_500_000), "1.5 MB");
        assert_eq!(bytes(64_000_000), "64 MB");
        assert_eq!(bytes(1_000_000_000), "1 GB");
        assert_eq!(bytes(67_108_864), "67 MB");
    }

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(114_000), "114,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
