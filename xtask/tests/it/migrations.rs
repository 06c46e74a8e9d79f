//! `cargo xtask migrate` under a pipeline: two runs started at the same moment
//! against one fresh database both succeed, and every migration is applied
//! exactly once.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_migrations_at_once_take_turns() {
    let admin = testkit::sql().await;
    let name = testkit::unique("migrate_race").replace('-', "_");
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    let base = testkit::database_url();
    let url = base.replacen(
        &format!(
            "/{}",
            base.rsplit('/').next().unwrap().split('?').next().unwrap()
        ),
        &format!("/{name}"),
        1,
    );
    assert_ne!(url, base);

    let (first, second) = tokio::join!(xtask::migrate::run(&url), xtask::migrate::run(&url));
    let (first, second) = (first.expect("first run"), second.expect("second run"));
    // Whichever got the lock first applied everything; the other found nothing to do.
    let mut applied = [first.clone(), second.clone()].concat();
    applied.sort();
    let expected = std::fs::read_dir(xtask::project_root().join("migrations"))
        .unwrap()
        .count();
    assert_eq!(applied.len(), expected, "{first:?} / {second:?}");
    assert!(
        first.is_empty() || second.is_empty(),
        "{first:?} / {second:?}"
    );

    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let rows: i64 = client
        .query_one("SELECT count(*) FROM refinery_schema_history", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(rows as usize, expected);
    drop(client);
    admin
        .batch_execute(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .await
        .unwrap();
}
