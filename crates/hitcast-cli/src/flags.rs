//! Value parsers for numeric flags that say the allowed values in words ("expected a whole
//! number from 0 to 4, got 5"), where clap's ranges say "5 is not in 0..5".

/// A count, a size or seconds, of which 0 would refuse or cut off everything.
pub fn at_least_1<T: std::str::FromStr + PartialOrd + From<u8>>(text: &str) -> Result<T, String> {
    match text.trim().parse::<T>() {
        Ok(n) if n >= T::from(1) => Ok(n),
        Ok(_) => Err("must be at least 1".to_owned()),
        Err(_) => Err(format!("expected a whole number, got {text:?}")),
    }
}

/// A whole number from `LO` to `HI`, both included.
pub fn whole_in<T: TryFrom<u64>, const LO: u64, const HI: u64>(text: &str) -> Result<T, String> {
    text.trim()
        .parse::<u64>()
        .ok()
        .filter(|n| (LO..=HI).contains(n))
        .and_then(|n| T::try_from(n).ok())
        .ok_or_else(|| format!("expected a whole number from {LO} to {HI}, got {text:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_outside_are_said_in_words() {
        assert_eq!(whole_in::<u8, 0, 4>("4"), Ok(4));
        assert_eq!(
            whole_in::<u8, 0, 4>("5"),
            Err("expected a whole number from 0 to 4, got \"5\"".to_owned())
        );
        assert!(whole_in::<u8, 0, 99>("-1").is_err());
        assert_eq!(at_least_1::<u32>("0"), Err("must be at least 1".to_owned()));
        assert_eq!(
            at_least_1::<u32>("x"),
            Err("expected a whole number, got \"x\"".to_owned())
        );
    }
}
