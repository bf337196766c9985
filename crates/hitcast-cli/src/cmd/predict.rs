//! `hitcast predict`: score a table of tracks (CSV or Parquet) with a saved model, streaming in batches so memory
//! stays bounded for any file size; the output appears only when complete.

use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use hitcast::data::{Column, RawRow};
use hitcast::fsutil::AtomicFile;
use hitcast::predictor::{Chance, Prediction, ANSWER_COLUMNS, SCORE_COLUMNS};
use hitcast_arrow::{answers_batch, answers_schema, chances_batch, chances_schema, ParquetSink};

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
    /// Where to write the answers (written atomically): Parquet when the name ends in .parquet,
    /// else CSV. Columns: track_id, popularity_probability
    /// (calibrated), flagged (1 = a likely hit), lift (the probability over a typical track's),
    /// predicted_popularity with its range popularity_low and popularity_high, and warnings (the
    /// inputs beyond what the model saw in training, `;`-separated).
    #[arg(long, value_name = "FILE")]
    output: PathBuf,
    /// Copy input columns into the output after the predictions, by hitcast name (after --map),
    /// e.g. --keep track_name,artists (repeatable or comma-separated).
    #[arg(long, value_name = "COLUMN", value_delimiter = ',', value_parser = parse_column)]
    keep: Vec<Column>,
    /// Leave out the score and its range (predicted_popularity, popularity_low,
    /// popularity_high): the classifier alone runs, in about half the time.
    #[arg(long)]
    no_score: bool,
    /// Rows scored at a time (memory grows with it).
    #[arg(long, default_value_t = 8192, value_parser = clap::value_parser!(u32).range(1..))]
    batch: u32,
}

impl PredictArgs {
    /// Scores the file.
    pub fn run(self, globals: Globals) -> anyhow::Result<()> {
        let started = Instant::now();
        let predictor = self.input.predictor(&self.model)?;
        let input = self.input.batches(self.batch as usize)?;
        let mut out = Answers::create(&self.output, &self.keep, !self.no_score)?;
        let mut warned = 0u64;
        let mut written = 0u64;
        let mut without_genres = 0u64;
        let mut unknown_genres = BTreeSet::new();
        let mut input = input.read_ahead(|batch| {
            let (chances, predictions) = if self.no_score {
                (predictor.chances_rows(&batch)?, None)
            } else {
                let predictions = predictor.score_rows(&batch)?;
                (
                    predictions.iter().map(Prediction::chance).collect(),
                    Some(predictions),
                )
            };
            for c in &chances {
                without_genres += u64::from(predictor.answered_without_genres(c.genres_used));
                unknown_genres.extend(c.unknown_genres.iter().cloned());
                warned += u64::from(!c.warnings.is_empty());
            }
            out.write(&batch, &chances, predictions.as_deref(), &self.keep)?;
            written += batch.len() as u64;
            Ok(())
        })?;
        input.without_genres += without_genres;
        input.unknown_genres.extend(unknown_genres);
        out.commit()?;
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

/// Where the answers go: a CSV (numbers at a printed precision) or, for a `.parquet` path, a
/// Parquet file of full-precision values. Either appears only when complete.
enum Answers {
    Csv {
        path: PathBuf,
        writer: csv::Writer<AtomicFile>,
    },
    Parquet(ParquetSink),
}

impl Answers {
    /// The output at `path`, its columns with the score's (`score`) or without.
    fn create(path: &Path, keep: &[Column], score: bool) -> anyhow::Result<Answers> {
        let parquet = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("parquet"));
        if parquet {
            let schema = if score {
                answers_schema(keep)
            } else {
                chances_schema(keep)
            };
            return Ok(Answers::Parquet(ParquetSink::create(path, schema)?));
        }
        let file = AtomicFile::create(path)
            .with_context(|| format!("{}: cannot create the output", path.display()))?;
        let mut writer = csv::Writer::from_writer(file);
        writer.write_record(
            ANSWER_COLUMNS
                .into_iter()
                .filter(|name| score || !SCORE_COLUMNS.contains(name))
                .chain(keep.iter().map(|c| c.name())),
        )?;
        Ok(Answers::Csv {
            path: path.to_owned(),
            writer,
        })
    }

    /// Writes a batch's answers: `predictions` when the output has the score's columns, else
    /// `chances` alone (which are `predictions`' own when both are given).
    fn write(
        &mut self,
        rows: &[RawRow],
        chances: &[Chance],
        predictions: Option<&[Prediction]>,
        keep: &[Column],
    ) -> anyhow::Result<()> {
        match self {
            Answers::Parquet(sink) => sink.write(&match predictions {
                Some(answers) => answers_batch(rows, answers, keep)?,
                None => chances_batch(rows, chances, keep)?,
            })?,
            Answers::Csv { writer, .. } => {
                for (i, (c, row)) in chances.iter().zip(rows).enumerate() {
                    let mut fields = vec![
                        row.track_id.clone(),
                        format!("{:.6}", c.probability),
                        (if c.flagged { "1" } else { "0" }).to_owned(),
                        format!("{:.2}", c.lift),
                    ];
                    if let Some(p) = predictions.and_then(|p| p.get(i)) {
                        fields.extend(
                            [p.popularity, p.popularity_low, p.popularity_high]
                                .map(|v| format!("{v:.2}")),
                        );
                    }
                    fields.push(c.warning_fields());
                    let kept = keep.iter().map(|&column| row.field(column));
                    writer.write_record(fields.into_iter().chain(kept))?;
                }
            }
        }
        Ok(())
    }

    fn commit(self) -> anyhow::Result<()> {
        match self {
            Answers::Parquet(sink) => sink.commit()?,
            Answers::Csv { path, writer } => {
                let file = writer
                    .into_inner()
                    .map_err(|e| anyhow::anyhow!("{}: {}", path.display(), e.error()))?;
                file.commit()
                    .with_context(|| format!("{}: cannot write the output", path.display()))?;
            }
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
