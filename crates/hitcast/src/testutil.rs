//! Helpers shared by unit tests.

/// Rows where the probability and the 0/1 label agree at 0.5.
pub fn correct_at_half(probabilities: &[f64], labels: &[f64]) -> usize {
    probabilities
        .iter()
        .zip(labels)
        .filter(|(p, y)| (**p > 0.5) == (**y > 0.5))
        .count()
}

/// A small table (200 tracks, 3 genres, every fifth popular) and a whole artifact trained on it:
/// a 20-round booster, a linear score model, Platt calibration and a score distribution of
/// constant scale (atoms evenly spread over ±10 points).
pub fn fixture() -> (crate::artifact::Artifact, crate::data::Tracks) {
    use crate::calibration::Calibration;
    use crate::data::{Track, Tracks, N_AUDIO};
    use crate::features::PipelineParams;

    let rows = (0..200u32)
        .map(|i| {
            let mut audio = [0.5; N_AUDIO];
            audio[0] = f64::from(i * 1000 % 7919);
            audio[2] = f64::from(i % 10) / 10.0;
            Track {
                line: u64::from(i) + 2,
                track_id: format!("t{i}"),
                artists: format!("a{}", i % 17),
                album_name: String::new(),
                track_name: format!("song {i}"),
                popularity: Some(if i % 10 >= 8 { 80 } else { 20 }),
                audio,
                genres: vec![(i % 3) as u16],
            }
        })
        .collect();
    let t = Tracks {
        genres: vec!["a".into(), "b".into(), "c".into()],
        rows,
        collapse: Default::default(),
    };
    let artifact = build(
        &t,
        PipelineParams::default(),
        Calibration::Platt { a: 1.5, b: -0.5 },
    );
    (artifact, t)
}

/// [`fixture`] with an no-genres companion (Platt 1, 0: its probabilities are the booster's).
pub fn fixture_with_companion() -> (crate::artifact::Artifact, crate::data::Tracks) {
    use crate::calibration::Calibration;
    use crate::features::{FeatureSet, PipelineParams};
    let (mut a, t) = fixture();
    let params = PipelineParams {
        features: FeatureSet::Audio,
        ..PipelineParams::default()
    };
    let c = build(&t, params, Calibration::Platt { a: 1.0, b: 0.0 });
    let mut metadata = c.metadata;
    metadata.role = crate::artifact::Role::NoGenres;
    a.metadata.companions.push(metadata);
    a.payload.companions.push(c.payload);
    (a, t)
}

/// One artifact over `t`: a 20-round booster, a linear score model, a constant-scale score
/// distribution.
pub(crate) fn build(
    t: &crate::data::Tracks,
    params: crate::features::PipelineParams,
    calibration: crate::calibration::Calibration,
) -> crate::artifact::Artifact {
    use crate::artifact::{Artifact, Payload};
    use crate::distribution::{DistributionModel, ATOMS};
    use crate::domain::Domain;
    use crate::features::FeaturePipeline;
    use crate::models::{BoostingParams, ModelSpec, RegressorKind, TrainSet};

    let all: Vec<usize> = (0..t.len()).collect();
    let pipeline = FeaturePipeline::fit(t, &all, params).unwrap();
    let x = pipeline.transform(t, &all).matrix;
    let y: Vec<f64> = t
        .rows
        .iter()
        .map(|r| f64::from(u8::from(r.popularity > Some(71))))
        .collect();
    let score: Vec<f64> = t
        .rows
        .iter()
        .map(|r| f64::from(r.popularity.unwrap()))
        .collect();
    let classifier = ModelSpec::Boosting(BoostingParams {
        max_rounds: 20,
        ..Default::default()
    });
    let regressor = ModelSpec::regressor(RegressorKind::Linear);
    Artifact {
        metadata: fixture_metadata(
            pipeline.names().to_vec(),
            classifier.clone(),
            regressor.clone(),
        ),
        payload: Payload {
            classifier: classifier
                .fit_classifier(&TrainSet::new(&x, &y), None, 1)
                .unwrap(),
            regressor: regressor
                .fit_regressor(&TrainSet::new(&x, &score), None, 1)
                .unwrap(),
            regressor_above: regressor
                .fit_regressor(&TrainSet::new(&x, &score), None, 1)
                .unwrap(),
            background: x.select_rows(&[0, 50, 100]).as_slice().to_vec(),
            shapes: crate::prior::AnswerShapes::fit(
                &(0..20).map(|i| f64::from(i) / 20.0).collect::<Vec<_>>(),
                &(0..20).map(|i| i % 5 == 0).collect::<Vec<_>>(),
            ),
            calibration,
            distribution: DistributionModel::constant(
                (0..ATOMS)
                    .map(|j| -10.0 + 20.0 * j as f64 / (ATOMS - 1) as f64)
                    .collect(),
                [0.1, 0.9],
                71,
            ),
            domain: Domain::fit(t, &all),
            reference: crate::drift::Reference::fit(
                t,
                &all,
                &t.rows
                    .iter()
                    .map(|r| r.popularity > Some(71))
                    .collect::<Vec<_>>(),
            ),
            known: crate::known::KnownTracks::of(t),
            companions: Vec::new(),
            pipeline,
        },
    }
}

/// The fixture's metadata: figures of nothing (0), for the models `classifier` and `regressor`
/// over `features`.
fn fixture_metadata(
    features: Vec<String>,
    classifier: crate::models::ModelSpec,
    regressor: crate::models::ModelSpec,
) -> crate::artifact::Metadata {
    use crate::artifact::{CalibrationReport, IntervalReport, Metadata};
    use crate::calibration::CalibrationChoice;
    use crate::distribution::{IntervalChoice, IntervalMetrics};
    use crate::metrics::{ClassificationMetrics, Confusion, RegressionMetrics};
    use crate::sampling::Strategy;
    use crate::split::Protocol;

    let metrics = ClassificationMetrics {
        rows: 0,
        positive_rate: 0.0,
        majority_accuracy: 0.0,
        roc_auc: 0.0,
        pr_auc: 0.0,
        threshold: 0.5,
        confusion: Confusion::default(),
        f1: 0.0,
        precision: 0.0,
        recall: 0.0,
        accuracy: 0.0,
        balanced_accuracy: 0.0,
    };
    Metadata {
        hitcast_version: "test".into(),
        created_unix: 1,
        data_sha256: "00".into(),
        protocol: Protocol::Honest,
        fold: Some(0),
        seed: 1,
        label_threshold: 71,
        strategy: Strategy::None,
        outliers: None,
        classifier,
        classifier_rounds: None,
        regressor,
        regressor_rounds: None,
        regressor_above_rounds: None,
        features,
        decision_threshold: 0.5,
        base_rate: 0.2,
        test_classification: metrics,
        test_regression: RegressionMetrics {
            r2: 0.0,
            rmse: 0.0,
            mae: 0.0,
        },
        calibration: CalibrationReport {
            choice: CalibrationChoice {
                method: "platt".into(),
                raw_logloss: 0.0,
                platt_logloss: 0.0,
                isotonic_logloss: 0.0,
            },
            test_ece: 0.0,
            test_ece_raw: 0.0,
            test_mean_probability: 0.0,
            test_reliability: Vec::new(),
        },
        interval: IntervalReport {
            choice: IntervalChoice {
                coverage: 0.8,
                method: "constant".into(),
                constant_width: 0.0,
                band_width: 0.0,
                levels: [0.1, 0.9],
            },
            test: IntervalMetrics {
                coverage: 0.0,
                mean_width: 0.0,
            },
            test_flagged_reaching: 0.0,
        },
        role: crate::artifact::Role::Main,
        companions: Vec::new(),
    }
}

/// The data guide's words (docs/data.md, where the README's data section moved) with
/// whitespace folded, for tests that it shows what the code does.
pub fn data_guide() -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/data.md");
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A test's own directory under the system's temporary one (`hitcast-{name}-{process id}`),
/// made empty. Removed when dropped, unless the thread is panicking: a failed test's files
/// stay for a look, a passing test's go.
pub struct ScratchDir(std::path::PathBuf, String);

/// The names of the scratch folders in use in this process.
static IN_USE: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

fn in_use() -> std::sync::MutexGuard<'static, Vec<String>> {
    IN_USE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl ScratchDir {
    /// Panics on a name in use by another scratch folder of this process: two tests running
    /// at once in one folder would empty and remove it under each other.
    pub fn new(name: &str) -> ScratchDir {
        {
            let mut taken = in_use();
            assert!(
                !taken.iter().any(|t| t == name),
                "two tests use the scratch folder {name:?} at once"
            );
            taken.push(name.to_owned());
        }
        let dir = std::env::temp_dir().join(format!("hitcast-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        ScratchDir(dir, name.to_owned())
    }

    pub fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl std::ops::Deref for ScratchDir {
    type Target = std::path::Path;

    fn deref(&self) -> &std::path::Path {
        &self.0
    }
}

impl AsRef<std::path::Path> for ScratchDir {
    fn as_ref(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
        in_use().retain(|t| *t != self.1);
    }
}
