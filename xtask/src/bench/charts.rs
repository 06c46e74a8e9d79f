//! The bench's figures as SVG charts, drawn from `Results` alone, so the
//! same results file always gives the same bytes (a test renders the
//! committed `bench/results.json` and compares).
//!
//! Every chart sits on an opaque white card: GitHub shows an SVG as an image
//! on its page's background, and dark text on a transparent background
//! vanishes in the dark theme. Each measured value is also written on its bar
//! or point, in bold (the only bold text), so a reader need not read it off
//! an axis, and a test can read it back.

use super::cold::{ColdResult, Variant};
use super::{Results, FUNCTIONS};
use plotters::chart::MeshStyle;
use plotters::coord::ranged1d::Ranged;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// The charts `cargo xtask bench` writes, by file name under `bench/`.
pub const FILES: [&str; 4] = ["warm.svg", "cold.svg", "concurrency.svg", "memory.svg"];

const FONT: &str = "sans-serif";
const TEXT: RGBColor = RGBColor(0x24, 0x29, 0x2f);
const MUTED: RGBColor = RGBColor(0x57, 0x60, 0x6a);
const GRID: RGBColor = RGBColor(0xd0, 0xd7, 0xde);
/// Distinct in hue and dark enough for white or dark labels on a white card.
const PALETTE: [RGBColor; 6] = [
    RGBColor(0x09, 0x69, 0xda),
    RGBColor(0xbc, 0x4c, 0x00),
    RGBColor(0x1a, 0x7f, 0x37),
    RGBColor(0x82, 0x50, 0xdf),
    RGBColor(0xcf, 0x22, 0x2e),
    RGBColor(0x9a, 0x67, 0x00),
];
/// Light to dark: the percentiles of one distribution.
const PERCENTILES: [RGBColor; 3] = [
    RGBColor(0x54, 0xae, 0xff),
    RGBColor(0x09, 0x69, 0xda),
    RGBColor(0x0a, 0x30, 0x69),
];

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
/// A chart with a value axis along x and rows along y.
type Plane<'a> = ChartContext<'a, SVGBackend<'a>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// Each chart: (file name, SVG text).
pub fn render(results: &Results) -> anyhow::Result<Vec<(&'static str, String)>> {
    Ok(vec![
        (FILES[0], warm(results)?),
        (FILES[1], cold(results)?),
        (FILES[2], concurrency(results)?),
        (FILES[3], memory(results)?),
    ])
}

/// The six functions' warm p50 / p90 / p99, from the first table.
fn warm_values(results: &Results) -> Vec<(String, Vec<f64>)> {
    FUNCTIONS
        .iter()
        .filter_map(|name| results.functions.iter().find(|f| f.name == *name))
        .map(|f| (f.name.clone(), vec![f.p50_ms, f.p90_ms, f.p99_ms]))
        .collect()
}

/// Round trips of the cold path by phase, the mean over the six functions,
/// for the two negotiations: what TLS adds (its variant's init against the
/// same login without TLS), the startup and SCRAM login (init without TLS),
/// and the first statement (all round trips less init's).
fn cold_phases(results: &Results) -> Vec<(&'static str, [f64; 3])> {
    let row = |variant: Variant, name: &str| -> Option<&ColdResult> {
        results
            .cold
            .iter()
            .find(|c| c.variant == variant && c.name == name)
    };
    [Variant::Postgres, Variant::Direct]
        .into_iter()
        .filter_map(|variant| {
            let phases: Vec<[f64; 3]> = FUNCTIONS
                .iter()
                .filter_map(|name| {
                    let tls = row(variant, name)?;
                    let plain = row(Variant::Plain, name)?;
                    Some([
                        tls.init_round_trips - plain.init_round_trips,
                        plain.init_round_trips,
                        tls.round_trips - tls.init_round_trips,
                    ])
                })
                .collect();
            if phases.is_empty() {
                return None;
            }
            let mean = |i: usize| phases.iter().map(|p| p[i]).sum::<f64>() / phases.len() as f64;
            Some((variant.label(), [mean(0), mean(1), mean(2)]))
        })
        .collect()
}

/// One panel per (function, link): concurrency → invocations/s of one
/// instance and of as many single instances.
struct ConcurrencyPanel {
    function: String,
    link_delay_ms: u64,
    points: Vec<(usize, f64, f64)>,
}

fn concurrency_panels(results: &Results) -> Vec<ConcurrencyPanel> {
    let mut panels: Vec<ConcurrencyPanel> = Vec::new();
    for row in &results.concurrency {
        let point = (
            row.concurrency,
            row.one_instance.invocations_per_s,
            row.single_instances.invocations_per_s,
        );
        match panels
            .iter_mut()
            .find(|p| p.function == row.function && p.link_delay_ms == row.link_delay_ms)
        {
            Some(panel) => panel.points.push(point),
            None => panels.push(ConcurrencyPanel {
                function: row.function.clone(),
                link_delay_ms: row.link_delay_ms,
                points: vec![point],
            }),
        }
    }
    panels
}

/// The functions measured under quotas (in the tables' order), and per
/// memory size each one's (cold start, warm p99) under its quota.
type MemoryValues = (Vec<&'static str>, Vec<(u64, Vec<(f64, f64)>)>);

fn memory_values(results: &Results) -> MemoryValues {
    let functions: Vec<&'static str> = FUNCTIONS
        .into_iter()
        .filter(|name| results.quota.iter().any(|q| q.name == *name))
        .collect();
    let mut sizes: Vec<u64> = results.quota.iter().map(|q| q.memory_mb).collect();
    sizes.sort_unstable();
    sizes.dedup();
    let per_size = sizes
        .into_iter()
        .map(|mb| {
            let per_function = functions
                .iter()
                .map(|name| {
                    results
                        .quota
                        .iter()
                        .find(|q| q.memory_mb == mb && q.name == *name)
                        .map_or((f64::NAN, f64::NAN), |q| (q.cold_ms, q.warm_p99_ms))
                })
                .collect();
            (mb, per_function)
        })
        .collect();
    (functions, per_size)
}

fn warm(results: &Results) -> anyhow::Result<String> {
    let groups = warm_values(results);
    let series: Vec<(&str, RGBColor)> =
        ["p50", "p90", "p99"].into_iter().zip(PERCENTILES).collect();
    svg((760, 150 + 66 * groups.len() as u32), |root| {
        let body = card(
            root,
            "Warm invocation latency per function (ms)",
            &format!(
                "{} invocations each after a cold start, local PostgreSQL, release build",
                results.functions.first().map_or(0, |f| f.invocations)
            ),
            &series,
        )?;
        bars(&body, &groups, &series, "milliseconds", 3)
    })
}

fn cold(results: &Results) -> anyhow::Result<String> {
    let rows = cold_phases(results);
    let phases: Vec<(&str, RGBColor)> = ["TLS", "startup + SCRAM login", "first statement"]
        .into_iter()
        .zip([PALETTE[3], PALETTE[0], PALETTE[2]])
        .collect();
    svg((760, 150 + 70 * rows.len() as u32), |root| {
        let body = card(
            root,
            "Network round trips from spawn to the first answer",
            "by phase, the mean of the six functions; TLS 1.3, SCRAM-SHA-256",
            &phases,
        )?;
        let total = rows
            .iter()
            .map(|(_, p)| p.iter().map(|v| v.max(0.0)).sum::<f64>())
            .fold(0.0, f64::max);
        let mut chart = ChartBuilder::on(&body)
            .margin(10)
            .margin_right(30)
            .y_label_area_size(170)
            .x_label_area_size(40)
            .build_cartesian_2d(0.0..(total * 1.25).max(1.0), 0.0..rows.len() as f64)?;
        mesh_x(&mut chart, "round trips")?;
        for (i, (label, values)) in rows.iter().enumerate() {
            let y = (rows.len() - 1 - i) as f64;
            category(&body, &chart, (0.0, y + 0.5), label)?;
            let mut start = 0.0;
            for (value, (_, color)) in values.iter().zip(&phases) {
                let end = start + value.max(0.0);
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(start, y + 0.2), (end, y + 0.8)],
                    color.filled(),
                )))?;
                chart.draw_series(std::iter::once(Text::new(
                    format!("{value:.1}"),
                    ((start + end) / 2.0, y + 0.5),
                    value_style(WHITE, HPos::Center),
                )))?;
                start = end;
            }
            chart.draw_series(std::iter::once(
                EmptyElement::at((start, y + 0.5))
                    + Text::new(
                        format!("{:.1} in all", values.iter().sum::<f64>()),
                        (6, 0),
                        value_style(TEXT, HPos::Left),
                    ),
            ))?;
        }
        Ok(())
    })
}

fn concurrency(results: &Results) -> anyhow::Result<String> {
    let panels = concurrency_panels(results);
    let series = [
        ("one instance, concurrency C", PALETTE[0]),
        ("C single-concurrency instances", PALETTE[1]),
    ];
    let rows = panels.len().div_ceil(2).max(1) as u32;
    svg((960, 110 + 300 * rows), |root| {
        let body = card(
            root,
            "Invocations per second against concurrency",
            "closed-loop clients; local link and +1 ms each way to PostgreSQL; all on this machine's cores",
            &series,
        )?;
        let cells = body.split_evenly((rows as usize, 2));
        for (panel, cell) in panels.iter().zip(cells.iter()) {
            let top = panel
                .points
                .iter()
                .map(|p| p.1.max(p.2))
                .fold(0.0, f64::max);
            let most = panel.points.iter().map(|p| p.0).max().unwrap_or(1).max(2) as f64;
            let link = if panel.link_delay_ms == 0 {
                "local link".to_owned()
            } else {
                format!("+{} ms link", panel.link_delay_ms)
            };
            let mut chart = ChartBuilder::on(cell)
                .caption(
                    format!("{}, {link}", panel.function),
                    label_style(TEXT, 15, Pos::default()),
                )
                .margin(12)
                .margin_right(28)
                .y_label_area_size(56)
                .x_label_area_size(36)
                .build_cartesian_2d(
                    (0.8..most * 1.3).log_scale(),
                    // Room under zero for the labels written below points.
                    -top * 0.1..top * 1.2,
                )?;
            let mut mesh = chart.configure_mesh();
            mesh.disable_x_mesh()
                // The measured concurrencies are labelled below, not a
                // log scale's own key points.
                .x_label_formatter(&|_| String::new())
                .set_tick_mark_size(LabelAreaPosition::Bottom, 0)
                .y_labels(5)
                .y_label_formatter(&|v| {
                    if *v < 0.0 {
                        String::new()
                    } else {
                        format!("{v:.0}")
                    }
                })
                .y_desc("invocations/s")
                .x_desc("concurrency C");
            styled(&mut mesh, 12).draw()?;
            for (c, _, _) in &panel.points {
                let (x, y) = chart.backend_coord(&(*c as f64, -top * 0.1));
                let base = cell.get_base_pixel();
                cell.draw(&Text::new(
                    c.to_string(),
                    (x - base.0, y - base.1 + 6),
                    label_style(MUTED, 12, Pos::new(HPos::Center, VPos::Top)),
                ))?;
            }
            for (index, (_, color)) in series.iter().enumerate() {
                let points: Vec<(f64, f64)> = panel
                    .points
                    .iter()
                    .map(|p| (p.0 as f64, if index == 0 { p.1 } else { p.2 }))
                    .collect();
                chart.draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))?;
                chart.draw_series(
                    points
                        .iter()
                        .map(|&(x, y)| Circle::new((x, y), 3, color.filled())),
                )?;
                // One instance's labels above its points, the single
                // instances' below, so equal values do not overlap.
                let (dy, v) = if index == 0 {
                    (-8, VPos::Bottom)
                } else {
                    (8, VPos::Top)
                };
                chart.draw_series(points.iter().map(|&(x, y)| {
                    EmptyElement::at((x, y))
                        + Text::new(
                            format!("{y:.0}"),
                            (0, dy),
                            value_style(*color, HPos::Center).pos(Pos::new(HPos::Center, v)),
                        )
                }))?;
            }
        }
        Ok(())
    })
}

fn memory(results: &Results) -> anyhow::Result<String> {
    let (functions, sizes) = memory_values(results);
    let series: Vec<(&str, RGBColor)> = functions.into_iter().zip(PALETTE).collect();
    let height = 170 + 22 * (sizes.len() * (series.len() + 1)) as u32;
    svg((960, height), |root| {
        let body = card(
            root,
            "Cold start and warm p99 against memory size (ms)",
            "each function in a cgroup with the CPU share Lambda gives that memory (1,769 MB = one vCPU)",
            &series,
        )?;
        let (left, right) = body.split_horizontally(480);
        let label = |mb: u64| format!("{mb} MB");
        let cold: Vec<(String, Vec<f64>)> = sizes
            .iter()
            .map(|(mb, f)| (label(*mb), f.iter().map(|v| v.0).collect()))
            .collect();
        let warm: Vec<(String, Vec<f64>)> = sizes
            .iter()
            .map(|(mb, f)| (label(*mb), f.iter().map(|v| v.1).collect()))
            .collect();
        bars(
            &left,
            &cold,
            &series,
            "cold start: spawn → first answer (ms)",
            0,
        )?;
        bars(&right, &warm, &series, "warm p99, back to back (ms)", 2)
    })
}

/// Renders one SVG document of `size` pixels.
fn svg(
    size: (u32, u32),
    draw: impl FnOnce(&Area<'_>) -> anyhow::Result<()>,
) -> anyhow::Result<String> {
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, size).into_drawing_area();
        draw(&root)?;
        root.present()?;
    }
    Ok(text)
}

/// The white card, its title, subtitle and legend; answers the area below.
fn card<'a>(
    root: &Area<'a>,
    title: &str,
    subtitle: &str,
    legend: &[(&str, RGBColor)],
) -> anyhow::Result<Area<'a>> {
    root.fill(&WHITE)?;
    let (width, height) = root.dim_in_pixel();
    root.draw(&Rectangle::new(
        [(0, 0), (width as i32 - 1, height as i32 - 1)],
        GRID.stroke_width(1),
    ))?;
    root.draw(&Text::new(
        title.to_owned(),
        (20, 14),
        label_style(TEXT, 20, Pos::new(HPos::Left, VPos::Top)),
    ))?;
    root.draw(&Text::new(
        subtitle.to_owned(),
        (20, 40),
        label_style(MUTED, 14, Pos::new(HPos::Left, VPos::Top)),
    ))?;
    let mut x = 20;
    for (name, color) in legend {
        root.draw(&Rectangle::new([(x, 66), (x + 12, 78)], color.filled()))?;
        root.draw(&Text::new(
            name.to_string(),
            (x + 18, 72),
            label_style(TEXT, 14, Pos::new(HPos::Left, VPos::Center)),
        ))?;
        // The naive font's estimate of the name's width, and a gap.
        x += 18 + (name.chars().count() as i32 * 7) + 24;
    }
    Ok(root.margin(90, 6, 6, 6))
}

/// Horizontal bars: a group per row label, a bar per series in each, the
/// value written at the bar's end.
fn bars(
    area: &Area<'_>,
    groups: &[(String, Vec<f64>)],
    series: &[(&str, RGBColor)],
    axis: &str,
    decimals: usize,
) -> anyhow::Result<()> {
    let per_group = series.len() + 1;
    let rows = (groups.len() * per_group).max(1);
    let top = groups
        .iter()
        .flat_map(|(_, values)| values.iter().copied())
        .fold(0.0, f64::max);
    let mut chart = ChartBuilder::on(area)
        .margin(10)
        .margin_right(20)
        .y_label_area_size(110)
        .x_label_area_size(40)
        .build_cartesian_2d(0.0..(top * 1.22).max(f64::MIN_POSITIVE), 0.0..rows as f64)?;
    mesh_x(&mut chart, axis)?;
    for (g, (label, values)) in groups.iter().enumerate() {
        // Top to bottom in the data's order; a blank row between groups.
        let row = |s: usize| (rows - 1 - (g * per_group + s)) as f64;
        let middle = (row(0) + 1.0 + row(values.len().saturating_sub(1))) / 2.0;
        category(area, &chart, (0.0, middle), label)?;
        for (s, (value, (_, color))) in values.iter().zip(series).enumerate() {
            let y = row(s);
            chart.draw_series(std::iter::once(Rectangle::new(
                [(0.0, y + 0.12), (value.max(0.0), y + 0.88)],
                color.filled(),
            )))?;
            chart.draw_series(std::iter::once(
                EmptyElement::at((value.max(0.0), y + 0.5))
                    + Text::new(
                        format!("{value:.decimals$}"),
                        (5, 0),
                        value_style(TEXT, HPos::Left),
                    ),
            ))?;
        }
    }
    Ok(())
}

/// The value axis along the bottom, with vertical grid lines only.
fn mesh_x<'a>(chart: &mut Plane<'a>, desc: &str) -> anyhow::Result<()> {
    let mut mesh = chart.configure_mesh();
    mesh.disable_y_mesh()
        .y_labels(0)
        .x_labels(6)
        .x_label_formatter(&tick)
        .x_desc(desc);
    styled(&mut mesh, 13).draw()?;
    Ok(())
}

/// What every chart's axes share: muted text of `size` (axis titles one
/// larger), grid lines in the card's border colour, no minor lines.
fn styled<'a, 'b, 'm, X: Ranged, Y: Ranged>(
    mesh: &'m mut MeshStyle<'a, 'b, X, Y, SVGBackend<'a>>,
    size: u32,
) -> &'m mut MeshStyle<'a, 'b, X, Y, SVGBackend<'a>> {
    mesh.axis_desc_style(label_style(MUTED, size + 1, Pos::default()))
        .label_style(label_style(MUTED, size, Pos::default()))
        .axis_style(MUTED)
        .bold_line_style(GRID)
        .max_light_lines(0)
}

/// An axis tick: as few decimals as the key point has (0.25, 0.5, 20).
fn tick(value: &f64) -> String {
    let text = format!("{value:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// A row's name, right-aligned left of the plot at data coordinate `at`.
fn category<'a>(
    area: &Area<'a>,
    chart: &Plane<'a>,
    at: (f64, f64),
    label: &str,
) -> anyhow::Result<()> {
    let (x, y) = chart.backend_coord(&at);
    let base = area.get_base_pixel();
    area.draw(&Text::new(
        label.to_owned(),
        (x - base.0 - 8, y - base.1),
        label_style(TEXT, 14, Pos::new(HPos::Right, VPos::Center)),
    ))?;
    Ok(())
}

fn label_style(color: RGBColor, size: u32, pos: Pos) -> TextStyle<'static> {
    // plotters writes font-size as size / 1.24.
    (FONT, size as f64 * 1.24)
        .into_font()
        .color(&color)
        .pos(pos)
}

/// A measured value: bold, and nothing else is.
fn value_style(color: RGBColor, h: HPos) -> TextStyle<'static> {
    (FONT, 13.0 * 1.24, FontStyle::Bold)
        .into_font()
        .color(&color)
        .pos(Pos::new(h, VPos::Center))
}
