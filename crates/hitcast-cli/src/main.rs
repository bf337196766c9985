//! The `hitcast` command line: parses flags, sets up logging, runs a subcommand, and turns its
//! result into an exit code (0 ok, 1 error, 2 usage). The work lives in the `hitcast` crate.

mod cmd;
mod dataset;
mod flags;
mod model_file;
mod output;
mod progress;
mod scoring;

use std::io::{self, Write};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tracing_subscriber::filter::LevelFilter;

/// Predict how popular a Spotify track will be from its audio features and genres.
#[derive(Debug, Parser)]
#[command(name = "hitcast", version, about, long_about = None, propagate_version = true)]
struct Cli {
    /// More log output (-v info, -vv debug, -vvv trace).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    /// Only errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
    /// Seed for every random choice; the same seed gives the same numbers.
    #[arg(long, global = true, default_value_t = 42)]
    seed: u64,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The main job, end to end: check the data, explore it, run the grids, train the model
    /// chosen on VAL, write the report, and say how to open the app.
    Run(cmd::run::RunArgs),
    /// Inspect the dataset: validation summary and protocol splits.
    #[command(subcommand)]
    Data(cmd::data::DataCommand),
    /// Explore the data: summary statistics, correlations, distributions and popularity by
    /// feature and genre, as one HTML page and its numbers as JSON.
    Eda(cmd::eda::EdaArgs),
    /// Run the grid of outlier setups x imbalance strategies x models, and the regression
    /// suite, under one evaluation protocol.
    Experiment(cmd::experiment::ExperimentArgs),
    /// Train the classifier and the score regressor, evaluate on TEST, save one model file.
    Train(cmd::train::TrainArgs),
    /// Score a CSV of tracks with a saved model.
    Predict(cmd::predict::PredictArgs),
    /// Explain a saved model's probability for each track of a CSV: the features that push it
    /// up and down.
    Explain(cmd::explain::ExplainArgs),
    /// Measure songs from their audio files (WAV, AIFF, FLAC, MP3, OGG, Opus, WebM, M4A): duration, loudness
    /// (LUFS), tempo, key, mode and metre, one row a file in the dataset's columns.
    Features(cmd::features::FeaturesArgs),
    /// Inspect a saved model, evaluate it on another catalogue, or export its trees.
    #[command(subcommand)]
    Model(cmd::model::ModelCommand),
    /// One HTML page joining the EDA, experiment results (protocols side by side) and a saved
    /// model's card.
    Report(cmd::report::ReportArgs),
    /// Serve the web app and the JSON API over a saved model.
    Serve(cmd::serve::ServeArgs),
    /// Time the pipeline's stages and print a table of medians.
    #[command(subcommand)]
    Bench(cmd::bench::BenchCommand),
}

/// What every subcommand gets besides its own flags.
#[derive(Clone, Copy, Debug)]
pub struct Globals {
    /// The `--seed` value.
    pub seed: u64,
    /// `-q`: no progress display.
    pub quiet: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // A server's log is read later, beside others': its lines say when.
    init_logging(
        cli.verbose,
        cli.quiet,
        matches!(cli.command, Command::Serve(_)),
    );
    let globals = Globals {
        seed: cli.seed,
        quiet: cli.quiet,
    };
    let result = match cli.command {
        Command::Run(args) => args.run(globals),
        Command::Data(command) => command.run(globals),
        Command::Eda(args) => args.run(globals),
        Command::Report(args) => args.run(globals),
        Command::Experiment(args) => args.run(globals),
        Command::Train(args) => args.run(globals),
        Command::Model(command) => command.run(globals),
        Command::Predict(args) => args.run(globals),
        Command::Explain(args) => args.run(globals),
        Command::Features(args) => args.run(globals),
        Command::Serve(args) => args.run(globals),
        Command::Bench(command) => command.run(globals),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) if is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            // The whole chain on one line: "file:line:col: column ...: reason".
            let _ = writeln!(io::stderr(), "error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(verbose: u8, quiet: bool, timed: bool) {
    let level = match (quiet, verbose) {
        (true, _) => LevelFilter::ERROR,
        (false, 0) => LevelFilter::WARN,
        (false, 1) => LevelFilter::INFO,
        (false, 2) => LevelFilter::DEBUG,
        (false, _) => LevelFilter::TRACE,
    };
    // Colours only for a terminal: a log file or a pipe gets plain text.
    let log = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(io::stderr)
        .with_ansi(io::IsTerminal::is_terminal(&io::stderr()))
        .with_target(false);
    if timed {
        log.init();
    } else {
        log.without_time().init();
    }
}

/// `hitcast data check | head` must not report an error when `head` exits.
fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error
        .chain()
        .filter_map(|e| e.downcast_ref::<io::Error>())
        .any(|e| e.kind() == io::ErrorKind::BrokenPipe)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// clap checks the whole definition (types, conflicts, defaults) here, not at parse time.
    #[test]
    fn the_command_line_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
