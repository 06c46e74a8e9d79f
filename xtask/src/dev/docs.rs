//! The interactive reference `cargo xtask dev` serves, as FastAPI users get
//! at `/docs`: Swagger UI (the pinned `swagger-ui-dist` of xtask/docs, served
//! from here, no CDN) on openapi.yaml, pointed at the running dev server and
//! pre-authorized with the dev token, so "Try it out" works as printed.

use super::site::Site;
use anyhow::Context;
use std::path::Path;

/// Swagger UI's files, installed into target/ unless they already are.
/// `cargo xtask test` calls it before the tests, so the dev servers they
/// start in parallel find it installed rather than race to install it.
pub fn install(root: &Path) -> anyhow::Result<std::path::PathBuf> {
    let dest = root.join("target/xtask/docs");
    crate::tools::npm_ci_into(&root.join("xtask/docs"), &[], &dest)
        .context("installing Swagger UI for the docs")?;
    Ok(dest.join("node_modules/swagger-ui-dist"))
}

/// openapi.yaml as JSON, with the dev server as its only server and the dev
/// user filled in, so a call needs no typing beyond "Execute".
pub fn spec_for(root: &Path, base_url: &str) -> anyhow::Result<serde_json::Value> {
    let text = std::fs::read_to_string(root.join("openapi.yaml"))?;
    let mut spec: serde_json::Value =
        serde_yaml::from_str(&text).context("openapi.yaml is not valid YAML")?;
    spec["servers"] = serde_json::json!([{ "url": base_url, "description": "cargo xtask dev" }]);
    if let Some(user) = spec.pointer_mut("/components/parameters/UserId") {
        user["example"] = serde_json::json!(crate::DEV_USER);
    }
    Ok(spec)
}

pub fn site(root: &Path, base_url: &str, token: &str) -> anyhow::Result<Site> {
    let dist = install(root)?;
    let spec = spec_for(root, base_url)?;
    // The token goes into a JS string literal: JSON-encode it.
    let token = serde_json::to_string(token)?;
    let index = format!(
        r##"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Task API: cargo xtask dev</title>
<link rel="stylesheet" href="/swagger-ui/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/swagger-ui/swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({{
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  onComplete: () => window.ui.preauthorizeApiKey("bearerAuth", {token}),
}});
</script>
</body>
</html>
"##
    );
    Site::new()
        .with("/index.html", index)
        .with("/openapi.json", serde_json::to_vec_pretty(&spec)?)
        .with_file("/swagger-ui/swagger-ui.css", &dist.join("swagger-ui.css"))?
        .with_file(
            "/swagger-ui/swagger-ui-bundle.js",
            &dist.join("swagger-ui-bundle.js"),
        )
}
