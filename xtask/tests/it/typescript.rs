//! The typed client of clients/typescript: its generated types are
//! openapi.yaml's as it is now, and it typechecks (tsc, strict).

#[test]
fn generated_types_are_the_current_openapi_yaml() {
    let root = xtask::project_root();
    let scratch = std::env::temp_dir().join(format!("task-api-types-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).unwrap();
    let fresh = xtask::typescript::generated_types(&root, &scratch).unwrap();
    let _ = std::fs::remove_dir_all(&scratch);
    let committed =
        std::fs::read_to_string(xtask::typescript::dir(&root).join("src/schema.d.ts")).unwrap();
    assert!(
        fresh == committed,
        "clients/typescript/src/schema.d.ts is not what openapi.yaml generates: \
         run `npm run generate` in clients/typescript and commit it"
    );
}

#[test]
fn the_client_typechecks() {
    let root = xtask::project_root();
    if let Err(error) = xtask::typescript::typecheck(&root) {
        panic!("{error:#}");
    }
}
