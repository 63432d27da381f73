//! An IMAP folder as the source (async-imap on the daemon's tokio runtime).
//!
//! One task owns the connection. It selects the folder, fetches by UID what
//! is above the persisted cursor (UIDVALIDITY + last UID), hands the bytes to
//! the pipeline, and when the pipeline has committed and flushed them moves
//! them to the processed folder (UID MOVE, or COPY + `\Deleted` + UID
//! EXPUNGE) and advances the cursor. It waits with IDLE, re-issued and
//! backed by a `UID FETCH last+1:*` check every `recheck_seconds` (IDLE is an
//! optimisation, not the source of truth), or polls a server without IDLE.
//! Any connection failure → reconnect with jittered exponential backoff; an
//! authentication failure stops this source and shows in `buzon status`.
//!
//! A UIDVALIDITY change means a rescan of the folder: whatever was processed
//! already is recognised by its bytes and Message-ID (`Handled::AlreadyDone`)
//! and only moved, never run again.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use serde::Serialize;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};
use tracing::{error, info, warn};

use super::{Acker, Body, Incoming, Meta, Source, Token};
use crate::config::Config;
use crate::store::{Cursor, Store};

/// At most this many messages handed to the pipeline and not yet acknowledged.
const MAX_IN_FLIGHT: usize = 1024;
/// Bodies fetched per `UID FETCH`.
const FETCH_CHUNK: usize = 64;
/// Every command must answer within this.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);
const BACKOFF_FIRST: Duration = Duration::from_millis(250);
const BACKOFF_MAX: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tls {
    None,
    StartTls,
    Implicit,
}

impl Tls {
    pub fn parse(s: Option<&str>) -> Tls {
        match s {
            Some("starttls") => Tls::StartTls,
            Some("implicit") => Tls::Implicit,
            _ => Tls::None,
        }
    }
}

/// What the IMAP source needs from the config.
#[derive(Debug, Clone)]
pub struct ImapSettings {
    pub host: String,
    pub port: u16,
    pub tls: Tls,
    pub ca_file: Option<PathBuf>,
    pub user: String,
    pub password: String,
    pub folder: String,
    pub processed_folder: String,
    pub quarantine_folder: String,
    pub keep_in_folder: bool,
    pub import_existing: bool,
    pub sent_folder: Option<String>,
    pub recheck: Duration,
    pub poll: Duration,
    /// `auth = "oauth2"`: bearer tokens from here instead of the password.
    pub oauth2: Option<Arc<dyn crate::oauth2::TokenSource>>,
}

impl ImapSettings {
    pub fn from_config(c: &Config) -> anyhow::Result<ImapSettings> {
        let m = &c.raw.mailbox;
        let tls = Tls::parse(m.tls.as_ref().map(|t| t.get_ref().as_str()));
        let password = crate::config::secret(&m.password, &m.password_env, &m.password_file)
            .map_err(|e| anyhow::anyhow!("[mailbox] {e}"))?
            .unwrap_or_default();
        Ok(ImapSettings {
            host: m.host.clone().context("[mailbox] kind \"imap\" needs `host`")?,
            port: m.port.unwrap_or(if tls == Tls::Implicit { 993 } else { 143 }),
            tls,
            ca_file: m.ca_file.clone(),
            user: m.user.clone().context("[mailbox] kind \"imap\" needs `user`")?,
            password,
            folder: m.folder.clone(),
            processed_folder: m.processed_folder.clone(),
            quarantine_folder: m.quarantine_folder.clone(),
            keep_in_folder: m.keep_in_folder,
            import_existing: m.import_existing,
            sent_folder: m.sent_folder.clone(),
            recheck: Duration::from_secs(m.recheck_seconds.max(1)),
            poll: Duration::from_millis(m.poll_ms.max(10)),
            // TEMPORARY (oauth branch): the lead's config wiring replaces this.
            oauth2: match (m.auth.as_ref().map(|a| a.get_ref().as_str()), &m.oauth2) {
                (Some("oauth2"), Some(t)) => Some(
                    crate::oauth2::wiring::token_source(&c.store_path, "mailbox", t)
                        .map_err(|e| anyhow::anyhow!("[mailbox.oauth2] {e}"))?,
                ),
                _ => None,
            },
        })
    }

    /// The cursor's name: one per server, user and folder.
    fn cursor_name(&self) -> String {
        format!("imap://{}@{}:{}/{}", self.user, self.host, self.port, self.folder)
    }
}

/// The source's state, for `buzon status`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Health {
    pub connected: bool,
    /// Connected, or disconnected, since.
    pub since: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
    /// The source stopped for good (authentication refused).
    pub fatal: bool,
    /// The server offers IDLE (else it is polled).
    pub idle: bool,
    pub last_fetch_at: Option<DateTime<Utc>>,
}

pub type SharedHealth = Arc<Mutex<Health>>;

fn set_health(h: &SharedHealth, f: impl FnOnce(&mut Health)) {
    if let Ok(mut g) = h.lock() {
        f(&mut g);
    }
}

enum Event {
    Mail(Incoming),
    /// The folder was checked and nothing more is there.
    CaughtUp,
    Fatal(String),
}

enum Request {
    Ack(Vec<(u32, u32)>),
    Quarantine(u32, u32),
    Append(Vec<u8>),
    Close(std::sync::mpsc::Sender<()>),
}

/// Sends copies of sent mail to the Sent folder (best effort).
#[derive(Clone)]
pub struct SentCopies(UnboundedSender<Request>);

impl SentCopies {
    pub fn append(&self, bytes: Vec<u8>) {
        let _ = self.0.send(Request::Append(bytes));
    }
}

/// The pipeline's end of the IMAP task.
pub struct ImapSource {
    events: std::sync::mpsc::Receiver<Event>,
    requests: UnboundedSender<Request>,
    caught_up: bool,
    fatal: Option<String>,
    fatal_reported: bool,
}

/// Start the IMAP task on `runtime`.
pub fn spawn(
    settings: ImapSettings,
    store: Store,
    runtime: &tokio::runtime::Handle,
    health: SharedHealth,
) -> (ImapSource, Option<SentCopies>) {
    let (etx, erx) = std::sync::mpsc::channel();
    let (rtx, rrx) = tokio::sync::mpsc::unbounded_channel();
    let copies = settings.sent_folder.as_ref().map(|_| SentCopies(rtx.clone()));
    runtime.spawn(task(settings, store, etx, rrx, health));
    (ImapSource { events: erx, requests: rtx, caught_up: false, fatal: None, fatal_reported: false }, copies)
}

impl Source for ImapSource {
    fn pending(&mut self, wait: Duration, stop: &dyn Fn() -> bool) -> anyhow::Result<Vec<Incoming>> {
        if let Some(f) = &self.fatal {
            if !self.fatal_reported {
                self.fatal_reported = true;
                anyhow::bail!("the IMAP source stopped: {f}");
            }
            std::thread::sleep(wait);
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        let deadline = std::time::Instant::now() + wait;
        let take = |e: Event, out: &mut Vec<Incoming>, me: &mut Self| match e {
            Event::Mail(m) => {
                me.caught_up = false;
                out.push(m);
            }
            Event::CaughtUp => me.caught_up = true,
            Event::Fatal(f) => me.fatal = Some(f),
        };
        while out.is_empty() && self.fatal.is_none() && !stop() {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                break;
            }
            match self.events.recv_timeout(left.min(Duration::from_millis(50))) {
                Ok(e) => take(e, &mut out, self),
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    if self.caught_up && wait.is_zero() {
                        break;
                    }
                }
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                    anyhow::bail!("the IMAP task ended")
                }
            }
            if self.caught_up && out.is_empty() {
                break;
            }
        }
        // A source that just stopped says so now (`run --once` exits non-zero).
        if let Some(f) = &self.fatal
            && out.is_empty()
            && !self.fatal_reported
        {
            self.fatal_reported = true;
            anyhow::bail!("the IMAP source stopped: {f}");
        }
        while out.len() < MAX_IN_FLIGHT {
            match self.events.try_recv() {
                Ok(e) => take(e, &mut out, self),
                Err(_) => break,
            }
        }
        if !out.is_empty() {
            self.caught_up = false;
        }
        Ok(out)
    }

    fn drained(&self) -> bool {
        self.caught_up || self.fatal.is_some()
    }

    fn acker(&self) -> Arc<dyn Acker> {
        Arc::new(ImapAcker { requests: self.requests.clone() })
    }

    fn close(&mut self, deadline: Duration) {
        let (tx, rx) = std::sync::mpsc::channel();
        if self.requests.send(Request::Close(tx)).is_ok() {
            let _ = rx.recv_timeout(deadline);
        }
    }
}

struct ImapAcker {
    requests: UnboundedSender<Request>,
}

impl Acker for ImapAcker {
    fn ack(&self, done: &[Meta]) -> anyhow::Result<()> {
        let uids: Vec<(u32, u32)> = done
            .iter()
            .filter_map(|m| match m.token {
                Token::Imap { uid_validity, uid } => Some((uid_validity, uid)),
                Token::File(_) => None,
            })
            .collect();
        if !uids.is_empty() {
            // The task may be reconnecting: the request waits for it. Lost
            // only if the process dies, and then the message is fetched
            // again, recognised as processed and moved.
            let _ = self.requests.send(Request::Ack(uids));
        }
        Ok(())
    }

    fn quarantine(&self, item: &Meta, _why: &str) {
        if let Token::Imap { uid_validity, uid } = item.token {
            let _ = self.requests.send(Request::Quarantine(uid_validity, uid));
        }
    }
}

/// Why a session ended.
enum Fail {
    /// Refused credentials: retrying will not help.
    Auth(String),
    Other(anyhow::Error),
}

impl From<anyhow::Error> for Fail {
    fn from(e: anyhow::Error) -> Self {
        Fail::Other(e)
    }
}

/// The stream under the IMAP client: TCP, or TLS over TCP.
trait Conn: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug> Conn for T {}
type Session = async_imap::Session<Box<dyn Conn>>;

async fn within<T, E: Into<anyhow::Error>>(
    what: &str,
    f: impl std::future::Future<Output = Result<T, E>>,
) -> anyhow::Result<T> {
    match tokio::time::timeout(COMMAND_TIMEOUT, f).await {
        Ok(r) => r.map_err(|e| e.into().context(format!("IMAP {what}"))),
        Err(_) => anyhow::bail!("IMAP {what}: no answer within {COMMAND_TIMEOUT:?}"),
    }
}

/// A TLS connector trusting `ca_file` (PEM), or the public web roots.
pub fn tls_connector(ca_file: Option<&std::path::Path>) -> anyhow::Result<tokio_rustls::TlsConnector> {
    use rustls_pki_types::pem::PemObject;
    let mut roots = tokio_rustls::rustls::RootCertStore::empty();
    match ca_file {
        Some(path) => {
            for cert in rustls_pki_types::CertificateDer::pem_file_iter(path)
                .with_context(|| format!("cannot read the CA file {}", path.display()))?
            {
                let cert = cert.with_context(|| format!("bad certificate in {}", path.display()))?;
                roots.add(cert).with_context(|| format!("unusable certificate in {}", path.display()))?;
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = tokio_rustls::rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS set-up")?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
}

async fn connect(s: &ImapSettings) -> Result<Session, Fail> {
    let tcp = within("connect", tokio::net::TcpStream::connect((s.host.as_str(), s.port))).await?;
    let _ = tcp.set_nodelay(true);
    let server_name =
        || rustls_pki_types::ServerName::try_from(s.host.clone()).map_err(|e| anyhow::anyhow!("bad host name: {e}"));
    let stream: Box<dyn Conn> = match s.tls {
        Tls::None => Box::new(tcp),
        Tls::Implicit => {
            let tls = tls_connector(s.ca_file.as_deref())?;
            Box::new(within("TLS handshake", tls.connect(server_name()?, tcp)).await?)
        }
        Tls::StartTls => {
            let mut client = async_imap::Client::new(tcp);
            within("greeting", client.read_response()).await?;
            within("STARTTLS", client.run_command_and_check_ok("STARTTLS", None)).await?;
            let tcp = client.into_inner();
            let tls = tls_connector(s.ca_file.as_deref())?;
            let tls = within("TLS handshake", tls.connect(server_name()?, tcp)).await?;
            let client = async_imap::Client::new(Box::new(tls) as Box<dyn Conn>);
            return login(client, s).await;
        }
    };
    let mut client = async_imap::Client::new(stream);
    within("greeting", client.read_response()).await?;
    login(client, s).await
}

async fn login(client: async_imap::Client<Box<dyn Conn>>, s: &ImapSettings) -> Result<Session, Fail> {
    if let Some(tokens) = &s.oauth2 {
        return oauth2_login(client, s, tokens.as_ref()).await;
    }
    match tokio::time::timeout(COMMAND_TIMEOUT, client.login(&s.user, &s.password)).await {
        Err(_) => Err(Fail::Other(anyhow::anyhow!("IMAP login: no answer within {COMMAND_TIMEOUT:?}"))),
        Ok(Ok(session)) => Ok(session),
        Ok(Err((async_imap::error::Error::No(why), _))) => {
            Err(Fail::Auth(format!("the server refused the login of {}: {why}", s.user)))
        }
        Ok(Err((e, _))) => Err(Fail::Other(anyhow::Error::new(e).context("IMAP login"))),
    }
}

/// `1:3,7,9:10`
fn uid_set(uids: &[u32]) -> String {
    let mut v = uids.to_vec();
    v.sort_unstable();
    v.dedup();
    let mut out = String::new();
    let mut i = 0;
    while i < v.len() {
        let start = v[i];
        let mut end = start;
        while i + 1 < v.len() && v[i + 1] == end + 1 {
            i += 1;
            end = v[i];
        }
        if !out.is_empty() {
            out.push(',');
        }
        if start == end {
            out.push_str(&start.to_string());
        } else {
            out.push_str(&format!("{start}:{end}"));
        }
        i += 1;
    }
    out
}

/// What survives a reconnect.
#[derive(Default)]
struct State {
    uid_validity: Option<u32>,
    cursor: Option<Cursor>,
    next_uid: u32,
    in_flight: BTreeSet<u32>,
    queued: Vec<Request>,
    closing: Option<std::sync::mpsc::Sender<()>>,
}

struct Caps {
    idle: bool,
    mv: bool,
    uidplus: bool,
}

async fn task(
    s: ImapSettings,
    store: Store,
    events: std::sync::mpsc::Sender<Event>,
    mut requests: UnboundedReceiver<Request>,
    health: SharedHealth,
) {
    let mut state = State::default();
    let mut delay = BACKOFF_FIRST;
    loop {
        let started = std::time::Instant::now();
        let result = session(&s, &store, &events, &mut requests, &mut state, &health).await;
        match result {
            Ok(()) => {
                if let Some(done) = state.closing.take() {
                    let _ = done.send(());
                }
                return;
            }
            Err(Fail::Auth(why)) => {
                error!("IMAP source stopped: {why}. Fix the credentials and restart buzon.");
                set_health(&health, |h| {
                    h.connected = false;
                    h.fatal = true;
                    h.since = Some(Utc::now());
                    h.last_error = Some(why.clone());
                    h.last_error_at = Some(Utc::now());
                });
                let _ = events.send(Event::Fatal(why));
                // Answer a close request so shutdown does not wait.
                while let Some(r) = requests.recv().await {
                    if let Request::Close(done) = r {
                        let _ = done.send(());
                        return;
                    }
                }
                return;
            }
            Err(Fail::Other(e)) => {
                if started.elapsed() > Duration::from_secs(30) {
                    delay = BACKOFF_FIRST;
                }
                let jitter = 0.75 + fastrand::f64() * 0.5;
                let wait = delay.mul_f64(jitter);
                let text = format!("{e:#}");
                warn!("IMAP: {text}; reconnecting in {} ms", wait.as_millis());
                set_health(&health, |h| {
                    if h.connected {
                        h.since = Some(Utc::now());
                    }
                    h.connected = false;
                    h.last_error = Some(text.clone());
                    h.last_error_at = Some(Utc::now());
                });
                delay = (delay * 2).min(BACKOFF_MAX);
                // Wait, still taking requests; a close ends the task.
                let sleep = tokio::time::sleep(wait);
                tokio::pin!(sleep);
                loop {
                    tokio::select! {
                        _ = &mut sleep => break,
                        r = requests.recv() => match r {
                            Some(Request::Close(done)) => { let _ = done.send(()); return; }
                            Some(r) => state.queued.push(r),
                            None => return,
                        }
                    }
                }
            }
        }
    }
}

async fn session(
    s: &ImapSettings,
    store: &Store,
    events: &std::sync::mpsc::Sender<Event>,
    requests: &mut UnboundedReceiver<Request>,
    state: &mut State,
    health: &SharedHealth,
) -> Result<(), Fail> {
    let mut session = connect(s).await?;
    let caps = within("CAPABILITY", session.capabilities()).await?;
    let caps = Caps { idle: caps.has_str("IDLE"), mv: caps.has_str("MOVE"), uidplus: caps.has_str("UIDPLUS") };
    let mut folders: Vec<&str> = vec![&s.quarantine_folder];
    if !s.keep_in_folder {
        folders.push(&s.processed_folder);
    }
    if let Some(sent) = &s.sent_folder {
        folders.push(sent);
    }
    for f in folders {
        match within("CREATE", session.create(f)).await {
            Ok(()) => info!("IMAP: created folder {f}"),
            Err(e) if e.downcast_ref::<async_imap::error::Error>().is_some_and(is_no) => {} // exists
            Err(e) if format!("{e:#}").contains("no response") => {}
            Err(e) => return Err(e.into()),
        }
    }
    let mailbox = within("SELECT", session.select(&s.folder)).await?;
    let validity = mailbox.uid_validity.unwrap_or(0);
    let uid_next = mailbox.uid_next.unwrap_or(1);
    let name = s.cursor_name();
    let stored = store.cursor(&name).map_err(|e| Fail::Other(e.into()))?;
    let cursor = match stored {
        None => {
            let c = if s.import_existing {
                info!("IMAP: first start on {}: importing the {} messages there silently", s.folder, mailbox.exists);
                Cursor { uid_validity: validity, last_uid: 0, import_below: uid_next }
            } else {
                info!(
                    "IMAP: first start on {}: leaving the {} messages there alone, taking what arrives from now on",
                    s.folder, mailbox.exists
                );
                Cursor { uid_validity: validity, last_uid: uid_next.saturating_sub(1), import_below: 0 }
            };
            store.set_cursor(&name, &c).and_then(|_| store.flush()).map_err(|e| Fail::Other(e.into()))?;
            c
        }
        Some(c) if c.uid_validity != validity => {
            warn!(
                "IMAP: UIDVALIDITY of {} changed ({} → {validity}): rescanning; what was processed is recognised and only moved",
                s.folder, c.uid_validity
            );
            let c = Cursor { uid_validity: validity, last_uid: 0, import_below: 0 };
            store.set_cursor(&name, &c).map_err(|e| Fail::Other(e.into()))?;
            c
        }
        Some(c) => c,
    };
    if state.uid_validity != Some(validity) {
        state.uid_validity = Some(validity);
        state.in_flight.clear();
        state.next_uid = cursor.last_uid + 1;
    }
    state.cursor = Some(cursor);
    info!("IMAP: connected to {}:{} as {}, watching {} (IDLE: {})", s.host, s.port, s.user, s.folder, caps.idle);
    set_health(health, |h| {
        h.connected = true;
        h.since = Some(Utc::now());
        h.idle = caps.idle;
    });

    loop {
        while let Ok(r) = requests.try_recv() {
            state.queued.push(r);
        }
        apply(&mut session, s, &caps, store, state, &name).await?;
        if state.closing.is_some() {
            let _ = within("LOGOUT", session.logout()).await;
            return Ok(());
        }
        let fetched = fetch_new(&mut session, s, state, events, validity).await?;
        set_health(health, |h| h.last_fetch_at = Some(Utc::now()));
        if fetched > 0 {
            continue; // there may be more; acks may be waiting
        }
        if state.in_flight.len() < MAX_IN_FLIGHT && events.send(Event::CaughtUp).is_err() {
            return Ok(()); // the pipeline is gone
        }
        // Wait for the server or for the pipeline.
        if caps.idle {
            let mut idle = session.idle();
            within("IDLE", idle.init()).await?;
            let lost = {
                let (wait, _stop) = idle.wait_with_timeout(s.recheck);
                tokio::select! {
                    r = wait => match r {
                        Ok(async_imap::extensions::idle::IdleResponse::ManualInterrupt) => true,
                        Ok(_) => false,
                        Err(e) => return Err(Fail::Other(anyhow::Error::new(e).context("IMAP IDLE"))),
                    },
                    r = requests.recv() => {
                        match r {
                            Some(r) => state.queued.push(r),
                            None => state.closing = Some(std::sync::mpsc::channel().0),
                        }
                        false
                    }
                    _ = tokio::time::sleep(s.recheck) => false,
                }
            };
            if lost {
                return Err(Fail::Other(anyhow::anyhow!("the server closed the connection during IDLE")));
            }
            session = within("DONE", idle.done()).await?;
        } else {
            tokio::select! {
                r = requests.recv() => match r {
                    Some(r) => state.queued.push(r),
                    None => state.closing = Some(std::sync::mpsc::channel().0),
                },
                _ = tokio::time::sleep(s.poll) => {}
            }
        }
    }
}

fn is_no(e: &async_imap::error::Error) -> bool {
    matches!(e, async_imap::error::Error::No(_))
}

/// Move, quarantine and append what the pipeline asked for; advance the cursor.
async fn apply(
    session: &mut Session,
    s: &ImapSettings,
    caps: &Caps,
    store: &Store,
    state: &mut State,
    name: &str,
) -> Result<(), Fail> {
    if state.queued.is_empty() {
        return Ok(());
    }
    let validity = state.uid_validity.unwrap_or(0);
    let mut done = Vec::new();
    let mut quarantine = Vec::new();
    let mut appends = Vec::new();
    for r in std::mem::take(&mut state.queued) {
        match r {
            Request::Ack(v) => done.extend(v.into_iter().filter(|(val, _)| *val == validity).map(|(_, u)| u)),
            Request::Quarantine(val, u) if val == validity => quarantine.push(u),
            Request::Quarantine(..) => {}
            Request::Append(b) => appends.push(b),
            Request::Close(tx) => state.closing = Some(tx),
        }
    }
    // On failure the requests go back in the queue for the next session.
    let requeue = |state: &mut State, done: &[u32], quarantine: &[u32], appends: Vec<Vec<u8>>| {
        if !done.is_empty() {
            state.queued.push(Request::Ack(done.iter().map(|u| (validity, *u)).collect()));
        }
        for u in quarantine {
            state.queued.push(Request::Quarantine(validity, *u));
        }
        for a in appends {
            state.queued.push(Request::Append(a));
        }
    };
    if !s.keep_in_folder
        && !done.is_empty()
        && let Err(e) = move_uids(session, caps, &done, &s.processed_folder).await
    {
        requeue(state, &done, &quarantine, appends);
        return Err(e.into());
    }
    if !s.keep_in_folder
        && !quarantine.is_empty()
        && let Err(e) = move_uids(session, caps, &quarantine, &s.quarantine_folder).await
    {
        requeue(state, &[], &quarantine, appends);
        return Err(e.into());
    }
    for u in done.iter().chain(&quarantine) {
        state.in_flight.remove(u);
    }
    if let Some(sent) = &s.sent_folder {
        for (i, bytes) in appends.iter().enumerate() {
            if let Err(e) = within("APPEND", session.append(sent, Some("(\\Seen)"), None, bytes)).await {
                requeue(state, &[], &[], appends[i..].to_vec());
                return Err(e.into());
            }
        }
    }
    // Advance the cursor past everything acknowledged.
    let last = match state.in_flight.first() {
        Some(first) => first.saturating_sub(1),
        None => state.next_uid.saturating_sub(1),
    };
    if let Some(c) = state.cursor.as_mut()
        && last > c.last_uid
    {
        c.last_uid = last;
        store.set_cursor(name, c).map_err(|e| Fail::Other(e.into()))?;
    }
    Ok(())
}

async fn move_uids(session: &mut Session, caps: &Caps, uids: &[u32], to: &str) -> anyhow::Result<()> {
    for chunk in uids.chunks(500) {
        let set = uid_set(chunk);
        if caps.mv {
            within("UID MOVE", session.uid_mv(&set, to)).await?;
        } else {
            within("UID COPY", session.uid_copy(&set, to)).await?;
            {
                let stream = within("UID STORE", session.uid_store(&set, "+FLAGS.SILENT (\\Deleted)")).await?;
                within("UID STORE", stream.try_collect::<Vec<_>>()).await?;
            }
            if caps.uidplus {
                let stream = within("UID EXPUNGE", session.uid_expunge(&set)).await?;
                within("UID EXPUNGE", stream.try_collect::<Vec<_>>()).await?;
            } else {
                let stream = within("EXPUNGE", session.expunge()).await?;
                within("EXPUNGE", stream.try_collect::<Vec<_>>()).await?;
            }
        }
    }
    Ok(())
}

/// Fetch what is above the cursor and not yet handed out. Returns how many.
async fn fetch_new(
    session: &mut Session,
    s: &ImapSettings,
    state: &mut State,
    events: &std::sync::mpsc::Sender<Event>,
    validity: u32,
) -> Result<usize, Fail> {
    let room = MAX_IN_FLIGHT.saturating_sub(state.in_flight.len());
    if room == 0 {
        return Ok(0);
    }
    let from = state.next_uid.max(1);
    let found = within("UID SEARCH", session.uid_search(format!("UID {from}:*"))).await?;
    // `n:*` also matches the last message when its UID is below n.
    let mut uids: Vec<u32> = found.into_iter().filter(|u| *u >= from && !state.in_flight.contains(u)).collect();
    uids.sort_unstable();
    uids.truncate(room);
    let import_below = state.cursor.map(|c| c.import_below).unwrap_or(0);
    let mut sent = 0;
    for chunk in uids.chunks(FETCH_CHUNK) {
        let set = uid_set(chunk);
        let mut got: Vec<(u32, Vec<u8>)> = {
            let stream = within("UID FETCH", session.uid_fetch(&set, "(UID BODY.PEEK[])")).await?;
            let fetches: Vec<async_imap::types::Fetch> = within("UID FETCH", stream.try_collect()).await?;
            fetches.iter().filter_map(|f| Some((f.uid?, f.body()?.to_vec()))).collect()
        };
        got.sort_by_key(|(u, _)| *u);
        for (uid, raw) in got {
            if uid < from {
                continue;
            }
            let meta = Meta {
                name: format!("{} UID {uid}", s.folder),
                token: Token::Imap { uid_validity: validity, uid },
                silent: uid < import_below,
            };
            if events.send(Event::Mail(Incoming { meta, body: Body::Bytes(raw) })).is_err() {
                return Ok(sent);
            }
            state.in_flight.insert(uid);
            state.next_uid = state.next_uid.max(uid + 1);
            sent += 1;
        }
        // A UID that vanished between SEARCH and FETCH (expunged by a person) is skipped.
        if let Some(last) = chunk.last() {
            state.next_uid = state.next_uid.max(last + 1);
        }
    }
    Ok(sent)
}

// ---- OAuth2: AUTHENTICATE XOAUTH2 / OAUTHBEARER (the authentication step only) ----

/// The SASL exchange of a bearer token: the initial response, then, if the
/// server answers with its JSON error challenge, the acknowledgement that
/// ends the exchange (the server then answers NO).
struct Bearer {
    initial: String,
    ack: &'static str,
    sent: bool,
}

impl async_imap::Authenticator for &mut Bearer {
    type Response = String;
    fn process(&mut self, _challenge: &[u8]) -> String {
        if std::mem::replace(&mut self.sent, true) { self.ack.to_string() } else { self.initial.clone() }
    }
}

/// The server's mechanisms before login (`CAPABILITY`; its untagged answer
/// comes back through the unsolicited channel).
async fn auth_mechanisms(client: &mut async_imap::Client<Box<dyn Conn>>) -> anyhow::Result<Vec<String>> {
    let (tx, rx) = async_channel::unbounded();
    within("CAPABILITY", client.run_command_and_check_ok("CAPABILITY", Some(tx))).await?;
    let mut mechanisms = Vec::new();
    while let Ok(r) = rx.try_recv() {
        if let async_imap::types::UnsolicitedResponse::Other(data) = r
            && let async_imap::imap_proto::Response::Capabilities(caps) = data.parsed()
        {
            for c in caps {
                if let async_imap::imap_proto::Capability::Auth(m) = c {
                    mechanisms.push(m.to_ascii_uppercase());
                }
            }
        }
    }
    Ok(mechanisms)
}

/// Log in with a bearer token: OAUTHBEARER when the server offers it, else
/// XOAUTH2. A refused token is reported to the source and one fresh token
/// is tried; refused again, or a client the provider refuses, is fatal
/// (the source stops, loudly); trouble reaching the provider is retried.
async fn oauth2_login(
    mut client: async_imap::Client<Box<dyn Conn>>,
    s: &ImapSettings,
    tokens: &dyn crate::oauth2::TokenSource,
) -> Result<Session, Fail> {
    use crate::oauth2::sasl::{Mechanism, error_ack};
    let offered = auth_mechanisms(&mut client).await?;
    let Some(mechanism) = Mechanism::choose(|m| offered.iter().any(|o| o == m)) else {
        return Err(Fail::Auth(format!(
            "the server offers neither AUTH=OAUTHBEARER nor AUTH=XOAUTH2 (it offers {}): it does not take OAuth2",
            if offered.is_empty() { "no SASL mechanism".to_string() } else { offered.join(", ") }
        )));
    };
    for attempt in 0..2 {
        let token = tokens.access_token().await.map_err(|e| match e.kind() {
            crate::oauth2::Kind::Fatal => Fail::Auth(format!("OAuth2 for {}: {e}", s.user)),
            crate::oauth2::Kind::Retryable => Fail::Other(anyhow::anyhow!("OAuth2 for {}: {e}", s.user)),
        })?;
        let mut bearer = Bearer {
            initial: mechanism.initial_response(&s.user, &s.host, s.port, token.expose()),
            ack: error_ack(mechanism),
            sent: false,
        };
        let name = mechanism.name();
        match tokio::time::timeout(COMMAND_TIMEOUT, client.authenticate(name, &mut bearer)).await {
            Err(_) => {
                return Err(Fail::Other(anyhow::anyhow!(
                    "IMAP AUTHENTICATE {name}: no answer within {COMMAND_TIMEOUT:?}"
                )));
            }
            Ok(Ok(session)) => return Ok(session),
            // Dovecot's "[UNAVAILABLE]": its identity provider could not be asked.
            Ok(Err((async_imap::error::Error::No(why), _)))
                if why.contains("Unavailable") || why.contains("UNAVAILABLE") =>
            {
                return Err(Fail::Other(anyhow::anyhow!("IMAP AUTHENTICATE {name}: temporary failure: {why}")));
            }
            Ok(Err((async_imap::error::Error::No(why), c))) => {
                tokens.rejected(&token);
                if attempt == 0 {
                    warn!("IMAP: the server refused the OAuth2 token of {} ({name}); trying a new token", s.user);
                    client = c;
                    continue;
                }
                return Err(Fail::Auth(format!(
                    "the server refused the OAuth2 login ({name}) of {}, also with a new token: {why}",
                    s.user
                )));
            }
            Ok(Err((e, _))) => {
                return Err(Fail::Other(anyhow::Error::new(e).context(format!("IMAP AUTHENTICATE {name}"))));
            }
        }
    }
    Err(Fail::Other(anyhow::anyhow!("IMAP AUTHENTICATE: no attempt left")))
}

#[cfg(test)]
mod tests {
    use super::uid_set;

    #[test]
    fn uid_sets_are_compact_ranges() {
        assert_eq!(uid_set(&[1, 2, 3, 7, 9, 10]), "1:3,7,9:10");
        assert_eq!(uid_set(&[5]), "5");
        assert_eq!(uid_set(&[3, 1, 2, 2]), "1:3");
        assert_eq!(uid_set(&[]), "");
    }
}
