//! Hostile input answered as the RFCs say, through direct API Gateway events
//! (for what `cargo lambda watch` would alter on the way: comma-joined
//! repeated headers, bytes it decodes itself). `devserver.rs` sends the
//! cases the emulator passes through unchanged over HTTP.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use proptest::prelude::*;
use serde_json::json;
use testkit::*;

/// `{"title":"zipped"}`, gzip-compressed.
const GZIP_BODY: [u8; 38] = [
    0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0xab, 0x56, 0x2a, 0xc9, 0x2c, 0xc9,
    0x49, 0x55, 0xb2, 0x52, 0xaa, 0xca, 0x2c, 0x28, 0x48, 0x4d, 0x51, 0xaa, 0x05, 0x00, 0x69, 0xab,
    0x13, 0x57, 0x12, 0x00, 0x00, 0x00,
];

#[tokio::test]
async fn forged_cursors_are_client_errors() {
    let fixture = Fixture::new().await;
    // A cursor of this very query, its timestamp moved to the year -6000:
    // a position PostgreSQL cannot hold.
    let list = || Call::new(ListTasks).user(&fixture.user).query("limit", "1");
    create(&fixture.app, &fixture.user, "second").await;
    let first = list().send(&fixture.app).await;
    let genuine = cursor_in(first.expect(200).header("link").expect("a next page"));
    let micros = -251_000_000_000i64 * 1_000_000; // about 6000 BC
    let forged = with_position(&genuine, 1, &micros.to_be_bytes());
    let problem = list()
        .query("cursor", &forged)
        .send(&fixture.app)
        .await
        .problem(400);
    assert_eq!(Fixture::field_of(&problem), vec!["cursor"]);
}

/// `cursor` with its position (id, then sort key bytes) replaced; the
/// version and query fingerprint kept, so only the position is forged.
fn with_position(cursor: &str, id: i64, key: &[u8]) -> String {
    let mut bytes = URL_SAFE_NO_PAD.decode(cursor).unwrap();
    bytes.truncate(1 + 8);
    bytes.extend_from_slice(&id.to_be_bytes());
    bytes.extend_from_slice(key);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The cursors of each sort, made for `user`'s query with `limit=1`.
async fn genuine_cursors(app: &shared::App, user: &User) -> Vec<(&'static str, String)> {
    let mut cursors = Vec::new();
    for sort in ["created", "updated", "title"] {
        let reply = Call::new(ListTasks)
            .user(user)
            .query("sort", sort)
            .query("limit", "1")
            .send(app)
            .await;
        let link = reply.expect(200).header("link").expect("a next page");
        cursors.push((sort, cursor_in(link)));
    }
    cursors
}

#[test]
fn no_cursor_causes_a_server_error() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (app, user, cursors) = runtime.block_on(async {
        let app = app().await;
        let user = User::new("cursor-fuzz");
        for title in ["a", "b", "c"] {
            create(&app, &user, title).await;
        }
        let cursors = genuine_cursors(&app, &user).await;
        (app, user, cursors)
    });
    let list = |sort: &str, cursor: &str| {
        let reply = runtime.block_on(
            Call::new(ListTasks)
                .user(&user)
                .query("sort", sort)
                .query("limit", "1")
                .query("cursor", cursor)
                .send(&app),
        );
        (
            reply.status,
            String::from_utf8_lossy(&reply.body).into_owned(),
        )
    };
    let config = ProptestConfig {
        cases: 300,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    // Arbitrary bytes, base64url'd: garbage of every length.
    proptest!(config.clone(), |(bytes in proptest::collection::vec(any::<u8>(), 0..300), sort in 0..3usize)| {
        let sort = cursors[sort].0;
        let (status, body) = list(sort, &URL_SAFE_NO_PAD.encode(&bytes));
        prop_assert!(status < 500, "{status}: {body}");
    });
    // Well-formed cursors of the right query, with arbitrary positions: any
    // id, any eight bytes of timestamp, any bytes of title.
    proptest!(config, |(which in 0..3usize, id in any::<i64>(), key in proptest::collection::vec(any::<u8>(), 0..64), micros in any::<i64>())| {
        let (sort, genuine) = &cursors[which];
        let key = if *sort == "title" { key } else { micros.to_be_bytes().to_vec() };
        let (status, body) = list(sort, &with_position(genuine, id, &key));
        prop_assert!(status == 200 || status == 400, "{status}: {body}");
    });
}

#[tokio::test]
async fn content_codings_other_than_identity_are_415() {
    let fixture = Fixture::new().await;
    let cases = [
        (
            Call::new(CreateTask)
                .user(&fixture.user)
                .binary_body(&GZIP_BODY),
            "gzip",
        ),
        // A plain body labelled gzip is refused just the same.
        (
            Call::new(CreateTask)
                .user(&fixture.user)
                .json(json!({"title": "plain"})),
            "gzip",
        ),
        (fixture.call(UpdateTask).json(json!({"title": "x"})), "br"),
        (fixture.call(CompleteTask), "deflate"),
        (
            fixture.call(UpdateTask).json(json!({"title": "x"})),
            "identity, gzip",
        ),
    ];
    for (call, coding) in cases {
        let reply = call
            .header("content-encoding", coding)
            .send(&fixture.app)
            .await;
        reply.problem(415);
        assert_eq!(reply.header("accept-encoding"), Some("identity"));
        assert_eq!(snapshot(&[&fixture.user.id]).await, fixture.before);
    }
    // identity is what every body is anyway.
    fixture
        .call(UpdateTask)
        .json(json!({"title": "renamed"}))
        .header("content-encoding", "identity")
        .send(&fixture.app)
        .await
        .expect(200);
}

#[tokio::test]
async fn duplicate_member_names_are_400_naming_the_member() {
    let fixture = Fixture::new().await;
    let cases = [
        (
            Call::new(CreateTask)
                .user(&fixture.user)
                .raw_body(r#"{"title":"a","title":"b"}"#),
            "title",
        ),
        (
            fixture
                .call(UpdateTask)
                .raw_body(r#"{"title":"a","completed":true,"completed":false}"#),
            "completed",
        ),
        (
            fixture
                .call(CompleteTask)
                .raw_body(r#"{"completed":true,"x":{"y":1,"y":2}}"#),
            "x.y",
        ),
    ];
    for (call, member) in cases {
        let problem = fixture.rejects(call, 400).await;
        assert_eq!(Fixture::field_of(&problem), vec![member]);
    }
}

#[tokio::test]
async fn a_null_completion_state_is_400_and_toggles_nothing() {
    let fixture = Fixture::new().await;
    for call in [
        fixture
            .call(CompleteTask)
            .raw_body(r#"{"completed": null}"#),
        fixture
            .call(UpdateTask)
            .raw_body(r#"{"title": "t", "completed": null}"#),
    ] {
        let problem = fixture.rejects(call, 400).await;
        assert_eq!(Fixture::field_of(&problem), vec!["completed"]);
    }
    // An empty body and `{}` still toggle, as documented.
    for body in ["", "{}"] {
        let task = fixture
            .call(CompleteTask)
            .raw_body(body)
            .send(&fixture.app)
            .await
            .expect(200)
            .json();
        assert!(task["completed"].is_boolean());
    }
}

#[tokio::test]
async fn bytes_that_are_not_utf8_after_decoding_are_400() {
    let fixture = Fixture::new().await;
    for raw in ["%FF", "a%C0%AF", "%ED%A0%80"] {
        // In the path: the user id (and the token's subject cannot match it).
        let problem = fixture
            .rejects(Call::new(ListTasks).user(&fixture.user).path_user(raw), 400)
            .await;
        assert_eq!(Fixture::field_of(&problem), vec!["user_id"], "{raw}");
        let problem = fixture
            .rejects(Call::new(GetTask).user(&fixture.user).id(raw), 400)
            .await;
        assert_eq!(Fixture::field_of(&problem), vec!["id"], "{raw}");
        // In the query.
        let problem = fixture
            .rejects(
                Call::new(ListTasks)
                    .user(&fixture.user)
                    .raw_query(&format!("status=all&q={raw}")),
                400,
            )
            .await;
        assert_eq!(Fixture::field_of(&problem), vec!["q"], "{raw}");
    }
    // U+FFFD spelled out is a character like any other: no longer the same
    // user as %FF.
    let replacement = Call::new(ListTasks)
        .user(&fixture.user)
        .path_user("%EF%BF%BD")
        .send(&fixture.app)
        .await;
    replacement.problem(403);
    // `+` in a query is a space, as browsers' URLSearchParams sends it.
    create(&fixture.app, &fixture.user, "buy milk").await;
    let found = Call::new(ListTasks)
        .user(&fixture.user)
        .raw_query("q=buy+milk")
        .send(&fixture.app)
        .await
        .expect(200)
        .json();
    assert_eq!(found.as_array().unwrap().len(), 1, "{found}");
}

#[tokio::test]
async fn head_has_the_headers_of_get() {
    let fixture = Fixture::new().await;
    for i in 0..30 {
        create(&fixture.app, &fixture.user, &format!("task {i}")).await;
    }
    let calls = [
        Call::new(ListTasks).user(&fixture.user).query("limit", "5"),
        fixture.call(GetTask),
    ];
    for call in calls {
        let get = call.clone().send(&fixture.app).await;
        get.expect(200);
        let head = call.method("HEAD").send(&fixture.app).await;
        head.expect(200);
        assert!(head.body.is_empty());
        assert_eq!(
            head.header("content-length"),
            Some(get.body.len().to_string().as_str())
        );
        for name in ["content-type", "etag", "link", "cache-control"] {
            assert_eq!(head.header(name), get.header(name), "{name}");
        }
    }
}

/// API Gateway joins a repeated header's lines with commas (the emulator
/// keeps only the first line, so this is a direct event): two credentials in
/// one request are refused, whichever of them is valid.
#[tokio::test]
async fn a_doubled_authorization_is_401() {
    let fixture = Fixture::new().await;
    let valid = format!("Bearer {}", fixture.user.token);
    for doubled in [
        format!("{valid},Bearer x.y.z"),
        format!("Bearer x.y.z,{valid}"),
        format!("{valid},{valid}"),
    ] {
        let reply = Call::new(ListTasks)
            .user(&fixture.user)
            .authorization(Some(doubled))
            .send(&fixture.app)
            .await;
        reply.problem(401);
        assert!(reply.header("www-authenticate").is_some());
    }
}
