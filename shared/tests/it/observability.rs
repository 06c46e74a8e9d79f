//! What a function writes: one JSON log line per request that joins API
//! Gateway's access log, one CloudWatch Embedded Metric Format line, and
//! never a token, a body or the database password, at any log level. The
//! real binaries, under the local Runtime API.

use serde_json::{json, Value};
use shared::Endpoint;
use testkit::instance::Instance;
use testkit::*;

fn lines(log: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(log)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect()
}

fn log_path(name: &str) -> std::path::PathBuf {
    let dir = xtask::project_root().join("target/xtask/logs");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(format!("{}.log", unique(name)))
}

/// The EMF specification's required structure, for one line.
fn assert_valid_emf(line: &Value) {
    let aws = &line["_aws"];
    assert!(aws["Timestamp"].is_u64(), "Timestamp: {line}");
    let directives = aws["CloudWatchMetrics"]
        .as_array()
        .unwrap_or_else(|| panic!("CloudWatchMetrics: {line}"));
    assert!(!directives.is_empty());
    for directive in directives {
        assert!(
            directive["Namespace"]
                .as_str()
                .is_some_and(|n| !n.is_empty() && n.len() <= 255),
            "Namespace: {directive}"
        );
        let dimension_sets = directive["Dimensions"].as_array().expect("Dimensions");
        for set in dimension_sets {
            let set = set.as_array().expect("a dimension set is an array");
            assert!(set.len() <= 30);
            for name in set {
                let name = name.as_str().expect("dimension names are strings");
                assert!(
                    line[name].is_string(),
                    "dimension {name} has no value: {line}"
                );
            }
        }
        let metrics = directive["Metrics"].as_array().expect("Metrics");
        assert!(!metrics.is_empty() && metrics.len() <= 100);
        for metric in metrics {
            let name = metric["Name"].as_str().expect("metric Name");
            assert!(line[name].is_number(), "metric {name} has no value: {line}");
            if let Some(unit) = metric.get("Unit") {
                assert!(
                    ["Milliseconds", "Count", "Seconds", "Bytes", "None"]
                        .contains(&unit.as_str().unwrap()),
                    "{unit}"
                );
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_writes_one_log_line_and_one_metric_line() {
    let user = User::new("observed");
    let app = app().await;
    let id = create(&app, &user, "observed").await["id"]
        .as_i64()
        .unwrap();
    let log = log_path("observed-get-task");
    let instance = Instance::start_logging_to(GetTask, &database_url(), 4, &[], Some(&log)).await;
    let get = |id: i64| Call::new(GetTask).user(&user).id(id);
    instance.send(get(id)).await.expect(200);
    instance.send(get(id + 1_000_000)).await.problem(404);
    assert!(instance.terminate().await.success());

    let lines = lines(&log);
    let requests: Vec<&Value> = lines.iter().filter(|l| l["message"] == "request").collect();
    let metrics: Vec<&Value> = lines.iter().filter(|l| l.get("_aws").is_some()).collect();
    assert_eq!((requests.len(), metrics.len()), (2, 2), "{lines:#?}");
    for line in &metrics {
        assert_valid_emf(line);
        assert_eq!(line["Function"], "get-task");
        assert!(line["DatabaseMs"].as_f64().unwrap() > 0.0);
    }
    // The instance's first request paid for the cold start, and says so.
    assert_eq!(metrics[0]["ColdStart"], 1);
    assert!(metrics[0]["InitMs"].as_f64().unwrap() > 0.0);
    assert!(metrics[1].get("ColdStart").is_none());
    // A 404 is the client's business, not an error metric.
    assert!(metrics[1].get("Errors").is_none());

    let event = Call::new(GetTask).user(&user).id(id).event();
    for (n, line) in requests.iter().enumerate() {
        assert_eq!(line["level"], "INFO");
        // Lambda's request id, and API Gateway's: the access log's join key.
        assert!(line["request_id"].as_str().unwrap().starts_with("req-"));
        assert_eq!(line["api_request_id"], event["requestContext"]["requestId"]);
        assert_eq!(line["route"], "GET /api/{user_id}/tasks/{id}");
        assert_eq!(line["function"], "get-task");
        assert_eq!(line["user_id"], user.id.as_str());
        assert_eq!(line["cold"], n == 0);
        assert!(line["duration_ms"].as_f64().unwrap() >= line["database_ms"].as_f64().unwrap());
    }
    assert_eq!(requests[0]["status"], 200);
    assert_eq!(requests[1]["status"], 404);
    assert_eq!(requests[1]["problem"], "not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_is_counted_as_an_error_metric_by_problem() {
    let user = User::new("observed-outage");
    // Nothing listens there: every request is a 503.
    let dead = format!(
        "postgres://postgres@127.0.0.1:{}/tasks?sslmode=disable",
        xtask::postgres::free_port().unwrap()
    );
    let log = log_path("observed-outage");
    let instance = Instance::start_logging_to(
        ListTasks,
        &dead,
        1,
        &[("DATABASE_CONNECT_TIMEOUT_MS", "500")],
        Some(&log),
    )
    .await;
    instance
        .send(Call::new(ListTasks).user(&user))
        .await
        .problem(503);
    assert!(instance.terminate().await.success());
    let lines = lines(&log);
    let metric = lines
        .iter()
        .find(|l| l.get("_aws").is_some())
        .expect("a metric line");
    assert_valid_emf(metric);
    assert_eq!(metric["Problem"], "database_unavailable");
    assert_eq!(metric["Errors"], 1);
    let request = lines.iter().find(|l| l["message"] == "request").unwrap();
    assert_eq!(request["level"], "ERROR");
    assert_eq!(request["problem"], "database_unavailable");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_token_body_or_password_is_written_at_any_log_level() {
    let password = "pw-7f3a9c1e-never-logged";
    let url = database_url().replacen("postgres@", &format!("postgres:{password}@"), 1);
    assert!(url.contains(password));
    let user = User::new("hygiene");
    let seeded = create(&app().await, &user, "seeded").await["id"]
        .as_i64()
        .unwrap();
    let marker = unique("BODY-MARKER");
    for level in ["trace", "debug", "info"] {
        for endpoint in Endpoint::ALL {
            let log = log_path(&format!("hygiene-{level}-{}", endpoint.name()));
            let instance =
                Instance::start_logging_to(endpoint, &url, 1, &[("RUST_LOG", level)], Some(&log))
                    .await;
            let body = json!({"title": marker, "description": marker, "completed": true});
            let good = Call::new(endpoint)
                .user(&user)
                .id(seeded)
                .json(body.clone());
            let token = good.event()["headers"]["authorization"]
                .as_str()
                .unwrap()
                .trim_start_matches("Bearer ")
                .to_owned();
            let reply = instance.send(good).await;
            assert!(reply.status < 500, "{}", reply.status);
            // A refused token is logged as refused, never as itself.
            let forged = format!("{token}x");
            instance
                .send(
                    Call::new(endpoint)
                        .user(&user)
                        .id(seeded)
                        .authorization(Some(format!("Bearer {forged}")))
                        .json(body),
                )
                .await
                .problem(401);
            assert!(instance.terminate().await.success());

            let written = std::fs::read_to_string(&log).unwrap();
            assert!(written.contains("\"request\""), "{level}: no request line");
            for secret in [token.as_str(), forged.as_str(), password, marker.as_str()] {
                assert!(
                    !written.contains(secret),
                    "{} at {level} wrote {secret}",
                    endpoint.name()
                );
            }
            // The token's signature alone is what would let someone replay it.
            let signature = token.rsplit('.').next().unwrap();
            assert!(!written.contains(signature));
            if level == "trace" {
                assert!(
                    written.contains("\"TRACE\""),
                    "{}: trace level was not on",
                    endpoint.name()
                );
            }
        }
    }
}
