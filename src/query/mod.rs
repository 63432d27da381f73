//! Read commands and their protocol: `orders`, `reclamos`, `tasks`,
//! `outbox`, `status`, `digest preview` — and the few things a person does
//! by hand at the server (`outbox hold|release|cancel`, `reprocess`,
//! `control.rs`). A command opens the store itself,
//! or, while the daemon holds it, asks the daemon over its local socket
//! (one JSON request line; the answer is a status byte — `0` ok, `1` ran
//! and found the desk unwell, `2` error — and the text): the answer is the
//! same either way. The daemon serves the socket with [`serve`]; the CLI
//! calls [`execute`].

pub mod control;
mod records;
mod status;
pub mod table;

pub use control::{Control, OutboxAction};
pub use records::eta_json;
pub use table::Format;

pub use status::{health, store_unwritable};

use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::store::Store;

/// How a list is printed and which records it shows.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ListOptions {
    pub format: Format,
    /// Only those still open (orders not closed, reclamos open, tasks
    /// pending, mail pending or held).
    pub open: bool,
    /// Only this client's (its id, or part of its name).
    pub client: Option<String>,
    /// Only those for this person (a task's assignee; an order's or
    /// reclamo's assistant or executive; a mail's recipient).
    pub assignee: Option<String>,
    /// Only those that came at or after this instant.
    pub since: Option<DateTime<Utc>>,
}

/// A read command, as sent to the daemon.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Query {
    Orders {
        show: Option<String>,
        json: bool,
        #[serde(default)]
        list: ListOptions,
    },
    Reclamos {
        show: Option<String>,
        json: bool,
        #[serde(default)]
        list: ListOptions,
    },
    Tasks {
        show: Option<String>,
        json: bool,
        #[serde(default)]
        list: ListOptions,
    },
    Outbox {
        #[serde(default)]
        list: ListOptions,
    },
    Status {
        json: bool,
    },
    /// The digests as they would be sent now (assistants' and supervisors').
    Digest {
        to: Option<String>,
        #[serde(default)]
        json: bool,
    },
    /// A person's hand on the desk (outbox hold/release/cancel, reprocess).
    Control(Control),
    /// The extraordinary services of a month (`2026-11`, Lima dates).
    Extras {
        month: String,
        #[serde(default)]
        list: ListOptions,
    },
}

/// What the daemon rings after a person's hand changed something.
#[derive(Clone)]
pub struct Wake {
    /// The outbox worker (released mail goes now).
    pub outbox: std::sync::Arc<tokio::sync::Notify>,
    /// The scheduler's runner (a reprocess request waits for the committer).
    pub scheduler: std::sync::Arc<tokio::sync::Notify>,
}

/// What a read command printed, and whether the desk is well (`status`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub text: String,
    pub healthy: bool,
}

impl Answer {
    pub fn ok(text: String) -> Answer {
        Answer { text, healthy: true }
    }
}

/// The socket on which a running daemon answers read commands.
pub fn socket_path(store_path: &Path) -> PathBuf {
    let mut p = store_path.as_os_str().to_owned();
    p.push(".sock");
    PathBuf::from(p)
}

/// Run a read command: locally, or through the daemon's socket; print the
/// answer. `Ok(false)`: it ran and found the desk unwell (`status`).
pub fn execute(config_path: &Path, now: DateTime<Utc>, q: Query) -> anyhow::Result<bool> {
    let a = answer(config_path, now, &q)?;
    std::io::stdout().write_all(a.text.as_bytes())?;
    Ok(a.healthy)
}

/// Run a command (locally, or through the daemon) and return its answer.
pub fn answer(config_path: &Path, now: DateTime<Utc>, q: &Query) -> anyhow::Result<Answer> {
    let config = Config::load(config_path)?;
    match Store::open(&config.store.path) {
        Ok(store) => {
            if let Query::Status { json } = q {
                // Health must show even when a rule or template file is broken.
                let (text, healthy) = status::answer(&store, &config, *json, now, None)?;
                return Ok(Answer { text, healthy });
            }
            let app = crate::app::App::load(config_path)?;
            records::answer(&store, &app, q, now, None)
        }
        Err(crate::store::StoreError::Locked(_)) => ask_daemon(&socket_path(&config.store.path), q),
        Err(e) => Err(e.into()),
    }
}

/// What the socket server answers from: the running daemon's store, files,
/// clock and health, the bells a control command rings, and the committer's
/// queue of backup dumps.
pub struct Daemon {
    pub store: Store,
    pub app: crate::app::AppCell,
    pub clock: crate::clock::Clock,
    pub health: crate::mailbox::SharedHealth,
    pub token: tokio_util::sync::CancellationToken,
    pub wake: Wake,
    pub dumps: tokio::sync::mpsc::Sender<crate::backup::DumpJob>,
}

/// Answer read commands on `path` until `token` is cancelled. `app` is the
/// daemon's current business files; `health` its source's state.
pub async fn serve(path: PathBuf, daemon: Daemon) {
    let Daemon { store, app, clock, health, token, wake, dumps } = daemon;
    let listener = match tokio::net::UnixListener::bind(&path) {
        Ok(l) => l,
        Err(e) => {
            tracing::warn!("Read commands will not reach this daemon: cannot listen on {}: {e}", path.display());
            return;
        }
    };
    loop {
        let stream = tokio::select! {
            _ = token.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    tracing::warn!("Read-command socket: {e}");
                    continue;
                }
            },
        };
        let (store, app, health, wake, dumps) =
            (store.clone(), app.clone(), health.clone(), wake.clone(), dumps.clone());
        tokio::spawn(async move {
            use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
            let (read, mut write) = stream.into_split();
            let mut line = String::new();
            if BufReader::new(read).read_line(&mut line).await.is_err() {
                return;
            }
            let answer = tokio::task::spawn_blocking(move || {
                if let Ok(BackupRequest { backup }) = serde_json::from_str::<BackupRequest>(&line) {
                    return serve_backup(&app.current().config, &backup, &dumps);
                }
                let query: Query = serde_json::from_str(&line).map_err(|e| anyhow::anyhow!("bad request: {e}"))?;
                let app = app.current();
                let live = health.lock().map(|h| h.clone()).unwrap_or_default();
                match &query {
                    Query::Control(c) => control::answer_live(&store, &app, c, clock.now(), &wake),
                    _ => records::answer(&store, &app, &query, clock.now(), Some(&live)),
                }
            })
            .await;
            let text = match answer {
                Ok(Ok(a)) if a.healthy => format!("0{}", a.text),
                Ok(Ok(a)) => format!("1{}", a.text),
                Ok(Err(e)) => format!("2buzon: {e:#}\n"),
                Err(e) => format!("2buzon: {e}\n"),
            };
            let _ = write.write_all(text.as_bytes()).await;
        });
    }
    let _ = std::fs::remove_file(&path);
}

/// A backup asked of the daemon (beside [`Query`]: `{"backup": FILE}`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupRequest {
    pub backup: PathBuf,
}

/// Write a backup in the daemon: the committer dumps the store between
/// two batches, this thread writes the archive.
fn serve_backup(
    config: &Config,
    file: &Path,
    dumps: &tokio::sync::mpsc::Sender<crate::backup::DumpJob>,
) -> anyhow::Result<Answer> {
    let outcome = crate::backup::create(config, file, |path| {
        let (done, result) = std::sync::mpsc::sync_channel(1);
        dumps
            .blocking_send(crate::backup::DumpJob { path: path.to_path_buf(), done })
            .map_err(|_| anyhow::anyhow!("the daemon is stopping: no backup now"))?;
        result
            .recv()
            .map_err(|_| anyhow::anyhow!("the daemon stopped before the store was dumped"))?
            .map_err(|e| anyhow::anyhow!(e))
    })?;
    tracing::info!(file = %file.display(), bytes = outcome.bytes, "Backup written: {}", outcome.line("backup").trim_end());
    Ok(Answer::ok(serde_json::to_string(&outcome)? + "\n"))
}

/// Ask the running daemon for a backup into `file` (an absolute path).
pub fn ask_backup(store_path: &Path, file: &Path) -> anyhow::Result<crate::backup::Outcome> {
    let req = BackupRequest { backup: file.to_path_buf() };
    let (status, text) = exchange(&socket_path(store_path), &req, std::time::Duration::from_secs(3600))?;
    match status {
        b'0' => Ok(serde_json::from_str(text.trim()).map_err(|e| anyhow::anyhow!("the daemon's answer: {e}"))?),
        _ => anyhow::bail!("{}", text.trim().trim_start_matches("buzon: ")),
    }
}

/// How long a command waits for a daemon that holds the store but has not
/// opened its socket yet (it is starting).
const STARTING: std::time::Duration = std::time::Duration::from_secs(10);

/// Connect to the running daemon's socket. A daemon takes the store's lock
/// before it binds the socket: while it starts, the socket is missing or
/// refuses, and the command waits for it (backing off) up to [`STARTING`].
fn connect(sock: &Path) -> anyhow::Result<std::os::unix::net::UnixStream> {
    let started = std::time::Instant::now();
    let mut retry = crate::backoff::Retry::new(crate::backoff::STORE_LOCKED);
    loop {
        match std::os::unix::net::UnixStream::connect(sock) {
            Ok(s) => return Ok(s),
            Err(e)
                if matches!(e.kind(), std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused)
                    && started.elapsed() < STARTING =>
            {
                std::thread::sleep(retry.next_delay());
            }
            Err(e) => {
                anyhow::bail!("the store is in use and the daemon does not answer on {}: {e}", sock.display())
            }
        }
    }
}

/// One request to the running daemon: a JSON line out, a status byte and
/// the answer's text back.
fn exchange(sock: &Path, req: &impl serde::Serialize, wait: std::time::Duration) -> anyhow::Result<(u8, String)> {
    let mut stream = connect(sock)?;
    stream.set_read_timeout(Some(wait))?;
    let mut line = serde_json::to_string(req)?;
    line.push('\n');
    stream.write_all(line.as_bytes())?;
    let mut reader = std::io::BufReader::new(stream);
    let mut status = [0u8; 1];
    reader.read_exact(&mut status)?;
    let mut text = String::new();
    while reader.read_line(&mut text)? > 0 {}
    Ok((status[0], text))
}

fn ask_daemon(sock: &Path, q: &Query) -> anyhow::Result<Answer> {
    let (status, text) = exchange(sock, q, std::time::Duration::from_secs(30))?;
    match status {
        b'0' => Ok(Answer { text, healthy: true }),
        b'1' => Ok(Answer { text, healthy: false }),
        _ => anyhow::bail!("{}", text.trim().trim_start_matches("buzon: ")),
    }
}
