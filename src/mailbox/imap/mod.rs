//! The IMAP source (async-imap on the daemon's runtime). One task keeps a
//! session (keep-or-rebuild, chatmail's scheduler): SELECT, the cursor
//! decision (`cursor.rs`), `UID FETCH` of what is above the cursor into the
//! pipeline's channel, IDLE (re-issued every `recheck`, with a `UID FETCH`
//! check each time; polling when the server has no IDLE), moves of what the
//! pipeline acknowledged (`folder.rs`). Errors are typed (`connect.rs`): a
//! refused login stops the source for good; everything else reconnects with
//! the one jittered backoff.

// `pub(crate)`: `buzon check` logs in with the same code (`crate::check::imap`).
pub(crate) mod connect;
pub mod cursor;
mod folder;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use super::{Acker, Meta, SharedHealth, Source, SourceEvent, Token, set_health};
use crate::backoff::{IMAP_RECONNECT, Retry};
use crate::clock::Clock;
use crate::config::ImapConfig;
use crate::oauth2::TokenSource;
use crate::store::Store;
use connect::{ImapError, Kind, within};
use folder::{Caps, MAX_IN_FLIGHT, Request, State};

/// A server that keeps answering not as configured (TLS on a plain port, a
/// certificate of an unknown CA) stops the source after this long.
const MISCONFIGURED_FOR: Duration = Duration::from_secs(60);

/// Sends copies of sent mail to the Sent folder (best effort).
#[derive(Clone)]
pub struct SentCopies(UnboundedSender<Request>);

impl SentCopies {
    pub fn append(&self, bytes: Vec<u8>) {
        let _ = self.0.send(Request::Append(bytes));
    }
}

/// Start the IMAP task.
pub fn spawn(
    settings: ImapConfig,
    clock: Clock,
    tokens: Option<Arc<dyn TokenSource>>,
    store: Store,
    token: CancellationToken,
    health: SharedHealth,
    tracker: &tokio_util::task::TaskTracker,
) -> Source {
    let (etx, erx) = mpsc::channel(super::CHANNEL);
    let (rtx, rrx) = tokio::sync::mpsc::unbounded_channel();
    let sent_copies = settings.sent_folder.as_ref().map(|_| SentCopies(rtx.clone()));
    let link = Link { settings, clock, tokens, store, events: etx, health };
    tracker.spawn(run(link, rrx, token));
    let closer_tx = rtx.clone();
    let closer: super::Closer = Box::new(move |deadline: Duration| {
        Box::pin(async move {
            let (tx, rx) = tokio::sync::oneshot::channel();
            if closer_tx.send(Request::Close(tx)).is_ok() {
                let _ = tokio::time::timeout(deadline, rx).await;
            }
        })
    });
    Source { events: erx, acker: Arc::new(ImapAcker { requests: rtx }), closer: Some(closer), sent_copies }
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

/// What the IMAP task works with for its whole life.
struct Link {
    settings: ImapConfig,
    clock: Clock,
    tokens: Option<Arc<dyn TokenSource>>,
    store: Store,
    events: mpsc::Sender<SourceEvent>,
    health: SharedHealth,
}

/// Keep a session until closed; reconnect with backoff; stop on a fatal error.
async fn run(link: Link, mut requests: UnboundedReceiver<Request>, token: CancellationToken) {
    let (clock, events, health) = (link.clock, &link.events, &link.health);
    let mut state = State::default();
    let mut retry = Retry::new(IMAP_RECONNECT);
    // Since when the server answers, but not as configured.
    let mut misconfigured_since: Option<std::time::Instant> = None;
    loop {
        let started = std::time::Instant::now();
        // A session ends on a close request (answered below), when the
        // pipeline is gone, or with an error.
        let result = session(&link, &mut requests, &mut state).await;
        match result {
            Ok(()) => {
                if let Some(done) = state.closing.take() {
                    let _ = done.send(());
                }
                return;
            }
            Err(e)
                if e.kind() == Kind::Fatal
                    || (e.kind() == Kind::Misconfigured
                        && misconfigured_since.get_or_insert_with(std::time::Instant::now).elapsed()
                            >= MISCONFIGURED_FOR) =>
            {
                let why = e.to_string();
                let fix = e.fix();
                let reason = if e.kind() == Kind::Fatal {
                    "authentication refused".to_string()
                } else {
                    format!("configuration: still failing after {} s", MISCONFIGURED_FOR.as_secs())
                };
                error!("IMAP source stopped: {why}. {fix}");
                set_health(health, |h| {
                    h.connected = false;
                    h.fatal = true;
                    h.fatal_reason = Some(reason);
                    h.since = Some(clock.now());
                    h.last_error = Some(why.clone());
                    h.last_error_at = Some(clock.now());
                });
                let _ = events.send(SourceEvent::Fatal { why, fix }).await;
                // Answer a close request so shutdown does not wait.
                loop {
                    tokio::select! {
                        _ = token.cancelled() => return,
                        r = requests.recv() => match r {
                            Some(Request::Close(done)) => { let _ = done.send(()); return; }
                            Some(_) => {}
                            None => return,
                        }
                    }
                }
            }
            Err(e) => {
                if started.elapsed() > Duration::from_secs(30) {
                    retry.reset();
                }
                if e.kind() != Kind::Misconfigured {
                    misconfigured_since = None;
                }
                let wait = retry.next_delay();
                let text = format!("{e:#}");
                warn!("IMAP: {text}; reconnecting in {} ms", wait.as_millis());
                set_health(health, |h| {
                    if h.connected {
                        h.since = Some(clock.now());
                    }
                    h.connected = false;
                    h.last_error = Some(text.clone());
                    h.last_error_at = Some(clock.now());
                });
                // Wait, still taking requests; a close ends the task.
                let sleep = tokio::time::sleep(wait);
                tokio::pin!(sleep);
                loop {
                    tokio::select! {
                        _ = &mut sleep => break,
                        _ = token.cancelled() => return,
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

async fn session(link: &Link, requests: &mut UnboundedReceiver<Request>, state: &mut State) -> Result<(), ImapError> {
    let (s, clock, tokens, store, events, health) =
        (&link.settings, link.clock, link.tokens.as_deref(), &link.store, &link.events, &link.health);
    let mut session = connect::connect(s, tokens).await?;
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
            Err(e) if e.is_no() => {} // it exists
            Err(e) => return Err(e),
        }
    }
    let mailbox = within("SELECT", session.select(&s.folder)).await?;
    let selected = cursor::Selected {
        uid_validity: mailbox.uid_validity.unwrap_or(0),
        uid_next: mailbox.uid_next.unwrap_or(0),
        exists: mailbox.exists,
    };
    let validity = selected.uid_validity;
    let name = s.cursor_name();
    let stored = store.cursor(&name)?;
    let (cursor, start) = cursor::decide(stored, selected, s.import_existing);
    match start {
        cursor::Start::Keep => {}
        cursor::Start::FirstStartImport => {
            info!("IMAP: first start on {}: importing the {} messages there silently", s.folder, selected.exists)
        }
        cursor::Start::FirstStartNewOnly => info!(
            "IMAP: first start on {}: leaving the {} messages there alone, taking what arrives from now on",
            s.folder, selected.exists
        ),
        cursor::Start::Rescan { old_validity } => warn!(
            "IMAP: UIDVALIDITY of {} changed ({old_validity} → {validity}): rescanning; what was processed is recognised and only moved",
            s.folder
        ),
        cursor::Start::Resync { last_uid } => warn!(
            "IMAP: UIDNEXT of {} went back below {last_uid}: rescanning; what was processed is recognised and only moved",
            s.folder
        ),
    }
    if stored != Some(cursor) {
        store.set_cursor(&name, &cursor)?;
        store.flush()?;
    }
    if state.uid_validity != Some(validity) || !matches!(start, cursor::Start::Keep) {
        state.uid_validity = Some(validity);
        state.in_flight.clear();
        state.next_uid = cursor.last_uid + 1;
    }
    state.cursor = Some(cursor);
    info!("IMAP: connected to {}:{} as {}, watching {} (IDLE: {})", s.host, s.port, s.user, s.folder, caps.idle);
    set_health(health, |h| {
        h.connected = true;
        h.since = Some(clock.now());
        h.idle = caps.idle;
    });

    loop {
        while let Ok(r) = requests.try_recv() {
            state.queued.push(r);
        }
        folder::apply(&mut session, s, &caps, store, state).await?;
        if state.closing.is_some() {
            let _ = within("LOGOUT", session.logout()).await;
            return Ok(());
        }
        let Some(fetched) = folder::fetch_new(&mut session, s, state, events, validity).await? else {
            return Ok(()); // the pipeline is gone
        };
        set_health(health, |h| h.last_fetch_at = Some(clock.now()));
        if fetched > 0 {
            continue; // there may be more; acks may be waiting
        }
        if state.in_flight.len() < MAX_IN_FLIGHT && events.send(SourceEvent::CaughtUp).await.is_err() {
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
                        Err(source) => return Err(ImapError::Protocol { what: "IDLE", source }),
                    },
                    r = requests.recv() => {
                        match r {
                            Some(r) => state.queued.push(r),
                            None => state.closing = Some(tokio::sync::oneshot::channel().0),
                        }
                        false
                    }
                    _ = tokio::time::sleep(s.recheck) => false,
                }
            };
            if lost {
                return Err(ImapError::Closed);
            }
            session = within("DONE", idle.done()).await?;
        } else {
            tokio::select! {
                r = requests.recv() => match r {
                    Some(r) => state.queued.push(r),
                    None => state.closing = Some(tokio::sync::oneshot::channel().0),
                },
                _ = tokio::time::sleep(s.poll) => {}
            }
        }
    }
}
