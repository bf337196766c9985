//! Small helpers for terminal tables, JSON on stdout and output names.

use std::io::{self, Write};

use serde::Serialize;

/// Writes `value` as pretty JSON and a newline to stdout. Serialised first, so a closed pipe
/// surfaces as the plain `io::Error` that `main` recognises.
pub fn print_json<T: Serialize>(value: &T) -> anyhow::Result<()> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    emit(&text)
}

/// Writes text to stdout. Unlike `print!`, a closed pipe is an error the caller can return
/// (and `main` treats as success), not a panic.
pub fn emit(text: &str) -> anyhow::Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

pub use hitcast::text::thousands;

/// A share as a percentage with one decimal: `0.02628` -> `"2.6%"`.
pub fn percent(share: f64) -> String {
    format!("{:.1}%", share * 100.0)
}

/// Two lines on how far a model's answers can be trusted, on TEST: the calibrated probability
/// and the score's range (for `train` and `model info`).
pub fn trust_lines(m: &hitcast::artifact::Metadata) -> String {
    let (cal, iv) = (&m.calibration, &m.interval);
    format!(
        "  calibrated    {} on VAL; TEST ECE {:.4} ({:.4} raw), mean probability {:.4} for {} popular\n  \
         score range   {:.0}% by {}; TEST coverage {}, mean width {:.1}; reaches above {} for {} of flagged tracks\n",
        cal.choice.method,
        cal.test_ece,
        cal.test_ece_raw,
        cal.test_mean_probability,
        percent(m.test_classification.positive_rate),
        iv.choice.coverage * 100.0,
        iv.choice.method_text(),
        percent(iv.test.coverage),
        iv.test.mean_width,
        m.label_threshold,
        percent(iv.test_flagged_reaching),
    )
}

/// `--output`'s value for a table of rows: a path whose name does not promise a format other
/// than the CSV (or, for `.parquet`, Parquet) written to it, checked before any work is done.
pub fn table_path(text: &str) -> Result<std::path::PathBuf, String> {
    let path = std::path::PathBuf::from(text);
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match extension.as_deref() {
        Some(
            e
            @ ("json" | "jsonl" | "ndjson" | "xlsx" | "xls" | "ods" | "tsv" | "arrow" | "feather"),
        ) => Err(format!(
            "a .{e} name, but the rows are written as CSV, or as Parquet for a name ending \
             in .parquet: name it .csv or .parquet"
        )),
        _ => Ok(path),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn percent_has_one_decimal() {
        assert_eq!(percent(0.02628), "2.6%");
        assert_eq!(percent(1.0), "100.0%");
    }

    #[test]
    fn a_table_is_not_written_under_another_format_s_name() {
        for fine in [
            "a.csv",
            "a.CSV.gz",
            "a.parquet",
            "-",
            "/dev/stdout",
            "answers",
        ] {
            assert!(table_path(fine).is_ok(), "{fine}");
        }
        let said = table_path("out/a.JSON").unwrap_err();
        assert!(
            said.starts_with("a .json name, but the rows are written as CSV"),
            "{said}"
        );
        assert!(table_path("a.tsv").is_err());
    }
}
