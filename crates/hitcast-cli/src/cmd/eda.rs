//! `hitcast eda`: the exploratory analysis as one self-contained HTML page and its numbers as
//! JSON.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use hitcast::data::{summarize, Tracks, DEFAULT_THRESHOLD};
use hitcast::eda::analyse;
use hitcast::render;
use hitcast::split::Protocol;

use crate::dataset::{parse_protocol, DataArgs};
use crate::output::emit;
use crate::Globals;

/// Flags of `hitcast eda`.
#[derive(Debug, Args)]
pub struct EdaArgs {
    #[command(flatten)]
    data: DataArgs,
    /// The table to analyse: honest (one row per track_id, what the models see), reference (raw rows,
    /// duplicates kept) or known-artist (as honest).
    #[arg(long, default_value = "honest", value_parser = parse_protocol)]
    protocol: Protocol,
    /// A track is popular when its popularity is above this.
    #[arg(long, default_value_t = DEFAULT_THRESHOLD, value_parser = crate::flags::whole_in::<u8, 0, 99>)]
    threshold: u8,
    /// Directory for index.html and eda.json (created if needed; files written atomically).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

impl EdaArgs {
    /// Analyses the data and writes the page.
    pub fn run(self, _globals: Globals) -> anyhow::Result<()> {
        let started = Instant::now();
        let loaded = self.data.load()?;
        let raw = (self.protocol == Protocol::Reference).then(|| loaded.rows.clone());
        let (summary, collapsed) = summarize(loaded, self.threshold);
        let table = match raw {
            Some(rows) => Tracks::one_per_row(rows),
            None => collapsed,
        };
        anyhow::ensure!(
            table.rows.iter().all(|t| t.popularity.is_some()),
            "the data has no popularity column"
        );
        let eda = analyse(summary, self.protocol, &table, self.threshold);
        let json = serde_json::to_vec_pretty(&eda)?;
        write_page(
            &self.out,
            "eda.json",
            &json,
            &render::eda::page_of(&eda),
            started,
        )
    }
}

/// Writes `DIR/index.html` and its numbers `DIR/<json_name>`, each atomically, and says so.
pub fn write_page(
    out: &Path,
    json_name: &str,
    json: &[u8],
    page: &str,
    started: Instant,
) -> anyhow::Result<()> {
    anyhow::ensure!(
        !out.exists() || out.is_dir(),
        "{}: a file, not a folder: --out names a folder for index.html and {json_name}",
        out.display()
    );
    hitcast::report::write_page(out, json_name, json, page)
        .with_context(|| format!("{}: cannot write the page", out.display()))?;
    said_page(out, json_name, page, started)
}

/// What a written page says: where, how many charts, how large.
pub fn said_page(out: &Path, json_name: &str, page: &str, started: Instant) -> anyhow::Result<()> {
    emit(&format!(
        "wrote {} ({} charts, {} KB) and {json_name} in {:.2} s\n",
        // `--out eda/` is a folder as `--out eda` is: one separator before the file.
        out.join("index.html").display(),
        page.matches(r#"role="img""#).count(),
        page.len() / 1024,
        started.elapsed().as_secs_f64()
    ))
}
