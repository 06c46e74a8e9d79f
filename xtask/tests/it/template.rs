//! template.yaml's deployment modes and the caps that protect the database:
//! classic Lambda (default) and Lambda Managed Instances, switched by
//! parameters only; each mode validated by the real `sam validate` (SAM's
//! transform) and `sam validate --lint` (cfn-lint).

use serde_yaml::{Mapping, Value as Yaml};

fn template_text() -> String {
    std::fs::read_to_string(xtask::project_root().join("template.yaml")).unwrap()
}

pub(crate) fn template() -> Yaml {
    serde_yaml::from_str(&template_text()).unwrap()
}

/// The template's HTTP APIs (one per deployment mode).
pub(crate) fn http_apis(template: &Yaml) -> Vec<&Yaml> {
    template["Resources"]
        .as_mapping()
        .unwrap()
        .values()
        .filter(|r| r["Type"] == "AWS::Serverless::HttpApi")
        .collect()
}

fn functions(template: &Yaml, condition: &str) -> Vec<(String, Yaml)> {
    template["Resources"]
        .as_mapping()
        .unwrap()
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::Serverless::Function" && r["Condition"] == condition)
        .map(|(name, r)| (name.as_str().unwrap().to_owned(), r.clone()))
        .collect()
}

/// `!Ref Name` as serde_yaml reads it.
fn is_ref(value: &Yaml, name: &str) -> bool {
    serde_yaml::to_string(value).unwrap().trim() == format!("!Ref {name}")
}

/// A function's properties without the keys its mode adds, with its mode's
/// API and name suffix written as the classic ones.
fn comparable(function: &Yaml, mode_keys: &[&str]) -> String {
    let mut properties: Vec<(String, Yaml)> = function["Properties"]
        .as_mapping()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.as_str().unwrap().to_owned(), v.clone()))
        .filter(|(k, _)| !mode_keys.contains(&k.as_str()))
        .collect();
    properties.sort_by(|a, b| a.0.cmp(&b.0));
    let properties: Mapping = properties
        .into_iter()
        .map(|(k, v)| (Yaml::String(k), v))
        .collect();
    serde_yaml::to_string(&properties)
        .unwrap()
        .replace("TaskApiManaged", "TaskApi")
        .replace("-managed\n", "\n")
}

const CLASSIC_KEYS: [&str; 1] = ["ReservedConcurrentExecutions"];
const MANAGED_KEYS: [&str; 4] = [
    "AutoPublishAlias",
    "MemorySize",
    "CapacityProviderConfig",
    "FunctionScalingConfig",
];

#[test]
fn every_function_has_a_managed_instances_twin_that_differs_only_in_its_mode() {
    let template = template();
    let classic = functions(&template, "Classic");
    let managed = functions(&template, "OnManagedInstances");
    assert_eq!(classic.len(), shared::Endpoint::ALL.len());
    assert_eq!(managed.len(), shared::Endpoint::ALL.len());
    for (name, function) in &classic {
        let twin_name = name.replace("Function", "ManagedFunction");
        let (_, twin) = managed
            .iter()
            .find(|(n, _)| *n == twin_name)
            .unwrap_or_else(|| panic!("{name} has no {twin_name}"));
        assert_eq!(function["Metadata"], twin["Metadata"], "{name}'s build");
        assert_eq!(
            comparable(function, &CLASSIC_KEYS),
            comparable(twin, &MANAGED_KEYS),
            "{twin_name} differs from {name} beyond its mode"
        );
        // One invocation per vCPU-thread's worth of memory: the runtime is
        // single-threaded, so 2 GiB per vCPU at 2,048 MB is one vCPU.
        let config = &twin["Properties"]["CapacityProviderConfig"];
        assert!(is_ref(
            &config["PerExecutionEnvironmentMaxConcurrency"],
            "PerInstanceConcurrency"
        ));
        assert_eq!(config["ExecutionEnvironmentMemoryGiBPerVCpu"], 2);
        assert_eq!(twin["Properties"]["MemorySize"], 2048);
        // Versions: Managed Instances run published versions only.
        assert!(twin["Properties"]["AutoPublishAlias"].is_string());
    }
}

#[test]
fn the_database_is_protected_by_caps_in_both_modes() {
    let template = template();
    for (name, function) in functions(&template, "Classic") {
        let reserved =
            serde_yaml::to_string(&function["Properties"]["ReservedConcurrentExecutions"]).unwrap();
        assert!(
            reserved.contains("CapConcurrency") && reserved.contains("FunctionConcurrencyLimit"),
            "{name}: {reserved}"
        );
    }
    for (name, function) in functions(&template, "OnManagedInstances") {
        let max = &function["Properties"]["FunctionScalingConfig"]["MaxExecutionEnvironments"];
        assert!(is_ref(max, "ManagedInstancesMaxEnvironments"), "{name}");
    }
    let apis = http_apis(&template);
    assert_eq!(apis.len(), 2);
    for api in apis {
        let throttling = &api["Properties"]["DefaultRouteSettings"];
        assert!(is_ref(
            &throttling["ThrottlingRateLimit"],
            "ApiThrottlingRateLimit"
        ));
        assert!(is_ref(
            &throttling["ThrottlingBurstLimit"],
            "ApiThrottlingBurstLimit"
        ));
    }
    // Defaults sized for a small Neon compute behind its pooler: at most 70
    // connections from classic instances, 21 from Managed Instances.
    let default = |name: &str| template["Parameters"][name]["Default"].clone();
    assert_eq!(default("FunctionConcurrencyLimit"), "10");
    assert_eq!(default("ManagedInstancesMaxEnvironments"), 3);
    assert_eq!(default("ApiThrottlingRateLimit"), 100);
    assert_eq!(default("ApiThrottlingBurstLimit"), 200);
    // One account holds at most 10,000 tasks, whichever function serves it.
    assert_eq!(default("MaxTasksPerUser"), 10_000);
    assert!(is_ref(
        &template["Globals"]["Function"]["Environment"]["Variables"]["MAX_TASKS_PER_USER"],
        "MaxTasksPerUser"
    ));
    // Off by default.
    assert_eq!(default("CapacityProviderArn"), "");
    assert_eq!(default("ManagedInstancesSubnetIds"), "");
}

/// `sam validate` and `sam validate --lint` on `text`, offline.
fn sam_validates(text: &str, label: &str) {
    let root = xtask::project_root();
    let sam = root.join(".venv/bin/sam");
    assert!(sam.is_file(), "`cargo xtask test` installs sam into .venv");
    let dir = root.join("target/xtask/templates");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("{label}.yaml"));
    std::fs::write(&file, text).unwrap();
    for lint in [false, true] {
        if let Err(error) = xtask::tools::sam_validate(&root, &file, lint) {
            panic!("{label} (lint: {lint}): {error:#}");
        }
    }
}

/// The template with one parameter's default replaced, as a deployer's
/// `--parameter-overrides` would set it.
fn with_default(text: &str, parameter: &str, value: &str) -> String {
    let marker = format!("  {parameter}:\n");
    let start = text.find(&marker).expect("the parameter") + marker.len();
    let line = text[start..]
        .find("    Default: ")
        .map(|i| start + i)
        .unwrap();
    let end = line + text[line..].find('\n').unwrap();
    format!("{}    Default: \"{value}\"{}", &text[..line], &text[end..])
}

#[test]
fn sam_validates_the_template_in_each_mode() {
    let text = template_text();
    sam_validates(&text, "classic");
    sam_validates(
        &with_default(
            &text,
            "CapacityProviderArn",
            "arn:aws:lambda:us-east-1:123456789012:capacity-provider:tasks",
        ),
        "existing-capacity-provider",
    );
    sam_validates(
        &with_default(
            &with_default(
                &text,
                "ManagedInstancesSubnetIds",
                "subnet-0a1b2c3d,subnet-4e5f6a7b",
            ),
            "ManagedInstancesSecurityGroupIds",
            "sg-0a1b2c3d",
        ),
        "created-capacity-provider",
    );
    sam_validates(
        &with_default(&text, "FunctionConcurrencyLimit", ""),
        "no-reserved-concurrency",
    );
    sam_validates(
        &with_default(&text, "AlarmEmail", "ops@example.com"),
        "alarm-email",
    );
}

#[test]
fn a_template_sam_cannot_transform_is_caught() {
    // A misspelt key of CapacityProviderConfig: SAM's transform refuses it.
    let text = template_text().replacen(
        "PerExecutionEnvironmentMaxConcurrency:",
        "PerEnvironmentMaxConcurrency:",
        1,
    );
    let result = std::panic::catch_unwind(|| sam_validates(&text, "broken"));
    assert!(result.is_err(), "sam validate accepted a broken template");
}

fn resource<'a>(template: &'a Yaml, name: &str) -> &'a Yaml {
    let resource = &template["Resources"][name];
    assert!(!resource.is_null(), "template.yaml lacks {name}");
    resource
}

fn text(value: &Yaml) -> String {
    serde_yaml::to_string(value).unwrap()
}

#[test]
fn every_function_has_its_log_group_and_alarms() {
    let template = template();
    for endpoint in shared::Endpoint::ALL {
        let name = endpoint.name();
        // ListTasks, GetTask, ...: the logical-id stem of this endpoint.
        let stem: String = name
            .split('-')
            .map(|part| part[..1].to_uppercase() + &part[1..])
            .collect();
        let log_group = resource(&template, &format!("{stem}LogGroup"));
        assert!(is_ref(
            &log_group["Properties"]["RetentionInDays"],
            "LogRetentionInDays"
        ));
        for function in [format!("{stem}Function"), format!("{stem}ManagedFunction")] {
            let logging = &resource(&template, &function)["Properties"]["LoggingConfig"];
            assert!(
                is_ref(&logging["LogGroup"], &format!("{stem}LogGroup")),
                "{function} logs elsewhere"
            );
        }
        for (alarm, metric) in [
            ("ErrorsAlarm", "Errors"),
            ("ThrottlesAlarm", "Throttles"),
            ("DurationAlarm", "Duration"),
        ] {
            let alarm = resource(&template, &format!("{stem}{alarm}"));
            let properties = &alarm["Properties"];
            assert_eq!(properties["MetricName"], metric);
            assert_eq!(properties["Namespace"], "AWS/Lambda");
            // Whichever of the twins is deployed.
            let dimension = text(&properties["Dimensions"]);
            assert!(
                dimension.contains(&format!("-{name}-managed"))
                    && dimension.contains(&format!("-{name}\n")),
                "{stem}{metric}: {dimension}"
            );
            assert!(text(&properties["AlarmActions"]).contains("AlarmTopic"));
        }
        // Near the 10 s timeout, not at it.
        let duration = &resource(&template, &format!("{stem}DurationAlarm"))["Properties"];
        assert_eq!(duration["ExtendedStatistic"], "p99");
        assert_eq!(duration["Threshold"], 8000);
    }
    let database = text(&resource(&template, "DatabaseUnavailableAlarm")["Properties"]);
    for endpoint in shared::Endpoint::ALL {
        assert!(
            database.contains(&format!("Value: {}\n", endpoint.name())),
            "the database alarm misses {}",
            endpoint.name()
        );
    }
    assert!(database.contains("database_unavailable"));
    let api = text(&resource(&template, "ApiServerErrorsAlarm")["Properties"]);
    assert!(api.contains("AWS/ApiGateway") && api.contains("5xx") && api.contains("ApiId"));
}

#[test]
fn operations_are_switched_by_parameters() {
    let template = template();
    let default = |name: &str| template["Parameters"][name]["Default"].clone();
    assert_eq!(default("LogRetentionInDays"), 30);
    assert_eq!(default("Tracing"), "PassThrough");
    assert_eq!(default("AlarmEmail"), "");
    assert_eq!(default("MetricsNamespace"), "TaskApi");
    let globals = &template["Globals"]["Function"];
    assert!(is_ref(&globals["Tracing"], "Tracing"));
    assert!(is_ref(
        &globals["Environment"]["Variables"]["METRICS_NAMESPACE"],
        "MetricsNamespace"
    ));
    for api in ["TaskApi", "TaskApiManaged"] {
        let access = &resource(&template, api)["Properties"]["AccessLogSettings"];
        let format = access["Format"].as_str().unwrap();
        for field in [
            "$context.requestId",
            "$context.routeKey",
            "$context.status",
            "$context.responseLatency",
            "$context.integrationLatency",
            "$context.integrationErrorMessage",
        ] {
            assert!(format.contains(field), "{api}'s access log lacks {field}");
        }
        serde_json::from_str::<serde_json::Value>(format).expect("the access log format is JSON");
    }
    let topic = resource(&template, "AlarmTopic");
    assert_eq!(topic["Condition"], "NotifyByEmail");
}
