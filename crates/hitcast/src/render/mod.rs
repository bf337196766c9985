//! HTML: the EDA page, the report, and the SVG charts every page draws, the web app's included.
//!
//! The numbers come from [`crate::eda`] and [`crate::report`]; this module only lays them out.
//! Pages are rendered with maud, which escapes every value it prints, names from the data
//! included. A page is one self-contained file: inline CSS and SVG, no script, nothing loaded
//! from the network.

pub mod chart;
pub mod eda;
pub mod report;

use maud::{html, Markup, PreEscaped, DOCTYPE};

use chart::Chart;

/// The stylesheet of every page (the web app serves it before its own).
pub const CSS: &str = "
body { font: 15px/1.45 system-ui, -apple-system, 'Segoe UI', sans-serif; color: #222; margin: 0 auto; max-width: 1100px; padding: 0 20px 60px; }
h1 { font-size: 26px; margin: 28px 0 4px; } h2 { font-size: 20px; margin: 36px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
p.lead { color: #555; margin-top: 0; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 13px; }
th, td { padding: 3px 10px; border-bottom: 1px solid #eee; text-align: right; } th:first-child, td:first-child { text-align: left; }
th { background: #f6f6f6; }
td code { overflow-wrap: anywhere; }
tr.chosen td { background: #eef5ff; } span.chosen-tag { font-size: 11px; font-weight: 600; color: #1a4f8b; white-space: nowrap; }
.grid-2 { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(320px, 100%), 1fr)); gap: 12px 24px; }
figure { margin: 0 0 12px; min-width: 0; } figcaption { font-size: 13px; color: #555; margin-top: 2px; }
figure .chart-title { font-size: 15px; font-weight: 600; margin: 4px 0 2px; }
svg.chart { display: block; width: 100%; max-width: 460px; height: auto; background: #fff; }
svg.chart.heatmap, svg.chart.heatmap-labels { width: auto; max-width: none; }
.heatmap-rows { display: flex; width: max-content; }
svg.chart.heatmap-labels { position: sticky; left: 0; z-index: 1; flex: none; }
.scroll-x { overflow-x: auto; max-width: 100%; } p.swipe { display: none; font-size: 13px; color: #555; margin: 0; }
svg .tick, svg .value { font-size: 13px; fill: #444; } svg .label { font-size: 13px; fill: #222; }
svg .cell-value { font-size: 11px; } svg .axis { stroke: #888; } svg .grid { stroke: #eee; }
svg .line { stroke-width: 2; } svg .marker { stroke-width: 2; stroke-dasharray: 5 3; } svg .marker-label { font-size: 13px; }
ul.glance li { margin: 4px 0; }
nav.contents { position: sticky; top: 0; z-index: 5; background: #fff; border-bottom: 1px solid #e3e8ee; padding: 6px 0;
  display: flex; gap: 4px 14px; flex-wrap: wrap; font-size: 14px; } nav.contents a { display: inline-block; padding: 4px 0; }
h2[id] { scroll-margin-top: 100px; }
dl.terms dt { font-weight: 600; margin-top: 8px; } dl.terms dd { margin: 2px 0 0 0; color: #333; }
@media print { h2 { break-after: avoid; } figure { break-inside: avoid; } }
@media (max-width: 760px) { table { display: block; overflow-x: auto; max-width: 100%; } p.swipe { display: block; }
  nav.contents { flex-wrap: nowrap; overflow-x: auto; white-space: nowrap; scrollbar-width: thin; }
  nav.contents a { min-height: 44px; line-height: 36px; }
  th:first-child, td:first-child { position: sticky; left: 0; z-index: 1; background: #fff; box-shadow: 1px 0 0 #ddd; }
  th:first-child { background: #f6f6f6; } }
";

/// The `<h2 id="...">` sections of a page's HTML (the report's and the EDA's), as (id, title
/// in plain text): the report's menu of contents, and the web app's.
pub fn sections(html: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut rest = html;
    while let Some(at) = rest.find("<h2 id=\"") {
        rest = &rest[at + "<h2 id=\"".len()..];
        let Some((id, after)) = rest.split_once("\">") else {
            break;
        };
        let Some((title, after)) = after.split_once("</h2>") else {
            break;
        };
        // The title without its tags (<i>, <b>), its entities as the page shows them.
        let mut plain = String::new();
        let mut in_tag = false;
        for c in title.chars() {
            match c {
                '<' => in_tag = true,
                '>' => in_tag = false,
                c if !in_tag => plain.push(c),
                _ => {}
            }
        }
        let plain = plain
            .replace("&amp;", "&")
            .replace("&lt;", "<")
            .replace("&gt;", ">");
        found.push((id.to_owned(), plain));
        rest = after;
    }
    found
}

/// A chart with its title above and its caption below.
pub fn figure(chart: &Chart, caption: &str) -> Markup {
    html! {
        figure {
            div.chart-title { (chart.title) }
            @if chart.scrolls {
                p.swipe { "Swipe sideways to see every column." }
                div.scroll-x { (chart.svg) }
            } @else {
                (chart.svg)
            }
            figcaption { (caption) }
        }
    }
}

/// A whole page: the shared stylesheet, `body`, and a last line saying where its numbers are
/// (`json_name`, written beside it).
fn page(title: &str, json_name: &str, body: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                style { (PreEscaped(CSS)) }
            }
            body {
                (body)
                p.lead {
                    "Every number on this page is in " (json_name) " beside it. Made by hitcast "
                    (env!("CARGO_PKG_VERSION")) "."
                }
            }
        }
    }
    .into_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_sections_are_listed_for_the_menu() {
        let html = "<p>x</p><h2 id=\"overview\">Overview</h2><table></table>\
                    <h2 id=\"experiment-0\">Experiment grid: protocol <b>honest</b> &amp; more</h2>";
        assert_eq!(
            sections(html),
            [
                ("overview".to_owned(), "Overview".to_owned()),
                (
                    "experiment-0".to_owned(),
                    "Experiment grid: protocol honest & more".to_owned()
                )
            ]
        );
        assert!(sections("<h2 id=\"cut").is_empty());
    }
}
