//! A Maildir: an MTA writes into `tmp/` and renames into `new/`, so files in
//! `new/` are complete. Messages are taken in delivery order (modification
//! time, then name) and moved to `cur/` once processed; a task scans `new/`
//! every `poll` and hands out what is not already in the pipeline.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{Acker, Body, Meta, RawMessage, Source, SourceEvent, Token};
use crate::backoff::{Backoff, Retry};

#[derive(Debug, Clone)]
pub struct Maildir {
    root: PathBuf,
}

impl Maildir {
    /// Open the Maildir at `root`: an existing folder gets the `new/`,
    /// `cur/` and `tmp/` it lacks; a missing one is an error (a mistyped
    /// path must not be watched in silence) unless `create`.
    pub fn open(root: &Path, create: bool) -> std::io::Result<Maildir> {
        if !create && !root.is_dir() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "no such folder (check [mailbox] path, or set create = true to create it)",
            ));
        }
        for d in ["new", "cur", "tmp"] {
            std::fs::create_dir_all(root.join(d))?;
        }
        Ok(Maildir { root: root.to_path_buf() })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Messages waiting in `new/`, in delivery order.
    pub fn pending(&self) -> std::io::Result<Vec<PathBuf>> {
        let mut v: Vec<(SystemTime, PathBuf)> = Vec::new();
        for e in std::fs::read_dir(self.root.join("new"))? {
            let e = e?;
            let name = e.file_name();
            if name.to_string_lossy().starts_with('.') {
                continue;
            }
            let meta = match e.metadata() {
                Ok(m) if m.is_file() => m,
                _ => continue, // vanished or not a file
            };
            v.push((meta.modified().unwrap_or(SystemTime::UNIX_EPOCH), e.path()));
        }
        v.sort();
        Ok(v.into_iter().map(|(_, p)| p).collect())
    }

    /// Move a processed message from `new/` to `cur/` (flag Seen).
    pub fn ack(&self, path: &Path) -> std::io::Result<()> {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let target = if name.contains(":2,") { name } else { format!("{name}:2,S") };
        match std::fs::rename(path, self.root.join("cur").join(target)) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()), // already moved
            other => other,
        }
    }

    /// Deliver `bytes` as a new message (tmp/ then rename into new/), as an MTA would.
    pub fn deliver(&self, name: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
        let tmp = self.root.join("tmp").join(name);
        std::fs::write(&tmp, bytes)?;
        let dest = self.root.join("new").join(name);
        std::fs::rename(&tmp, &dest)?;
        Ok(dest)
    }
}

/// Files handed to the pipeline and still in `new/`.
type InFlight = Arc<Mutex<BTreeSet<PathBuf>>>;

/// Start scanning `maildir` every `poll` until `token` is cancelled.
pub fn spawn(
    maildir: Maildir,
    poll: Duration,
    token: CancellationToken,
    tracker: &tokio_util::task::TaskTracker,
) -> Source {
    let (tx, rx) = mpsc::channel(super::CHANNEL);
    let in_flight = InFlight::default();
    tracker.spawn(scan(maildir.clone(), poll, tx, in_flight, token));
    Source { events: rx, acker: Arc::new(MaildirAcker { maildir }), closer: None, sent_copies: None }
}

/// The messages of a listing not yet handed out (and forget the ones that
/// left `new/`: acknowledged, quarantined or taken away).
fn new_ones(listed: Vec<PathBuf>, in_flight: &InFlight) -> Vec<PathBuf> {
    let Ok(mut set) = in_flight.lock() else { return Vec::new() };
    let now: BTreeSet<&PathBuf> = listed.iter().collect();
    set.retain(|p| now.contains(p));
    listed.into_iter().filter(|p| set.insert(p.clone())).collect()
}

async fn scan(
    maildir: Maildir,
    poll: Duration,
    tx: mpsc::Sender<SourceEvent>,
    in_flight: InFlight,
    token: CancellationToken,
) {
    let mut retry = Retry::new(Backoff { first: poll, max: Duration::from_secs(30) });
    loop {
        let md = maildir.clone();
        let listed = tokio::task::spawn_blocking(move || md.pending()).await;
        let wait = match listed {
            Ok(Ok(list)) => {
                retry.reset();
                for path in new_ones(list, &in_flight) {
                    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                    let meta = Meta { name, token: Token::File(path.clone()), silent: false };
                    let event = SourceEvent::Message(RawMessage { meta, body: Body::File(path) });
                    tokio::select! {
                        _ = token.cancelled() => return,
                        sent = tx.send(event) => if sent.is_err() { return },
                    }
                }
                if tx.send(SourceEvent::CaughtUp).await.is_err() {
                    return;
                }
                poll
            }
            Ok(Err(e)) => {
                let wait = retry.next_delay();
                tracing::error!(
                    "Cannot list the Maildir {}: {e}; trying again in {} ms",
                    maildir.root().display(),
                    wait.as_millis()
                );
                wait
            }
            Err(e) => {
                tracing::error!("The Maildir scan failed: {e}");
                return;
            }
        };
        tokio::select! {
            _ = token.cancelled() => return,
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

struct MaildirAcker {
    maildir: Maildir,
}

impl Acker for MaildirAcker {
    fn ack(&self, done: &[Meta]) -> anyhow::Result<()> {
        for m in done {
            if let Token::File(p) = &m.token {
                self.maildir.ack(p).map_err(|e| anyhow::anyhow!("cannot move {} to cur/: {e}", p.display()))?;
            }
        }
        Ok(())
    }

    fn quarantine(&self, item: &Meta, why: &str) {
        if let Token::File(path) = &item.token {
            let dir = self.maildir.root().join("quarantine");
            let moved = std::fs::create_dir_all(&dir)
                .and_then(|_| std::fs::rename(path, dir.join(&item.name)))
                .and_then(|_| std::fs::write(dir.join(format!("{}.reason", item.name)), why));
            if let Err(e) = moved {
                tracing::error!("Cannot quarantine {}: {e}", path.display());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scan_hands_out_each_waiting_file_once_and_forgets_those_that_left() {
        let in_flight = InFlight::default();
        let (a, b, c) = (PathBuf::from("new/a"), PathBuf::from("new/b"), PathBuf::from("new/c"));
        assert_eq!(new_ones(vec![a.clone(), b.clone()], &in_flight), vec![a.clone(), b.clone()]);
        assert_eq!(new_ones(vec![a.clone(), b.clone(), c.clone()], &in_flight), vec![c.clone()], "only the new one");
        // a was acknowledged (moved to cur/): it leaves the set; were it
        // delivered again under the same name, it would be new again.
        assert!(new_ones(vec![b.clone(), c.clone()], &in_flight).is_empty());
        assert_eq!(new_ones(vec![a.clone(), b, c], &in_flight), vec![a]);
    }
}
