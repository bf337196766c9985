//! `hitcast bench`: times pipeline stages over several runs and prints medians.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use std::path::PathBuf;

use clap::{Args, Subcommand};
use hitcast::data::{read_rows, RawRow, Tracks};
use hitcast::models::{Classifier, Regressor};
use hitcast::predictor::Predictor;

use crate::dataset::DataArgs;
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
    #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1..))]
    rows: u64,
    /// Timed runs per thread count (after one warm-up run).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    runs: u32,
    /// Thread counts to measure (comma-separated).
    #[arg(long, value_delimiter = ',', default_values_t = [1usize, 2])]
    threads: Vec<usize>,
    /// Rows per batch, as `hitcast predict --batch`.
    #[arg(long, default_value_t = 8192, value_parser = clap::value_parser!(u32).range(1..))]
    batch: u32,
}

/// Flags of `hitcast bench load`.
#[derive(Debug, Args)]
pub struct LoadArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Timed runs (after one warm-up run).
    #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(u32).range(1..))]
    runs: u32,
}

impl BenchCommand {
    /// Runs the benchmark.
    pub fn run(self, _globals: Globals) -> anyhow::Result<()> {
        match self {
            BenchCommand::Load(args) => load(args),
            BenchCommand::Predict(args) => predict(args),
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

fn predict(args: PredictArgs) -> anyhow::Result<()> {
    let predictor = Predictor::load(&args.model)?;
    let path = args.data.path()?;
    let mut options = args.data.options()?;
    options.require_popularity = false;
    let source = read_rows(&path, &options)?.rows;
    anyhow::ensure!(!source.is_empty(), "{}: no rows to score", path.display());
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
                let mut spent = [Duration::ZERO; 4];
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
                    std::hint::black_box(predictor.score_rows(batch)?);
                    spent[3] += start.elapsed();
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
