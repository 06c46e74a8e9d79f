//! A real headless browser for the tests: Debian's Chromium driven through
//! Debian's ChromeDriver over the W3C WebDriver protocol (plain JSON over
//! HTTP, so a few calls with ureq need no client library).

use anyhow::{bail, Context};
use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// W3C WebDriver's key for an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Installs Debian's chromium and chromium-driver (as root) when missing.
pub fn ensure_installed() -> anyhow::Result<()> {
    crate::tools::apt_install(&["chromium", "chromium-driver"], &[CHROMIUM, CHROMEDRIVER])
}

/// One headless Chromium session; the driver and browser end on drop.
pub struct Browser {
    driver: Child,
    session: String,
    _profile: TempDir,
}

struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Browser {
    pub fn start() -> anyhow::Result<Self> {
        let port = crate::postgres::free_port()?;
        let mut driver = Command::new(CHROMEDRIVER);
        driver
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let driver = driver.spawn().context("starting chromedriver")?;
        let profile =
            std::env::temp_dir().join(format!("task-api-chromium-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&profile)?;
        let mut browser = Self {
            driver,
            session: format!("http://127.0.0.1:{port}"),
            _profile: TempDir(profile.clone()),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while ureq::get(&format!("{}/status", browser.session))
            .call()
            .is_err()
        {
            if Instant::now() > deadline {
                bail!("chromedriver did not start on port {port}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        // What a closed network needs: no background traffic, no sandbox as root.
        let args = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            &format!("--user-data-dir={}", profile.display()),
        ];
        let created = post(
            &format!("{}/session", browser.session),
            &json!({"capabilities": {"alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {"binary": CHROMIUM, "args": args},
            }}}),
        )?;
        let id = created["sessionId"]
            .as_str()
            .context("no WebDriver session id")?;
        browser.session = format!("{}/session/{id}", browser.session);
        browser.call(
            "timeouts",
            &json!({"script": 120_000, "pageLoad": 60_000, "implicit": 0}),
        )?;
        Ok(browser)
    }

    fn call(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
        post(&format!("{}/{path}", self.session), body)
    }

    pub fn open(&self, url: &str) -> anyhow::Result<()> {
        self.call("url", &json!({ "url": url })).map(drop)
    }

    /// Runs `script` in the page; it gets `args` as `arguments` and returns
    /// (a promise of) what this returns.
    pub fn run(&self, script: &str, args: &[Value]) -> anyhow::Result<Value> {
        self.call("execute/sync", &json!({ "script": script, "args": args }))
    }

    /// Polls `script` until it returns something truthy, then returns that.
    pub fn wait_for(&self, script: &str, within: Duration) -> anyhow::Result<Value> {
        let deadline = Instant::now() + within;
        loop {
            let value = self.run(script, &[])?;
            if !matches!(value, Value::Null | Value::Bool(false)) {
                return Ok(value);
            }
            if Instant::now() > deadline {
                bail!("the page never satisfied: {script}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The first element matching a CSS selector, waiting for it to appear.
    pub fn find(&self, css: &str, within: Duration) -> anyhow::Result<String> {
        let deadline = Instant::now() + within;
        loop {
            let found = self.call("elements", &json!({"using": "css selector", "value": css}))?;
            if let Some(id) = found[0][ELEMENT].as_str() {
                return Ok(id.to_owned());
            }
            if Instant::now() > deadline {
                bail!("no element matches {css}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Clicks the first element matching `css`, once it has appeared.
    pub fn click_on(&self, css: &str, within: Duration) -> anyhow::Result<()> {
        let element = self.find(css, within)?;
        self.call(&format!("element/{element}/click"), &json!({}))
            .map(drop)
    }

    /// Replaces an input's text, as typing would.
    pub fn type_into(&self, element: &str, text: &str) -> anyhow::Result<()> {
        self.call(&format!("element/{element}/clear"), &json!({}))?;
        self.call(
            &format!("element/{element}/value"),
            &json!({ "text": text }),
        )
        .map(drop)
    }

    pub fn text(&self, element: &str) -> anyhow::Result<String> {
        let url = format!("{}/element/{element}/text", self.session);
        let reply: Value = serde_json::from_str(&ureq::get(&url).call()?.into_string()?)?;
        Ok(reply["value"].as_str().unwrap_or_default().to_owned())
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = ureq::delete(&self.session).call();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// A WebDriver command; its `value`, or the driver's error as an error.
fn post(url: &str, body: &Value) -> anyhow::Result<Value> {
    let reply = match ureq::post(url)
        .set("Content-Type", "application/json")
        .send_string(&body.to_string())
    {
        Ok(response) => response.into_string()?,
        Err(ureq::Error::Status(status, response)) => {
            let text = response.into_string().unwrap_or_default();
            bail!("WebDriver {url} answered {status}: {text}");
        }
        Err(error) => bail!("WebDriver {url}: {error}"),
    };
    let reply: Value = serde_json::from_str(&reply)?;
    Ok(reply["value"].clone())
}
