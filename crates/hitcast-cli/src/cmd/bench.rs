//! `hitcast bench`: times pipeline stages over several runs and prints medians.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use hitcast::data::{read_rows, RawRow, Tracks};
use hitcast::features::{TrackInput, CONTINUOUS};
use hitcast::models::{Classifier, Regressor};
use hitcast::predictor::{input, Predictor};

use crate::dataset::DataArgs;
use crate::model_file::load_predictor;
use crate::output::{emit, thousands};
use crate::Globals;

/// `hitcast bench ...`
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Read + validate + collapse the whole dataset file.
    Load(LoadArgs),
    /// Score N rows (the dataset repeated) with a saved model, on 1 and 2 threads: features,
    /// each model alone, and the whole in-memory predict.
    Predict(PredictArgs),
    /// What-if curves of real tracks: each continuous audio input varied along its range, as
    /// the page draws them, through `Predictor::what_if` (tree models walk each tree once for all
    /// points) against scoring the same rows one by one; checks that both give the same answers.
    WhatIf(WhatIfArgs),
    /// Start `hitcast serve` and time it to its first answer, then post single predictions at
    /// increasing rates and print latency percentiles.
    Serve(super::bench_serve::ServeBenchArgs),
}

/// Flags of `hitcast bench predict`.
#[derive(Debug, Args)]
pub struct PredictArgs {
    #[command(flatten)]
    data: DataArgs,
    /// The model file (from `hitcast train`).
    #[arg(long, value_name = "MODEL")]
    model: PathBuf,
    /// Rows to score: the dataset's rows repeated up to this count.
    #[arg(long, default_value_t = 1_000_000, value_parser = crate::flags::at_least_1::<u64>)]
    rows: u64,
    /// Timed runs per thread count (after one warm-up run).
    #[arg(long, default_value_t = 5, value_parser = crate::flags::at_least_1::<u32>)]
    runs: u32,
    /// Thread counts to measure (comma-separated).
    #[arg(long, value_delimiter = ',', default_values_t = [1usize, 2])]
    threads: Vec<usize>,
    /// Rows per batch, as `hitcast predict --batch`.
    #[arg(long, default_value_t = 8192, value_parser = crate::flags::at_least_1::<u32>)]
    batch: u32,
}

/// Flags of `hitcast bench what-if`.
#[derive(Debug, Args)]
pub struct WhatIfArgs {
    #[command(flatten)]
    data: DataArgs,
    /// The model file (from `hitcast train`).
    #[arg(long, value_name = "MODEL")]
    model: PathBuf,
    /// Tracks to draw curves for, spread evenly over the file.
    #[arg(long, default_value_t = 100, value_parser = crate::flags::at_least_1::<u32>)]
    tracks: u32,
    /// Points per curve (the page draws 41).
    #[arg(long, default_value_t = 41, value_parser = clap::value_parser!(u32).range(2..))]
    points: u32,
    /// Timed runs (after one warm-up run).
    #[arg(long, default_value_t = 5, value_parser = crate::flags::at_least_1::<u32>)]
    runs: u32,
}

/// Flags of `hitcast bench load`.
#[derive(Debug, Args)]
pub struct LoadArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Timed runs (after one warm-up run).
    #[arg(long, default_value_t = 7, value_parser = crate::flags::at_least_1::<u32>)]
    runs: u32,
}

impl BenchCommand {
    /// Runs the benchmark.
    pub fn run(self, _globals: Globals) -> anyhow::Result<()> {
        match self {
            BenchCommand::Load(args) => load(args),
            BenchCommand::Predict(args) => predict(args),
            BenchCommand::WhatIf(args) => what_if(args),
            BenchCommand::Serve(args) => args.run(),
        }
    }
}

fn load(args: LoadArgs) -> anyhow::Result<()> {
    let path = args.data.path()?;
    let options = args.data.options()?;
    let mut read_times = Vec::new();
    let mut collapse_times = Vec::new();
    let mut tracks = 0;
    for run in 0..=args.runs {
        let start = Instant::now();
        let loaded = read_rows(&path, &options)?;
        let read = start.elapsed();
        let start = Instant::now();
        let table = Tracks::collapse(loaded.rows);
        let collapse = start.elapsed();
        tracks = table.len();
        if run > 0 {
            read_times.push(read);
            collapse_times.push(collapse);
        }
    }
    let total: Vec<Duration> = read_times
        .iter()
        .zip(&collapse_times)
        .map(|(a, b)| *a + *b)
        .collect();
    let mut out = format!(
        "hitcast bench load: {} ({} tracks), {} runs after 1 warm-up\n\n",
        path.display(),
        thousands(tracks as u64),
        args.runs
    );
    let _ = writeln!(
        out,
        "  {:<28}{:>10}{:>10}{:>10}",
        "stage", "median", "min", "max"
    );
    for (name, times) in [
        ("read + validate", &read_times),
        ("collapse by track_id", &collapse_times),
        ("total", &total),
    ] {
        let (median, min, max) = stats(times);
        let _ = writeln!(
            out,
            "  {name:<28}{:>8.1}ms{:>8.1}ms{:>8.1}ms",
            ms(median),
            ms(min),
            ms(max)
        );
    }
    emit(&out)
}

/// The saved model and the rows of the data file to score with it (popularity not required).
fn model_and_rows(
    model: &std::path::Path,
    data: &DataArgs,
) -> anyhow::Result<(Predictor, PathBuf, Vec<RawRow>)> {
    let predictor = load_predictor(model)?;
    let path = data.path()?;
    let mut options = data.options()?;
    options.require_popularity = false;
    let rows = read_rows(&path, &options)?.rows;
    anyhow::ensure!(!rows.is_empty(), "{}: no rows to score", path.display());
    Ok((predictor, path, rows))
}

fn predict(args: PredictArgs) -> anyhow::Result<()> {
    let (predictor, path, source) = model_and_rows(&args.model, &args.data)?;
    let n = usize::try_from(args.rows)?;
    let rows: Vec<RawRow> = source.iter().cycle().take(n).cloned().collect();
    let payload = &predictor.artifact().payload;
    let mut out = format!(
        "hitcast bench predict: {} ({} classifier{}, {} regressor{}), {} rows ({} repeated); \
         batches of {}; rows/s, median of {} runs after 1 warm-up\n\n",
        args.model.display(),
        payload.classifier.kind(),
        of_rounds(payload.classifier.rounds()),
        payload.regressor.kind(),
        of_rounds(payload.regressor.rounds()),
        thousands(n as u64),
        path.display(),
        args.batch,
        args.runs
    );
    let _ = write!(out, "  {:<40}", "stage");
    for t in &args.threads {
        let _ = write!(
            out,
            "{:>14}",
            format!("{t} thread{}", if *t == 1 { "" } else { "s" })
        );
    }
    out.push('\n');
    let stages = [
        "table + features (parsed rows)",
        "classifier alone",
        "regressor alone",
        "Predictor::chances (probability alone)",
        "Predictor::score (all, with the range)",
    ];
    let mut figures = vec![Vec::new(); stages.len()];
    for &threads in &args.threads {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()?;
        let mut times = vec![Vec::new(); stages.len()];
        pool.install(|| -> anyhow::Result<()> {
            for run in 0..=args.runs {
                let mut spent = [Duration::ZERO; 5];
                for batch in rows.chunks(args.batch as usize) {
                    let start = Instant::now();
                    let tracks = Tracks::one_per_row(batch.to_vec());
                    let all: Vec<usize> = (0..tracks.len()).collect();
                    let x = payload.pipeline.transform(&tracks, &all).matrix;
                    spent[0] += start.elapsed();
                    let start = Instant::now();
                    std::hint::black_box(payload.classifier.predict_proba(&x));
                    spent[1] += start.elapsed();
                    let start = Instant::now();
                    std::hint::black_box(payload.regressor.predict(&x));
                    spent[2] += start.elapsed();
                    let start = Instant::now();
                    std::hint::black_box(predictor.chances_rows(batch)?);
                    spent[3] += start.elapsed();
                    let start = Instant::now();
                    std::hint::black_box(predictor.score_rows(batch)?);
                    spent[4] += start.elapsed();
                }
                if run > 0 {
                    for (t, d) in times.iter_mut().zip(spent) {
                        t.push(d);
                    }
                }
            }
            Ok(())
        })?;
        for (f, t) in figures.iter_mut().zip(&times) {
            f.push(n as f64 / stats(t).0.as_secs_f64());
        }
    }
    for (name, per_thread) in stages.iter().zip(&figures) {
        let _ = write!(out, "  {name:<40}");
        for rate in per_thread {
            let _ = write!(out, "{:>14}", thousands(*rate as u64));
        }
        out.push('\n');
    }
    emit(&out)
}

fn what_if(args: WhatIfArgs) -> anyhow::Result<()> {
    let (predictor, _, source) = model_and_rows(&args.model, &args.data)?;
    let step = (source.len() / args.tracks as usize).max(1);
    let rows: Vec<&RawRow> = source
        .iter()
        .step_by(step)
        .take(args.tracks as usize)
        .collect();
    // Every curve of every track: the track, the input varied and the values it visits.
    let mut curves = Vec::new();
    for row in &rows {
        for column in CONTINUOUS {
            let i = column
                .audio_index()
                .context("a continuous input is an audio input")?;
            let values = predictor.what_if_values(column, row.audio[i], args.points as usize)?;
            curves.push((input(row), column, i, values));
        }
    }
    let materialized = |track: &TrackInput, i: usize, values: &[f64]| {
        let tracks: Vec<TrackInput> = values
            .iter()
            .map(|&v| {
                let mut t = track.clone();
                t.audio[i] = v;
                t
            })
            .collect();
        predictor.score(&tracks)
    };
    let (mut walked, mut one_by_one) = (Vec::new(), Vec::new());
    for run in 0..=args.runs {
        let start = Instant::now();
        for (track, column, _, values) in &curves {
            std::hint::black_box(predictor.what_if(track, *column, values)?);
        }
        let w = start.elapsed();
        let start = Instant::now();
        for (track, _, i, values) in &curves {
            std::hint::black_box(materialized(track, *i, values)?);
        }
        let o = start.elapsed();
        if run > 0 {
            walked.push(w);
            one_by_one.push(o);
        }
    }
    let mut differ = 0;
    for (track, column, i, values) in &curves {
        differ += usize::from(
            predictor.what_if(track, *column, values)? != materialized(track, *i, values)?,
        );
    }
    anyhow::ensure!(
        differ == 0,
        "{differ} curves differ between the two ways of scoring"
    );
    let payload = &predictor.artifact().payload;
    let per_curve = |d: Duration| ms(d) * 1e3 / curves.len() as f64;
    let mut out = format!(
        "hitcast bench what-if: {} ({} classifier, {} regressor, {} range), {} tracks x {} \
         inputs, {} points a curve; median of {} runs after 1 warm-up; every curve the same \
         both ways\n\n",
        args.model.display(),
        payload.classifier.kind(),
        payload.regressor.kind(),
        predictor.metadata().interval.choice.method,
        rows.len(),
        CONTINUOUS.len(),
        args.points,
        args.runs
    );
    let _ = writeln!(out, "  {:<44}{:>12}{:>12}", "", "per curve", "all curves");
    let (w, o) = (stats(&walked).0, stats(&one_by_one).0);
    for (name, d) in [
        ("Predictor::what_if (trees walked once)", w),
        ("Predictor::score of the materialized rows", o),
    ] {
        let _ = writeln!(out, "  {name:<44}{:>10.0}us{:>10.1}ms", per_curve(d), ms(d));
    }
    let _ = writeln!(
        out,
        "\n  what_if is {:.1}x faster",
        o.as_secs_f64() / w.as_secs_f64()
    );
    emit(&out)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn stats(times: &[Duration]) -> (Duration, Duration, Duration) {
    let mut sorted = times.to_vec();
    sorted.sort();
    let n = sorted.len();
    let median = if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2
    };
    (median, sorted[0], sorted[n - 1])
}

/// " of N rounds" for boosted models, nothing for the rest.
fn of_rounds(rounds: Option<usize>) -> String {
    rounds
        .map(|r| format!(" of {r} rounds"))
        .unwrap_or_default()
}
