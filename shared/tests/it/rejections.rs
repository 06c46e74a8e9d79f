//! Bad input gets a precise 4xx problem and changes nothing; no input gets a 5xx.

use serde_json::json;
use shared::Endpoint;
use testkit::*;

const BODY_ENDPOINTS: [Endpoint; 2] = [CreateTask, UpdateTask];
const ID_ENDPOINTS: [Endpoint; 4] = [GetTask, UpdateTask, DeleteTask, CompleteTask];

#[tokio::test]
async fn title_length_is_checked_after_trimming() {
    let f = Fixture::new().await;
    for endpoint in BODY_ENDPOINTS {
        for title in [
            String::new(),
            " \t\n ".into(),
            "x".repeat(256),
            format!(" {} ", "é".repeat(256)),
        ] {
            let problem = f
                .rejects(f.call(endpoint).json(json!({ "title": title })), 400)
                .await;
            assert_eq!(Fixture::field_of(&problem), vec!["title"]);
            assert_eq!(problem["detail"], json!("title must be 1–255 characters"));
        }
        let problem = f
            .rejects(
                f.call(endpoint).json(json!({"description": "no title"})),
                400,
            )
            .await;
        assert_eq!(Fixture::field_of(&problem), vec!["title"]);
    }
    // The edges that are accepted: 1 and 255 characters (multi-byte ones too).
    for title in [
        "x".to_owned(),
        "x".repeat(255),
        "é".repeat(255),
        format!("  {}  ", "y".repeat(255)),
    ] {
        let reply = Call::new(CreateTask)
            .user(&f.user)
            .json(json!({ "title": title }))
            .send(&f.app)
            .await;
        assert_eq!(reply.status, 201);
        assert_eq!(
            reply.json()["title"].as_str().unwrap().chars().count(),
            title.trim().chars().count()
        );
        let reply = f
            .call(UpdateTask)
            .json(json!({ "title": title }))
            .send(&f.app)
            .await;
        assert_eq!(reply.status, 200);
    }
}

#[tokio::test]
async fn description_is_at_most_1000_characters() {
    let f = Fixture::new().await;
    for endpoint in BODY_ENDPOINTS {
        let problem = f
            .rejects(
                f.call(endpoint)
                    .json(json!({"title": "t", "description": "d".repeat(1001)})),
                400,
            )
            .await;
        assert_eq!(Fixture::field_of(&problem), vec!["description"]);
    }
    let reply = Call::new(CreateTask)
        .user(&f.user)
        .json(json!({"title": "t", "description": "ü".repeat(1000)}))
        .send(&f.app)
        .await;
    assert_eq!(reply.status, 201);
    assert_eq!(
        reply.json()["description"]
            .as_str()
            .unwrap()
            .chars()
            .count(),
        1000
    );
}

#[tokio::test]
async fn nul_characters_are_client_errors() {
    let f = Fixture::new().await;
    for endpoint in BODY_ENDPOINTS {
        for body in [
            json!({"title": "a\u{0000}b"}),
            json!({"title": "ok", "description": "\u{0000}"}),
        ] {
            f.rejects(f.call(endpoint).json(body), 400).await;
        }
    }
    // Sent as q=%00 on the wire.
    f.rejects(Call::new(ListTasks).user(&f.user).query("q", "\0"), 400)
        .await;
}

#[tokio::test]
async fn wrong_types_invalid_json_and_missing_bodies() {
    let f = Fixture::new().await;
    // Not UTF-8 at all (API Gateway hands such bodies over base64-encoded).
    for endpoint in [CreateTask, UpdateTask, CompleteTask] {
        f.rejects(f.call(endpoint).binary_body(&[0xff, 0xfe, b'{', 0x80]), 400)
            .await;
    }
    let bad_bodies = [
        r#"{"title": 42}"#,
        r#"{"title": ["a"]}"#,
        r#"{"title": "ok", "description": 7}"#,
        r#"{"title": "ok", "description": {"a": 1}}"#,
        r#"{"title": "ok", "completed": "true"}"#,
        r#"{"title": "ok", "completed": 1}"#,
        r#"{"title": "unterminated"#,
        "not json",
        "[]",
        "null",
        "\"a string\"",
        "",
        "   ",
        "{\"title\": \"\\ud800\"}",
    ];
    for endpoint in BODY_ENDPOINTS {
        for body in bad_bodies {
            // POST has no `completed`: there it is an unknown field, ignored.
            if endpoint == CreateTask && body.contains("completed") {
                continue;
            }
            let reply = f.call(endpoint).raw_body(body).send(&f.app).await;
            reply.problem(400);
            assert_eq!(snapshot(&[&f.user.id]).await, f.before, "{body}");
        }
    }
    for body in [
        r#"{"completed": "yes"}"#,
        r#"{"completed": 0}"#,
        "true",
        "[true]",
        "{",
        "x",
    ] {
        f.rejects(f.call(CompleteTask).raw_body(body), 400).await;
    }
}

#[tokio::test]
async fn bad_task_ids_are_400_on_every_endpoint_that_takes_one() {
    let f = Fixture::new().await;
    for endpoint in ID_ENDPOINTS {
        for id in ["abc", "0", "-1", "99999999999999999999", "1.5", "%20"] {
            let problem = f
                .rejects(
                    Call::new(endpoint)
                        .user(&f.user)
                        .id(id)
                        .json(json!({"title": "t"})),
                    400,
                )
                .await;
            assert_eq!(Fixture::field_of(&problem), vec!["id"], "{id}");
        }
    }
}

#[tokio::test]
async fn bodies_over_64_kib_are_413() {
    let f = Fixture::new().await;
    let huge = json!({"title": "t", "description": "d".repeat(64 * 1024)});
    for endpoint in Endpoint::ALL {
        f.rejects(f.call(endpoint).json(huge.clone()), 413).await;
    }
    // Exactly 64 KiB is still read (and then judged on its content).
    let mut body = json!({"title": "t", "pad": ""}).to_string();
    body = body.replace(
        "\"pad\":\"\"",
        &format!("\"pad\":\"{}\"", "p".repeat(64 * 1024 - body.len())),
    );
    assert_eq!(body.len(), 64 * 1024);
    let reply = Call::new(CreateTask)
        .user(&f.user)
        .raw_body(body)
        .send(&f.app)
        .await;
    assert_eq!(reply.status, 201);
}

#[tokio::test]
async fn bad_tokens_are_401_with_a_bearer_challenge_on_every_endpoint() {
    let f = Fixture::new().await;
    let sub = f.user.id.clone();
    let tokens = [
        None,
        Some("Bearer".to_owned()),
        Some("Bearer not.a.token".to_owned()),
        Some(format!("Basic {}", f.user.token)),
        Some(format!(
            "Bearer {}",
            sign_with("wrong secret", json!({"sub": sub, "exp": now() + 600}))
        )),
        Some(format!(
            "Bearer {}",
            sign_with(SECRET, json!({"sub": sub, "exp": now() - 3600}))
        )),
        Some(format!("Bearer {}", sign_with(SECRET, json!({"sub": sub})))),
        Some(format!(
            "Bearer {}",
            sign_with(
                SECRET,
                json!({"sub": sub, "exp": now() + 600, "nbf": now() + 600})
            )
        )),
    ];
    for endpoint in Endpoint::ALL {
        for authorization in &tokens {
            let call = Call::new(endpoint)
                .path_user(&f.user.id)
                .id(f.id.clone())
                .authorization(authorization.clone())
                .json(json!({"title": "t"}));
            let reply = call.send(&f.app).await;
            reply.problem(401);
            let challenge = reply.header("www-authenticate").expect("WWW-Authenticate");
            assert!(
                challenge.starts_with(r#"Bearer error="invalid_token""#),
                "{challenge}"
            );
        }
    }
    assert_eq!(snapshot(&[&f.user.id]).await, f.before);
}

#[tokio::test]
async fn unknown_list_parameter_values_are_400() {
    let f = Fixture::new().await;
    for (name, value) in [
        ("status", "done"),
        ("status", ""),
        ("sort", "priority"),
        ("order", "random"),
        ("limit", "0"),
        ("limit", "101"),
        ("limit", "ten"),
    ] {
        let problem = f
            .rejects(Call::new(ListTasks).user(&f.user).query(name, value), 400)
            .await;
        assert_eq!(Fixture::field_of(&problem), vec![name]);
    }
    let twice = Call::new(ListTasks)
        .user(&f.user)
        .query("status", "all")
        .query("status", "pending");
    f.rejects(twice, 400).await;
}

/// Inputs chosen to break parsers and the database: none may produce a 5xx.
#[tokio::test]
async fn hostile_input_never_causes_a_server_error() {
    let f = Fixture::new().await;
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let bodies: Vec<String> = vec![
        deep,
        r#"{"title": "t", "title": 5}"#.into(),
        r#"{"title": "😀 emoji", "description": "\u202e rtl"}"#.into(),
        r#"{"title": "t", "completed": 1e400}"#.into(),
        r#"{"title": "t'; DROP TABLE tasks; --"}"#.into(),
        "\u{feff}{\"title\": \"bom\"}".into(),
        "{\"title\": \"t\"} trailing".into(),
        String::from_utf8_lossy(&[0xff, 0xfe, 0x00]).into_owned(),
    ];
    for endpoint in Endpoint::ALL {
        for body in &bodies {
            let reply = f.call(endpoint).raw_body(body.clone()).send(&f.app).await;
            assert!(
                reply.status < 500,
                "{} {body:?} -> {}",
                endpoint.name(),
                reply.status
            );
        }
        for id in ["", "1/complete", "..", "%00", "1%00", "\u{0000}"] {
            let reply = Call::new(endpoint).user(&f.user).id(id).send(&f.app).await;
            assert!(
                reply.status < 500,
                "{} id {id:?} -> {}",
                endpoint.name(),
                reply.status
            );
        }
    }
    for (name, value) in [
        ("q", "%"),
        ("q", "\\"),
        ("q", &"x".repeat(300)),
        ("sort", "title;--"),
    ] {
        let reply = Call::new(ListTasks)
            .user(&f.user)
            .query(name, value)
            .send(&f.app)
            .await;
        assert!(reply.status < 500, "{name}={value} -> {}", reply.status);
    }
}

/// Methods no endpoint serves on a path: 405 naming the ones that are, before
/// any token is looked at; OPTIONS lists them; HEAD is a GET without its body.
#[tokio::test]
async fn other_methods_are_405_with_allow() {
    let f = Fixture::new().await;
    let allow = [
        (ListTasks, "GET, HEAD, POST, OPTIONS"),
        (GetTask, "GET, HEAD, PUT, PATCH, DELETE, OPTIONS"),
        (CompleteTask, "PATCH, OPTIONS"),
        (ListTags, "GET, HEAD, OPTIONS"),
    ];
    let methods = ["GET", "POST", "PUT", "DELETE", "PATCH", "TRACE", "QUERY"];
    for (endpoint, allowed) in allow {
        assert!(endpoint.answers_other_methods());
        assert_eq!(endpoint.allowed_methods(), allowed);
        for method in methods.iter().filter(|m| !allowed.contains(*m)) {
            for call in [f.call(endpoint), Call::new(endpoint).id(1)] {
                let reply = call.method(method).send(&f.app).await;
                reply.problem(405);
                assert_eq!(reply.header("allow"), Some(allowed), "{method}");
            }
        }
        let options = f.call(endpoint).method("OPTIONS").send(&f.app).await;
        assert_eq!(
            (options.status, options.header("allow")),
            (204, Some(allowed))
        );
    }
    for endpoint in [ListTasks, GetTask, ListTags] {
        let get = f.call(endpoint).send(&f.app).await;
        let head = f.call(endpoint).method("HEAD").send(&f.app).await;
        assert_eq!(head.status, 200);
        assert!(head.body.is_empty());
        for header in ["content-type", "etag", "link"] {
            assert_eq!(head.header(header), get.header(header), "{header}");
        }
    }
}
