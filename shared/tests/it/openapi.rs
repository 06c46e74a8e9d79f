//! openapi.yaml is the contract: the members of what the API answers are
//! exactly the properties its schemas list, so a field added to `Task` (or a
//! property dropped from the spec) cannot drift past the tests. The schemas
//! of responses are closed (`additionalProperties: false`), so schemathesis
//! (contract.rs) checks every live answer against them too.

use serde_json::Value;
use shared::http::problem;
use shared::tasks::{TagCount, Task};
use shared::ApiError;
use std::collections::BTreeSet;
use time::macros::datetime;

/// openapi.yaml, as JSON values.
fn spec() -> Value {
    let text = std::fs::read_to_string(xtask::project_root().join("openapi.yaml")).unwrap();
    let yaml: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    serde_json::to_value(yaml).unwrap()
}

fn schema(name: &str) -> Value {
    spec()["components"]["schemas"][name].clone()
}

/// The names a schema lists: the keys of `properties`, or `required`'s items.
fn names(value: &Value) -> BTreeSet<String> {
    match value {
        Value::Object(map) => map.keys().cloned().collect(),
        Value::Array(items) => items
            .iter()
            .map(|k| k.as_str().unwrap().to_owned())
            .collect(),
        other => panic!("not a list of names: {other:?}"),
    }
}

fn keys(value: &Value) -> BTreeSet<String> {
    value.as_object().unwrap().keys().cloned().collect()
}

#[test]
fn a_task_has_exactly_the_schemas_properties() {
    let task = Task {
        id: 1,
        user_id: "u".into(),
        title: "t".into(),
        description: Some("d".into()),
        completed: false,
        priority: Default::default(),
        tags: Vec::new(),
        due_date: None,
        created_at: datetime!(2026-11-24 09:00 UTC),
        updated_at: datetime!(2026-11-24 09:00 UTC),
    };
    let answered = keys(&serde_json::to_value(&task).unwrap());
    let schema = schema("Task");
    assert_eq!(answered, names(&schema["properties"]), "Task properties");
    assert_eq!(answered, names(&schema["required"]), "Task required");
    assert_eq!(schema["additionalProperties"], Value::Bool(false));
}

#[test]
fn a_tag_count_has_exactly_the_schemas_properties() {
    let tag = TagCount {
        name: "work".into(),
        count: 3,
    };
    let answered = keys(&serde_json::to_value(&tag).unwrap());
    let schema = schema("TagCount");
    assert_eq!(
        answered,
        names(&schema["properties"]),
        "TagCount properties"
    );
    assert_eq!(answered, names(&schema["required"]), "TagCount required");
    assert_eq!(schema["additionalProperties"], Value::Bool(false));
}

#[test]
fn a_problem_has_exactly_the_schemas_properties() {
    let answered = |error: ApiError| -> Value {
        serde_json::from_slice(problem(&error).body().as_ref()).unwrap()
    };
    let body = answered(ApiError::invalid("title", "is required"));
    let limited = answered(ApiError::TaskLimitReached { limit: 3, count: 3 });
    let schema = schema("Problem");
    let mut members = keys(&body);
    members.extend(keys(&limited));
    assert_eq!(members, names(&schema["properties"]), "Problem");
    let item = &schema["properties"]["errors"]["items"];
    assert_eq!(
        keys(&body["errors"][0]),
        names(&item["properties"]),
        "errors[]"
    );
    assert_eq!(schema["additionalProperties"], Value::Bool(false));
    assert_eq!(item["additionalProperties"], Value::Bool(false));
}

fn example(spec: &Value, name: &str) -> Value {
    let value = &spec["components"]["examples"][name]["value"];
    assert!(!value.is_null(), "no example {name}");
    value.clone()
}

/// The interactive docs group the operations under `tasks` and show, for each,
/// an example of what to send and of what comes back.
#[test]
fn every_operation_is_tagged_and_has_request_and_response_examples() {
    let spec = spec();
    let has_examples = |node: &Value| {
        node["content"]
            .as_object()
            .is_some_and(|types| types.values().any(|t| t["examples"].is_object()))
    };
    let resolve = |node: &Value| -> Value {
        match node["$ref"].as_str() {
            Some(reference) => spec
                .pointer(reference.trim_start_matches('#'))
                .unwrap()
                .clone(),
            None => node.clone(),
        }
    };
    let mut operations = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            if method == "parameters" {
                continue;
            }
            operations += 1;
            let name = format!("{method} {path}");
            assert_eq!(operation["tags"], serde_json::json!(["tasks"]), "{name}");
            let parameters = item["parameters"]
                .as_array()
                .into_iter()
                .chain(operation["parameters"].as_array())
                .flatten()
                .map(resolve);
            let request = has_examples(&operation["requestBody"])
                || parameters.into_iter().any(|p| !p["example"].is_null());
            assert!(request, "{name} shows no request example");
            let responses = operation["responses"].as_object().unwrap();
            let success = responses
                .iter()
                .filter(|(status, _)| status.starts_with('2'))
                .map(|(_, response)| resolve(response))
                .any(|response| has_examples(&response) || response["content"].is_null());
            assert!(success, "{name} shows no success example");
            for status in ["400", "401"] {
                assert!(
                    has_examples(&resolve(&responses[status])),
                    "{name} {status}"
                );
            }
        }
    }
    let served: usize = shared::Endpoint::ALL
        .iter()
        .map(|e| e.methods().len())
        .sum();
    assert_eq!(operations, served);
}

/// The examples are what the API accepts and answers, to the byte: request
/// bodies pass the real parsers, tasks read back and serialize unchanged, and
/// each problem is exactly what `http::problem` writes for that error.
#[test]
fn the_examples_are_what_the_api_accepts_and_answers() {
    use shared::tasks::{CompletionChange, NewTask, TaskChange};
    let spec = spec();
    let body = |name: &str| serde_json::to_vec(&example(&spec, name)).unwrap();
    NewTask::from_json(&body("NewTask")).unwrap();
    TaskChange::replacement(&body("TaskReplacement")).unwrap();
    TaskChange::merge_patch(&body("TaskPatch")).unwrap();
    CompletionChange::from_json(&body("Completion")).unwrap();
    for name in ["Task", "CreatedTask"] {
        let value = example(&spec, name);
        let task: Task = serde_json::from_value(value.clone()).unwrap();
        assert_eq!(serde_json::to_value(&task).unwrap(), value, "{name}");
    }
    let page = example(&spec, "TaskPage");
    let tasks: Vec<Task> = serde_json::from_value(page.clone()).unwrap();
    assert_eq!(serde_json::to_value(&tasks).unwrap(), page);
    let tags = example(&spec, "TagCounts");
    let counts: Vec<TagCount> = serde_json::from_value(tags.clone()).unwrap();
    assert_eq!(serde_json::to_value(&counts).unwrap(), tags);
    // In the order the API answers: most used first, then by name ignoring case.
    let order: Vec<(i64, String)> = counts
        .iter()
        .map(|tag| (-tag.count, tag.name.to_lowercase()))
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{tags}");
    let problems = [
        (
            "BadRequest",
            ApiError::invalid("title", "must be 1–255 characters"),
        ),
        (
            "Unauthorized",
            ApiError::Unauthorized("token has expired".into()),
        ),
        ("Forbidden", ApiError::Forbidden),
        ("NotFound", ApiError::NotFound),
        ("PreconditionFailed", ApiError::PreconditionFailed),
        ("KeyInFlight", ApiError::IdempotencyKeyInFlight),
        (
            "TaskLimitReached",
            ApiError::TaskLimitReached {
                limit: 10_000,
                count: 10_000,
            },
        ),
    ];
    for (name, error) in problems {
        let response = problem(&error);
        let sent: Value = serde_json::from_slice(response.body().as_ref()).unwrap();
        assert_eq!(example(&spec, name), sent, "{name}");
    }
}
