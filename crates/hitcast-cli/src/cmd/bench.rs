//! `hitcast bench`: times pipeline stages over several runs and prints medians.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use clap::{Args, Subcommand};
use hitcast::data::{read_rows, Tracks};

use crate::dataset::DataArgs;
use crate::output::{emit, thousands};
use crate::Globals;

/// `hitcast bench ...`
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Read + validate + collapse the whole dataset file.
    Load(LoadArgs),
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
