//! Charts drawn by the console itself as SVG: axes, labels, the value of each
//! point on hover (an SVG `<title>`, which browsers show as a tooltip and screen
//! readers read), and the same numbers as a table behind a "Show as table"
//! disclosure. No chart library, nothing fetched from elsewhere.

use leptos::prelude::*;
use time::OffsetDateTime;

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 240.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 28.0;

/// One line of a chart: a value per x label, `None` where there is no value.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub name: String,
    /// CSS class giving the line its colour (`series-1` … `series-5`).
    pub class: &'static str,
    pub values: Vec<Option<f64>>,
}

/// A horizontal reference line, such as an SLO's target.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub label: String,
    pub value: f64,
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A short UTC label for a point of the given width (`minute`, `hour`, `day`).
pub fn time_label(t: OffsetDateTime, resolution: &str) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    let day = format!(
        "{} {}",
        MONTHS[usize::from(u8::from(t.month())) - 1],
        t.day()
    );
    match resolution {
        "day" => day,
        "minute" => format!("{:02}:{:02}", t.hour(), t.minute()),
        _ => format!("{day} {:02}:00", t.hour()),
    }
}

/// A value with a precision that suits its size: whole numbers from 1,000 up,
/// else up to three decimals (an SLI of 99.921 % must not read as 100).
pub fn number(v: f64) -> String {
    if v.abs() >= 1000.0 || v.fract() == 0.0 {
        return format!("{v:.0}");
    }
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Rounds a range outwards to a step of 1, 2 or 5 × 10ⁿ and returns its ticks.
fn ticks(lo: f64, hi: f64) -> Vec<f64> {
    let (lo, hi) = if hi - lo < 1e-9 {
        (lo - 1.0, hi + 1.0)
    } else {
        (lo, hi)
    };
    let raw = (hi - lo) / 4.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude);
    let start = (lo / step).floor() * step;
    let mut out = Vec::new();
    let mut v = start;
    while v <= hi + step * 0.999 && out.len() < 12 {
        out.push(v);
        v += step;
    }
    out
}

struct Scale {
    lo: f64,
    hi: f64,
    n: usize,
}

impl Scale {
    fn x(&self, i: usize) -> f64 {
        let plot = WIDTH - LEFT - RIGHT;
        if self.n <= 1 {
            LEFT + plot / 2.0
        } else {
            LEFT + plot * i as f64 / (self.n - 1) as f64
        }
    }

    fn y(&self, v: f64) -> f64 {
        let plot = HEIGHT - TOP - BOTTOM;
        TOP + plot * (1.0 - (v - self.lo) / (self.hi - self.lo))
    }
}

/// Horizontal grid lines with their labels on the y axis.
fn grid(marks: &[f64], scale: &Scale, unit: &str) -> AnyView {
    marks
        .iter()
        .map(|m| {
            let y = scale.y(*m);
            view! {
                <g class="grid">
                    <line x1=LEFT x2=WIDTH - RIGHT y1=y y2=y />
                    <text x=LEFT - 6.0 y=y + 4.0 text-anchor="end">{format!("{}{unit}", number(*m))}</text>
                </g>
            }
        })
        .collect_view()
        .into_any()
}

fn axes() -> AnyView {
    view! {
        <g class="axes">
            <line class="axis" x1=LEFT x2=LEFT y1=TOP y2=HEIGHT - BOTTOM />
            <line class="axis" x1=LEFT x2=WIDTH - RIGHT y1=HEIGHT - BOTTOM y2=HEIGHT - BOTTOM />
        </g>
    }
    .into_any()
}

/// A line chart over labelled points, with optional reference rules.
#[component]
pub fn LineChart(
    /// Stable id, used for `data-chart` and to tie the caption to the SVG.
    id: &'static str,
    title: String,
    labels: Vec<String>,
    lines: Vec<Line>,
    /// Unit shown after values, e.g. "%" or " ms".
    #[prop(into)]
    unit: String,
    #[prop(optional)] rules: Vec<Rule>,
    /// Forces the lower end of the y axis (e.g. 0 for counts).
    #[prop(optional)]
    floor: Option<f64>,
    /// Caps the upper end of the y axis (e.g. 100 for percentages).
    #[prop(optional)]
    ceiling: Option<f64>,
) -> impl IntoView {
    let values = lines
        .iter()
        .flat_map(|l| l.values.iter().flatten().copied())
        .chain(rules.iter().map(|r| r.value));
    let (mut lo, mut hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if !lo.is_finite() {
        (lo, hi) = (0.0, 1.0);
    }
    if let Some(f) = floor {
        lo = lo.min(f);
    }
    let marks = ticks(lo, hi);
    let mut scale = Scale {
        lo: marks.first().copied().unwrap_or(lo),
        hi: marks.last().copied().unwrap_or(hi),
        n: labels.len(),
    };
    if let Some(c) = ceiling {
        scale.hi = scale.hi.min(c).max(hi);
    }
    let marks: Vec<f64> = marks
        .into_iter()
        .filter(|m| *m <= scale.hi + 1e-9)
        .collect();
    let every = labels.len().div_ceil(6).max(1);
    let caption_id = format!("chart-{id}");
    let has_data = lines.iter().any(|l| l.values.iter().any(Option::is_some));
    let grid = grid(&marks, &scale, &unit);
    let x_axis = labels
        .iter()
        .enumerate()
        .filter(|(i, _)| i % every == 0)
        .map(|(i, label)| {
            view! {
                <g class="xtick">
                    <text x=scale.x(i) y=HEIGHT - 8.0 text-anchor="middle">{label.clone()}</text>
                </g>
            }
        })
        .collect_view()
        .into_any();
    let reference = rules
        .iter()
        .map(|r| {
            let y = scale.y(r.value);
            view! {
                <g class="rule">
                    <line x1=LEFT x2=WIDTH - RIGHT y1=y y2=y />
                    <text x=WIDTH - RIGHT - 4.0 y=y - 4.0 text-anchor="end">{r.label.clone()}</text>
                </g>
            }
        })
        .collect_view()
        .into_any();
    let paths = lines
        .iter()
        .map(|l| {
            let mut d = String::new();
            let mut pen_down = false;
            for (i, v) in l.values.iter().enumerate() {
                match v {
                    Some(v) => {
                        let cmd = if pen_down { 'L' } else { 'M' };
                        d.push_str(&format!("{cmd}{:.1},{:.1} ", scale.x(i), scale.y(*v)));
                        pen_down = true;
                    }
                    None => pen_down = false,
                }
            }
            let dots = l
                .values
                .iter()
                .enumerate()
                .filter_map(|(i, v)| v.map(|v| (i, v)))
                .map(|(i, v)| {
                    let tip = format!("{}: {} {}{unit}", labels[i], l.name, number(v));
                    view! {
                        <g class="point">
                            <circle cx=scale.x(i) cy=scale.y(v) r="6" class="hit"><title>{tip}</title></circle>
                            <circle cx=scale.x(i) cy=scale.y(v) r="2.5" class="dot" />
                        </g>
                    }
                })
                .collect_view()
        .into_any();
            view! {
                <g class=format!("line {}", l.class) data-line=l.name.clone()>
                    <path d=d />
                    {dots}
                </g>
            }
        })
        .collect_view()
        .into_any();
    let legend = lines
        .iter()
        .map(|l| view! { <li class=l.class><span class="swatch"></span>{l.name.clone()}</li> })
        .collect_view()
        .into_any();
    let head = lines
        .iter()
        .map(|l| view! { <th scope="col">{l.name.clone()}</th> })
        .collect_view()
        .into_any();
    let rows = labels
        .iter()
        .enumerate()
        .map(|(i, label)| {
            let cells = lines
                .iter()
                .map(|l| {
                    let v = l.values.get(i).copied().flatten();
                    view! { <td>{v.map(|v| format!("{}{unit}", number(v))).unwrap_or_else(|| "–".into())}</td> }
                })
                .collect_view()
        .into_any();
            view! { <tr><th scope="row">{label.clone()}</th>{cells}</tr> }
        })
        .collect_view()
        .into_any();
    view! {
        <figure class="chart" data-chart=id>
            <figcaption id=caption_id.clone()>{title}</figcaption>
            <svg viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-labelledby=caption_id
                preserveAspectRatio="xMidYMid meet">
                {grid}
                {x_axis}
                {axes()}
                {reference}
                {paths}
            </svg>
            {(!has_data).then(|| view! { <p class="muted chart-empty">"No traffic in this period."</p> })}
            <ul class="legend">{legend}</ul>
            <details class="chart-table">
                <summary>"Show as table"</summary>
                <table class="table">
                    <thead><tr><th scope="col">"Period"</th>{head}</tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </details>
        </figure>
    }
    .into_any()
}

/// One bar per label, each with an optional threshold mark.
#[component]
pub fn BarChart(
    id: &'static str,
    title: String,
    labels: Vec<String>,
    values: Vec<f64>,
    thresholds: Vec<Option<f64>>,
    #[prop(into)] unit: String,
) -> impl IntoView {
    let hi = values
        .iter()
        .chain(thresholds.iter().flatten())
        .fold(0f64, |a, b| a.max(*b));
    let marks = ticks(0.0, hi.max(1.0));
    let scale = Scale {
        lo: 0.0,
        hi: marks.last().copied().unwrap_or(1.0),
        n: labels.len(),
    };
    let slot = (WIDTH - LEFT - RIGHT) / labels.len().max(1) as f64;
    let caption_id = format!("chart-{id}");
    let grid = grid(&marks, &scale, &unit);
    let bars = labels
        .iter()
        .enumerate()
        .map(|(i, label)| {
            let v = values.get(i).copied().unwrap_or(0.0);
            let limit = thresholds.get(i).copied().flatten();
            let x = LEFT + slot * i as f64 + slot * 0.2;
            let w = slot * 0.6;
            let over = limit.is_some_and(|t| v > t);
            let tip = match limit {
                Some(t) => format!("{label}: {}{unit} (alert above {}{unit})", number(v), number(t)),
                None => format!("{label}: {}{unit}", number(v)),
            };
            view! {
                <g class=if over { "bar over" } else { "bar" } data-bar=label.clone()>
                    <rect x=x y=scale.y(v) width=w height=(scale.y(0.0) - scale.y(v)).max(0.0)><title>{tip}</title></rect>
                    {limit.map(|t| view! { <line class="limit" x1=x - 4.0 x2=x + w + 4.0 y1=scale.y(t) y2=scale.y(t) /> })}
                    <text x=x + w / 2.0 y=HEIGHT - 8.0 text-anchor="middle">{label.clone()}</text>
                </g>
            }
        })
        .collect_view()
        .into_any();
    let rows = labels
        .iter()
        .enumerate()
        .map(|(i, label)| {
            let v = values.get(i).copied().unwrap_or(0.0);
            let limit = thresholds.get(i).copied().flatten();
            view! {
                <tr>
                    <th scope="row">{label.clone()}</th>
                    <td>{format!("{}{unit}", number(v))}</td>
                    <td>{limit.map(|t| format!("{}{unit}", number(t))).unwrap_or_else(|| "–".into())}</td>
                </tr>
            }
        })
        .collect_view()
        .into_any();
    view! {
        <figure class="chart" data-chart=id>
            <figcaption id=caption_id.clone()>{title}</figcaption>
            <svg viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-labelledby=caption_id>
                {grid}
                {axes()}
                {bars}
            </svg>
            <details class="chart-table">
                <summary>"Show as table"</summary>
                <table class="table">
                    <thead><tr><th scope="col">"Window"</th><th scope="col">"Value"</th><th scope="col">"Alert threshold"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </details>
        </figure>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round() {
        assert_eq!(ticks(0.0, 100.0), vec![0.0, 50.0, 100.0]);
        let t = ticks(99.0, 100.0);
        assert!(t[0] <= 99.0 && t[t.len() - 1] >= 100.0);
        assert!(t.len() >= 3 && t.len() <= 8, "{t:?}");
        assert_eq!(ticks(0.0, 8.0), vec![0.0, 2.0, 4.0, 6.0, 8.0]);
        assert_eq!(number(99.95), "99.95");
        assert_eq!(number(1234.6), "1235");
        assert_eq!(number(0.5), "0.5");
        assert_eq!(
            time_label(time::macros::datetime!(2026-11-30 09:05 UTC), "hour"),
            "Nov 30 09:00"
        );
    }
}
