//! `hitcast predict`: score a CSV of tracks with a saved model, streaming in batches so memory
//! stays bounded for any file size; the output appears only when complete.

use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use hitcast::artifact::Artifact;
use hitcast::data::{ColumnMap, OnError, ReadOptions, RowReader};
use hitcast::fsutil::AtomicFile;

use crate::dataset::OnErrorArg;
use crate::output::thousands;
use crate::Globals;

/// Flags of `hitcast predict`.
#[derive(Debug, Args)]
pub struct PredictArgs {
    /// The model file (from `hitcast train`).
    #[arg(long, value_name = "MODEL")]
    model: PathBuf,
    /// Tracks to score, CSV or CSV.gz; a popularity column is not needed.
    #[arg(long, value_name = "FILE")]
    input: PathBuf,
    /// Read header column SRC as hitcast's column DST (repeatable or comma-separated).
    #[arg(long = "map", value_name = "SRC=DST")]
    map: Vec<String>,
    /// What to do with a row that fails validation.
    #[arg(long, value_enum, default_value_t = OnErrorArg::Fail)]
    on_error: OnErrorArg,
    /// Where to write track_id, popularity_probability, popular, predicted_popularity (CSV,
    /// written atomically).
    #[arg(long, value_name = "FILE.csv")]
    output: PathBuf,
    /// Rows scored at a time (memory grows with it).
    #[arg(long, default_value_t = 8192, value_parser = clap::value_parser!(u32).range(1..))]
    batch: u32,
}

impl PredictArgs {
    /// Scores the file.
    pub fn run(self, globals: Globals) -> anyhow::Result<()> {
        let started = Instant::now();
        let artifact = Artifact::load(&self.model)?;
        let options = ReadOptions {
            map: ColumnMap::parse(&self.map)?,
            on_error: match self.on_error {
                OnErrorArg::Fail => OnError::Fail,
                OnErrorArg::Skip => OnError::Skip,
            },
            require_popularity: false,
        };
        let reader = RowReader::open(&self.input, &options)?;
        for d in reader.defaults() {
            tracing::warn!("column {:?} is absent: using {}", d.column, d.default);
        }
        let out = AtomicFile::create(&self.output)
            .with_context(|| format!("{}: cannot create the output", self.output.display()))?;
        let mut csv = csv::Writer::from_writer(out);
        csv.write_record([
            "track_id",
            "popularity_probability",
            "popular",
            "predicted_popularity",
        ])?;
        let (mut written, mut skipped, mut first_skip) = (0u64, 0u64, None);
        let mut unknown = BTreeSet::new();
        let mut batch = Vec::with_capacity(self.batch as usize);
        let mut rows = reader.peekable();
        while rows.peek().is_some() {
            batch.clear();
            for row in rows.by_ref() {
                match row {
                    Ok(row) => batch.push(row),
                    Err(e) if options.on_error == OnError::Skip && e.skippable_line().is_some() => {
                        skipped += 1;
                        first_skip.get_or_insert_with(|| e.to_string());
                    }
                    Err(e) => return Err(e.into()),
                }
                if batch.len() == self.batch as usize {
                    break;
                }
            }
            let (predictions, genres) = artifact.predict(std::mem::take(&mut batch));
            unknown.extend(genres);
            for p in predictions {
                csv.write_record([
                    p.track_id.as_str(),
                    &format!("{:.6}", p.probability),
                    if p.popular { "1" } else { "0" },
                    &format!("{:.2}", p.popularity),
                ])?;
                written += 1;
            }
        }
        let out = csv
            .into_inner()
            .map_err(|e| anyhow::anyhow!("{}: {}", self.output.display(), e.error()))?;
        out.commit()
            .with_context(|| format!("{}: cannot write the output", self.output.display()))?;
        if !unknown.is_empty() {
            let list: Vec<&str> = unknown.iter().map(String::as_str).collect();
            tracing::warn!(
                "genres the model does not know (scored as no genre): {}",
                list.join(", ")
            );
        }
        if skipped > 0 {
            tracing::warn!(
                "skipped {skipped} bad row(s); first: {}",
                first_skip.unwrap_or_default()
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
