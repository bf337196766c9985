//! Inline SVG charts for every page: histograms, lines of binned means, horizontal bars, curves
//! on a square, a labelled heatmap, and the app's what-if lines (a small one and a large one of
//! two panels).
//!
//! Charts are drawn on a narrow canvas (380 units wide) with 13-unit text, for pages that lay
//! them out at 320-460 px: the text then reads at 11 px or more on a phone and on a desktop
//! alike. A chart's title is HTML above it (see [`Chart`]), where it wraps; the heatmap has many
//! columns and is drawn at its natural size, for a box that scrolls sideways on a phone.
//!
//! Drawn here in maud rather than with a plotting crate such as plotters: the page needs plain
//! SVG elements that scale with the page (a `viewBox`), a `<title>` on every mark so a hover
//! tells the exact number, and `role="img"` with a label for screen readers; plotters' SVG
//! backend writes fixed-size drawings without them. Colours are the Okabe-Ito palette and a blue-orange
//! diverging scale, both readable with the common colour-vision deficiencies and in greyscale
//! print.

use std::fmt::Write as _;

use maud::{html, Markup};

/// Bars and lines.
pub const BLUE: &str = "#0072B2";
/// Markers (the label threshold).
pub const ORANGE: &str = "#D55E00";

const W: f64 = 380.0;
const H: f64 = 250.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 14.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 46.0;
/// The height of a line of chart text (13 units) with its leading.
const LINE: f64 = 17.0;

/// A chart: its title, shown as text above it, and its SVG (which carries the title too, for
/// screen readers and as a tooltip).
pub struct Chart {
    /// What the chart shows, in a few words.
    pub title: String,
    /// The `<svg>` element (a heatmap's, with its row labels' beside it).
    pub svg: Markup,
    /// Drawn at its natural size, for a box that scrolls sideways where the page is narrower.
    pub scrolls: bool,
}

/// The `<svg>` element of a chart, scaling with the page (`natural` false) or drawn at its
/// natural size.
fn svg(
    class: &str,
    (width, height): (f64, f64),
    natural: bool,
    title: &str,
    marks: Markup,
) -> Markup {
    html! {
        svg class=(class) width=[natural.then_some(width)] height=[natural.then_some(height)]
            viewBox=(format_args!("0 0 {width} {height}")) role="img" aria-label=(title)
            xmlns="http://www.w3.org/2000/svg" {
            title { (title) }
            (marks)
        }
    }
}

/// A number for an axis or a tooltip: short, without trailing zeros.
pub fn short(v: f64) -> String {
    let a = v.abs();
    let s = if a >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if a >= 1e4 {
        format!("{:.0}k", v / 1e3)
    } else if a >= 100.0 || v.fract() == 0.0 {
        format!("{v:.0}")
    } else if a >= 1.0 {
        format!("{v:.1}")
    } else {
        // Two significant digits (0.12, 0.0042), to 8 decimals: under that it reads as 0.
        let decimals = 1i32.saturating_sub(a.log10().floor() as i32).clamp(2, 8) as usize;
        format!("{v:.decimals$}")
    };
    let s = if s.contains('.') && !s.ends_with('M') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    };
    // A small negative value (or -0.0) rounds to zero, which has no sign.
    if s == "-0" {
        "0".to_owned()
    } else {
        s
    }
}

/// About `n` round tick values covering `[lo, hi]`.
fn ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    if hi.partial_cmp(&lo) != Some(std::cmp::Ordering::Greater) {
        return vec![lo];
    }
    let raw = (hi - lo) / n as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let first = (lo / step).ceil() * step;
    (0..)
        .map(|i| first + i as f64 * step)
        .take_while(|t| *t <= hi + step * 1e-9)
        .collect()
}

/// An SVG path through `points` (already in canvas units): a move, then lines.
fn path(points: impl IntoIterator<Item = (f64, f64)>) -> String {
    let mut d = String::new();
    for (i, (x, y)) in points.into_iter().enumerate() {
        let _ = write!(d, "{}{x:.1} {y:.1} ", if i == 0 { 'M' } else { 'L' });
    }
    d.truncate(d.trim_end().len());
    d
}

/// The frame every chart with axes shares: the data ranges, and where the plot sits.
struct Frame {
    x: (f64, f64),
    y: (f64, f64),
    /// The plot's top edge: below the legend, when there is one.
    top: f64,
}

/// Named ticks for an x axis of codes (a key's pitch classes, major and minor), instead of
/// round numbers.
pub type TickNames<'a> = &'a dyn Fn(f64) -> String;

impl Frame {
    /// A frame over `x` and `y`, with room above the plot for `legend` lines.
    fn new(x: (f64, f64), y: (f64, f64), legend: usize) -> Frame {
        Frame {
            x,
            y,
            top: TOP + LINE * legend as f64,
        }
    }

    /// The bottom of the plot.
    fn bottom(&self) -> f64 {
        H + self.top - TOP - BOTTOM
    }

    fn px(&self, v: f64) -> f64 {
        LEFT + (v - self.x.0) / (self.x.1 - self.x.0) * (W - LEFT - RIGHT)
    }

    fn py(&self, v: f64) -> f64 {
        self.bottom() - (v - self.y.0) / (self.y.1 - self.y.0) * (H - TOP - BOTTOM)
    }

    /// The axes with their labels; x ticks are `x_ticks` when given (value, name), round
    /// numbers otherwise.
    fn axes(&self, x_label: &str, y_label: &str, x_ticks: Option<Vec<(f64, String)>>) -> Markup {
        let (x0, x1, y0, top) = (LEFT, W - RIGHT, self.bottom(), self.top);
        let x_ticks = x_ticks.unwrap_or_else(|| {
            ticks(self.x.0, self.x.1, 5)
                .into_iter()
                .map(|t| (t, short(t)))
                .collect()
        });
        html! {
            line.axis x1=(x0) y1=(y0) x2=(x1) y2=(y0) {}
            line.axis x1=(x0) y1=(top) x2=(x0) y2=(y0) {}
            @for t in ticks(self.y.0, self.y.1, 5) {
                @let y = self.py(t);
                line.grid x1=(x0) y1=(format_args!("{y:.1}")) x2=(x1) y2=(format_args!("{y:.1}")) {}
                text.tick x=(format_args!("{:.1}", x0 - 6.0)) y=(format_args!("{:.1}", y + 4.0)) text-anchor="end" { (short(t)) }
            }
            @for (t, name) in &x_ticks {
                @let x = self.px(*t);
                line.axis x1=(format_args!("{x:.1}")) y1=(y0) x2=(format_args!("{x:.1}")) y2=(format_args!("{:.1}", y0 + 4.0)) {}
                text.tick x=(format_args!("{x:.1}")) y=(format_args!("{:.1}", y0 + 19.0)) text-anchor="middle" { (name) }
            }
            text.label x=(format_args!("{:.1}", (x0 + x1) / 2.0)) y=(format_args!("{:.1}", y0 + BOTTOM - 6.0)) text-anchor="middle" { (x_label) }
            text.label transform=(format_args!("translate(14 {:.1}) rotate(-90)", (top + y0) / 2.0)) text-anchor="middle" { (y_label) }
        }
    }

    /// The chart: the frame's canvas holding `axes` and then `marks`.
    fn chart(&self, title: &str, axes: Markup, marks: Markup) -> Chart {
        let size = (W, H + self.top - TOP);
        Chart {
            title: title.to_owned(),
            svg: svg("chart", size, false, title, html! { (axes) (marks) }),
            scrolls: false,
        }
    }
}

/// A histogram: `counts[i]` between `edges[i]` and `edges[i + 1]`, with an optional vertical
/// marker `(x, label)`.
pub fn histogram(
    title: &str,
    x_label: &str,
    edges: &[f64],
    counts: &[usize],
    marker: Option<(f64, &str)>,
) -> Chart {
    // Up to at least 5: an axis of counts ticks at whole rows (below that, ticks fall at 0.5).
    let top = (counts.iter().copied().max().unwrap_or(1) as f64 * 1.05).max(5.0);
    let (lo, hi) = (edges[0], edges[edges.len() - 1]);
    let f = Frame::new((lo, hi), (0.0, top), 0);
    let base = f.py(0.0);
    let marks = html! {
        @for (i, &c) in counts.iter().enumerate() {
            @let (x0, x1) = (f.px(edges[i]), f.px(edges[i + 1]));
            @let y = f.py(c as f64);
            rect.bar fill=(BLUE) x=(format_args!("{:.1}", x0 + 0.5)) y=(format_args!("{y:.1}"))
                width=(format_args!("{:.1}", (x1 - x0 - 1.0).max(0.5))) height=(format_args!("{:.1}", base - y)) {
                title { (short(edges[i])) " to " (short(edges[i + 1])) ": " (c) " rows" }
            }
        }
        @if let Some((x, label)) = marker {
            @let px = f.px(x);
            // The label reads away from the plot's nearer edge, so it is never cut off.
            @let (lx, anchor) = if px > (LEFT + W - RIGHT) / 2.0 { (px - 5.0, "end") } else { (px + 5.0, "start") };
            line.marker stroke=(ORANGE) x1=(format_args!("{px:.1}")) y1=(format_args!("{:.1}", f.top))
                x2=(format_args!("{px:.1}")) y2=(format_args!("{:.1}", f.bottom())) {}
            text.marker-label fill=(ORANGE) x=(format_args!("{lx:.1}")) y=(format_args!("{:.1}", f.top + 13.0)) text-anchor=(anchor) { (label) }
        }
    };
    f.chart(title, f.axes(x_label, "rows", None), marks)
}

/// Mean popularity (y) against a feature's bin centres (x); empty bins leave a gap. Points
/// carry their row counts in their tooltips. Bins are joined by a line; codes (`names` given)
/// are not, and each is a tick with its name.
pub fn line(
    title: &str,
    x_label: &str,
    y_label: &str,
    x: &[f64],
    y: &[Option<f64>],
    counts: &[usize],
    names: Option<TickNames>,
) -> Chart {
    let connect = names.is_none();
    let name = |v: f64| names.map_or_else(|| short(v), |f| f(v));
    let (lo, hi) = (
        x.first().copied().unwrap_or(0.0),
        x.last().copied().unwrap_or(1.0),
    );
    let (lo, hi) = if hi > lo {
        (lo, hi)
    } else {
        (lo - 1.0, hi + 1.0)
    };
    // Codes get half a step of room either side, so the end names are not cut off.
    let pad = if connect { (hi - lo) * 0.03 } else { 0.5 };
    let top = y.iter().flatten().copied().fold(0.0, f64::max).max(1.0) * 1.1;
    let ticks = names.map(|f| x.iter().map(|&v| (v, f(v))).collect());
    let f = Frame::new((lo - pad, hi + pad), (0.0, top), 0);
    // A gap (an empty bin) starts the line again.
    let mut d = String::new();
    for (i, (&xv, yv)) in x.iter().zip(y).enumerate() {
        if let Some(yv) = yv {
            let cmd = if d.is_empty() || y[i.saturating_sub(1)].is_none() {
                'M'
            } else {
                'L'
            };
            let _ = write!(d, "{cmd}{:.1} {:.1} ", f.px(xv), f.py(*yv));
        }
    }
    let marks = html! {
        @if connect && !d.is_empty() {
            path.line fill="none" stroke=(BLUE) d=(d.trim_end()) {}
        }
        @for ((&xv, yv), &n) in x.iter().zip(y).zip(counts) {
            @if let Some(yv) = yv {
                circle.point fill=(BLUE) cx=(format_args!("{:.1}", f.px(xv))) cy=(format_args!("{:.1}", f.py(*yv)))
                    r=(if connect { 3 } else { 5 }) {
                    title { (name(xv)) ": mean " (format_args!("{yv:.1}")) " over " (n) " rows" }
                }
            }
        }
    };
    f.chart(title, f.axes(x_label, y_label, ticks), marks)
}

/// Horizontal bars, one per `(label, value)`, top to bottom; values formatted by `fmt`. Labels
/// of up to about 20 characters sit left of their bars; longer ones get a line of their own
/// above their bars, so none is cut off on a narrow chart.
pub fn hbars(title: &str, x_label: &str, items: &[(String, f64)], fmt: fn(f64) -> String) -> Chart {
    let largest = items.iter().map(|i| i.1).fold(0.0, f64::max);
    hbars_to(title, x_label, items, fmt, largest)
}

/// [`hbars`] drawn to the scale of `largest`, not of its own items: two charts of one
/// measure side by side (a top 15 and a bottom 15) then share a scale.
pub fn hbars_to(
    title: &str,
    x_label: &str,
    items: &[(String, f64)],
    fmt: fn(f64) -> String,
    largest: f64,
) -> Chart {
    // 13-unit text is about 7 units a character.
    let longest = items.iter().map(|i| i.0.chars().count()).max().unwrap_or(0) as f64 * 7.0;
    let beside = longest <= 134.0;
    let (row, bar_left, bar_y, bar_h) = if beside {
        (22.0, 140.0, 3.0, 16.0)
    } else {
        (38.0, 0.0, 19.0, 14.0)
    };
    let height = TOP + BOTTOM + row * items.len() as f64;
    // Room right of the longest bar for its value.
    let top = largest.max(1e-9) * 1.3;
    let width = W - bar_left - RIGHT;
    let px = |v: f64| bar_left + v / top * width;
    let base = TOP + row * items.len() as f64;
    let marks = html! {
        @for (i, (label, v)) in items.iter().enumerate() {
            @let y = TOP + row * i as f64;
            @let (lx, ly, anchor) = if beside { (bar_left - 6.0, y + 15.0, "end") } else { (bar_left, y + 13.0, "start") };
            text.tick x=(format_args!("{lx:.1}")) y=(format_args!("{ly:.1}")) text-anchor=(anchor) { (label) }
            rect.bar fill=(BLUE) x=(bar_left) y=(format_args!("{:.1}", y + bar_y))
                width=(format_args!("{:.1}", (px(*v) - bar_left).max(0.5))) height=(bar_h) {
                title { (label) ": " (fmt(*v)) }
            }
            text.value x=(format_args!("{:.1}", px(*v) + 4.0)) y=(format_args!("{:.1}", y + bar_y + bar_h - 3.0)) { (fmt(*v)) }
        }
        line.axis x1=(bar_left) y1=(format_args!("{base:.1}")) x2=(format_args!("{:.1}", W - RIGHT)) y2=(format_args!("{base:.1}")) {}
        text.label x=(format_args!("{:.1}", (bar_left + W - RIGHT) / 2.0)) y=(format_args!("{:.1}", base + 30.0)) text-anchor="middle" { (x_label) }
    };
    Chart {
        title: title.to_owned(),
        svg: svg("chart", (W, height), false, title, marks),
        scrolls: false,
    }
}

/// Colours of successive series in [`curves`] (Okabe-Ito).
const SERIES: [&str; 3] = [BLUE, ORANGE, "#009E73"];

/// Curves on the square `[0, extent]²` (ROC and precision-recall on the unit square,
/// calibration zoomed to where the predictions are), one per `(name, points)`, with the diagonal
/// `y = x` drawn dashed when `diagonal`. Names are listed above the plot, one a line.
pub fn curves(
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[(&str, &[(f64, f64)])],
    diagonal: bool,
    extent: f64,
) -> Chart {
    let f = Frame::new((0.0, extent), (0.0, extent), series.len());
    let marks = html! {
        @if diagonal {
            line.grid stroke-dasharray="4 3" stroke="#999" x1=(format_args!("{:.1}", f.px(0.0))) y1=(format_args!("{:.1}", f.py(0.0)))
                x2=(format_args!("{:.1}", f.px(extent))) y2=(format_args!("{:.1}", f.py(extent))) {}
        }
        @for (k, (name, points)) in series.iter().enumerate() {
            @let colour = SERIES[k % SERIES.len()];
            path.line fill="none" stroke=(colour) d=(path(points.iter().map(|&(x, y)| (f.px(x), f.py(y))))) {
                title { (name) }
            }
            text.label fill=(colour) x=(format_args!("{LEFT:.1}")) y=(format_args!("{:.1}", TOP + LINE * k as f64)) { (name) }
            @if points.len() <= 20 {
                @for (x, y) in points.iter() {
                    circle.point fill=(colour) cx=(format_args!("{:.1}", f.px(*x))) cy=(format_args!("{:.1}", f.py(*y))) r="3" {
                        title { (format_args!("{x:.3}, {y:.3}")) }
                    }
                }
            }
        }
    };
    f.chart(title, f.axes(x_label, y_label, None), marks)
}

/// The fill of a correlation: blue for negative, orange for positive, white at 0.
fn diverging(r: f64) -> String {
    let r = if r.is_finite() {
        r.clamp(-1.0, 1.0)
    } else {
        0.0
    };
    let (to, t) = if r < 0.0 {
        ((33.0, 102.0, 172.0), -r)
    } else {
        ((179.0, 88.0, 6.0), r)
    };
    let mix = |c: f64| (255.0 + (c - 255.0) * t).round() as u8;
    format!("rgb({},{},{})", mix(to.0), mix(to.1), mix(to.2))
}

/// A labelled correlation heatmap with each coefficient written in its cell.
/// Drawn at its natural size, for a box that scrolls sideways where the page is narrower: the
/// row labels are a picture of their own beside the cells, kept in view as the cells scroll
/// (a phone shows a third of the matrix at a time, and a cell is read by its row).
pub fn heatmap(title: &str, labels: &[&str], m: &[Vec<f64>]) -> Chart {
    let k = labels.len() as f64;
    let (left, top, cell) = (130.0, 10.0, 34.0);
    let height = top + cell * k + 120.0;
    let size = (cell * k + 70.0, height);
    let row_labels = html! {
        @for (i, label) in labels.iter().enumerate() {
            @let y = top + cell * i as f64;
            text.tick x=(format_args!("{:.1}", left - 6.0)) y=(format_args!("{:.1}", y + cell / 2.0 + 4.0)) text-anchor="end" { (label) }
        }
    };
    let marks = html! {
        @for (i, row) in m.iter().enumerate() {
            @let y = top + cell * i as f64;
            @for (j, &r) in row.iter().enumerate() {
                @let x = cell * j as f64;
                // A column that never varies has no coefficient (NaN): a dash, on white.
                @let (exact, text) = if r.is_finite() {
                    (format!("{r:.3}"), format!("{r:.2}").replace("0.", "."))
                } else {
                    ("—".to_owned(), "—".to_owned())
                };
                rect.cell x=(format_args!("{x:.1}")) y=(format_args!("{y:.1}")) width=(cell) height=(cell) fill=(diverging(r)) {
                    title { (labels[i]) " / " (labels[j]) ": " (exact) }
                }
                text.cell-value x=(format_args!("{:.1}", x + cell / 2.0)) y=(format_args!("{:.1}", y + cell / 2.0 + 4.0))
                    text-anchor="middle" fill=(if r.abs() > 0.6 { "#fff" } else { "#222" }) {
                    (text)
                }
            }
        }
        @for (j, label) in labels.iter().enumerate() {
            @let (x, y) = (cell * j as f64 + cell / 2.0, top + cell * k + 6.0);
            text.tick transform=(format_args!("translate({x:.1} {y:.1}) rotate(50)")) text-anchor="start" { (label) }
        }
    };
    let svg = html! {
        div.heatmap-rows {
            // The cells' own titles name their rows: this copy is for the eye.
            svg class="chart heatmap-labels" width=(left) height=(height)
                viewBox=(format_args!("0 0 {left} {height}")) aria-hidden="true"
                xmlns="http://www.w3.org/2000/svg" {
                (row_labels)
            }
            (svg("chart heatmap", size, true, title, marks))
        }
    };
    Chart {
        title: title.to_owned(),
        svg,
        scrolls: true,
    }
}

/// A line small enough to sit beside a form control: `points` from `x.0` to `x.1` on the
/// shared scale `0..=top`, with a dot at `dot`; no axes (the page says the range in words).
pub fn sparkline(
    label: &str,
    points: &[(f64, f64)],
    x: (f64, f64),
    top: f64,
    dot: (f64, f64),
) -> Markup {
    let (lo, hi) = x;
    let px = |v: f64| {
        if hi > lo {
            2.0 + (v - lo) / (hi - lo) * 156.0
        } else {
            80.0
        }
    };
    let py = |p: f64| 34.0 - p / top * 30.0;
    let line = points
        .iter()
        .map(|&(x, y)| format!("{:.1},{:.1}", px(x), py(y)))
        .collect::<Vec<_>>()
        .join(" ");
    html! {
        svg viewBox="0 0 160 36" role="img" aria-label=(label) {
            polyline points=(line) {}
            circle cx=(format_args!("{:.1}", px(dot.0))) cy=(format_args!("{:.1}", py(dot.1))) r="3" {}
        }
    }
}

/// One panel of [`panels`]: a line along the shared x axis, on its own scale.
pub struct Panel<'a> {
    /// Written above the panel ("chance").
    pub name: &'a str,
    /// The line's class, for its colour.
    pub class: &'a str,
    /// The line's value at each x.
    pub values: Vec<f64>,
    /// The value at the marked x.
    pub here: f64,
    /// A value as the panel's lowest and highest are labelled ("3.1%").
    pub text: &'a dyn Fn(f64) -> String,
}

/// Two lines along one x axis (`xs`), each panel spanning its own values' range, padded so a
/// flat line sits mid-panel, with its lowest and highest value labelled; `own` is marked by a
/// line through both, and the x axis is labelled at its ends and middle by `x_text`.
pub fn panels(
    label: &str,
    xs: &[f64],
    own: f64,
    x_text: &dyn Fn(f64) -> String,
    panels: [Panel; 2],
) -> Markup {
    const LEFT: f64 = 44.0;
    const RIGHT: f64 = 312.0;
    /// The panels' top edges and their names' baselines.
    const TOPS: [(f64, f64); 2] = [(16.0, 11.0), (106.0, 98.0)];
    let (lo, hi) = (xs[0], xs[xs.len() - 1]);
    let x = |v: f64| {
        if hi > lo {
            LEFT + (v - lo) / (hi - lo) * (RIGHT - LEFT)
        } else {
            (LEFT + RIGHT) / 2.0
        }
    };
    let ticks = [(lo, "start"), ((lo + hi) / 2.0, "middle"), (hi, "end")];
    html! {
        svg viewBox="0 0 320 194" role="img" aria-label=(label) {
            line.here x1=(format_args!("{:.1}", x(own))) x2=(format_args!("{:.1}", x(own))) y1="12" y2="170" {}
            @for (p, (top, name_y)) in panels.iter().zip(TOPS) {
                @let (low, high) = p.values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
                @let pad = ((high - low) * 0.1).max(1e-6);
                @let (bottom, ceiling) = (low - pad, high + pad);
                @let y = |v: f64| top + 60.0 - (v - bottom) / (ceiling - bottom) * 60.0;
                text x="2" y=(name_y) { (p.name) }
                text.tick x=(LEFT - 4.0) y=(format_args!("{:.1}", y(high) + 3.0)) { ((p.text)(high)) }
                text.tick x=(LEFT - 4.0) y=(format_args!("{:.1}", y(low) + 3.0)) { ((p.text)(low)) }
                polyline class=(p.class) points=(xs.iter().zip(&p.values).map(|(&a, &b)| format!("{:.1},{:.1}", x(a), y(b))).collect::<Vec<_>>().join(" ")) {}
                circle cx=(format_args!("{:.1}", x(own))) cy=(format_args!("{:.1}", y(p.here))) r="3.5" {}
            }
            @for (v, anchor) in ticks {
                text.axis x=(format_args!("{:.1}", x(v))) y="188" text-anchor=(anchor) { (x_text(v)) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_range() {
        assert_eq!(ticks(0.0, 100.0, 5), [0.0, 20.0, 40.0, 60.0, 80.0, 100.0]);
        assert_eq!(
            ticks(0.0, 1.0, 5),
            [0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0]
        );
        assert_eq!(short(0.6000000000000001), "0.6");
        assert_eq!(short(230666.0), "231k");
        assert_eq!(short(-5.5), "-5.5");
        assert_eq!(short(-0.001), "-0.001");
        assert_eq!(short(0.0042), "0.0042");
        assert_eq!(short(0.123), "0.12");
        assert_eq!(short(1.01e-6), "0.000001");
        assert_eq!(short(-1e-17), "0");
        assert_eq!(short(-0.0), "0");
    }

    #[test]
    fn hbars_to_draws_to_a_shared_scale() {
        let width = |chart: Chart| -> f64 {
            let svg = chart.svg.into_string();
            let at = svg.find("<rect class=\"bar\"").unwrap();
            let w = &svg[at..][svg[at..].find("width=\"").unwrap() + 7..];
            w[..w.find('"').unwrap()].parse().unwrap()
        };
        let items = [("tango".to_owned(), 20.0)];
        let alone = width(hbars("Genres", "mean", &items, |v| format!("{v}")));
        let shared = width(hbars_to("Genres", "mean", &items, |v| format!("{v}"), 80.0));
        assert!((shared - alone / 4.0).abs() < 0.1, "{alone} {shared}");
    }

    #[test]
    fn text_from_data_is_escaped() {
        let svg = hbars("Genres", "mean", &[("<b>&".to_owned(), 1.0)], |v| {
            format!("{v}")
        })
        .svg
        .into_string();
        assert!(svg.contains("&lt;b&gt;&amp;") && !svg.contains("<b>"));
    }

    #[test]
    fn long_labels_get_a_line_of_their_own() {
        let short = hbars("Genres", "mean", &[("pop".to_owned(), 1.0)], |v| {
            format!("{v}")
        })
        .svg
        .into_string();
        assert!(
            short.contains(r#"x="134.0" y="27.0" text-anchor="end">pop<"#),
            "{short}"
        );
        let long = "Its most popular genre's usual popularity".to_owned();
        let stacked = hbars("Inputs", "mean", &[(long, 1.0)], |v| format!("{v}"))
            .svg
            .into_string();
        assert!(
            stacked.contains(r#"x="0.0" y="25.0" text-anchor="start">Its most"#)
                && stacked.contains(r##"<rect class="bar" fill="#0072B2" x="0" y="31.0""##),
            "{stacked}"
        );
    }

    #[test]
    fn codes_are_ticked_by_name_at_their_values() {
        let names = |v: f64| ["minor", "major"][v as usize].to_owned();
        let svg = line(
            "Mean popularity by mode",
            "mode",
            "mean popularity",
            &[0.0, 1.0],
            &[Some(30.0), Some(34.0)],
            &[40, 60],
            Some(&names),
        )
        .svg
        .into_string();
        assert!(
            svg.contains(">minor</text>") && svg.contains(">major</text>"),
            "{svg}"
        );
        assert!(
            !svg.contains(">0.2</text>"),
            "no 0.2 steps between codes: {svg}"
        );
        assert!(
            !svg.contains("<path class=\"line\""),
            "codes are not joined: {svg}"
        );
        assert!(
            svg.contains("<title>major: mean 34.0 over 60 rows</title>"),
            "{svg}"
        );
    }

    #[test]
    fn a_gap_in_the_bins_starts_the_line_again() {
        let svg = line(
            "t",
            "x",
            "y",
            &[0.0, 1.0, 2.0, 3.0],
            &[Some(10.0), None, Some(20.0), Some(30.0)],
            &[5; 4],
            None,
        )
        .svg
        .into_string();
        let d = svg.split(" d=\"").nth(1).and_then(|s| s.split('"').next());
        let d = d.unwrap_or_default();
        assert_eq!(d.matches('M').count(), 2, "{d}");
        assert_eq!(d.matches('L').count(), 1, "{d}");
    }

    #[test]
    fn the_heatmap_is_drawn_at_its_natural_size() {
        let svg = heatmap("r", &["a", "b"], &[vec![1.0, -0.5], vec![-0.5, 1.0]])
            .svg
            .into_string();
        // Row labels beside the cells, each a picture at its natural size.
        assert!(
            svg.starts_with(
                r#"<div class="heatmap-rows"><svg class="chart heatmap-labels" width="130" height="198""#
            ),
            "{svg}"
        );
        assert!(
            svg.contains(
                r#"<svg class="chart heatmap" width="138" height="198" viewBox="0 0 138 198""#
            ),
            "{svg}"
        );
        assert!(svg.contains(">-.50</text>"), "{svg}");
        assert_eq!(
            svg.matches(">a</text>").count(),
            2,
            "a row and a column label: {svg}"
        );
    }

    #[test]
    fn a_missing_coefficient_reads_as_a_dash_not_nan() {
        let svg = heatmap(
            "r",
            &["a", "b"],
            &[vec![1.0, f64::NAN], vec![f64::NAN, 1.0]],
        )
        .svg
        .into_string();
        assert!(!svg.contains("NaN"), "{svg}");
        assert!(svg.contains("<title>a / b: —</title>"), "{svg}");
        assert!(svg.contains(">—</text>"), "{svg}");
    }

    #[test]
    fn panels_span_their_own_ranges_and_mark_the_track() {
        let pct = |v: f64| format!("{:.0}%", v * 100.0);
        let whole = |v: f64| format!("{v:.0}");
        let svg = panels(
            "tempo",
            &[60.0, 120.0, 180.0],
            120.0,
            &whole,
            [
                Panel {
                    name: "chance",
                    class: "chance",
                    values: vec![0.1, 0.2, 0.3],
                    here: 0.2,
                    text: &pct,
                },
                Panel {
                    name: "score",
                    class: "score",
                    values: vec![40.0, 40.0, 40.0],
                    here: 40.0,
                    text: &whole,
                },
            ],
        )
        .into_string();
        // The chance spans its panel between the pads: 30% at 16 + 5 (+3 for the baseline).
        assert!(
            svg.contains(r#"<text class="tick" x="40" y="24.0">30%</text>"#),
            "{svg}"
        );
        // A flat score sits mid-panel: 106 + 30.
        assert!(svg.contains(r#"cx="178.0" cy="136.0""#), "{svg}");
        assert!(svg.contains(r#"text-anchor="end">180</text>"#), "{svg}");
    }

    #[test]
    fn diverging_colours_meet_at_white() {
        assert_eq!(diverging(0.0), "rgb(255,255,255)");
        assert_eq!(diverging(1.0), "rgb(179,88,6)");
        assert_eq!(diverging(-1.0), "rgb(33,102,172)");
    }
}
