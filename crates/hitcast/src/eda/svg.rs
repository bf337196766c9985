//! Inline SVG charts: histograms, lines of binned means, horizontal bars and a labelled heatmap.
//!
//! Charts are drawn on a narrow canvas (380 units wide) with 13-unit text, for pages that lay
//! them out at 320-460 px: the text then reads at 11 px or more on a phone and on a desktop
//! alike. A chart's title is HTML above it (see [`Chart`]), where it wraps; the heatmap has many
//! columns and is drawn at its natural size, for a box that scrolls sideways on a phone.
//!
//! Hand-written rather than on plotters (see docs/ARCHITECTURE.md): the page needs plain SVG elements that scale
//! with the page (a `viewBox`), a `<title>` on every mark so a hover tells the exact number, and
//! `role="img"` with a label for screen readers; plotters' SVG backend writes fixed-size
//! drawings without them. Colours are the Okabe-Ito palette and a blue-orange diverging scale,
//! both readable with the common colour-vision deficiencies and in greyscale print.

use std::fmt::Write as _;

pub use crate::text::escape;

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
    /// The `<svg>` element.
    pub svg: String,
    /// Drawn at its natural size, for a box that scrolls sideways where the page is narrower.
    pub scrolls: bool,
}

/// The opening tag of a chart's SVG.
fn open(class: &str, width: f64, height: f64, title: &str) -> String {
    format!(
        r#"<svg class="{class}" viewBox="0 0 {width} {height}" role="img" aria-label="{t}" xmlns="http://www.w3.org/2000/svg"><title>{t}</title>"#,
        t = escape(title)
    )
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
        format!("{v:.2}")
    };
    if s.contains('.') && !s.ends_with('M') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
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

/// The frame every chart shares: title, axes with ticks and labels.
struct Frame {
    title: String,
    svg: String,
    x: (f64, f64),
    y: (f64, f64),
    /// The plot's top edge: below the legend, when there is one.
    top: f64,
}

/// Named ticks for an x axis of codes (a key's pitch classes, major and minor), instead of
/// round numbers.
pub type TickNames<'a> = &'a dyn Fn(f64) -> String;

impl Frame {
    fn new(title: &str, x_label: &str, y_label: &str, x: (f64, f64), y: (f64, f64)) -> Frame {
        Frame::with_ticks(title, x_label, y_label, x, y, None, 0)
    }

    /// A frame whose x ticks are `ticks` when given (value, name), round numbers otherwise,
    /// with room above the plot for `legend` lines.
    fn with_ticks(
        title: &str,
        x_label: &str,
        y_label: &str,
        x: (f64, f64),
        y: (f64, f64),
        ticks: Option<Vec<(f64, String)>>,
        legend: usize,
    ) -> Frame {
        let top = TOP + LINE * legend as f64;
        let mut frame = Frame {
            title: title.to_owned(),
            svg: open("chart", W, H + top - TOP, title),
            x,
            y,
            top,
        };
        frame.axes(x_label, y_label, ticks);
        frame
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

    fn axes(&mut self, x_label: &str, y_label: &str, x_ticks: Option<Vec<(f64, String)>>) {
        let (x0, x1, y0, top) = (LEFT, W - RIGHT, self.bottom(), self.top);
        let _ = write!(
            self.svg,
            r#"<line class="axis" x1="{x0}" y1="{y0}" x2="{x1}" y2="{y0}"/><line class="axis" x1="{x0}" y1="{top}" x2="{x0}" y2="{y0}"/>"#
        );
        for t in ticks(self.y.0, self.y.1, 5) {
            let y = self.py(t);
            let _ = write!(
                self.svg,
                r#"<line class="grid" x1="{x0}" y1="{y:.1}" x2="{x1}" y2="{y:.1}"/><text class="tick" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
                x0 - 6.0,
                y + 4.0,
                short(t)
            );
        }
        let x_ticks = x_ticks.unwrap_or_else(|| {
            ticks(self.x.0, self.x.1, 5)
                .into_iter()
                .map(|t| (t, short(t)))
                .collect()
        });
        for (t, name) in x_ticks {
            let x = self.px(t);
            let _ = write!(
                self.svg,
                r#"<line class="axis" x1="{x:.1}" y1="{y0}" x2="{x:.1}" y2="{:.1}"/><text class="tick" x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
                y0 + 4.0,
                y0 + 19.0,
                escape(&name)
            );
        }
        let _ = write!(
            self.svg,
            r#"<text class="label" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text><text class="label" transform="translate(14 {:.1}) rotate(-90)" text-anchor="middle">{}</text>"#,
            (x0 + x1) / 2.0,
            y0 + BOTTOM - 6.0,
            escape(x_label),
            (top + y0) / 2.0,
            escape(y_label)
        );
    }

    fn finish(mut self) -> Chart {
        self.svg.push_str("</svg>");
        Chart {
            title: self.title,
            svg: self.svg,
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
    let top = counts.iter().copied().max().unwrap_or(1).max(1) as f64 * 1.05;
    let (lo, hi) = (edges[0], edges[edges.len() - 1]);
    let mut f = Frame::new(title, x_label, "rows", (lo, hi), (0.0, top));
    for (i, &c) in counts.iter().enumerate() {
        let (x0, x1) = (f.px(edges[i]), f.px(edges[i + 1]));
        let (y, base) = (f.py(c as f64), f.py(0.0));
        let _ = write!(
            f.svg,
            r#"<rect class="bar" fill="{BLUE}" x="{:.1}" y="{y:.1}" width="{:.1}" height="{:.1}"><title>{} to {}: {c} rows</title></rect>"#,
            x0 + 0.5,
            (x1 - x0 - 1.0).max(0.5),
            base - y,
            short(edges[i]),
            short(edges[i + 1])
        );
    }
    if let Some((x, label)) = marker {
        let px = f.px(x);
        // The label reads away from the plot's nearer edge, so it is never cut off.
        let (lx, anchor) = if px > (LEFT + W - RIGHT) / 2.0 {
            (px - 5.0, "end")
        } else {
            (px + 5.0, "start")
        };
        let _ = write!(
            f.svg,
            r#"<line class="marker" stroke="{ORANGE}" x1="{px:.1}" y1="{:.1}" x2="{px:.1}" y2="{:.1}"/><text class="marker-label" fill="{ORANGE}" x="{lx:.1}" y="{:.1}" text-anchor="{anchor}">{}</text>"#,
            f.top,
            f.bottom(),
            f.top + 13.0,
            escape(label)
        );
    }
    f.finish()
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
    let mut f = Frame::with_ticks(
        title,
        x_label,
        y_label,
        (lo - pad, hi + pad),
        (0.0, top),
        ticks,
        0,
    );
    let mut path = String::new();
    for (i, (&xv, yv)) in x.iter().zip(y).enumerate() {
        if let Some(yv) = yv {
            let cmd = if path.is_empty() || y[i.saturating_sub(1)].is_none() {
                'M'
            } else {
                'L'
            };
            let _ = write!(path, "{cmd}{:.1} {:.1} ", f.px(xv), f.py(*yv));
        }
    }
    if connect && !path.is_empty() {
        let _ = write!(
            f.svg,
            r#"<path class="line" fill="none" stroke="{BLUE}" d="{}"/>"#,
            path.trim_end()
        );
    }
    for ((&xv, yv), &n) in x.iter().zip(y).zip(counts) {
        if let Some(yv) = yv {
            let _ = write!(
                f.svg,
                r#"<circle class="point" fill="{BLUE}" cx="{:.1}" cy="{:.1}" r="{}"><title>{}: mean {:.1} over {n} rows</title></circle>"#,
                f.px(xv),
                f.py(*yv),
                if connect { 3 } else { 5 },
                escape(&name(xv)),
                yv
            );
        }
    }
    f.finish()
}

/// Horizontal bars, one per `(label, value)`, top to bottom; values formatted by `fmt`. Labels
/// of up to about 20 characters sit left of their bars; longer ones get a line of their own
/// above their bars, so none is cut off on a narrow chart.
pub fn hbars(title: &str, x_label: &str, items: &[(String, f64)], fmt: fn(f64) -> String) -> Chart {
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
    let top = items.iter().map(|i| i.1).fold(0.0, f64::max).max(1e-9) * 1.3;
    let width = W - bar_left - RIGHT;
    let px = |v: f64| bar_left + v / top * width;
    let mut svg = open("chart", W, height, title);
    for (i, (label, v)) in items.iter().enumerate() {
        let y = TOP + row * i as f64;
        let (lx, ly, anchor) = if beside {
            (bar_left - 6.0, y + 15.0, "end")
        } else {
            (bar_left, y + 13.0, "start")
        };
        let _ = write!(
            svg,
            r#"<text class="tick" x="{lx:.1}" y="{ly:.1}" text-anchor="{anchor}">{}</text><rect class="bar" fill="{BLUE}" x="{bar_left}" y="{:.1}" width="{:.1}" height="{bar_h}"><title>{}: {}</title></rect><text class="value" x="{:.1}" y="{:.1}">{}</text>"#,
            escape(label),
            y + bar_y,
            (px(*v) - bar_left).max(0.5),
            escape(label),
            fmt(*v),
            px(*v) + 4.0,
            y + bar_y + bar_h - 3.0,
            fmt(*v)
        );
    }
    let base = TOP + row * items.len() as f64;
    let _ = write!(
        svg,
        r#"<line class="axis" x1="{bar_left}" y1="{base:.1}" x2="{:.1}" y2="{base:.1}"/><text class="label" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text></svg>"#,
        W - RIGHT,
        (bar_left + W - RIGHT) / 2.0,
        base + 30.0,
        escape(x_label)
    );
    Chart {
        title: title.to_owned(),
        svg,
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
    let mut f = Frame::with_ticks(
        title,
        x_label,
        y_label,
        (0.0, extent),
        (0.0, extent),
        None,
        series.len(),
    );
    if diagonal {
        let _ = write!(
            f.svg,
            r##"<line class="grid" stroke-dasharray="4 3" stroke="#999" x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}"/>"##,
            f.px(0.0),
            f.py(0.0),
            f.px(extent),
            f.py(extent)
        );
    }
    for (k, (name, points)) in series.iter().enumerate() {
        let colour = SERIES[k % SERIES.len()];
        let mut path = String::new();
        for (i, (x, y)) in points.iter().enumerate() {
            let _ = write!(
                path,
                "{}{:.1} {:.1} ",
                if i == 0 { 'M' } else { 'L' },
                f.px(*x),
                f.py(*y)
            );
        }
        let _ = write!(
            f.svg,
            r#"<path class="line" fill="none" stroke="{colour}" d="{}"><title>{}</title></path><text class="label" fill="{colour}" x="{:.1}" y="{:.1}">{}</text>"#,
            path.trim_end(),
            escape(name),
            LEFT,
            TOP + LINE * k as f64,
            escape(name)
        );
        if points.len() <= 20 {
            for (x, y) in points.iter() {
                let _ = write!(
                    f.svg,
                    r#"<circle class="point" fill="{colour}" cx="{:.1}" cy="{:.1}" r="3"><title>{:.3}, {:.3}</title></circle>"#,
                    f.px(*x),
                    f.py(*y),
                    x,
                    y
                );
            }
        }
    }
    f.finish()
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
/// Drawn at its natural size (`width` and `height` in pixels), for a box that scrolls sideways
/// where the page is narrower.
pub fn heatmap(title: &str, labels: &[&str], m: &[Vec<f64>]) -> Chart {
    let k = labels.len() as f64;
    let (left, top, cell) = (130.0, 10.0, 34.0);
    let size_w = left + cell * k + 70.0;
    let size_h = top + cell * k + 120.0;
    let mut svg = open("chart heatmap", size_w, size_h, title);
    // The natural size, in place of the page's width.
    svg.insert_str(
        "<svg ".len(),
        &format!(r#"width="{size_w}" height="{size_h}" "#),
    );
    for (i, row) in m.iter().enumerate() {
        let y = top + cell * i as f64;
        let _ = write!(
            svg,
            r#"<text class="tick" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            left - 6.0,
            y + cell / 2.0 + 4.0,
            escape(labels[i])
        );
        for (j, &r) in row.iter().enumerate() {
            let x = left + cell * j as f64;
            let ink = if r.abs() > 0.6 { "#fff" } else { "#222" };
            let _ = write!(
                svg,
                r#"<rect class="cell" x="{x:.1}" y="{y:.1}" width="{cell}" height="{cell}" fill="{}"><title>{} / {}: {r:.3}</title></rect><text class="cell-value" x="{:.1}" y="{:.1}" text-anchor="middle" fill="{ink}">{}</text>"#,
                diverging(r),
                escape(labels[i]),
                escape(labels[j]),
                x + cell / 2.0,
                y + cell / 2.0 + 4.0,
                format!("{r:.2}").replace("0.", ".")
            );
        }
    }
    for (j, label) in labels.iter().enumerate() {
        let x = left + cell * j as f64 + cell / 2.0;
        let y = top + cell * k + 6.0;
        let _ = write!(
            svg,
            r#"<text class="tick" transform="translate({x:.1} {y:.1}) rotate(50)" text-anchor="start">{}</text>"#,
            escape(label)
        );
    }
    svg.push_str("</svg>");
    Chart {
        title: title.to_owned(),
        svg,
        scrolls: true,
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
    }

    #[test]
    fn text_from_data_is_escaped() {
        let svg = hbars("Genres", "mean", &[("<b>&".to_owned(), 1.0)], |v| {
            format!("{v}")
        })
        .svg;
        assert!(svg.contains("&lt;b&gt;&amp;") && !svg.contains("<b>"));
    }

    #[test]
    fn long_labels_get_a_line_of_their_own() {
        let short = hbars("Genres", "mean", &[("pop".to_owned(), 1.0)], |v| {
            format!("{v}")
        });
        assert!(
            short
                .svg
                .contains(r#"x="134.0" y="27.0" text-anchor="end">pop<"#),
            "{}",
            short.svg
        );
        let long = "Its most popular genre's usual popularity".to_owned();
        let stacked = hbars("Inputs", "mean", &[(long, 1.0)], |v| format!("{v}"));
        assert!(
            stacked
                .svg
                .contains(r#"x="0.0" y="25.0" text-anchor="start">Its most"#)
                && stacked
                    .svg
                    .contains(r##"<rect class="bar" fill="#0072B2" x="0" y="31.0""##),
            "{}",
            stacked.svg
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
        .svg;
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
    fn diverging_colours_meet_at_white() {
        assert_eq!(diverging(0.0), "rgb(255,255,255)");
        assert_eq!(diverging(1.0), "rgb(179,88,6)");
        assert_eq!(diverging(-1.0), "rgb(33,102,172)");
    }
}
