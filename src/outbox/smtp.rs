//! The SMTP sink (lettre's SMTP protocol over our own connections).
//!
//! Each recipient gets its own envelope, so one refused address never stops
//! the others; the stored bytes are sent as they are, so a retry is
//! byte-identical (same Message-ID). The envelope sender is the desk's
//! address: bounces come back to the shared mailbox.
//!
//! Connections are opened here (TCP_NODELAY set, then implicit TLS or
//! STARTTLS and AUTH by lettre) and kept between rounds: lettre writes the
//! final `.` of DATA as a separate small segment, and without TCP_NODELAY
//! each message waited for the server's delayed ACK (~40 ms on Linux; see
//! BENCHMARKS.md). A few connections work at once.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, Certificate, TlsParameters};
use lettre::transport::smtp::extension::ClientId;

use super::{Delivery, Sink};
use crate::config::SmtpConfig;
use crate::tls::Tls;

/// Connections used at once.
const PARALLEL: usize = 4;

/// What a connection needs, prepared once at start-up.
struct Server {
    host: String,
    port: u16,
    /// Implicit TLS: the connector (CA read once, at start-up).
    implicit: Option<tokio_rustls::TlsConnector>,
    /// STARTTLS: lettre's parameters.
    starttls: Option<TlsParameters>,
    credentials: Option<Credentials>,
    /// `auth = "oauth2"`: XOAUTH2 as this user with tokens from here.
    oauth2: Option<(String, Arc<dyn crate::oauth2::TokenSource>)>,
    timeout: Duration,
    from: lettre::Address,
    hello: ClientId,
}

pub struct SmtpSink {
    /// The daemon's runtime: the sink is driven from the outbox thread.
    runtime: tokio::runtime::Handle,
    server: Arc<Server>,
    /// Open connections kept for the next round.
    idle: Vec<AsyncSmtpConnection>,
    /// The server could not be reached on the last attempt.
    down: bool,
    /// The server's replies to delivered mail since the last `take_receipts`.
    receipts: Vec<super::Receipt>,
}

impl SmtpSink {
    /// Prepare the sink (CA files and the password are read now: a bad one
    /// fails start-up, not the first mail). `tokens`: the token source of
    /// `[outbox.oauth2]`, when `auth = "oauth2"`.
    pub fn new(
        o: &SmtpConfig,
        desk_address: &str,
        runtime: tokio::runtime::Handle,
        tokens: Option<Arc<dyn crate::oauth2::TokenSource>>,
    ) -> anyhow::Result<SmtpSink> {
        let starttls = if o.tls == Tls::StartTls { Some(starttls_parameters(o)?) } else { None };
        let implicit = if o.tls == Tls::Implicit { Some(crate::tls::connector(o.ca_file.as_deref())?) } else { None };
        let (credentials, oauth2) = match (&o.user, &o.auth, tokens) {
            (Some(user), crate::config::Auth::OAuth2(_), Some(tokens)) => (None, Some((user.clone(), tokens))),
            (_, crate::config::Auth::OAuth2(_), _) => {
                anyhow::bail!("[outbox] auth = \"oauth2\" needs `user` and its [outbox.oauth2] token source")
            }
            (Some(user), crate::config::Auth::Password(secret), _) => {
                let password = secret.read().map_err(|e| anyhow::anyhow!("[outbox] {e}"))?.unwrap_or_default();
                (Some(Credentials::new(user.clone(), password)), None)
            }
            (None, crate::config::Auth::Password(_), _) => (None, None),
        };
        let from = desk_address.parse().with_context(|| format!("the desk address {desk_address} is not usable"))?;
        Ok(SmtpSink {
            runtime,
            server: Arc::new(Server {
                host: o.host.clone(),
                port: o.port,
                implicit,
                starttls,
                credentials,
                oauth2,
                timeout: o.timeout,
                from,
                hello: ClientId::default(),
            }),
            idle: Vec::new(),
            down: false,
            receipts: Vec::new(),
        })
    }
}

/// lettre's STARTTLS parameters for `o` (its `ca_file`, or the public
/// roots). Shared with `buzon check`.
pub(crate) fn starttls_parameters(o: &SmtpConfig) -> anyhow::Result<TlsParameters> {
    let mut params = TlsParameters::builder(o.host.clone());
    if let Some(ca) = &o.ca_file {
        let pem = std::fs::read(ca).with_context(|| format!("cannot read the CA file {}", ca.display()))?;
        let cert = Certificate::from_pem(&pem).with_context(|| format!("bad CA file {}", ca.display()))?;
        params = params.add_root_certificate(cert);
    }
    params.build_rustls().context("SMTP TLS set-up")
}

/// Implicit TLS under lettre's protocol code (lettre takes any stream that
/// says its peer's address).
#[derive(Debug)]
pub(crate) struct TlsConn(pub(crate) tokio_rustls::client::TlsStream<tokio::net::TcpStream>);

impl tokio::io::AsyncRead for TlsConn {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for TlsConn {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.0).poll_write(cx, buf)
    }
    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.0).poll_flush(cx)
    }
    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

impl lettre::transport::smtp::client::AsyncTokioStream for TlsConn {
    fn peer_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.0.get_ref().0.peer_addr()
    }
}

/// Why a connection could not be used.
enum ConnectError {
    /// No SMTP answer at all: the server is down or unreachable.
    Unreachable(String),
    /// The server answered and refused (TLS, AUTH): retried later, loudly.
    Refused(String),
}

async fn within<T>(d: Duration, what: &str, f: impl std::future::Future<Output = T>) -> Result<T, ConnectError> {
    tokio::time::timeout(d, f).await.map_err(|_| ConnectError::Unreachable(format!("{what}: no answer within {d:?}")))
}

async fn connect(s: &Server) -> Result<AsyncSmtpConnection, ConnectError> {
    if let Some((user, tokens)) = &s.oauth2 {
        return oauth2_connect(s, user, tokens.as_ref()).await;
    }
    let mut conn = open(s).await?;
    if let Some(c) = &s.credentials {
        within(s.timeout, "AUTH", conn.auth(&[Mechanism::Plain, Mechanism::Login], c))
            .await?
            .map_err(|e| ConnectError::Refused(format!("AUTH: {e}")))?;
    }
    Ok(conn)
}

/// A connection up to the authentication step (TCP, TLS, greeting, STARTTLS).
async fn open(s: &Server) -> Result<AsyncSmtpConnection, ConnectError> {
    let tcp = within(s.timeout, "connect", tokio::net::TcpStream::connect((s.host.as_str(), s.port)))
        .await?
        .map_err(|e| ConnectError::Unreachable(format!("connect to {}:{}: {e}", s.host, s.port)))?;
    let _ = tcp.set_nodelay(true);
    let greeting = |e: lettre::transport::smtp::Error| ConnectError::Unreachable(format!("SMTP greeting: {e}"));
    let mut conn = match &s.implicit {
        Some(tls) => {
            let name = rustls_pki_types::ServerName::try_from(s.host.clone())
                .map_err(|e| ConnectError::Refused(format!("bad host name: {e}")))?;
            let stream = within(s.timeout, "TLS handshake", tls.connect(name, tcp))
                .await?
                .map_err(|e| ConnectError::Refused(format!("TLS: {e}")))?;
            within(
                s.timeout,
                "greeting",
                AsyncSmtpConnection::connect_with_transport(Box::new(TlsConn(stream)), &s.hello),
            )
            .await?
            .map_err(greeting)?
        }
        None => within(s.timeout, "greeting", AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &s.hello))
            .await?
            .map_err(greeting)?,
    };
    if let Some(params) = &s.starttls {
        within(s.timeout, "STARTTLS", conn.starttls(params.clone(), &s.hello))
            .await?
            .map_err(|e| ConnectError::Refused(format!("STARTTLS: {e}")))?;
    }
    Ok(conn)
}

/// Connect and AUTH XOAUTH2. A refused token (the server's 334 error
/// challenge, or a 535) is reported to the source, the connection dropped
/// (it is mid-exchange) and one new connection tried with a fresh token.
/// Any failure is a retry for the outbox; a client the provider refuses
/// shows in the message (`invalid_client` …) on every retry.
async fn oauth2_connect(
    s: &Server,
    user: &str,
    tokens: &dyn crate::oauth2::TokenSource,
) -> Result<AsyncSmtpConnection, ConnectError> {
    let mut last = String::new();
    for attempt in 0..2 {
        let token =
            tokens.access_token().await.map_err(|e| ConnectError::Refused(format!("OAuth2 for {user}: {e}")))?;
        let mut conn = open(s).await?;
        let credentials = Credentials::new(user.to_string(), token.expose().to_string());
        match within(s.timeout, "AUTH", conn.auth(&[Mechanism::Xoauth2], &credentials)).await? {
            Ok(_) => return Ok(conn),
            Err(e) => {
                tokens.rejected(&token);
                conn.abort().await;
                last = format!("AUTH XOAUTH2 as {user}: {e}");
                if attempt == 0 {
                    tracing::warn!("SMTP: the server refused the OAuth2 token of {user} ({e}); trying a new token");
                }
            }
        }
    }
    Err(ConnectError::Refused(format!("{last} (also with a new token)")))
}

/// One connection's share of a round: mails taken from a shared counter.
async fn worker(
    s: &Server,
    mut conn: Option<AsyncSmtpConnection>,
    mails: &[(&str, &[String], &[u8])],
    next: &std::sync::atomic::AtomicUsize,
    down: &std::sync::atomic::AtomicBool,
    results: &[std::sync::Mutex<Vec<Delivery>>],
    receipts: &std::sync::Mutex<Vec<super::Receipt>>,
) -> Option<AsyncSmtpConnection> {
    use std::sync::atomic::Ordering;
    loop {
        let i = next.fetch_add(1, Ordering::SeqCst);
        let Some((id, to, bytes)) = mails.get(i) else { return conn };
        let mut out = Vec::with_capacity(to.len());
        for rcpt in to.iter() {
            if down.load(Ordering::SeqCst) {
                out.push(Delivery::Retry("the SMTP server is unreachable".into()));
                continue;
            }
            let envelope = match rcpt.parse::<lettre::Address>().map(|a| Envelope::new(Some(s.from.clone()), vec![a])) {
                Ok(Ok(e)) => e,
                Ok(Err(e)) => {
                    out.push(Delivery::Rejected(format!("bad envelope: {e}")));
                    continue;
                }
                Err(e) => {
                    out.push(Delivery::Rejected(format!("not a usable address: {e}")));
                    continue;
                }
            };
            // A kept connection may have been closed by the server meanwhile:
            // one fresh attempt before calling it a failure.
            let mut outcome = None;
            for fresh in [false, true] {
                let reused = conn.is_some();
                if conn.as_ref().is_none_or(|c| c.has_broken()) {
                    conn = None;
                    match connect(s).await {
                        Ok(c) => conn = Some(c),
                        Err(ConnectError::Unreachable(e)) => {
                            down.store(true, Ordering::SeqCst);
                            outcome = Some(Delivery::Retry(e));
                            break;
                        }
                        Err(ConnectError::Refused(e)) => {
                            outcome = Some(Delivery::Retry(e));
                            break;
                        }
                    }
                }
                let Some(c) = conn.as_mut() else { break };
                match tokio::time::timeout(s.timeout, c.send(&envelope, bytes)).await {
                    Ok(Ok(response)) => {
                        let text: Vec<&str> = response.message().collect();
                        let reply = format!("{} {}", response.code(), text.join(" "));
                        if let Ok(mut r) = receipts.lock() {
                            r.push(super::Receipt { id: id.to_string(), to: rcpt.clone(), reply });
                        }
                        outcome = Some(Delivery::Delivered);
                        break;
                    }
                    Ok(Err(e)) if e.is_permanent() => {
                        outcome = Some(Delivery::Rejected(e.to_string()));
                        break;
                    }
                    Ok(Err(e)) if e.is_transient() => {
                        outcome = Some(Delivery::Retry(e.to_string()));
                        break;
                    }
                    Ok(Err(e)) => {
                        conn = None;
                        outcome = Some(Delivery::Retry(e.to_string()));
                        if !reused || fresh {
                            break;
                        }
                    }
                    Err(_) => {
                        conn = None;
                        outcome = Some(Delivery::Retry(format!("no answer within {:?}", s.timeout)));
                        break;
                    }
                }
            }
            out.push(outcome.unwrap_or_else(|| Delivery::Retry("not sent".into())));
        }
        if let Ok(mut r) = results[i].lock() {
            *r = out;
        }
    }
}

impl Sink for SmtpSink {
    fn send(&mut self, id: &str, to: &[String], bytes: &[u8]) -> Vec<Delivery> {
        self.send_many(&[(id, to, bytes)]).pop().unwrap_or_default()
    }

    fn send_many(&mut self, mails: &[(&str, &[String], &[u8])]) -> Vec<Vec<Delivery>> {
        use std::sync::Mutex;
        use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
        let down = AtomicBool::new(self.down);
        let next = AtomicUsize::new(0);
        let results: Vec<Mutex<Vec<Delivery>>> = mails.iter().map(|_| Mutex::new(Vec::new())).collect();
        let n = PARALLEL.min(mails.len()).max(1);
        let mut kept = std::mem::take(&mut self.idle);
        let server = self.server.clone();
        let conns: Vec<Option<AsyncSmtpConnection>> = (0..n).map(|_| kept.pop()).collect();
        let receipts = Mutex::new(Vec::new());
        let back = self.runtime.block_on(async {
            let workers = conns.into_iter().map(|c| worker(&server, c, mails, &next, &down, &results, &receipts));
            futures_util::future::join_all(workers).await
        });
        self.idle = back.into_iter().flatten().filter(|c| !c.has_broken()).collect();
        self.down = down.load(Ordering::SeqCst);
        self.receipts.extend(receipts.into_inner().unwrap_or_default());
        results.into_iter().map(|m| m.into_inner().unwrap_or_default()).collect()
    }

    fn down(&self) -> bool {
        self.down
    }

    fn take_receipts(&mut self) -> Vec<super::Receipt> {
        std::mem::take(&mut self.receipts)
    }

    fn reset(&mut self) {
        self.down = false;
    }
}
