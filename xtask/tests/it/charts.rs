//! The bench's charts show the numbers of the results file they are drawn
//! from: rendered from a fixed results file, each chart's values are read
//! back out of the SVG (the bold labels, in drawing order, and the bars'
//! lengths), and the committed charts are the rendering of the committed
//! `bench/results.json`.

use xtask::bench::charts::{self, FILES};
use xtask::bench::Results;

fn fixture() -> Results {
    let text = std::fs::read_to_string(
        xtask::project_root().join("xtask/tests/it/fixtures/bench-results.json"),
    )
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

fn chart(name: &str) -> String {
    charts::render(&fixture())
        .unwrap()
        .into_iter()
        .find(|(file, _)| *file == name)
        .unwrap()
        .1
}

/// Each `<text …>` element: (its attributes, its content).
fn texts(svg: &str) -> Vec<(String, String)> {
    svg.split("<text ")
        .skip(1)
        .map(|rest| {
            let (attributes, rest) = rest.split_once('>').unwrap();
            let (content, _) = rest.split_once("</text>").unwrap();
            (attributes.to_owned(), content.trim().to_owned())
        })
        .collect()
}

/// The measured values a reader sees: the bold labels, in drawing order.
fn values(svg: &str) -> Vec<String> {
    texts(svg)
        .into_iter()
        .filter(|(attributes, _)| attributes.contains(r#"font-weight="bold""#))
        .map(|(_, content)| content)
        .collect()
}

/// Each of `labels` is the text of some `<text>` element.
fn shows_labels(svg: &str, labels: &[&str]) {
    let texts: Vec<String> = texts(svg).into_iter().map(|(_, t)| t).collect();
    for label in labels {
        assert!(texts.iter().any(|t| t == label), "{label}: {texts:?}");
    }
}

fn attribute(element: &str, name: &str) -> Option<f64> {
    let start = element.find(&format!(" {name}=\""))? + name.len() + 3;
    let end = start + element[start..].find('"')?;
    element[start..end].parse().ok()
}

#[test]
fn the_warm_chart_shows_each_functions_percentiles() {
    let svg = chart("warm.svg");
    let expected = [
        "0.301", "0.402", "0.903", // list-tasks: p50, p90, p99
        "0.401", "0.502", "1.103", // create-task
        "0.501", "0.602", "1.303", // get-task
        "0.601", "0.702", "1.503", // update-task
        "0.701", "0.802", "1.703", // complete-task
        "0.801", "0.902", "1.903", // delete-task
    ];
    assert_eq!(values(&svg), expected);
    shows_labels(&svg, &xtask::bench::FUNCTIONS);
    assert!(
        !svg.contains("naive"),
        "the naive variant is not one of the six"
    );

    // The bars' lengths are the values on one scale: the filled rectangles
    // below the title and legend (the card's first 90 px), in drawing order.
    let bars: Vec<f64> = svg
        .split("<rect ")
        .skip(1)
        .filter(|r| r.contains("fill=\"#") && !r.contains("fill=\"#FFFFFF\""))
        .filter_map(|r| Some((attribute(r, "y")?, attribute(r, "width")?)))
        .filter(|&(y, _)| y > 90.0)
        .map(|(_, width)| width)
        .collect();
    assert_eq!(bars.len(), expected.len(), "{bars:?}");
    let scale = bars[17] / 1.903;
    for (width, value) in bars.iter().zip(expected) {
        let value: f64 = value.parse().unwrap();
        // Pixel edges are whole numbers: within a pixel of the exact length.
        assert!(
            (width - value * scale).abs() <= 1.0,
            "a bar of {width} px for {value} ms at {scale} px/ms"
        );
    }
}

#[test]
fn the_cold_chart_splits_round_trips_into_tls_login_and_statement() {
    // The fixture's get-task and list-tasks: without TLS, init 3.0 and 3.2
    // round trips of 4.0 and 4.4; SSLRequest 5.9 and 5.7 of 6.9 and 6.9;
    // direct 3.9 and 4.1 of 4.9 and 5.3. Each phase is the mean of the two.
    let svg = chart("cold.svg");
    assert_eq!(
        values(&svg),
        [
            "2.7",
            "3.1",
            "1.1",
            "6.9 in all", // require, SSLRequest
            "0.9",
            "3.1",
            "1.1",
            "5.1 in all", // require, direct
        ]
    );
    shows_labels(
        &svg,
        &[
            "require, SSLRequest",
            "require, direct",
            "TLS",
            "first statement",
        ],
    );
}

#[test]
fn the_concurrency_chart_shows_one_instance_beside_as_many_instances() {
    let svg = chart("concurrency.svg");
    assert_eq!(
        values(&svg),
        [
            "2250", "4000", "10000", // get-task: one instance at 1, 8, 32
            "2000", "2000", "2000", // get-task: 1, 8, 32 instances
            "1800", "3200", "8000", // create-task: one instance
            "1600", "1600", "1600", // create-task: single instances
        ]
    );
    shows_labels(
        &svg,
        &[
            "get-task, local link",
            "create-task, local link",
            "1",
            "8",
            "32",
        ],
    );
}

#[test]
fn the_memory_chart_shows_cold_start_and_warm_p99_per_size() {
    let svg = chart("memory.svg");
    assert_eq!(
        values(&svg),
        [
            "108", "98", "60", "50", "21", "11", // cold start: create-task, get-task per size
            "75.33", "74.33", "34.87", "33.87", "2.27", "1.27", // warm p99, the same order
        ]
    );
    shows_labels(
        &svg,
        &["128 MB", "256 MB", "512 MB", "create-task", "get-task"],
    );
}

#[test]
fn every_chart_sits_on_an_opaque_card_for_light_and_dark_pages() {
    for (file, svg) in charts::render(&fixture()).unwrap() {
        let first = svg.split("<rect ").nth(1).unwrap_or_default();
        assert!(
            first.contains(r##"fill="#FFFFFF""##) && first.contains(r#"x="0" y="0""#),
            "{file} does not begin with a white background"
        );
    }
}

#[test]
fn the_committed_charts_are_drawn_from_the_committed_results() {
    let root = xtask::project_root();
    let results: Results =
        serde_json::from_str(&std::fs::read_to_string(root.join("bench/results.json")).unwrap())
            .unwrap();
    let rendered = charts::render(&results).unwrap();
    assert_eq!(rendered.len(), FILES.len());
    for (file, svg) in rendered {
        let committed = std::fs::read_to_string(root.join("bench").join(file))
            .unwrap_or_else(|e| panic!("bench/{file}: {e}; run `cargo xtask bench`"));
        assert!(
            committed == svg,
            "bench/{file} is not the rendering of bench/results.json; run `cargo xtask bench`"
        );
    }
}
