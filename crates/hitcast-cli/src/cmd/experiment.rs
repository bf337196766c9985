//! `hitcast experiment`: the grid of outlier setups x imbalance strategies x models, and the
//! regression suite, written to results.json / .csv / .md.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use hitcast::data::Tracks;
use hitcast::experiment::{
    default_features, run, run_keeping_fits, search_space_doc, seed_headline, CellPattern,
    FoldsSummary, GridConfig, Results, TuneConfig,
};
use hitcast::features::FeatureSet;
use hitcast::models::ClassifierKind;
use hitcast::split::{Protocol, FOLDS};

use crate::dataset::{DataArgs, ProtocolArgs};
use crate::output::emit;
use crate::progress::Progress;
use crate::Globals;

/// Flags of `hitcast experiment`.
#[derive(Debug, Args)]
#[command(after_help = format!("Tuning search spaces: {}", search_space_doc()))]
pub struct ExperimentArgs {
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    split: ProtocolArgs,
    /// Run every fold given ("all", "0-4", "1,3") and summarise mean ± sd per cell in
    /// DIR/folds.md; each fold's files go to DIR/fold-K/.
    #[arg(long, value_name = "FOLDS", conflicts_with = "fold", value_parser = parse_folds)]
    folds: Option<FoldList>,
    /// Feature columns: audio-genre (the 128 of the protocol), extended (those plus genre and
    /// artist counts, title flags and genre popularity on FIT; the default), or known-artist
    /// (extended plus the artist's FIT history: the known-artist protocol's default, and for it
    /// only), or audio (the 14 audio columns alone).
    #[arg(long, value_parser = |s: &str| s.parse::<FeatureSet>())]
    features: Option<FeatureSet>,
    /// Leave feature columns out by name (repeatable or comma-separated), e.g. --drop
    /// title_live,n_genres for an ablation.
    #[arg(long, value_name = "COLUMN", value_delimiter = ',')]
    drop: Vec<String>,
    #[command(flatten)]
    tune: TuneArgs,
    /// Run only the cells whose name "task/setup/strategy/model" holds PATTERN's whole parts
    /// in order (repeatable or comma-separated), e.g. --only gbm, --only raw/smote or --only
    /// regression/capped.
    #[arg(long, value_name = "PATTERN", value_delimiter = ',')]
    only: Vec<CellPattern>,
    /// Override a model parameter, e.g. --param gbm.learning_rate=0.1 (repeatable). Families:
    /// logreg, linear, rf, gbm, mlp (e.g. `mlp.hidden=[256,128]`), stack (e.g.
    /// stack.members=["mlp","rf","gbm"]); `hitcast experiment --help` lists the search spaces, and an
    /// unknown key lists the family's parameters.
    #[arg(long = "param", value_name = "FAMILY.KEY=VALUE", value_parser = parse_param)]
    params: Vec<(String, String, String)>,
    /// Skip the seed project's headline, reproduced under its own leaky procedure (the stack on
    /// raw rows undersampled to 1:1 before an 80/20 split) beside this run's figure. It is
    /// skipped anyway with --only, --folds or --protocol reference.
    #[arg(long)]
    no_headline: bool,
    /// Also save the fitted model of the best classifier on VAL to DIR/fits.bin, which
    /// `hitcast train --fits` takes instead of fitting it again (`hitcast run` does).
    #[arg(long, conflicts_with = "folds")]
    keep_fits: bool,
    /// Directory for results.json, results.csv and results.md.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

/// The file `--keep-fits` writes in the results directory.
pub const FITS_FILE: &str = "fits.bin";

impl ExperimentArgs {
    /// Runs the grid.
    pub fn run(self, globals: Globals) -> anyhow::Result<()> {
        let rows = self.data.load()?.rows;
        let headline = !self.no_headline
            && self.only.is_empty()
            && self.folds.is_none()
            && self.split.protocol != Protocol::Reference;
        let raw = headline.then(|| Tracks::one_per_row(rows.clone()));
        let (tracks, labels) = self.split.table_from(rows)?;
        let config = GridConfig {
            threshold: self.split.threshold,
            seed: globals.seed,
            only: self.only.clone(),
            tune: self.tune.config(),
            features: self
                .features
                .unwrap_or(default_features(self.split.protocol)),
            params: self.params.clone(),
            drop: self.drop.clone(),
            ..GridConfig::default()
        };
        let Some(FoldList(folds)) = &self.folds else {
            let split = self
                .split
                .split(&tracks, &labels, self.split.fold, globals.seed)?;
            let mut progress = Progress::new(globals.quiet);
            let (mut results, fits) =
                run_keeping_fits(&tracks, &split, &config, &mut |event| progress.on(event))?;
            progress.finish();
            if let Some(raw) = &raw {
                progress
                    .line("the seed's headline: stack on raw rows undersampled to 1:1, then 80/20");
                let figures =
                    seed_headline(raw, config.threshold, ClassifierKind::Stack, config.seed)?;
                results.set_headline(ClassifierKind::Stack, figures);
            }
            results
                .write_dir(&self.out)
                .with_context(|| format!("cannot write the results to {}", self.out.display()))?;
            if self.keep_fits {
                fits.save(&self.out.join(FITS_FILE))?;
            }
            return emit(&summary(&results, &self.out));
        };
        if self.split.protocol == Protocol::Reference {
            anyhow::bail!(
                "--folds needs a hash protocol (honest or known-artist); reference has one random split"
            );
        }
        let mut all = Vec::new();
        for &fold in folds {
            let split = self.split.split(&tracks, &labels, fold, globals.seed)?;
            let mut progress = Progress::new(globals.quiet);
            progress.line(&format!("fold {fold}"));
            let results = run(&tracks, &split, &config, &mut |event| progress.on(event))?;
            progress.finish();
            let dir = self.out.join(format!("fold-{fold}"));
            results
                .write_dir(&dir)
                .with_context(|| format!("cannot write the results to {}", dir.display()))?;
            all.push(results);
        }
        let folds = FoldsSummary::new(&all);
        folds
            .write_dir(&self.out)
            .with_context(|| format!("cannot write the fold summary to {}", self.out.display()))?;
        emit(&format!(
            "{}\nresults: {}/folds.md (.json), and fold-K/ per fold\n",
            folds.to_markdown(),
            self.out.display()
        ))
    }
}

/// The folds of `--folds` (a newtype: clap reads a bare `Vec` as a repeated option).
#[derive(Clone, Debug, PartialEq, Eq)]
struct FoldList(Vec<u8>);

fn parse_folds(s: &str) -> Result<FoldList, String> {
    let bad = || {
        format!("invalid folds {s:?}: expected all, a range like 0-4, or a list like 1,3 (folds 0 to 4)")
    };
    let folds: Vec<u8> = if s == "all" {
        (0..FOLDS).collect()
    } else if let Some((a, b)) = s.split_once('-') {
        let (a, b): (u8, u8) = (
            a.trim().parse().map_err(|_| bad())?,
            b.trim().parse().map_err(|_| bad())?,
        );
        (a..=b).collect()
    } else {
        s.split(',')
            .map(|f| f.trim().parse().map_err(|_| bad()))
            .collect::<Result<_, _>>()?
    };
    if folds.is_empty() || folds.iter().any(|&f| f >= FOLDS) {
        return Err(bad());
    }
    Ok(FoldList(folds))
}

/// `--tune` and its budget, shared by `experiment` and `train`.
#[derive(Debug, Args)]
pub struct TuneArgs {
    /// Random search per model family on VAL first, scored by VAL PR-AUC (classifiers) or R²
    /// (regressors); `hitcast experiment --help` lists the search spaces.
    #[arg(long)]
    tune: bool,
    /// Trials per family with --tune, the defaults included.
    #[arg(long, default_value_t = 20, requires = "tune")]
    trials: usize,
    /// Seconds per family with --tune.
    #[arg(long, default_value_t = 120, value_name = "SECONDS", requires = "tune")]
    time_budget: u64,
}

impl TuneArgs {
    /// The search budget, or `None` without --tune.
    pub fn config(&self) -> Option<TuneConfig> {
        self.tune.then(|| TuneConfig {
            trials: self.trials,
            time_budget: Duration::from_secs(self.time_budget),
        })
    }
}

/// Parses `--param FAMILY.KEY=VALUE`.
pub fn parse_param(s: &str) -> Result<(String, String, String), String> {
    let (name, value) = s.split_once('=').ok_or("expected FAMILY.KEY=VALUE")?;
    let (family, key) = name.split_once('.').ok_or("expected FAMILY.KEY=VALUE")?;
    Ok((family.to_owned(), key.to_owned(), value.to_owned()))
}

/// The closing table: classifiers ranked by VAL PR-AUC (the honest order), the regressors, and
/// where the files are.
fn summary(results: &Results, out: &std::path::Path) -> String {
    let mut s = String::new();
    let fold = results
        .fold
        .map(|f| format!(", fold {f}"))
        .unwrap_or_default();
    let leaky = if results.protocol.is_leaky() {
        " (LEAKY)"
    } else {
        ""
    };
    let _ = writeln!(
        s,
        "hitcast experiment: protocol {}{leaky}{fold}; TEST {} tracks, {:.2}% popular (majority-class accuracy {:.3}); {:.1} s\n",
        results.protocol,
        results.test_rows,
        results.positive_rate * 100.0,
        results.majority_accuracy,
        results.wall_seconds
    );
    let classifiers = results.ranked_by_val();
    if !classifiers.is_empty() {
        let _ = writeln!(
            s,
            "  {:<36}{:>8}{:>9}{:>8}{:>7}{:>7}{:>8}",
            "classifier (by VAL PR-AUC)", "VAL PR", "ROC-AUC", "PR-AUC", "F1", "prec", "recall"
        );
        for r in classifiers.iter().take(10) {
            let Some(c) = r.classifier() else { continue };
            let _ = writeln!(
                s,
                "  {:<36}{:>8.3}{:>9.3}{:>8.3}{:>7.3}{:>7.3}{:>8.3}",
                r.cell.short(),
                c.val_pr_auc,
                c.roc_auc,
                c.pr_auc,
                c.f1,
                c.precision,
                c.recall
            );
        }
        if classifiers.len() > 10 {
            let _ = writeln!(s, "  ... {} more in results.md", classifiers.len() - 10);
        }
        s.push('\n');
    }
    let regressors: Vec<_> = results
        .rows
        .iter()
        .filter_map(|r| Some((r, r.regressor()?)))
        .collect();
    if !regressors.is_empty() {
        let _ = writeln!(
            s,
            "  {:<36}{:>8}{:>9}{:>8}",
            "regressor", "R²", "RMSE", "MAE"
        );
        for (r, figures) in regressors {
            let _ = writeln!(
                s,
                "  {:<36}{:>8.3}{:>9.2}{:>8.2}",
                r.cell.short(),
                figures.r2,
                figures.rmse,
                figures.mae
            );
        }
        s.push('\n');
    }
    if let Some(h) = &results.headline {
        let _ = writeln!(
            s,
            "  the seed's headline, reproduced{:>17}{:>9}{:>8}{:>9}",
            "accuracy", "bal.acc", "ROC-AUC", "PR-AUC"
        );
        let leaky = std::iter::once((true, &h.seed_procedure));
        for (leaky, f) in leaky.chain(h.this_run.iter().map(|f| (false, f))) {
            let label = if leaky {
                "seed procedure (LEAKY), 1:1 TEST".to_owned()
            } else {
                format!("this run, {:.1}% popular TEST", f.positive_rate * 100.0)
            };
            let _ = writeln!(
                s,
                "  {label:<40}{:>8.3}{:>9.3}{:>8.3}{:>9.3}",
                f.accuracy, f.balanced_accuracy, f.roc_auc, f.pr_auc
            );
        }
        let _ = writeln!(s, "  {}\n", h.explanation);
    }
    let _ = writeln!(s, "results: {}/results.md (.json, .csv)", out.display());
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_parse_as_all_ranges_and_lists() {
        assert_eq!(parse_folds("all"), Ok(FoldList(vec![0, 1, 2, 3, 4])));
        assert_eq!(parse_folds("1-3"), Ok(FoldList(vec![1, 2, 3])));
        assert_eq!(parse_folds("4, 0"), Ok(FoldList(vec![4, 0])));
        assert!(parse_folds("0-5").is_err());
        assert!(parse_folds("3-1").is_err());
        assert!(parse_folds("x").is_err());
    }
}
