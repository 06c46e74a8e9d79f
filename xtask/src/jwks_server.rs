//! A JWKS endpoint on loopback, as Better Auth's `/api/auth/jwks` serves
//! one: for the tests (which count its requests) and the cold-path bench.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Counts its requests; a `None` body answers 502 (the keys are down).
pub struct JwksServer {
    pub url: String,
    pub port: u16,
    hits: Arc<AtomicUsize>,
}

impl JwksServer {
    pub fn start(body: Option<String>) -> Self {
        Self::start_then(body, || {})
    }

    /// As [`JwksServer::start`]; `before_answer` runs on each request once
    /// it has been read, before the answer goes out.
    pub fn start_then(body: Option<String>, before_answer: impl Fn() + Send + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let port = listener.local_addr().expect("a bound port").port();
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = hits.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                counter.fetch_add(1, Ordering::SeqCst);
                let _ = stream.set_nodelay(true);
                let mut buffer = [0u8; 4096];
                let _ = stream.read(&mut buffer);
                before_answer();
                let response = match &body {
                    Some(body) => format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    ),
                    None => "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_owned(),
                };
                let _ = stream.write_all(response.as_bytes());
            }
        });
        Self {
            url: format!("http://127.0.0.1:{port}/api/auth/jwks"),
            port,
            hits,
        }
    }

    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}
