//! openapi.yaml is the contract: the members of what the API answers are
//! exactly the properties its schemas list, so a field added to `Task` (or a
//! property dropped from the spec) cannot drift past the tests. The schemas
//! of responses are closed (`additionalProperties: false`), so schemathesis
//! (contract.rs) checks every live answer against them too.

use serde_json::Value;
use shared::http::problem;
use shared::tasks::Task;
use shared::ApiError;
use std::collections::BTreeSet;
use time::macros::datetime;

fn schema(name: &str) -> serde_yaml::Value {
    let text = std::fs::read_to_string(xtask::project_root().join("openapi.yaml")).unwrap();
    let spec: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    spec["components"]["schemas"][name].clone()
}

fn names(value: &serde_yaml::Value) -> BTreeSet<String> {
    match value {
        serde_yaml::Value::Mapping(map) => {
            map.keys().map(|k| k.as_str().unwrap().to_owned()).collect()
        }
        serde_yaml::Value::Sequence(items) => items
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
        created_at: datetime!(2026-11-24 09:00 UTC),
        updated_at: datetime!(2026-11-24 09:00 UTC),
    };
    let answered = keys(&serde_json::to_value(&task).unwrap());
    let schema = schema("Task");
    assert_eq!(answered, names(&schema["properties"]), "Task properties");
    assert_eq!(answered, names(&schema["required"]), "Task required");
    assert_eq!(
        schema["additionalProperties"],
        serde_yaml::Value::Bool(false)
    );
}

#[test]
fn a_problem_has_exactly_the_schemas_properties() {
    let response = problem(&ApiError::invalid("title", "is required"));
    let body: Value = serde_json::from_slice(response.body().as_ref()).unwrap();
    let schema = schema("Problem");
    assert_eq!(keys(&body), names(&schema["properties"]), "Problem");
    let item = &schema["properties"]["errors"]["items"];
    assert_eq!(
        keys(&body["errors"][0]),
        names(&item["properties"]),
        "errors[]"
    );
    assert_eq!(
        schema["additionalProperties"],
        serde_yaml::Value::Bool(false)
    );
    assert_eq!(item["additionalProperties"], serde_yaml::Value::Bool(false));
}
