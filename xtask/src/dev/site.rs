//! A handful of files served over HTTP from memory: the interactive docs of
//! `cargo xtask dev`, and the pages of the browser test.

use hyper::body::Bytes;
use std::collections::HashMap;
use std::path::Path;

#[derive(Debug, Clone, Default)]
pub struct Site {
    files: HashMap<String, (&'static str, Bytes)>,
}

impl Site {
    pub fn new() -> Self {
        Self::default()
    }

    /// Serves `body` at `path` (which starts with `/`).
    pub fn with(mut self, path: &str, body: impl Into<Bytes>) -> Self {
        self.files
            .insert(path.to_owned(), (content_type(path), body.into()));
        self
    }

    /// Serves the file at `file` at `path`.
    pub fn with_file(self, path: &str, file: &Path) -> anyhow::Result<Self> {
        let bytes =
            std::fs::read(file).map_err(|e| anyhow::anyhow!("reading {}: {e}", file.display()))?;
        Ok(self.with(path, bytes))
    }

    /// The content type and body at `path`; `/` is `/index.html`.
    pub fn get(&self, path: &str) -> Option<(&'static str, Bytes)> {
        let path = if path == "/" { "/index.html" } else { path };
        self.files.get(path).cloned()
    }
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("js") | Some("mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json") => "application/json",
        Some("yaml") => "application/yaml",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    }
}
