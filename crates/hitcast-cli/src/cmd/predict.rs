//! `hitcast predict`: score a CSV of tracks with a saved model, streaming in batches so memory
//! stays bounded for any file size; the output appears only when complete.

use std::io::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use hitcast::data::Column;
use hitcast::fsutil::AtomicFile;

use crate::output::thousands;
use crate::scoring::InputArgs;
use crate::Globals;

/// Flags of `hitcast predict`.
#[derive(Debug, Args)]
pub struct PredictArgs {
    /// The model file (from `hitcast train`).
    #[arg(long, value_name = "MODEL")]
    model: PathBuf,
    #[command(flatten)]
    input: InputArgs,
    /// Where to write the answers (CSV, written atomically): track_id, popularity_probability
    /// (calibrated), flagged (1 = a likely hit), lift (the probability over a typical track's),
    /// predicted_popularity with its range popularity_low and popularity_high, and warnings (the
    /// inputs beyond what the model saw in training, `;`-separated).
    #[arg(long, value_name = "FILE.csv")]
    output: PathBuf,
    /// Copy input columns into the output after the predictions, by hitcast name (after --map),
    /// e.g. --keep track_name,artists (repeatable or comma-separated).
    #[arg(long, value_name = "COLUMN", value_delimiter = ',', value_parser = parse_column)]
    keep: Vec<Column>,
    /// Rows scored at a time (memory grows with it).
    #[arg(long, default_value_t = 8192, value_parser = clap::value_parser!(u32).range(1..))]
    batch: u32,
}

impl PredictArgs {
    /// Scores the file.
    pub fn run(self, globals: Globals) -> anyhow::Result<()> {
        let started = Instant::now();
        let predictor = self.input.predictor(&self.model)?;
        let mut input = self.input.batches(self.batch as usize)?;
        let out = AtomicFile::create(&self.output)
            .with_context(|| format!("{}: cannot create the output", self.output.display()))?;
        let mut csv = csv::Writer::from_writer(out);
        let header = [
            "track_id",
            "popularity_probability",
            "flagged",
            "lift",
            "predicted_popularity",
            "popularity_low",
            "popularity_high",
            "warnings",
        ];
        let mut warned = 0u64;
        csv.write_record(header.into_iter().chain(self.keep.iter().map(|c| c.name())))?;
        let mut written = 0u64;
        while let Some(batch) = input.next_batch()? {
            let kept: Vec<Vec<String>> = batch
                .iter()
                .map(|row| self.keep.iter().map(|&c| row.field(c)).collect())
                .collect();
            let predictions = predictor.score_rows(&batch)?;
            for ((p, row), kept) in predictions.into_iter().zip(&batch).zip(kept) {
                input.without_genres += u64::from(predictor.answered_without_genres(&p));
                input.unknown_genres.extend(p.unknown_genres);
                let warnings: Vec<&str> = p.warnings.iter().map(|w| w.field.as_str()).collect();
                warned += u64::from(!warnings.is_empty());
                let scored = [
                    row.track_id.clone(),
                    format!("{:.6}", p.probability),
                    (if p.flagged { "1" } else { "0" }).to_owned(),
                    format!("{:.2}", p.lift),
                    format!("{:.2}", p.popularity),
                    format!("{:.2}", p.popularity_low),
                    format!("{:.2}", p.popularity_high),
                    warnings.join(";"),
                ];
                csv.write_record(scored.iter().chain(&kept))?;
                written += 1;
            }
        }
        let out = csv
            .into_inner()
            .map_err(|e| anyhow::anyhow!("{}: {}", self.output.display(), e.error()))?;
        out.commit()
            .with_context(|| format!("{}: cannot write the output", self.output.display()))?;
        input.report();
        if warned > 0 {
            tracing::warn!(
                "{} row(s) have inputs beyond what the model saw in training (see the warnings column): treat their answers with care",
                thousands(warned)
            );
        }
        if !globals.quiet {
            let seconds = started.elapsed().as_secs_f64();
            let _ = writeln!(
                std::io::stderr(),
                "scored {} rows into {} in {:.2} s ({:.0} rows/s)",
                thousands(written),
                self.output.display(),
                seconds,
                written as f64 / seconds.max(1e-9)
            );
        }
        Ok(())
    }
}

/// Parses a `--keep` column name.
fn parse_column(s: &str) -> Result<Column, String> {
    Column::from_name(s.trim()).ok_or_else(|| {
        let names: Vec<&str> = Column::ALL.iter().map(|c| c.name()).collect();
        format!("unknown column {s:?}: expected one of {}", names.join(", "))
    })
}
