//! `cargo xtask smoke`, the post-deploy check, run as the pipeline runs it
//! (the real command) against the dev server: every step passes, and a
//! failure names its step and exits non-zero.

use std::process::Command;

fn smoke(base_url: &str, user: &str, origin: &str) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args([
            "smoke", "--url", base_url, "--user", user, "--origin", origin,
        ])
        .args(["--secret", testkit::SECRET])
        .env_remove("BETTER_AUTH_SECRET")
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn the_smoke_test_passes_against_the_dev_server_and_names_a_failing_step() {
    let origin = "http://app.example";
    let server = testkit::dev_server_env(
        &testkit::database_url(),
        &[origin],
        "",
        &[("MAX_TASKS_PER_USER", "2")],
    );
    let user = testkit::unique("smoke");

    let (ok, stdout, stderr) = smoke(&server.base_url, &user, origin);
    assert!(ok, "{stdout}\n{stderr}");
    for step in [
        "CORS preflight",
        "no token is 401",
        "create",
        "get",
        "list",
        "update",
        "patch",
        "tags",
        "complete",
        "another user's task is 404",
        "delete",
    ] {
        assert!(
            stdout
                .lines()
                .any(|l| l.starts_with(&format!("ok    {step}"))),
            "{step} missing:\n{stdout}"
        );
    }
    assert!(!stdout.contains("skipped"), "{stdout}");

    // An origin the deployment does not allow: the preflight step fails, by name.
    let (ok, stdout, stderr) = smoke(&server.base_url, &user, "http://elsewhere.example");
    assert!(!ok);
    assert!(stdout.contains("FAIL  CORS preflight"), "{stdout}");
    assert!(
        stderr.contains("smoke step 'CORS preflight' failed"),
        "{stderr}"
    );

    // A smoke user who holds as many tasks as the deployment allows: the
    // create step fails, saying so rather than "expected 201, got 409".
    let full = testkit::User::named(&user);
    for title in ["one", "two"] {
        let created = testkit::http(
            &server.base_url,
            "POST",
            &format!("/api/{user}/tasks"),
            Some(&full.token),
            &[],
            Some(format!(r#"{{"title":"{title}"}}"#).as_bytes()),
        );
        assert_eq!(created.status, 201);
    }
    let (ok, stdout, _) = smoke(&server.base_url, &user, origin);
    assert!(!ok);
    assert!(
        stdout.contains(&format!(
            "FAIL  create: {user} already holds 2 tasks, the deployment's MAX_TASKS_PER_USER (2)"
        )),
        "{stdout}"
    );
}
