//! `hitcast predict`: score a table of tracks (CSV or Parquet) with a saved model, streaming in batches so memory
//! stays bounded for any file size; the output appears only when complete.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use hitcast::data::{Column, RawRow};
use hitcast::fsutil::AtomicFile;
use hitcast::predictor::{
    self, answer_header, answer_record, check_keep, Chance, Genres, Kept, Prediction,
    UnknownGenres, TRAINING_TRACK,
};
use hitcast_arrow::{answers_batch, answers_schema, chances_batch, chances_schema, ParquetSink};

use crate::output::{percent, thousands};
use crate::scoring::{Batches, InputArgs};
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
    /// else CSV. Columns: track_id, popularity_probability (calibrated: the chance of a score
    /// above the label threshold), flagged (1 = a hit contender: the chance reaches the
    /// model's threshold), lift (the probability over a typical track's), predicted_popularity
    /// with its range popularity_low and popularity_high (the mean and quantiles of one score
    /// distribution whose chance above the threshold is the probability), warnings (what to
    /// treat with care, `;`-separated: inputs beyond what the model saw in training,
    /// track_genre for genres it does not know, training_track for a track of the dataset it
    /// was built from) and model (which model answered:
    /// main, new-song for a row without track_id, no-genres for a track with no genre the
    /// model knows, or from-audio for a row measured from audio: its seven learned columns
    /// empty).
    /// Absent or `-`: CSV to standard output.
    #[arg(long, value_name = "FILE", value_parser = crate::output::table_path)]
    output: Option<PathBuf>,
    /// Copy input columns into the output after the predictions (repeatable or
    /// comma-separated): hitcast's columns by name (after --map), as the model read them
    /// (--keep track_name,artists), and any other column of the file as written, by its
    /// header's name (--keep isrc). With --audio, by default the song's title (its file's name
    /// unless --title), what was measured, and its genres.
    #[arg(long, value_name = "COLUMN", value_delimiter = ',')]
    keep: Vec<String>,
    /// Leave out the score and its range (predicted_popularity, popularity_low,
    /// popularity_high): the classifier alone runs, in about half the time.
    #[arg(long)]
    no_score: bool,
    /// Rows scored at a time (memory grows with it).
    #[arg(long, default_value_t = 8192, value_parser = crate::flags::at_least_1::<u32>)]
    batch: u32,
    /// Adapt the answers to the file's own share of popular tracks, estimated from the model's
    /// answers (EM under label shift; a first pass over the file): every chance, flag, lift,
    /// score and range moves with it. For a catalogue that differs from the training data in
    /// its share of hits only (a playlist of hits, say), of 500 tracks or more; refused, with
    /// the reason, when the file's answers or inputs show it differs in more, or its share is
    /// not clearly another.
    #[arg(long)]
    adapt_prior: bool,
}

impl PredictArgs {
    /// The input columns copied into the answers: `--keep`'s, each one the input has, or for
    /// songs measured from audio by default which song each is and what was measured.
    fn kept(&self, keep: Vec<Kept>, input: &Batches) -> anyhow::Result<Vec<Kept>> {
        if keep.is_empty() && !self.input.audio.is_empty() {
            return Ok(hitcast_audio::KEPT_WITH_ANSWERS.map(Kept::Column).to_vec());
        }
        for kept in &keep {
            match kept {
                Kept::Column(c) if !input.has(*c) => {
                    anyhow::bail!("--keep {c}: the input has no {c} column")
                }
                // A file's other columns are checked as its header is read.
                Kept::Carried { name, .. } if !self.input.audio.is_empty() => anyhow::bail!(
                    "--keep {name}: songs measured from audio have only hitcast's columns \
                     (hitcast features --help lists them)"
                ),
                _ => {}
            }
        }
        Ok(keep)
    }

    /// Scores the file.
    pub fn run(self, globals: Globals) -> anyhow::Result<()> {
        let started = Instant::now();
        // Before any file is read or song measured.
        let asked = Kept::parse(&self.keep);
        check_keep(&asked).map_err(|e| anyhow::anyhow!("--keep: {e}"))?;
        let carry = Kept::carry(&asked);
        if self.adapt_prior && self.input.reads_stdin() {
            anyhow::bail!(
                "--adapt-prior reads the tracks twice, and standard input can be read once: \
                 give the file's path to --input"
            );
        }
        let mut predictor = self.input.predictor(&self.model)?;
        let mut evidence = predictor.evidence();
        if self.adapt_prior {
            // A first pass: the unadapted answers and the inputs of every row.
            self.input
                .batches(self.batch as usize, &carry)?
                .read_ahead(|batch| {
                    let inputs: Vec<_> = batch.iter().map(predictor::input).collect();
                    Ok(predictor.gather(&inputs, &mut evidence)?)
                })?;
            match predictor.estimate_prior(&evidence) {
                Ok(e) => {
                    tracing::warn!(
                        "adapted to a base rate of {} (± {}), estimated from the answers; the model's is {}",
                        percent(e.estimate),
                        percent(e.standard_error),
                        percent(e.training)
                    );
                    predictor = predictor.with_prior(e.estimate);
                }
                Err(e) => tracing::warn!("--adapt-prior: {e}"),
            }
        }
        let input = self.input.batches(self.batch as usize, &carry)?;
        let keep = self.kept(asked, &input)?;
        let output = self.output.as_deref().filter(|p| *p != Path::new("-"));
        let mut out = Answers::create(output, &keep, !self.no_score)?;
        let (mut warned, mut known) = (0u64, 0u64);
        let mut written = 0u64;
        let mut answered = Vec::new();
        let mut unknown_genres = UnknownGenres::default();
        let mut repeated = RepeatedIds::default();
        let count_drift = !self.adapt_prior;
        let mut input = input.read_ahead(|batch| {
            if count_drift {
                let inputs: Vec<_> = batch.iter().map(predictor::input).collect();
                predictor.count_drift(&inputs, &mut evidence.counts);
            }
            let answers = if self.no_score {
                Answered::Chances(predictor.chances_rows(&batch)?)
            } else {
                Answered::Predictions(predictor.score_rows(&batch)?)
            };
            for (i, row) in batch.iter().enumerate() {
                repeated.see(&row.track_id);
                let c = answers.chance(i);
                answered.push(c.model);
                unknown_genres.count(c);
                known += u64::from(c.warnings.iter().any(|w| w.field == TRAINING_TRACK));
                // Only an audio input beyond the training range: the genres have their own
                // line (`input.unknown_genres`).
                warned += u64::from(c.warnings.iter().any(|w| {
                    Column::from_name(&w.field).is_some_and(|c| c.audio_index().is_some())
                }));
            }
            out.write(&batch, &answers, &keep)?;
            written += batch.len() as u64;
            Ok(())
        })?;
        for role in answered {
            input.answered_by(role);
        }
        input.unknown_genres.merge(unknown_genres);
        input.some_read(written)?;
        out.commit()?;
        input.report();
        // Before the drift it explains: a track's rows read one genre each, where training
        // counted them together (genres_listed).
        if let Some(said) = repeated.notice() {
            tracing::warn!("{said}");
        }
        // Genres ignored are not read: their drift says nothing of the answers.
        let ignored = self.input.genres == Genres::Ignore;
        let mut unread = input.absent.clone();
        if ignored {
            unread.push(Column::TrackGenre.name());
        }
        if let Some(drift) = predictor
            .reference()
            .report(&evidence.counts)
            .map(|d| d.without(&unread))
        {
            let moved: Vec<String> = drift
                .large()
                .iter()
                .map(|c| format!("{} (PSI {:.2})", c.column, c.psi))
                .collect();
            if !moved.is_empty() {
                tracing::warn!(
                    "these tracks moved a lot from the training tracks in {}: the model's figures may not hold for them (`hitcast model evaluate` measures a labelled sample{})",
                    moved.join(", "),
                    if ignored { "" } else { "; --genres ignore if their genres mean something else" }
                );
            }
        }
        if warned > 0 {
            tracing::warn!(
                "{} row(s) have inputs beyond what the model saw in training (see the warnings column): treat their answers with care",
                thousands(warned)
            );
        }
        if known > 0 {
            tracing::warn!(
                "{} row(s) are tracks of the dataset the model was built from ({TRAINING_TRACK} in the warnings column): those it was trained on get answers that partly recall their popularity, not forecasts",
                thousands(known)
            );
        }
        if !globals.quiet {
            let seconds = started.elapsed().as_secs_f64();
            let _ = writeln!(
                std::io::stderr(),
                "scored {} {} into {} in {:.2} s ({:.0} rows/s)",
                thousands(written),
                if written == 1 { "row" } else { "rows" },
                output.map_or_else(|| "standard output".to_owned(), |p| p.display().to_string()),
                seconds,
                written as f64 / seconds.max(1e-9)
            );
        }
        Ok(())
    }
}

/// Track ids listed on more than one row, counted as the rows stream by: each such row is
/// scored as given, with its own genres, where training and `model evaluate` read a track's
/// rows as one. Ids are kept as 64-bit hashes with a count, at most [`RepeatedIds::MAX`] of
/// them (a table of about 34 MB at a million), so memory stays bounded; past that, new ids are
/// not counted and the notice says "at least".
#[derive(Default)]
struct RepeatedIds {
    /// Rows seen of each id's hash.
    rows: std::collections::HashMap<u64, u32>,
    /// Whether ids went uncounted past [`RepeatedIds::MAX`].
    full: bool,
}

impl RepeatedIds {
    const MAX: usize = 1 << 20;

    fn see(&mut self, track_id: &str) {
        use std::hash::{BuildHasher as _, BuildHasherDefault};
        if track_id.is_empty() {
            return;
        }
        // A fixed hasher: the same file gives the same counts.
        let hash = BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default()
            .hash_one(track_id);
        let full = self.rows.len() >= Self::MAX;
        match self.rows.get_mut(&hash) {
            Some(n) => *n = n.saturating_add(1),
            None if full => self.full = true,
            None => {
                self.rows.insert(hash, 1);
            }
        }
    }

    /// What to tell the user, when some id is on several rows.
    fn notice(&self) -> Option<String> {
        let tracks = self.rows.values().filter(|&&n| n > 1).count() as u64;
        if tracks == 0 {
            return None;
        }
        let rows: u64 = self
            .rows
            .values()
            .filter(|&&n| n > 1)
            .map(|&n| u64::from(n))
            .sum();
        Some(format!(
            "{}{} track_ids are listed on several rows ({} rows): each row was scored as given, \
             with its own genres, so a track may get several answers (training and `hitcast \
             model evaluate` read a track's rows as one, its genres together); for one answer a \
             track, list it once with its genres in one cell (pop;dance)",
            if self.full { "at least " } else { "" },
            thousands(tracks),
            thousands(rows)
        ))
    }
}

/// Where the answers go: a CSV (numbers at a printed precision) or, for a `.parquet` path, a
/// Parquet file of full-precision values. Either appears only when complete.
enum Answers {
    Csv {
        path: PathBuf,
        writer: csv::Writer<AtomicFile>,
    },
    Stdout(csv::Writer<std::io::Stdout>),
    Parquet(ParquetSink),
}

impl Answers {
    /// The output at `path` (standard output when `None`), its columns with the score's
    /// (`score`) or without.
    fn create(path: Option<&Path>, keep: &[Kept], score: bool) -> anyhow::Result<Answers> {
        let header = answer_header(score, keep);
        let Some(path) = path else {
            let mut writer = csv::Writer::from_writer(std::io::stdout());
            writer.write_record(header)?;
            return Ok(Answers::Stdout(writer));
        };
        if hitcast_arrow::names_parquet(path) {
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
        writer.write_record(header)?;
        Ok(Answers::Csv {
            path: path.to_owned(),
            writer,
        })
    }

    /// Writes a batch's answers: `predictions` when the output has the score's columns, else
    /// `chances` alone (which are `predictions`' own when both are given).
    fn write(&mut self, rows: &[RawRow], answers: &Answered, keep: &[Kept]) -> anyhow::Result<()> {
        match self {
            Answers::Parquet(sink) => sink.write(&match answers {
                Answered::Predictions(p) => answers_batch(rows, p, keep)?,
                Answered::Chances(c) => chances_batch(rows, c, keep)?,
            })?,
            Answers::Csv { writer, .. } => write_csv(writer, rows, answers, keep)?,
            Answers::Stdout(writer) => write_csv(writer, rows, answers, keep)?,
        }
        Ok(())
    }

    fn commit(self) -> anyhow::Result<()> {
        match self {
            Answers::Parquet(sink) => sink.commit()?,
            Answers::Stdout(mut writer) => writer.flush()?,
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

/// A batch's answers as CSV records, numbers at their printed precision.
/// A batch's answers: the chances alone (`--no-score`), or whole predictions.
enum Answered {
    Chances(Vec<Chance>),
    Predictions(Vec<Prediction>),
}

impl Answered {
    /// The `i`-th track's chance.
    fn chance(&self, i: usize) -> &Chance {
        match self {
            Answered::Chances(c) => &c[i],
            Answered::Predictions(p) => &p[i].chance,
        }
    }
}

fn write_csv<W: std::io::Write>(
    writer: &mut csv::Writer<W>,
    rows: &[RawRow],
    answers: &Answered,
    keep: &[Kept],
) -> anyhow::Result<()> {
    for (i, row) in rows.iter().enumerate() {
        let prediction = match answers {
            Answered::Predictions(p) => p.get(i),
            Answered::Chances(_) => None,
        };
        writer.write_record(answer_record(row, answers.chance(i), prediction, keep))?;
    }
    Ok(())
}
