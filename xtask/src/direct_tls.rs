//! A stand-in for a server that speaks PostgreSQL 17's direct TLS
//! negotiation (as Neon's proxy does), in front of a local PostgreSQL that
//! does not: it accepts only a TLS ClientHello as the first bytes of a
//! connection, insists on ALPN `postgresql`, and forwards the decrypted
//! stream to the server. What it saw is counted, so a test can assert on
//! the wire that no SSLRequest was sent.

use crate::background::Background;
use anyhow::Context;
use openssl::ssl::{AlpnError, Ssl, SslAcceptor, SslFiletype, SslMethod};
use std::path::Path;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};

/// The first bytes of an SSLRequest: length 8, then the code 80877103.
const SSL_REQUEST: [u8; 8] = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];
/// A TLS record carrying a handshake message (the ClientHello).
const TLS_HANDSHAKE: u8 = 0x16;
const ALPN_POSTGRESQL: &[u8] = b"\x0apostgresql";

#[derive(Default)]
pub struct Seen {
    /// Connections that opened with an SSLRequest (refused: not direct).
    pub ssl_requests: AtomicUsize,
    /// Direct TLS handshakes completed with ALPN `postgresql`.
    pub direct_handshakes: AtomicUsize,
    /// Anything else: plain startup packets, TLS without the ALPN.
    pub refused: AtomicUsize,
}

pub struct DirectTlsFront {
    pub port: u16,
    pub seen: Arc<Seen>,
    _server: Background,
}

impl DirectTlsFront {
    /// Serves with `cert` and `key` (PEM files) in front of the PostgreSQL on
    /// 127.0.0.1:`upstream`.
    pub fn start(upstream: u16, cert: &Path, key: &Path) -> anyhow::Result<Self> {
        let mut acceptor = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls())?;
        acceptor
            .set_certificate_chain_file(cert)
            .with_context(|| format!("certificate {}", cert.display()))?;
        acceptor.set_private_key_file(key, SslFiletype::PEM)?;
        acceptor.set_alpn_select_callback(|_, offered| {
            openssl::ssl::select_next_proto(ALPN_POSTGRESQL, offered).ok_or(AlpnError::ALERT_FATAL)
        });
        let acceptor = Arc::new(acceptor.build());
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let port = listener.local_addr()?.port();
        let seen = Arc::new(Seen::default());
        let counts = seen.clone();
        let server = Background::spawn(move || async move {
            let listener = TcpListener::from_std(listener).expect("listener");
            while let Ok((client, _)) = listener.accept().await {
                let (acceptor, counts) = (acceptor.clone(), counts.clone());
                tokio::spawn(async move {
                    let _ = serve(client, &acceptor, upstream, &counts).await;
                });
            }
        });
        Ok(Self {
            port,
            seen,
            _server: server,
        })
    }

    pub fn ssl_requests(&self) -> usize {
        self.seen.ssl_requests.load(Ordering::SeqCst)
    }

    pub fn direct_handshakes(&self) -> usize {
        self.seen.direct_handshakes.load(Ordering::SeqCst)
    }

    pub fn refused(&self) -> usize {
        self.seen.refused.load(Ordering::SeqCst)
    }
}

async fn serve(
    client: TcpStream,
    acceptor: &SslAcceptor,
    upstream: u16,
    seen: &Seen,
) -> anyhow::Result<()> {
    client.set_nodelay(true)?;
    let mut first = [0u8; 8];
    let peeked = client.peek(&mut first).await?;
    if peeked == 0 || first[0] != TLS_HANDSHAKE {
        // Read the whole 8 bytes to tell an SSLRequest from a startup packet.
        let mut client = client;
        let mut head = [0u8; 8];
        let _ = client.read_exact(&mut head).await;
        let counter = if head == SSL_REQUEST {
            &seen.ssl_requests
        } else {
            &seen.refused
        };
        counter.fetch_add(1, Ordering::SeqCst);
        return Ok(());
    }
    let mut tls = tokio_openssl::SslStream::new(Ssl::new(acceptor.context())?, client)?;
    if Pin::new(&mut tls).accept().await.is_err()
        || tls.ssl().selected_alpn_protocol() != Some(&ALPN_POSTGRESQL[1..])
    {
        seen.refused.fetch_add(1, Ordering::SeqCst);
        return Ok(());
    }
    seen.direct_handshakes.fetch_add(1, Ordering::SeqCst);
    let mut server = TcpStream::connect(("127.0.0.1", upstream)).await?;
    server.set_nodelay(true)?;
    tokio::io::copy_bidirectional(&mut tls, &mut server).await?;
    Ok(())
}
