//! The service manager's side of the daemon: systemd's notifications
//! (`Type=notify`: READY once the wiring is up, RELOADING/READY around a
//! SIGHUP reload, STOPPING at shutdown, a STATUS line, and WATCHDOG pings
//! when `WatchdogSec=` is set) through the `sd-notify` crate; all no-ops
//! without `NOTIFY_SOCKET`. And the start-up line of the log.

use std::time::Duration;

use sd_notify::NotifyState;
use tokio_util::sync::CancellationToken;

use crate::app::App;

fn notify(states: &[NotifyState<'_>]) {
    if let Err(e) = sd_notify::notify(states) {
        tracing::warn!("Cannot notify the service manager: {e}");
    }
}

/// The daemon is up: the store is open, the source, committer and outbox run.
pub fn ready(status: &str) {
    notify(&[NotifyState::Ready, NotifyState::Status(status)]);
}

/// A SIGHUP reload starts (systemd ≥ 253 wants the monotonic time with it).
pub fn reloading() {
    match sd_notify::NotifyState::monotonic_usec_now() {
        Ok(now) => notify(&[NotifyState::Reloading, now]),
        Err(_) => notify(&[NotifyState::Reloading]),
    }
}

/// The reload is over (accepted or refused: the daemon works either way).
pub fn reloaded(status: &str) {
    notify(&[NotifyState::Ready, NotifyState::Status(status)]);
}

pub fn stopping() {
    notify(&[NotifyState::Stopping, NotifyState::Status("stopping")]);
}

/// Ping the watchdog at half its interval while `alive` says the store
/// still answers; stop pinging (systemd then restarts buzon) when it does
/// not. Ends with `token`.
pub async fn watchdog(token: CancellationToken, alive: impl Fn() -> bool + Send + Sync + 'static) {
    let Some(every) = sd_notify::watchdog_enabled() else { return };
    let every = (every / 2).max(Duration::from_millis(100));
    let alive = std::sync::Arc::new(alive);
    loop {
        tokio::select! {
            _ = token.cancelled() => return,
            _ = tokio::time::sleep(every) => {}
        }
        let check = alive.clone();
        if tokio::task::spawn_blocking(move || check()).await.unwrap_or(false) {
            notify(&[NotifyState::Watchdog]);
        } else {
            tracing::error!("The store does not answer: watchdog not pinged");
        }
    }
}

/// The start-up line: what runs, on what.
pub fn started(app: &App, http: Option<std::net::SocketAddr>, once: bool) -> String {
    let c = &app.config;
    let mailbox = match &c.mailbox {
        crate::config::Mailbox::Imap(m) => format!("imap {}", m.place()),
        crate::config::Mailbox::Maildir { path, .. } => format!("maildir {}", path.display()),
    };
    let outbox = match &c.outbox {
        crate::config::Outbox::Smtp(s) => format!("smtp {}:{}", s.host, s.port),
        crate::config::Outbox::Files { path } => format!("files {}", path.display()),
    };
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        config = %c.file.display(),
        store = %c.store.path.display(),
        layout = crate::store::LAYOUT_VERSION,
        mailbox = %mailbox,
        outbox = %outbox,
        rules = app.rules.rules.len(),
        clients = app.directory.clients.len(),
        http = %http.map(|a| a.to_string()).unwrap_or_else(|| "off".into()),
        once,
        "buzon {} started: config {}, store {} (layout {}), mailbox {mailbox}, outbox {outbox}, {} rules, {} clients, metrics {}",
        env!("CARGO_PKG_VERSION"),
        c.file.display(),
        c.store.path.display(),
        crate::store::LAYOUT_VERSION,
        app.rules.rules.len(),
        app.directory.clients.len(),
        http.map(|a| format!("on http://{a}/metrics")).unwrap_or_else(|| "off".into()),
    );
    format!("working: {mailbox} → {outbox}")
}
