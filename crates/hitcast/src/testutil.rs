//! Helpers shared by unit tests.

/// Rows where the probability and the 0/1 label agree at 0.5.
pub fn correct_at_half(probabilities: &[f64], labels: &[f64]) -> usize {
    probabilities
        .iter()
        .zip(labels)
        .filter(|(p, y)| (**p > 0.5) == (**y > 0.5))
        .count()
}
