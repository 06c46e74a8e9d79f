//! The browser app as a first-class client: headless Chromium loads a page
//! from another origin (as the Next.js dev server on :3000 is) that uses the
//! typed client (clients/typescript, bundled with esbuild) against the
//! functions under `cargo xtask dev`'s server, with its CORS. Then a page
//! from an origin that is not allowed, and the interactive docs.

use serde_json::{json, Value};
use std::time::Duration;
use testkit::*;
use xtask::browser::Browser;
use xtask::dev::site::Site;
use xtask::dev::SiteServer;

/// The test page: the bundled scenario of clients/typescript/test.
fn page() -> Site {
    let root = xtask::project_root();
    let out = root.join(format!(
        "target/xtask/browser-{}/app.js",
        std::process::id()
    ));
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    xtask::typescript::bundle(&root, "test/browser-scenario.ts", &out)
        .unwrap_or_else(|e| panic!("{e:#}"));
    let site = Site::new()
        .with(
            "/index.html",
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>loading</title></head>\
             <body><script src=\"/app.js\"></script></body></html>",
        )
        .with_file("/app.js", &out)
        .unwrap();
    let _ = std::fs::remove_dir_all(out.parent().unwrap());
    site
}

/// Runs one step of the page's scenario (`window.taskApi[step](arg)`).
fn step(browser: &Browser, name: &str, arg: Value) -> Value {
    browser
        .run(
            "const [name, arg] = arguments; return window.taskApi[name](arg);",
            &[json!(name), arg],
        )
        .unwrap_or_else(|e| panic!("step {name}: {e:#}"))
}

fn open_page(browser: &Browser, url: &str) {
    browser.open(url).unwrap();
    browser
        .wait_for(
            "return document.title === 'task-api browser test: ready'",
            Duration::from_secs(30),
        )
        .expect("the test page loads");
}

#[test]
fn the_typed_client_works_from_another_origin_in_chromium() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (cluster, url) = runtime.block_on(own_database());
    let site = page();
    let allowed = SiteServer::start(site.clone()).unwrap();
    let foreign = SiteServer::start(site).unwrap();
    let user = xtask::DEV_USER;
    let token = xtask::token::mint(SECRET, user, Duration::from_secs(3600));
    // The user reaches the task limit after the listing's 250 tasks.
    let dev = dev_server_env(
        &url,
        &[&allowed.url],
        &token,
        &[("MAX_TASKS_PER_USER", "250")],
    );
    let browser = Browser::start().unwrap();
    let setup = json!({"baseUrl": dev.base_url, "userId": user, "token": token});

    open_page(&browser, &allowed.url);
    assert_eq!(
        step(&browser, "configure", setup.clone())["origin"],
        json!(allowed.url)
    );

    // Create with a key, then its retry: the browser can read Location,
    // ETag and Idempotent-Replayed because the dev server exposes them.
    let created = step(&browser, "createAndRetry", Value::Null);
    let id = created["first"]["id"].as_i64().unwrap();
    assert_eq!(
        created["first"]["location"],
        json!(format!("/api/{user}/tasks/{id}"))
    );
    assert_eq!(created["first"]["replayed"], json!(false));
    assert!(
        created["first"]["etag"]
            .as_str()
            .is_some_and(|t| t.starts_with('"')),
        "{created}"
    );
    assert_eq!(created["again"]["id"], json!(id));
    assert_eq!(created["again"]["replayed"], json!(true));

    // Planning fields through the typed client: what was sent in any case
    // comes back normalized, and a PUT that names none of them keeps them.
    let planned = step(&browser, "plan", json!(id));
    assert_eq!(
        planned,
        json!({
            "patched": {"priority": "high", "tags": ["Work", "home"], "due_date": "2026-01-31"},
            "timed": "2026-01-31T09:30:00.000000Z",
            "kept": {"priority": "high", "tags": ["Work", "home"], "due_date": "2026-01-31T09:30:00.000000Z"},
        })
    );

    // 250 tasks, 100 a page: the client follows Link to the end.
    runtime.block_on(async {
        let db = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
        tokio::spawn(db.1);
        db.0.execute(
            "INSERT INTO tasks (user_id, title) SELECT $1, 'bulk ' || n FROM generate_series(1, 249) n",
            &[&user],
        )
        .await
        .unwrap();
    });
    let listed = step(&browser, "listAll", json!(100));
    assert_eq!(listed["pages"], json!([100, 100, 50]), "{listed}");
    let ids: Vec<i64> = listed["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!((ids.len(), unique.len()), (250, 250));

    // One more is refused: the client throws its TaskLimitReached, whose
    // fields name the limit, and does not retry it.
    let refused = step(&browser, "createAtTheLimit", Value::Null);
    assert_eq!(
        (
            refused["name"].clone(),
            refused["status"].clone(),
            refused["limit"].clone(),
            refused["count"].clone(),
            refused["retryAfter"].clone(),
            refused["requests"].clone(),
        ),
        (
            json!("TaskLimitReached"),
            json!(409),
            json!(250),
            json!(250),
            Value::Null,
            json!(1)
        ),
        "{refused}"
    );
    assert_eq!(refused["type"], json!(shared::http::TASK_LIMIT_TYPE));

    // PATCH with the task's ETag, then from a tab holding a stale one: 412.
    let edits = step(&browser, "editWithVersions", json!(id));
    assert_eq!(
        edits["sameObject"],
        json!(true),
        "a 304 answers from memory: {edits}"
    );
    assert_eq!(edits["completed"], json!(true));
    assert_ne!(edits["etag"], edits["newEtag"]);
    assert_eq!(edits["lost"]["status"], json!(412), "{edits}");

    // A refused token: 401, and the page can read why.
    let refused = step(&browser, "badToken", Value::Null);
    assert_eq!(refused["status"], json!(401), "{refused}");
    assert!(refused["wwwAuthenticate"]
        .as_str()
        .is_some_and(|c| c.starts_with("Bearer error=\"invalid_token\"")));

    // The database goes away: 503 with Retry-After, retried once; then back.
    cluster.stop();
    let outage = step(&browser, "duringOutage", Value::Null);
    assert_eq!(
        (
            outage["status"].clone(),
            outage["retryAfter"].clone(),
            outage["requests"].clone()
        ),
        (json!(503), json!(1), json!(2)),
        "{outage}"
    );
    cluster.start().unwrap();
    assert_eq!(
        step(&browser, "afterOutage", Value::Null)["ok"],
        json!(true)
    );

    // The same page from an origin the API does not allow: the browser
    // blocks it (fetch fails before the client sees any status).
    open_page(&browser, &foreign.url);
    step(&browser, "configure", setup);
    let blocked = step(&browser, "badToken", Value::Null);
    assert_eq!(
        (blocked["kind"].clone(), blocked.get("status")),
        (json!("TypeError"), None),
        "{blocked}"
    );

    // The interactive docs: "Try it out" on the list, as a person would.
    browser.open(&dev.docs_url).unwrap();
    let wait = Duration::from_secs(60);
    // Swagger UI names an operation's block after its tag: `tasks`, not `default`.
    let operation = "#operations-tasks-listTasks";
    browser
        .click_on(&format!("{operation} .opblock-summary"), wait)
        .unwrap();
    browser
        .click_on(&format!("{operation} .try-out__btn"), wait)
        .unwrap();
    let user_input = browser
        .find(
            &format!("{operation} tr[data-param-name='user_id'] input"),
            wait,
        )
        .unwrap();
    browser.type_into(&user_input, user).unwrap();
    browser
        .click_on(&format!("{operation} .execute"), wait)
        .unwrap();
    let status = browser
        .find(
            &format!("{operation} .live-responses-table tr.response .response-col_status"),
            wait,
        )
        .unwrap();
    assert_eq!(browser.text(&status).unwrap().trim(), "200");
}

/// The committed charts, as a reader's browser draws them: an SVG document
/// of the declared size, every label laid out with a real font and inside
/// the card (none cut off at an edge), every bar and point drawn.
#[test]
fn the_bench_charts_render_in_chromium() {
    let browser = Browser::start().unwrap();
    for file in xtask::bench::charts::FILES {
        let path = xtask::project_root().join("bench").join(file);
        browser.open(&format!("file://{}", path.display())).unwrap();
        let drawn = browser
            .run(
                "const svg = document.documentElement;
                 const width = svg.width.baseVal.value, height = svg.height.baseVal.value;
                 // plotters writes an empty text for a tick it was told to leave blank.
                 const texts = [...document.querySelectorAll('text')]
                     .filter(t => t.textContent.trim() !== '')
                     // On the page, after any rotation (the y axes' titles).
                     .map(t => t.getBoundingClientRect());
                 const shapes = [...document.querySelectorAll('rect, circle, polyline')]
                     .map(s => s.getBBox());
                 return {
                     root: svg.tagName, width, height,
                     texts: texts.length,
                     laidOut: texts.filter(b => b.width > 0 && b.height > 0).length,
                     inside: texts.filter(b => b.x >= 0 && b.y >= 0
                         && b.x + b.width <= width && b.y + b.height <= height).length,
                     shapes: shapes.filter(b => b.width > 0 || b.height > 0).length,
                 };",
                &[],
            )
            .unwrap();
        assert_eq!(drawn["root"], "svg", "{file}: {drawn}");
        assert!(drawn["width"].as_f64() > Some(0.0), "{file}: {drawn}");
        let texts = drawn["texts"].as_u64().unwrap();
        assert!(texts > 10, "{file}: {drawn}");
        assert_eq!(
            drawn["laidOut"], texts,
            "{file}: a label was not drawn: {drawn}"
        );
        assert_eq!(
            drawn["inside"], texts,
            "{file}: a label leaves the card: {drawn}"
        );
        assert!(drawn["shapes"].as_u64() > Some(10), "{file}: {drawn}");
    }
}
