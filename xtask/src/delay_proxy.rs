//! A TCP proxy that holds every chunk for a fixed delay in each direction, so
//! that a database round trip costs a known, network-like amount of time.
//!
//! Plain threads and `std::thread::sleep` rather than tokio: tokio's timer
//! ticks in whole milliseconds and rounds up, which turned a 1 ms delay into
//! anything from 1 to 2 ms and made the round-trip ratios jitter by a quarter.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

/// A running proxy; it lives as long as the process.
pub struct DelayProxy {
    pub port: u16,
    accepted: Arc<AtomicUsize>,
}

impl DelayProxy {
    pub fn start(upstream: u16, delay: Duration) -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = accepted.clone();
        std::thread::spawn(move || serve(listener, upstream, delay, &counter));
        Ok(Self { port, accepted })
    }

    /// Connections opened through the proxy so far.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::Acquire)
    }
}

fn serve(listener: TcpListener, upstream: u16, delay: Duration, accepted: &AtomicUsize) {
    for client in listener.incoming().flatten() {
        accepted.fetch_add(1, Ordering::AcqRel);
        let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
            continue;
        };
        let _ = client.set_nodelay(true);
        let _ = server.set_nodelay(true);
        let (Ok(client_out), Ok(server_out)) = (client.try_clone(), server.try_clone()) else {
            continue;
        };
        relay(client, server_out, delay);
        relay(server, client_out, delay);
    }
}

/// Each chunk is released `delay` after it arrived, chunks keep flowing
/// meanwhile: a link with latency, not a queue that delays every chunk anew.
fn relay(mut from: TcpStream, mut to: TcpStream, delay: Duration) {
    let (tx, rx) = mpsc::channel::<(Instant, Vec<u8>)>();
    std::thread::spawn(move || {
        for (arrived, chunk) in rx {
            let due = arrived + delay;
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
            if to.write_all(&chunk).is_err() {
                break;
            }
        }
        let _ = to.shutdown(std::net::Shutdown::Write);
    });
    std::thread::spawn(move || {
        let mut buffer = vec![0u8; 64 * 1024];
        loop {
            match from.read(&mut buffer) {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    if tx.send((Instant::now(), buffer[..n].to_vec())).is_err() {
                        return;
                    }
                }
            }
        }
    });
}
