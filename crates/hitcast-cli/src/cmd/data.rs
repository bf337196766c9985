//! `hitcast data check` and `hitcast data split` (with `--export`, the parts as the grid reads
//! them).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Subcommand};
use hitcast::data::{summarize, DataSummary, Tracks, DEFAULT_THRESHOLD};
use hitcast::experiment::{default_features, prepare, StrategyRows};
use hitcast::features::{FeatureMatrix, OutlierSetup};
use hitcast::fsutil::AtomicFile;
use hitcast::sampling::Strategy;
use hitcast::split::{Protocol, Split, SplitSummary};

use crate::dataset::{DataArgs, ProtocolArgs};
use crate::output::{emit, percent, print_json, thousands};
use crate::Globals;

/// `hitcast data ...`
#[derive(Debug, Subcommand)]
pub enum DataCommand {
    /// Load and validate the dataset, then summarise it: rows, duplicate tracks, genres, missing
    /// values, popularity and the share of popular tracks.
    Check(CheckArgs),
    /// Build an evaluation protocol's FIT/VAL/TEST split and print its sizes.
    Split(SplitArgs),
}

/// Flags of `hitcast data check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    data: DataArgs,
    /// A track is popular when its popularity is above this.
    #[arg(long, default_value_t = DEFAULT_THRESHOLD, value_parser = crate::flags::whole_in::<u8, 0, 99>)]
    threshold: u8,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

/// Flags of `hitcast data split`.
#[derive(Debug, Args)]
pub struct SplitArgs {
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    split: ProtocolArgs,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
    /// Also write FIT, VAL and TEST as the grid's cells read them (fit.csv, val.csv, test.csv:
    /// the feature columns, then popular, popularity and group) into DIR, for fitting other
    /// tools on the same rows (bench/grid.py).
    #[arg(long, value_name = "DIR")]
    export: Option<PathBuf>,
    /// The outlier setup of --export: raw, capped or removed.
    #[arg(long, default_value = "capped", requires = "export", value_parser = |s: &str| s.parse::<OutlierSetup>())]
    setup: OutlierSetup,
    /// With --export, also write FIT as each of these strategies resamples it for the grid's
    /// cells (smote, adasyn, undersample; comma-separated), to fit-STRATEGY.csv, with the run's
    /// seed (--seed): other tools then fit on the rows hitcast's cells fit on.
    #[arg(long, value_delimiter = ',', value_name = "LIST", requires = "export", value_parser = resampling_strategy)]
    resampled: Vec<Strategy>,
}

/// A strategy that changes FIT's rows (`none` and `weights` keep them as they are).
fn resampling_strategy(s: &str) -> Result<Strategy, String> {
    match s.parse::<Strategy>() {
        Ok(Strategy::None | Strategy::Weights) => Err(format!(
            "{s} keeps FIT's rows as they are (fit.csv): expected smote, adasyn or undersample"
        )),
        Ok(strategy) => Ok(strategy),
        Err(_) => Err(format!(
            "unknown strategy {s:?}: expected smote, adasyn or undersample"
        )),
    }
}

impl DataCommand {
    /// Runs the subcommand.
    pub fn run(self, globals: Globals) -> anyhow::Result<()> {
        match self {
            DataCommand::Check(args) => check(args),
            DataCommand::Split(args) => split(args, globals),
        }
    }
}

fn check(args: CheckArgs) -> anyhow::Result<()> {
    let (summary, _) = summarize(args.data.load()?, args.threshold);
    if args.json {
        return print_json(&summary);
    }
    emit(&render_check(&summary))
}

fn render_check(s: &DataSummary) -> String {
    let mut out = Lines(format!("hitcast data check: {}\n\n", s.path));
    let d = &s.duplicates;
    out.line("rows", thousands(s.rows_raw), String::new());
    if s.rows_skipped > 0 {
        out.line(
            "rows skipped",
            thousands(s.rows_skipped),
            s.skipped_examples.first().cloned().unwrap_or_default(),
        );
    }
    out.line(
        "tracks (track_id)",
        thousands(s.tracks),
        format!(
            "{} ids listed more than once; {} surplus rows collapsed",
            thousands(d.repeated_track_ids),
            thousands(d.surplus_rows)
        ),
    );
    out.line(
        "exact duplicate rows",
        thousands(d.exact_duplicate_rows),
        "same values in every column hitcast reads".into(),
    );
    out.line(
        "popularity conflicts",
        thousands(d.popularity_conflicts),
        "track ids whose copies disagree on popularity (first kept)".into(),
    );
    out.line("genres", thousands(s.genres), genre_spread(s));
    out.line(
        "missing values",
        thousands(s.missing.values().sum()),
        missing_note(s),
    );
    popularity_lines(&mut out, s);
    for d in &s.defaults {
        out.line(
            &format!("absent: {}", d.column),
            "default".into(),
            d.default.into(),
        );
    }
    out.0
}

/// The check's lines: a label, a right-aligned value and a note.
struct Lines(String);

impl Lines {
    fn line(&mut self, label: &str, value: String, note: String) {
        let _ = writeln!(
            self.0,
            "{}",
            format!("  {label:<22}{value:>9}  {note}").trim_end()
        );
    }
}

/// The fewest and most rows a genre has.
fn genre_spread(s: &DataSummary) -> String {
    let per_genre = s.rows_per_genre.values().copied();
    let lo = per_genre.clone().min().unwrap_or(0);
    let hi = per_genre.max().unwrap_or(0);
    if lo == hi {
        format!("{} rows each", thousands(lo))
    } else {
        format!("{}-{} rows each", thousands(lo), thousands(hi))
    }
}

/// The columns with missing values and how many each.
fn missing_note(s: &DataSummary) -> String {
    let missing: Vec<String> = s
        .missing
        .iter()
        .filter(|(_, &n)| n > 0)
        .map(|(c, n)| format!("{c} {}", thousands(*n)))
        .collect();
    if missing.is_empty() {
        String::new()
    } else {
        format!(
            "{} (rows kept, the cells read as empty)",
            missing.join(", ")
        )
    }
}

/// The popularity column's summary and the popular share, when the file has popularity.
fn popularity_lines(out: &mut Lines, s: &DataSummary) {
    if let Some(p) = &s.popularity {
        out.line(
            "popularity",
            format!("{:.2}", p.mean),
            format!(
                "mean over raw rows; sd {:.2}, min {}, max {}, {} rows at 0",
                p.sd,
                p.min,
                p.max,
                thousands(p.zeros)
            ),
        );
    }
    if let (Some(rate), Some(positives), Some(rows_rate)) =
        (s.positive_rate, s.positives, s.positive_rate_rows)
    {
        out.line(
            &format!("popular (> {})", s.threshold),
            percent(rate),
            format!(
                "of tracks ({} tracks); {} of raw rows",
                thousands(positives),
                percent(rows_rate)
            ),
        );
    }
}

fn split(args: SplitArgs, globals: Globals) -> anyhow::Result<()> {
    let p = &args.split;
    let (tracks, labels) = p.table(&args.data)?;
    let split = p.split(&tracks, &labels, p.fold, globals.seed)?;
    let summary = split.summary(&tracks, &labels);
    warn_thin_parts(&summary);
    if let Some(dir) = &args.export {
        export(
            dir,
            &tracks,
            &split,
            &labels,
            args.setup,
            &args.resampled,
            globals.seed,
        )?;
    }
    if args.json {
        #[derive(serde::Serialize)]
        struct Out<'a> {
            #[serde(flatten)]
            split: &'a SplitSummary,
            threshold: u8,
            seed: Option<u64>,
        }
        let seed = (p.protocol == Protocol::Reference).then_some(globals.seed);
        return print_json(&Out {
            split: &summary,
            threshold: p.threshold,
            seed,
        });
    }
    emit(&render_split(&summary, p.threshold, globals.seed))
}

/// Writes the three parts of `setup` as CSV files in `dir`, and FIT as each of `resampled`
/// resamples it with `seed`, each file atomically.
fn export(
    dir: &Path,
    tracks: &Tracks,
    split: &Split,
    labels: &[bool],
    setup: OutlierSetup,
    resampled: &[Strategy],
    seed: u64,
) -> anyhow::Result<()> {
    let popularity: Vec<f64> = tracks
        .popularity()
        .context("the data has no popularity column")?
        .into_iter()
        .map(f64::from)
        .collect();
    let features = default_features(split.protocol);
    let data = prepare(tracks, split, labels, &popularity, setup, features, &[])?;
    // Every resample before any file: one that cannot be made (too few popular tracks for
    // SMOTE's neighbours) leaves no export half-written.
    let mut fits = Vec::with_capacity(resampled.len());
    for &strategy in resampled {
        let fit = StrategyRows::new(&data, strategy, seed)
            .with_context(|| format!("cannot resample FIT by {strategy}"))?;
        fits.push((strategy, fit));
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let val_groups: Vec<u64> = split
        .val
        .iter()
        .map(|&i| split.protocol.group_key(&tracks.rows[i]))
        .collect();
    let test_groups: Vec<u64> = split
        .test
        .iter()
        .map(|&i| split.protocol.group_key(&tracks.rows[i]))
        .collect();
    let test_y: Vec<f64> = data
        .test_labels
        .iter()
        .map(|&l| f64::from(u8::from(l)))
        .collect();
    write_part(
        &dir.join("fit.csv"),
        &data.fit_x,
        &data.fit_y,
        &data.fit_score,
        &data.fit_groups,
    )?;
    write_part(
        &dir.join("val.csv"),
        &data.val_x,
        &data.val_y,
        &data.val_score,
        &val_groups,
    )?;
    write_part(
        &dir.join("test.csv"),
        &data.test_x,
        &test_y,
        &data.test_score,
        &test_groups,
    )?;
    for (strategy, fit) in fits {
        // A synthetic row takes its source row's popularity, as it takes its group.
        let score: Vec<f64> = fit.rows.origin.iter().map(|&i| data.fit_score[i]).collect();
        write_part(
            &dir.join(format!("fit-{strategy}.csv")),
            &fit.rows.x,
            &fit.rows.y,
            &score,
            &fit.groups,
        )?;
    }
    tracing::info!(dir = %dir.display(), setup = %setup, "exported FIT, VAL and TEST");
    Ok(())
}

/// Writes feature rows as CSV to `path`: the feature columns, then each row's label (popular),
/// popularity and group.
fn write_part(
    path: &Path,
    x: &FeatureMatrix,
    y: &[f64],
    score: &[f64],
    groups: &[u64],
) -> anyhow::Result<()> {
    let file =
        AtomicFile::create(path).with_context(|| format!("{}: cannot create", path.display()))?;
    let mut csv = csv::Writer::from_writer(file);
    let header = x.names().iter().map(String::as_str);
    csv.write_record(header.chain(["popular", "popularity", "group"]))?;
    for (i, row) in x.as_slice().chunks_exact(x.n_cols().max(1)).enumerate() {
        let mut record: Vec<String> = row.iter().map(|v| v.to_string()).collect();
        record.extend([
            y[i].to_string(),
            score[i].to_string(),
            groups[i].to_string(),
        ]);
        csv.write_record(&record)?;
    }
    csv.into_inner()
        .map_err(|e| anyhow::anyhow!("{}: {}", path.display(), e.error()))?
        .commit()
        .with_context(|| format!("{}: cannot write", path.display()))
}

/// Warns of a part without tracks, or without popular ones: what is fitted, chosen or measured
/// on it would mean nothing (a small file, or a protocol that puts everything on one side).
fn warn_thin_parts(s: &SplitSummary) {
    let parts = [
        ("FIT", s.fit, s.fit_positives),
        ("VAL", s.val, s.val_positives),
        ("TEST", s.test, s.test_positives),
    ];
    for (name, tracks, popular) in parts {
        if tracks == 0 {
            tracing::warn!("{name} holds no track: the file is too small for this split, or the protocol puts every track on one side");
        } else if popular == 0 {
            tracing::warn!("{name} holds no popular track: what is fitted, chosen or measured on it says nothing about popular ones");
        }
    }
}

fn render_split(s: &SplitSummary, threshold: u8, seed: u64) -> String {
    let mut out = String::new();
    let how = match s.protocol {
        Protocol::Honest => "tracks grouped by primary artist".to_owned(),
        Protocol::KnownArtist => "tracks grouped by track id: artists recur across parts".to_owned(),
        Protocol::GenreHoldout => "TEST holds a fifth of the genres; no TEST artist is in TRAIN".to_owned(),
        Protocol::Reference => format!("stratified random split of raw rows, seed {seed} (LEAKY: the same track and artist on both sides)"),
    };
    let fold = s.fold.map(|f| format!(", fold {f}")).unwrap_or_default();
    let _ = writeln!(out, "protocol {}{fold}: {how}\n", s.protocol);
    let pos = |n: usize, of: usize| {
        format!(
            "{} popular (> {threshold}), {}",
            thousands(n as u64),
            percent(n as f64 / of.max(1) as f64)
        )
    };
    let _ = writeln!(out, "  {:<8}{:>9}", "rows", thousands(s.tracks as u64));
    let _ = writeln!(
        out,
        "  {:<8}{:>9}  FIT + VAL",
        "train",
        thousands(s.train as u64)
    );
    let _ = writeln!(
        out,
        "  {:<8}{:>9}  {}",
        "fit",
        thousands(s.fit as u64),
        pos(s.fit_positives, s.fit)
    );
    let _ = writeln!(
        out,
        "  {:<8}{:>9}  {}",
        "val",
        thousands(s.val as u64),
        pos(s.val_positives, s.val)
    );
    let _ = writeln!(
        out,
        "  {:<8}{:>9}  {}",
        "test",
        thousands(s.test as u64),
        pos(s.test_positives, s.test)
    );
    let left_out = s.tracks.saturating_sub(s.train + s.test);
    if left_out > 0 {
        let why = if s.protocol == Protocol::GenreHoldout {
            "by TEST's artists in TRAIN's genres: in neither part"
        } else {
            "in neither part"
        };
        let _ = writeln!(
            out,
            "  {:<8}{:>9}  {why}",
            "left out",
            thousands(left_out as u64)
        );
    }
    let _ = writeln!(out, "\n  test_track_ids_sha256 {}", s.test_track_ids_sha256);
    out
}
