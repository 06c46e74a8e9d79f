//! DATABASE_URL and BETTER_AUTH_SECRET from Secrets Manager, against a local
//! Secrets Manager (moto's server, installed into .venv by `cargo xtask test`).

use serde_json::json;
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct LocalAws {
    child: Child,
    endpoint: String,
}

impl LocalAws {
    fn start() -> Self {
        let port = xtask::postgres::free_port().unwrap();
        let venv = xtask::project_root().join(".venv/bin/moto_server");
        let program = if venv.is_file() {
            venv
        } else {
            PathBuf::from("moto_server")
        };
        let child = Command::new(program)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server is installed by `cargo xtask test`");
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "moto_server did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        Self {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        }
    }

    /// Creates a secret through the Secrets Manager JSON protocol; returns its ARN.
    fn create_secret(&self, name: &str, value: &str) -> String {
        let response = ureq::post(&self.endpoint)
            .set("X-Amz-Target", "secretsmanager.CreateSecret")
            .set("Content-Type", "application/x-amz-json-1.1")
            .set(
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=testing/20261124/us-east-1/secretsmanager/aws4_request, \
                 SignedHeaders=host, Signature=0",
            )
            .send_string(&json!({"Name": name, "SecretString": value}).to_string())
            .expect("CreateSecret");
        let body: serde_json::Value =
            serde_json::from_str(&response.into_string().unwrap()).unwrap();
        body["ARN"].as_str().unwrap().to_owned()
    }

    /// The variables a function needs to talk to this server.
    fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
            ("AWS_REGION", "us-east-1".into()),
        ]
    }
}

impl LocalAws {
    /// A secret holding the test database's URL and `auth_secret`, with this
    /// process's environment set as a deployed function's would be (nextest
    /// runs each test in its own process, so the environment is the test's).
    fn export_database_secret(&self, auth_secret: &str) {
        let arn = self.create_secret(
            &testkit::unique("task-api"),
            &json!({"DATABASE_URL": testkit::database_url(), "BETTER_AUTH_SECRET": auth_secret})
                .to_string(),
        );
        for (name, value) in self.env() {
            std::env::set_var(name, value);
        }
        std::env::set_var("DATABASE_SECRET_ARN", &arn);
        std::env::set_var("DATABASE_URL", "");
        std::env::set_var("BETTER_AUTH_SECRET", "");
    }
}

impl Drop for LocalAws {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn the_secret_supplies_the_database_url_and_auth_secret() {
    let aws = LocalAws::start();
    aws.export_database_secret("from-the-secret");

    let config = shared::app::load_config()
        .await
        .expect("config from the secret");
    assert_eq!(config.database.url, testkit::database_url());
    assert_eq!(config.auth.secret.as_deref(), Some("from-the-secret"));
}

#[test]
fn a_missing_secret_fails_init_with_one_clear_log_line() {
    let aws = LocalAws::start();
    let mut env = aws.env();
    env.push((
        "DATABASE_SECRET_ARN",
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:does-not-exist-AbCdEf".into(),
    ));
    // A real function binary, exactly as deployed, run far enough to initialise.
    let binary = xtask::project_root().join("target/debug/get-task");
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let line = testkit::init_failure(&binary, &env);
    assert_eq!(line["level"], json!("ERROR"));
    let error = line["error"].as_str().unwrap();
    assert!(
        error.contains("DATABASE_SECRET_ARN") && error.contains("could not be read"),
        "{error}"
    );
    assert!(error.contains("ResourceNotFound"), "{error}");
}

/// A container credentials endpoint (what long-lived execution environments
/// use instead of variables): answers once, if given the token.
fn credentials_endpoint(token: &'static str) -> (String, std::thread::JoinHandle<bool>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/creds", listener.local_addr().unwrap());
    let served = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut request = [0u8; 4096];
        let n = stream.read(&mut request).unwrap();
        let request = String::from_utf8_lossy(&request[..n]).to_ascii_lowercase();
        let authorized =
            request.contains(&format!("authorization: {}", token.to_ascii_lowercase()));
        let body = json!({
            "AccessKeyId": "from-the-endpoint",
            "SecretAccessKey": "secret",
            "Token": "session",
            "Expiration": "2099-01-01T00:00:00Z"
        })
        .to_string();
        let status = if authorized {
            "200 OK"
        } else {
            "403 Forbidden"
        };
        let _ = write!(
            stream,
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        authorized
    });
    (url, served)
}

#[tokio::test]
async fn credentials_come_from_the_container_endpoint_when_lambda_names_one() {
    let aws = LocalAws::start();
    aws.export_database_secret("via-endpoint");
    let (url, served) = credentials_endpoint("Bearer-token-123");
    std::env::remove_var("AWS_ACCESS_KEY_ID");
    std::env::remove_var("AWS_SECRET_ACCESS_KEY");
    std::env::set_var("AWS_CONTAINER_CREDENTIALS_FULL_URI", &url);
    std::env::set_var("AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer-token-123");

    let config = shared::app::load_config()
        .await
        .expect("config from the secret");
    assert_eq!(config.auth.secret.as_deref(), Some("via-endpoint"));
    assert!(
        served.join().unwrap(),
        "the endpoint was asked with the token"
    );
}
