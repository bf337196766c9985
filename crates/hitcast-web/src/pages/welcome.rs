//! The welcome page: what hitcast predicts, and how well, in plain words.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use hitcast::artifact::{Metadata, Role};
use hitcast::models::ClassifierKind;
use hitcast::predictor::times;
use hitcast::sampling::Strategy;
use hitcast::split::Protocol;
use hitcast::text::thousands;
use maud::html;

use super::{page, respond};
use crate::AppState;

/// `GET /`.
pub async fn welcome(State(state): State<Arc<AppState>>) -> Response {
    let model = state.model();
    let m = model.predictor.metadata();
    let c = &m.test_classification;
    let r = &m.test_regression;
    let body = html! {
        h1 { "Will this track be popular on Spotify?" }
        p.lead {
            "hitcast reads a track's audio features (danceability, energy, tempo, ...) and its genres, and predicts "
            "the chance that its Spotify popularity will be above " (m.label_threshold) " out of 100, "
            "and the popularity score itself."
        }
        section.card aria-labelledby="how-well" {
            h2 #how-well { "How well it does" }
            p.big {
                "Of the tracks it flags as hit contenders, " b { (format!("{:.0}%", c.precision * 100.0)) } " are popular. "
                "It finds " b { (format!("{:.0}%", c.recall * 100.0)) } " of the popular tracks."
            }
            p {
                "Measured on " (thousands(c.rows)) " test tracks it never saw during training, of which "
                (format!("{:.1}%", c.positive_rate * 100.0)) " are popular: flagging tracks at random would be right "
                (format!("{:.1}%", c.positive_rate * 100.0)) " of the time. Shown one popular and one unpopular track, it ranks the popular one higher "
                (format!("{:.0}%", c.roc_auc * 100.0)) " of the time (ROC-AUC " (format!("{:.3}", c.roc_auc)) "; PR-AUC "
                (format!("{:.3}", c.pr_auc)) "). The 0-100 score is off by " (format!("{:.1}", r.mae))
                " points on average (R² " (format!("{:.2}", r.r2)) ")."
            }
            p {
                "Its chances mean what they say: among test tracks given about 10%, about 10% are popular "
                "(calibrated on validation tracks; expected calibration error " (format!("{:.4}", m.calibration.test_ece)) "). "
                "Each score comes with a range that held the true score for " b { (format!("{:.0}%", m.interval.test.coverage * 100.0)) }
                " of test tracks."
            }
            p.muted {
                "The model: " (model_words(m)) ", " (strategy_words(m.strategy)) ". "
                (protocol_words(m.protocol)) ". "
                "A track is flagged as a hit contender when its chance reaches " (format!("{:.1}%", m.decision_threshold * 100.0))
                " (" (times(m.decision_threshold / m.base_rate)) " a typical track's), a threshold chosen on validation tracks; "
                "it is a likely hit from a 50% chance."
            }
        }
        @if !m.companions.is_empty() {
            section.card aria-labelledby="which-model" {
                h2 #which-model { "Which model answers" }
                p {
                    "A track listed in a catalogue, with its Spotify id, is answered by the main model above. "
                    "The file holds other models, each trained on the same tracks from less, for tracks that have less: every answer says which one gave it."
                }
                ul {
                    @for c in &m.companions {
                        li {
                            b { (role_words(c.role)) } " " (role_use(c.role)) " On test tracks: ROC-AUC "
                            (format!("{:.3}", c.test_classification.roc_auc)) ", PR-AUC "
                            (format!("{:.3}", c.test_classification.pr_auc)) "; it flags tracks from a "
                            (format!("{:.1}%", c.decision_threshold * 100.0)) " chance."
                        }
                    }
                }
            }
        }
        nav.cards aria-label="what to do" {
            a.card href="/predict" { h2 { "Predict" } p { "Describe a track, or load a real one, and see the prediction and why." } }
            a.card href="/explore" { h2 { "Explore" } p { "Distributions, correlations, and every feature against popularity." } }
            a.card href="/models" { h2 { "Models" } p { "Every model, imbalance strategy and outlier setup compared." } }
            a.card href="/api/docs" { h2 { "API" } p { "POST /api/v1/predict scores up to 10,000 tracks per call; what-if curves and similar tracks too." } }
        }
    };
    respond(StatusCode::OK, page("Home", "Home", body))
}

/// A companion's name for people.
fn role_words(role: Role) -> &'static str {
    match role {
        Role::Main => "The main model",
        Role::NewSong => "The new-song model",
        Role::NoGenres => "The model without genres",
        Role::FromAudio => "The from-audio model",
    }
}

/// When a companion answers, and what it reads.
fn role_use(role: Role) -> &'static str {
    match role {
        Role::Main => "",
        Role::NewSong => {
            "answers a new song, one without a Spotify id: it reads the audio, the genres you name, the title and the credits, but not how many genre lists a catalogue files a track under, which only a listed track has."
        }
        Role::NoGenres => {
            "answers a track with no genre the model learnt: it reads the audio, the title and the credits."
        }
        Role::FromAudio => {
            "answers a song measured from its audio file: its duration, loudness, tempo, key, mode and metre, with the genres you name, the title and the credits (a file gives no danceability, energy or mood)."
        }
    }
}

/// The classifier in words.
fn model_words(m: &Metadata) -> &'static str {
    match m.classifier.classifier_kind() {
        Some(ClassifierKind::Logreg) => "a logistic regression",
        Some(ClassifierKind::Rf) => "a random forest",
        Some(ClassifierKind::Gbm) => "gradient-boosted decision trees",
        Some(ClassifierKind::Mlp) => "a neural network",
        Some(ClassifierKind::Stack) => "a neural network and a random forest, combined",
        None => "a model",
    }
}

/// How the rare popular tracks were handled in training, in words.
fn strategy_words(strategy: Strategy) -> &'static str {
    match strategy {
        Strategy::None => "trained on the tracks as they are",
        Strategy::Weights => "trained with the rare popular tracks weighted up",
        Strategy::Smote => "trained with synthetic popular tracks added (SMOTE)",
        Strategy::Adasyn => "trained with synthetic popular tracks added where they are hardest to tell apart (ADASYN)",
        Strategy::Undersample => "trained on a balanced sample, with most unpopular tracks left out",
    }
}

/// What the test figures mean under the model's split, in words.
fn protocol_words(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::Honest => "Its test tracks are by artists it never saw in training",
        Protocol::KnownArtist => "Its test tracks are new tracks by artists it saw in training",
        Protocol::GenreHoldout => "Its test tracks are from genres it never saw in training",
        Protocol::Reference => "Its test tracks were drawn at random from the rows, as the reference project did: copies of the same track sit on both sides, so its figures are inflated",
    }
}
