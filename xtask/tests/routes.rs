//! Local routing (`cargo lambda watch`'s router in Cargo.toml) and deployed
//! routing (template.yaml) must both be exactly the six endpoints, so the two
//! cannot drift apart.

use serde_yaml::Value as Yaml;
use shared::Endpoint;
use std::collections::BTreeSet;

type Route = (String, String, String); // (method, path, function)

fn read(file: &str) -> String {
    std::fs::read_to_string(xtask::project_root().join(file)).unwrap()
}

fn endpoints() -> BTreeSet<Route> {
    Endpoint::ALL
        .iter()
        .map(|e| {
            (
                e.method().to_string(),
                e.route().to_owned(),
                e.name().to_owned(),
            )
        })
        .collect()
}

/// Every HttpApi event of every function in a SAM template.
pub fn template_routes(template: &str) -> BTreeSet<Route> {
    let template: Yaml = serde_yaml::from_str(template).unwrap();
    let mut routes = BTreeSet::new();
    for (_, resource) in template["Resources"].as_mapping().unwrap() {
        if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let function = resource["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .expect("each function names its binary")
            .to_owned();
        let events = resource["Properties"]["Events"].as_mapping();
        for (_, event) in events.into_iter().flatten() {
            if event["Type"].as_str() == Some("HttpApi") {
                let properties = &event["Properties"];
                routes.insert((
                    properties["Method"].as_str().unwrap().to_uppercase(),
                    properties["Path"].as_str().unwrap().to_owned(),
                    function.clone(),
                ));
            }
        }
    }
    routes
}

/// Every route of `[workspace.metadata.lambda.watch.router]`.
pub fn watch_routes(manifest: &str) -> BTreeSet<Route> {
    let manifest: toml::Table = manifest.parse().unwrap();
    let router = manifest["workspace"]["metadata"]["lambda"]["watch"]["router"]
        .as_table()
        .expect("a router table");
    let mut routes = BTreeSet::new();
    for (path, targets) in router {
        for target in targets.as_array().expect("routes by method") {
            routes.insert((
                target["method"].as_str().unwrap().to_uppercase(),
                path.clone(),
                target["function"].as_str().unwrap().to_owned(),
            ));
        }
    }
    routes
}

#[test]
fn template_routes_are_the_six_endpoints() {
    assert_eq!(template_routes(&read("template.yaml")), endpoints());
}

#[test]
fn cargo_lambda_watch_routes_are_the_six_endpoints() {
    assert_eq!(watch_routes(&read("Cargo.toml")), endpoints());
}

/// Every (method, path) of openapi.yaml; the functions are not named there.
fn openapi_operations(document: &str) -> BTreeSet<(String, String)> {
    let document: Yaml = serde_yaml::from_str(document).unwrap();
    let mut operations = BTreeSet::new();
    for (path, item) in document["paths"].as_mapping().expect("paths") {
        for (method, _) in item.as_mapping().unwrap() {
            let method = method.as_str().unwrap();
            if matches!(
                method,
                "get" | "put" | "post" | "delete" | "patch" | "head" | "options" | "trace"
            ) {
                operations.insert((method.to_uppercase(), path.as_str().unwrap().to_owned()));
            }
        }
    }
    operations
}

#[test]
fn openapi_operations_are_the_six_endpoints() {
    let expected: BTreeSet<(String, String)> =
        endpoints().into_iter().map(|(m, p, _)| (m, p)).collect();
    assert_eq!(openapi_operations(&read("openapi.yaml")), expected);
}

#[test]
fn a_route_missing_from_either_file_is_caught() {
    let template = read("template.yaml").replacen("Method: PATCH", "Method: POST", 1);
    assert_ne!(template_routes(&template), endpoints());
    let manifest =
        read("Cargo.toml").replacen(r#"{ method = "DELETE", function = "delete-task" },"#, "", 1);
    assert_ne!(watch_routes(&manifest), endpoints());
}
