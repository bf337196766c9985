//! `hitcast report`: one HTML page joining the EDA, the experiment results and a saved model's
//! card, with its numbers in report.json.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use hitcast::data::{summarize, Tracks};
use hitcast::eda::analyse;
use hitcast::experiment::Results;
use hitcast::report::{model_card, write_report, Report};
use hitcast::split::Protocol;

use crate::cmd::eda::said_page;
use crate::dataset::{sha256_file, DataArgs};
use crate::model_file::load_predictor;
use crate::Globals;

/// Flags of `hitcast report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    data: DataArgs,
    /// A directory with results.json from `hitcast experiment` (repeatable: e.g. the honest and
    /// the reference protocol's grids, shown side by side; the first is the main one).
    #[arg(long, value_name = "DIR", required = true)]
    experiment: Vec<PathBuf>,
    /// A saved model (from `hitcast train`) to describe: its TEST curves, confusion matrix,
    /// calibration and feature importance, recomputed on the data.
    #[arg(long, value_name = "MODEL")]
    model: Option<PathBuf>,
    /// Directory for index.html and report.json (created if needed; files written atomically).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

impl ReportArgs {
    /// Builds and writes the report.
    pub fn run(self, _globals: Globals) -> anyhow::Result<()> {
        let started = Instant::now();
        let experiments = self
            .experiment
            .iter()
            .map(|dir| {
                let path = dir.join("results.json");
                let bytes = std::fs::read(&path).with_context(|| {
                    format!(
                        "{}: cannot read (run `hitcast experiment --out {}` first)",
                        path.display(),
                        dir.display()
                    )
                })?;
                serde_json::from_slice::<Results>(&bytes)
                    .with_context(|| format!("{}: not a hitcast results file", path.display()))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let model = self
            .model
            .as_ref()
            .map(|path| load_predictor(path))
            .transpose()?;

        let path = self.data.path()?;
        let loaded = self.data.load()?;
        let rows = model.as_ref().map(|_| loaded.rows.clone());
        let threshold = experiments[0].threshold;
        let protocol = if experiments[0].protocol == Protocol::Reference {
            Protocol::Reference
        } else {
            Protocol::Honest
        };
        let raw = (protocol == Protocol::Reference).then(|| loaded.rows.clone());
        let (summary, collapsed) = summarize(loaded, threshold);
        let table = raw.map_or(collapsed, Tracks::one_per_row);
        let eda = analyse(summary, protocol, &table, threshold);
        let card = match (&model, rows) {
            (Some(predictor), Some(rows)) => {
                Some(model_card(predictor, rows, &sha256_file(&path)?)?)
            }
            _ => None,
        };
        if card.as_ref().is_some_and(|c| !c.same_data) {
            tracing::warn!(
                "{}: not the data file the model was trained on (SHA-256 differs)",
                path.display()
            );
        }
        let report = Report {
            eda,
            experiments,
            model: card,
        };
        let page = write_report(&self.out, &report)
            .with_context(|| format!("{}: cannot write the report", self.out.display()))?;
        said_page(&self.out, "report.json", &page, started)
    }
}
