//! Local routing (`cargo lambda watch`'s router in Cargo.toml) and deployed
//! routing (template.yaml) must both be exactly the endpoints, plus each
//! path's other methods sent to the function that answers them (405 + Allow),
//! so the two cannot drift apart. The same goes for the CORS policy: the
//! template's `CorsConfiguration` is `shared::cors`, which the dev server applies.

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
        .flat_map(|e| {
            e.methods().iter().map(|method| {
                (
                    method.to_string(),
                    e.route().to_owned(),
                    e.name().to_owned(),
                )
            })
        })
        .collect()
}

/// The methods `cargo lambda watch` routes explicitly (its router has no ANY).
/// QUERY is the safe method with a body of draft-ietf-httpbis-safe-method-w-body.
const METHODS: [&str; 9] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "QUERY",
];

/// The functions answering each path's other methods, and those methods.
fn other_methods(methods: &[&str]) -> BTreeSet<Route> {
    let served = endpoints();
    let mut routes = BTreeSet::new();
    for endpoint in Endpoint::ALL.iter().filter(|e| e.answers_other_methods()) {
        for method in methods {
            let taken = served
                .iter()
                .any(|(m, path, _)| m == method && path == endpoint.route());
            if !taken {
                routes.insert((
                    method.to_string(),
                    endpoint.route().to_owned(),
                    endpoint.name().to_owned(),
                ));
            }
        }
    }
    routes
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
fn template_routes_are_the_endpoints_and_a_fallback_per_path() {
    let mut expected = endpoints();
    expected.extend(other_methods(&["ANY"]));
    assert_eq!(template_routes(&read("template.yaml")), expected);
}

#[test]
fn cargo_lambda_watch_routes_are_the_endpoints_and_every_other_method() {
    let mut expected = endpoints();
    expected.extend(other_methods(&METHODS));
    assert_eq!(watch_routes(&read("Cargo.toml")), expected);
}

/// The dev proxy queues each request in the lane of the function the watch
/// router sends it to (xtask::dev::admission): it must pick the same one.
#[test]
fn the_dev_proxy_picks_the_function_the_watch_router_does() {
    for (method, route, function) in watch_routes(&read("Cargo.toml")) {
        let path = route
            .replace("{user_id}", "some%20user")
            .replace("{id}", "42");
        let method: hyper::Method = method.parse().unwrap();
        assert_eq!(
            xtask::dev::admission::function_of(&method, &path),
            Some(function.as_str()),
            "{method} {path}"
        );
    }
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
fn openapi_operations_are_the_endpoints() {
    let expected: BTreeSet<(String, String)> =
        endpoints().into_iter().map(|(m, p, _)| (m, p)).collect();
    assert_eq!(openapi_operations(&read("openapi.yaml")), expected);
}

#[test]
fn a_route_missing_from_either_file_is_caught() {
    // In both deployment modes' functions.
    let template = read("template.yaml").replace("Method: PATCH", "Method: POST");
    assert!(!template_routes(&template).is_superset(&endpoints()));
    let manifest =
        read("Cargo.toml").replacen(r#"{ method = "DELETE", function = "delete-task" },"#, "", 1);
    assert!(!watch_routes(&manifest).is_superset(&endpoints()));
}

#[test]
fn template_cors_is_the_declared_policy() {
    let template = crate::template::template();
    let apis = crate::template::http_apis(&template);
    assert!(!apis.is_empty());
    for api in apis {
        cors_is_the_declared_policy(&template, &api["Properties"]["CorsConfiguration"]);
    }
}

fn cors_is_the_declared_policy(template: &Yaml, cors: &Yaml) {
    let list = |name: &str| -> Vec<String> {
        cors[name]
            .as_sequence()
            .unwrap_or_else(|| panic!("CorsConfiguration.{name} is a list"))
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    };
    let declared =
        |names: &[&str]| -> Vec<String> { names.iter().map(|n| n.to_string()).collect() };
    assert_eq!(list("AllowMethods"), declared(shared::cors::ALLOW_METHODS));
    assert_eq!(list("AllowHeaders"), declared(shared::cors::ALLOW_HEADERS));
    assert_eq!(
        list("ExposeHeaders"),
        declared(shared::cors::EXPOSE_HEADERS)
    );
    assert_eq!(
        cors["MaxAge"].as_u64(),
        Some(u64::from(shared::cors::MAX_AGE_SECS))
    );
    // Origins stay a deployment parameter, defaulting to the dev origins.
    let origins = serde_yaml::to_string(&cors["AllowOrigins"]).unwrap();
    assert_eq!(origins.trim(), "!Ref CorsAllowOrigins");
    let default = template["Parameters"]["CorsAllowOrigins"]["Default"]
        .as_str()
        .unwrap();
    assert_eq!(default, shared::cors::DEV_ORIGINS.join(","));
}
