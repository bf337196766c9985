//! The answer panel of the prediction page: the chance and score with their range, which model
//! answered, the contributions behind both as waterfalls in music words, the what-if curves and
//! the similar tracks.

use hitcast::artifact::Role;
use hitcast::data::Column;
use hitcast::explain::{probability, Explanation, ScoreExplanation, Step};
use hitcast::features::CONTINUOUS;
use hitcast::predictor::times;
use hitcast::render::chart;
use hitcast::words;
use maud::{html, Markup};

use super::predict::encode;
use crate::catalogue::{CatalogueState, Found, Similar};
use crate::score::Scored;
use crate::track::{FormValues, TrackRequest};
use crate::AppState;

pub(super) fn result_panel(
    state: &AppState,
    track: &TrackRequest,
    s: &Scored,
    loaded: Option<&Found>,
) -> Markup {
    let a = &s.answer;
    // The figures of the model that answered, not the main model's.
    let model = state.model();
    let m = model.predictor.metadata_of(a.chance.model);
    // Within its genres when it has some: a pop track's neighbours in sound are other pop
    // tracks, not the children's song that happens to share its tempo and energy.
    let same_genre = !track.genres.is_empty();
    let similar = similar_tracks(state, track, loaded, same_genre);
    html! {
        section.result {
            // On phones a bar at the foot of the screen keeps the answer in view while the
            // form scrolls; wide screens keep the answer at the top of the window (sticky).
            div.summary-bar aria-hidden="true" {
                b { (format!("{:.1}%", a.chance.probability * 100.0)) } " chance of a hit · score "
                b { (format!("{:.0}", a.popularity)) } " (" (format!("{:.0}-{:.0}", a.popularity_low, a.popularity_high)) ")"
            }
            (answer_block(track, s, m))
            @if !a.chance.warnings.is_empty() {
                ul.notice #warnings {
                    @for w in &a.chance.warnings { li { (w.message) } }
                }
            }
            @if let Some(t) = loaded {
                p.real {
                    "The real track \u{201c}" (t.track_name) "\u{201d} by " (t.artists)
                    @match t.popularity {
                        Some(p) => { " has popularity " b #real-popularity { (p) } @if p > m.label_threshold { " (popular)" } @else { " (not popular)" } "." }
                        None => { " has no popularity in the file." }
                    }
                    " The prediction uses the values in the form."
                }
            }
            @if let Some(e) = &s.explanation { (contributions(e)) }
            @if let Some(e) = &s.score_explanation { (score_contributions(e)) }
            (what_if(state, track))
            (similar_table(&similar, same_genre))
        }
    }
}

/// The chance, the flag, the score and its range (the part that stays in view on wide screens),
/// then what they mean, which model answered, and the link to compare.
fn answer_block(track: &TrackRequest, s: &Scored, m: &hitcast::artifact::Metadata) -> Markup {
    let a = &s.answer;
    html! {
        // On wide screens the figures stick to the top of the window while the form and the
        // rest of the panel (what they mean, why, what if, similar tracks) scroll: a short
        // block, which leaves the explanation under it room to be read.
        div.answer {
            h2 { "The prediction" }
            p.probability {
                span #probability data-probability=(format!("{}", a.chance.probability)) { (format!("{:.1}%", a.chance.probability * 100.0)) }
                " chance that its popularity is above " (m.label_threshold)
            }
            p.headline {
                span #label .(if a.chance.flagged { "badge popular" } else { "badge" }) { (s.label) }
                " Predicted popularity score: " b #score { (format!("{:.0}", a.popularity)) } " out of 100, likely between "
                b #score-low { (format!("{:.0}", a.popularity_low)) } " and " b #score-high { (format!("{:.0}", a.popularity_high)) } "."
            }
        }
        div.answer-notes {
            p {
                (times(a.chance.lift)) " the chance of a typical track (" (format!("{:.1}%", m.base_rate * 100.0))
                " of training tracks are popular). Tracks are flagged as hit contenders from a "
                (format!("{:.1}%", m.decision_threshold * 100.0)) " chance"
                @if a.chance.flagged && a.chance.probability < 0.5 { ": a flagged track is many times a typical track's chance, and still more likely not to be popular" }
                "."
            }
            p {
                "The score is the average of the scores the track could reach, its "
                (format!("{:.1}%", a.chance.probability * 100.0)) " chance of one above " (m.label_threshold) " included; "
                (format!("{:.0}%", m.interval.choice.coverage * 100.0)) " of test tracks fall in their range."
            }
            p.muted #answered-by data-model=(a.chance.model.name()) {
                "Answered by " (a.chance.model.describe()) (answered_because(a.chance.model)) ". On test tracks it ranks popular ones with ROC-AUC "
                (format!("{:.3}", m.test_classification.roc_auc)) " and PR-AUC " (format!("{:.3}", m.test_classification.pr_auc))
                "; of the tracks it flags, " (format!("{:.0}%", m.test_classification.precision * 100.0)) " are popular."
            }
            // This scenario, to set beside others (the page's script adds those already
            // chosen in this tab).
            p.compare {
                a #compare-add href=(format!("/compare?s={}", encode(&FormValues::from_request(track).to_query()))) {
                    "Add to comparison"
                }
            }
        }
    }
}

/// The catalogue's tracks nearest in sound: beyond the track itself, and one line per song
/// (the same recording on five compilations says less than five different neighbours).
fn similar_tracks(
    state: &AppState,
    track: &TrackRequest,
    loaded: Option<&Found>,
    same_genre: bool,
) -> Vec<Similar> {
    let CatalogueState::Ready(catalogue) = state.catalogue.state() else {
        return Vec::new();
    };
    let own = loaded.map(|t| t.track_id.as_str());
    let mut seen: Vec<(String, String)> = loaded
        .map(|t| (t.track_name.to_lowercase(), t.artists.to_lowercase()))
        .into_iter()
        .collect();
    catalogue
        .similar(track, SIMILAR_SHOWN * 5, same_genre)
        .into_iter()
        .filter(|t| Some(t.track_id.as_str()) != own)
        .filter(|t| {
            let song = (t.track_name.to_lowercase(), t.artists.to_lowercase());
            let new = !seen.contains(&song);
            seen.push(song);
            new
        })
        .take(SIMILAR_SHOWN)
        .collect()
}

/// The similar tracks with their real popularity; nothing when there are none.
fn similar_table(similar: &[Similar], same_genre: bool) -> Markup {
    html! {
        @if !similar.is_empty() {
            h3 { "Real tracks that sound like it" }
            p.muted {
                "The catalogue's nearest in the ten audio measures"
                @if same_genre { ", within its genres" }
                ", with their real popularity: what tracks like this one actually reached."
            }
            // Two columns, the credits under the title, so a phone shows it whole.
            div.table-scroll {
                table #similar {
                    tr { th { "track" } th.num { "popularity" } }
                    @for t in similar {
                        tr {
                            td {
                                a href=(format!("/predict?track={}", encode(&t.track_id))) { (t.track_name) }
                                br;
                                span.muted.credits {
                                    (t.artists.replace(';', ", "))
                                    @if !t.album_name.is_empty() && t.album_name != t.track_name { " \u{b7} " i { (t.album_name) } }
                                }
                            }
                            td.num { @match t.popularity { Some(p) => (p), None => "\u{2013}" } }
                        }
                    }
                }
            }
        }
    }
}

/// Real tracks listed under the prediction.
const SIMILAR_SHOWN: usize = 6;

/// Points of each what-if curve on the page (the API's default is 25): enough for the large
/// chart; tree models answer all of them in one walk of each tree.
const WHAT_IF_POINTS: usize = 41;

/// One what-if curve: the measure varied, the track's own value, and the answer at each point.
struct Curve {
    column: Column,
    own: f64,
    /// (value, chance 0-1, score 0-100), by value.
    points: Vec<(f64, f64, f64)>,
}

impl Curve {
    /// The point at the track's own value (always among the points).
    fn here(&self) -> (f64, f64, f64) {
        self.points
            .iter()
            .copied()
            .find(|p| p.0 == self.own)
            .unwrap_or(self.points[0])
    }

    /// The lowest and highest of one of the answers along the curve.
    fn extent(&self, of: impl Fn(&(f64, f64, f64)) -> f64) -> (f64, f64) {
        self.points
            .iter()
            .map(of)
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                (a.min(v), b.max(v))
            })
    }

    /// A point of the measure's range for people ("3:20", "171 BPM", "0.51").
    fn value(&self, v: f64) -> String {
        words::quantity(self.column.name(), &format!("{v}"))
    }
}

/// What-if curves: for each continuous audio measure, the chance along the range the model saw
/// in training with everything else as in the form, small and on one shared scale, a dot at
/// the track's own value; opened, a large chart of the chance and the score with their values.
/// The page's script moves each beside its control in the form; without it they stay here.
/// Empty if the model cannot answer (logged; the rest of the panel stands).
fn what_if(state: &AppState, track: &TrackRequest) -> Markup {
    let model = state.model();
    let predictor = &model.predictor;
    let input = track.input();
    let mut curves = Vec::new();
    for column in CONTINUOUS {
        let Some(i) = column.audio_index() else {
            continue;
        };
        let own = track.audio[i];
        // A song measured from audio has no learned qualities to move along.
        if own.is_nan() {
            continue;
        }
        let points = predictor
            .what_if_values(column, own, WHAT_IF_POINTS)
            .and_then(|values| {
                let answers = predictor.what_if(&input, column, &values)?;
                Ok(values
                    .into_iter()
                    .zip(answers)
                    .map(|(v, a)| (v, a.chance.probability, a.popularity))
                    .collect::<Vec<_>>())
            });
        match points {
            Ok(points) if points.len() >= 2 => curves.push(Curve {
                column,
                own,
                points,
            }),
            Ok(_) => {}
            Err(e) => {
                tracing::warn!("what-if of {}: {e}", column.name());
                return html! {};
            }
        }
    }
    let top = curves
        .iter()
        .map(|c| c.extent(|p| p.1).1)
        .fold(0.01, f64::max);
    html! {
        section.what-if-curves {
            h3 { "What if" }
            p.muted {
                "How the chance would move along each measure, over the range of the training tracks, with everything else as in the form; the dot is this track. One scale for all, 0 to "
                (format!("{:.0}%", top * 100.0)) ". Open a curve for the chance and the score along it."
            }
            div.what-if {
                @for c in &curves { (curve(c, top)) }
            }
        }
    }
}

/// A curve as a small chart (the summary, on the shared scale `top`) that opens to a large one.
fn curve(c: &Curve, top: f64) -> Markup {
    let name = words::label(c.column.name());
    let (lo, hi) = (c.points[0].0, c.points[c.points.len() - 1].0);
    let (least, most) = c.extent(|p| p.1);
    let here = c.here();
    let chance: Vec<(f64, f64)> = c.points.iter().map(|p| (p.0, p.1)).collect();
    let label = format!(
        "{name}: the chance from {:.1}% to {:.1}% along its range",
        least * 100.0,
        most * 100.0
    );
    html! {
        details.curve data-feature=(c.column.name()) {
            summary {
                span.name { (name) }
                (chart::sparkline(&label, &chance, (lo, hi), top, (c.own, here.1)))
                span.span { (format!("chance {:.1}-{:.1}%", least * 100.0, most * 100.0)) }
            }
            (large_curve(c))
        }
    }
}

/// The large chart of a curve: the chance (top) and the score (bottom) along the measure, each
/// on its own scale with its lowest and highest value marked, and the track's value as a line
/// through both.
fn large_curve(c: &Curve) -> Markup {
    let (lo, hi) = (c.points[0].0, c.points[c.points.len() - 1].0);
    let here = c.here();
    let (chance, score) = (c.extent(|p| p.1), c.extent(|p| p.2));
    let percent = |p: f64| format!("{:.1}%", p * 100.0);
    let whole = |v: f64| format!("{v:.0}");
    let value = |v: f64| c.value(v);
    let name = words::label(c.column.name());
    let xs: Vec<f64> = c.points.iter().map(|p| p.0).collect();
    let label = format!(
        "{name} from {} to {}: the chance from {} to {}, the score from {:.0} to {:.0}",
        c.value(lo),
        c.value(hi),
        percent(chance.0),
        percent(chance.1),
        score.0,
        score.1
    );
    let panels = [
        chart::Panel {
            name: "chance",
            class: "chance",
            values: c.points.iter().map(|p| p.1).collect(),
            here: here.1,
            text: &percent,
        },
        chart::Panel {
            name: "score",
            class: "score",
            values: c.points.iter().map(|p| p.2).collect(),
            here: here.2,
            text: &whole,
        },
    ];
    html! {
        figure.large {
            (chart::panels(&label, &xs, c.own, &value, panels))
            figcaption {
                (name) " from " (c.value(lo)) " to " (c.value(hi)) ", everything else held: the chance goes from "
                (percent(c.points[0].1)) " to " (percent(c.points[c.points.len() - 1].1))
                " and the score from " (format!("{:.0}", c.points[0].2)) " to " (format!("{:.0}", c.points[c.points.len() - 1].2))
                ". At this track's " (c.value(c.own)) ": " (percent(here.1)) ", score " (format!("{:.0}", here.2)) "."
            }
        }
    }
}

/// Steps of the waterfall shown one by one; the rest are summed in one "everything else" step.
const WATERFALL_STEPS: usize = 8;

/// The steps as bars on one axis from 0 (or the lowest point) to the highest; `amount` turns a
/// change into its value in the shown unit and its text ("+3.7 pp", "-2.1"), and `data-change`
/// carries the value unrounded, so a test can add the steps up.
fn waterfall_list(
    steps: &[Step],
    start: f64,
    end: f64,
    amount: impl Fn(f64) -> (f64, String),
) -> Markup {
    let points = steps.iter().flat_map(|s| [s.from, s.to]);
    let lo = points.clone().fold(start.min(end).min(0.0), f64::min);
    let hi = points.fold(start.max(end), f64::max).max(lo + 1e-9);
    let x = |v: f64| (v - lo) / (hi - lo) * 100.0;
    html! {
        ol.waterfall data-start=(format!("{start}")) data-end=(format!("{end}")) {
            @for s in steps {
                @let (change, text) = amount(s.to - s.from);
                li data-change=(format!("{change}")) {
                    span.name {
                        (s.label)
                        @if !s.value.is_empty() { " " span.value { (s.value) } }
                    }
                    span.track {
                        span.(if s.to >= s.from { "bar up" } else { "bar down" })
                            style=(format!("margin-left:{:.2}%;width:{:.2}%", x(s.from.min(s.to)), (x(s.to) - x(s.from)).abs().max(0.3))) {}
                    }
                    span.amount { (text) }
                }
            }
        }
    }
}

fn contributions(e: &Explanation) -> Markup {
    let steps = e.chance_steps(WATERFALL_STEPS);
    let (start, end) = (probability(e.base), probability(e.log_odds));
    html! {
        h3 { "Why this chance" }
        p.muted {
            "From the model's baseline (" (format!("{:.1}%", start * 100.0)) ", its average answer) to this one's ("
            (format!("{:.1}%", end * 100.0)) "): how much each input moves it, in percentage points, each "
            "measured after those above it, the inputs the model weighs most first. Computed by "
            (e.method.describe()) "; the genres count as one input."
            @if e.contributions.iter().any(|c| c.read_as.is_some()) {
                " \u{201c}Read as\u{201d} is the value the model read in the input's place: an extreme capped at the training tracks' fence, the training tracks' median of a quality a file does not give, or the mean length of a title not given."
            }
        }
        (waterfall_list(&steps, start, end, |d| (d * 100.0, format!("{} pp", signed(d * 100.0)))))
    }
}

/// A change to one decimal with its sign, and no sign when it rounds to zero ("0.0", not "-0.0").
pub(super) fn signed(change: f64) -> String {
    if change.abs() < 0.05 {
        "0.0".to_owned()
    } else {
        format!("{change:+.1}")
    }
}

/// Why a model of `role` answered, after its name.
fn answered_because(role: Role) -> &'static str {
    match role {
        Role::Main => "",
        Role::NewSong => {
            ", as no catalogue lists the track (it has no Spotify id): it reads only what a new song has, not how many genre lists a catalogue files a track under"
        }
        Role::NoGenres => {
            ", as the track has no genre the model learned: its threshold and figures are its own"
        }
        Role::FromAudio => {
            ", as the song was measured from its audio file, which gives no danceability, energy, mood and the like: it reads what a file gives"
        }
    }
}

fn score_contributions(e: &ScoreExplanation) -> Markup {
    let steps = e.score_steps(WATERFALL_STEPS);
    let clamped = e.score.clamp(0.0, 100.0);
    html! {
        h3 { "Why this score" }
        p.muted {
            "From the model's baseline score (" (format!("{:.0}", e.base)) ", its average answer) to this one's ("
            (format!("{:.0}", e.score))
            @if clamped != e.score { ", shown as " (format!("{clamped:.0}")) }
            "): how much each input moves it, in points (pts) of the 0-100 score, largest first. Computed by "
            (e.method.describe()) "."
        }
        (waterfall_list(&steps, e.base, e.score, |d| (d, format!("{} pts", signed(d)))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_carry_their_sign_unless_they_round_to_zero() {
        assert_eq!(signed(3.64), "+3.6");
        assert_eq!(signed(-2.15), "-2.1");
        assert_eq!(signed(-0.04), "0.0");
        assert_eq!(signed(0.0), "0.0");
    }
}
