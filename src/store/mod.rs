//! The store (sled), with its key layout in `keys.rs` and the attachments'
//! in [`attachments`]: the only place that knows how things are kept. A
//! decision's effects (and a mail's processed mark) are applied in one
//! transaction; [`Store::flush`] makes them durable before any external
//! side effect (moving the Maildir file, sending). The store implements
//! the desk's [`View`](crate::desk::View) (`view.rs`).

pub mod attachments;
mod copy;
pub mod dossier;
pub mod export;
mod keys;
mod migrate;
pub use copy::StoreCopy;
mod outbox;
mod schedule;
pub mod tokens;
mod view;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError, TransactionalTree};

use crate::desk::effect::{Effect, Subject};
use crate::desk::model::{Mark, Order, OutboxState, Outgoing, Processed, Reclamo, Task, ThreadLink, Undo};
use keys::Tree;
pub use keys::{LAYOUT_VERSION, aborted_path, reading_path};

/// Store failures. All are fatal for the operation: nothing was committed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database engine failed (I/O, corruption).
    #[error("store: {0}")]
    Sled(#[from] sled::Error),
    /// Another process holds the database (sled's lock on `<path>/db`).
    #[error("store: {0} is in use by another process")]
    Locked(String),
    /// A stored record could not be read back.
    #[error("store: corrupt record: {0}")]
    Corrupt(String),
    /// The database was written by a newer buzon.
    #[error("store: layout version {found} is newer than this buzon's ({expected})")]
    Layout { found: u64, expected: u64 },
    /// A read for a decision failed.
    #[error(transparent)]
    View(#[from] crate::desk::ViewError),
    /// The store holds fewer processed mails than it once made durable: it
    /// was cut short, damaged, or replaced by an older copy.
    #[error(
        "store: {path} holds {found} processed mails but had made {expected} durable: it was damaged or replaced by an older copy. Nothing was changed. Restore the last backup (`buzon restore`), or, to start over, move {path} away: every mail still in the mailbox is then read again"
    )]
    Damaged { path: String, found: u64, expected: u64 },
}

impl From<TransactionError<StoreError>> for StoreError {
    fn from(e: TransactionError<StoreError>) -> Self {
        match e {
            TransactionError::Abort(e) => e,
            TransactionError::Storage(e) => StoreError::Sled(e),
        }
    }
}

/// A cheap handle on the database (clone it freely).
#[derive(Clone)]
pub struct Store {
    db: sled::Db,
    /// Every tree, in the order of [`Tree::ALL`].
    trees: Vec<sled::Tree>,
    /// `<store>.hwm`, and the processed total last written there.
    /// The lock also orders the mark's writers (the committer and the
    /// outbox both flush): one writes its file at a time, never lower.
    high_water: std::sync::Arc<(PathBuf, std::sync::Mutex<u64>)>,
}

/// Where an IMAP folder was read up to (persisted after each acknowledgement).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Cursor {
    pub uid_validity: u32,
    /// Every message with a UID up to this one was processed or quarantined
    /// (or was there before the first start and deliberately left alone).
    pub last_uid: u32,
    /// Messages below this UID were in the folder at the first start and are
    /// imported silently (no replies), when so configured.
    #[serde(default)]
    pub import_below: u32,
}

/// A message that could not be processed, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Quarantined {
    pub at: DateTime<Utc>,
    /// File name, or `folder UID n`.
    pub name: String,
    pub why: String,
}

/// A `buzon reprocess` request waiting for the daemon's committer (the
/// store's single writer numbers what the desk decides).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Request {
    /// `T-000004`, or a quarantined message's name.
    pub target: String,
    pub by: String,
    pub at: DateTime<Utc>,
}

/// What a hand on the outbox did to one mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Control {
    /// Hold pending mail (`outbox hold`).
    Hold,
    /// Send held mail again (`outbox release`).
    Release,
    /// Never send it (`outbox cancel`).
    Cancel,
}

fn to_json<T: Serialize>(v: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn from_json<T: DeserializeOwned>(b: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(b).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// sled 0.34.7 writes a snapshot to `snap.<lsn>.generating`, fsyncs it and
/// renames it to `snap.<lsn>`; but when it opens, it also considers the
/// `.generating` files, so a process killed while writing one (sled writes a
/// snapshot when it opens, so a restart loop hits this) cannot open its
/// database again ("empty/corrupt snapshot file found"). A `.generating` file
/// is by construction unfinished: remove it before sled looks. Found by
/// tests/crash.rs.
///
/// Only while holding sled's own lock (`flock` on `<path>/db`): a live
/// process's snapshot in progress must never be touched (found by the
/// mail-stack tests: a `buzon status` racing a starting daemon).
fn remove_unfinished_snapshots(path: &Path) -> Result<(), StoreError> {
    let Ok(lock) = std::fs::OpenOptions::new().read(true).write(true).open(path.join("db")) else {
        return Ok(()); // a new database: nothing to clean
    };
    if rustix::fs::flock(&lock, rustix::fs::FlockOperation::NonBlockingLockExclusive).is_err() {
        return Err(StoreError::Locked(path.display().to_string()));
    }
    let Ok(rd) = std::fs::read_dir(path) else { return Ok(()) };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with("snap.") && name.ends_with(".generating") {
            tracing::warn!("Removing an unfinished sled snapshot left by a crash: {name}");
            std::fs::remove_file(e.path()).map_err(|e| StoreError::Sled(sled::Error::Io(e)))?;
        }
    }
    Ok(())
}

/// sled reports its lock as an I/O error; make it [`StoreError::Locked`].
fn classify_open_error(path: &Path, e: sled::Error) -> StoreError {
    match &e {
        sled::Error::Io(io) if io.kind() == std::io::ErrorKind::WouldBlock => {
            StoreError::Locked(path.display().to_string())
        }
        _ => StoreError::Sled(e),
    }
}

/// One transaction's writes, prepared outside the closure (which may run again).
#[derive(Default)]
struct Writes {
    puts: Vec<(Tree, Vec<u8>, Option<Vec<u8>>)>,
    counts: Vec<Vec<u8>>,
    schedule: Vec<(Vec<u8>, Option<[u8; 8]>)>,
}

impl Writes {
    fn put(&mut self, t: Tree, k: Vec<u8>, v: Vec<u8>) {
        self.puts.push((t, k, Some(v)));
    }

    fn del(&mut self, t: Tree, k: Vec<u8>) {
        self.puts.push((t, k, None));
    }

    fn set(&mut self, t: Tree, k: Vec<u8>, present: bool) {
        self.puts.push((t, k, present.then(Vec::new)));
    }
}

/// The transactional trees of one transaction, by name.
struct Tx<'a>(&'a [TransactionalTree]);

impl Tx<'_> {
    fn tree(&self, t: Tree) -> Result<&TransactionalTree, ConflictableTransactionError<StoreError>> {
        self.0.get(t.index()).ok_or_else(|| {
            ConflictableTransactionError::Abort(StoreError::Corrupt(format!("tree {} missing", t.name())))
        })
    }
}

impl Store {
    /// Open (or create) the database at `path`.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        remove_unfinished_snapshots(path)?;
        let db = sled::Config::new()
            .path(path)
            .cache_capacity(32 * 1024 * 1024)
            .mode(sled::Mode::HighThroughput)
            .open()
            .map_err(|e| classify_open_error(path, e))?;
        let trees = Tree::ALL.iter().map(|t| db.open_tree(t.name())).collect::<Result<Vec<_>, _>>()?;
        let hwm_path = keys::high_water_path(path);
        let store = Store { db, trees, high_water: std::sync::Arc::new((hwm_path, std::sync::Mutex::new(0))) };
        migrate::migrate(&store.db, store.tree(Tree::Meta))?;
        store.check_high_water(path)?;
        Ok(store)
    }

    /// The processed total, counted once for a store from before the counter.
    fn processed_total(&self) -> Result<u64, StoreError> {
        let meta = self.tree(Tree::Meta);
        match meta.get(keys::PROCESSED_TOTAL_KEY)? {
            Some(v) => Ok(v.as_ref().try_into().map(u64::from_be_bytes).unwrap_or(0)),
            None => {
                let n = self.tree(Tree::Processed).len() as u64;
                meta.insert(keys::PROCESSED_TOTAL_KEY, &n.to_be_bytes())?;
                Ok(n)
            }
        }
    }

    /// Refuse a store that forgot mail it had made durable (sled recovers a
    /// cut-short log to an earlier point without an error).
    fn check_high_water(&self, path: &Path) -> Result<(), StoreError> {
        let found = self.processed_total()?;
        let (hwm_path, last) = &*self.high_water;
        let expected = match std::fs::read_to_string(hwm_path) {
            Ok(t) => t
                .trim()
                .parse::<u64>()
                .map_err(|_| StoreError::Corrupt(format!("{}: not a number of processed mails", hwm_path.display())))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
            Err(e) => return Err(StoreError::Sled(sled::Error::Io(e))),
        };
        if found < expected {
            return Err(StoreError::Damaged { path: path.display().to_string(), found, expected });
        }
        *last.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = expected;
        Ok(())
    }

    fn tree(&self, t: Tree) -> &sled::Tree {
        // `trees` holds one tree per `Tree::ALL` entry, in that order.
        &self.trees[t.index()]
    }

    /// Make everything committed so far durable (fsync), then raise the
    /// high-water mark beside the store to what is now durable.
    pub fn flush(&self) -> Result<(), StoreError> {
        // Counted before the flush: a commit another thread makes meanwhile
        // may not be in this flush, and the mark must never run ahead of
        // what is durable (found by tests/crash.rs: 225 marked, 224 kept).
        let total = self.processed_total()?;
        self.db.flush()?;
        let (hwm_path, last) = &*self.high_water;
        let mut last = last.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if total > *last {
            // Not fsynced: losing it in a crash only leaves an older (lower) mark.
            let tmp = hwm_path.with_extension("hwm.tmp");
            std::fs::write(&tmp, format!("{total}\n"))
                .and_then(|_| std::fs::rename(&tmp, hwm_path))
                .map_err(|e| StoreError::Sled(sled::Error::Io(e)))?;
            *last = total;
        }
        Ok(())
    }

    pub fn is_processed(&self, sha256: &str, message_id: Option<&str>) -> Result<bool, StoreError> {
        Ok(self.tree(Tree::Processed).contains_key(keys::processed(sha256, message_id))?)
    }

    /// Apply a decision's effects, and a mail's processed mark, in one
    /// transaction. `key` is `None` for work that comes from the clock.
    pub fn commit(&self, key: Option<(&str, Option<&str>, &Processed)>, effects: &[Effect]) -> Result<(), StoreError> {
        let mut w = Writes::default();
        let mut links: BTreeMap<String, ThreadLink> = BTreeMap::new();
        if let Some((sha, mid, p)) = key {
            w.put(Tree::Processed, keys::processed(sha, mid), to_json(p)?);
        }
        for e in effects {
            match e {
                Effect::SaveOrder(o) => {
                    w.put(Tree::Orders, o.id.clone().into_bytes(), to_json(o)?);
                    w.set(Tree::ClientOpen, keys::client_order(&o.client, &o.id), !o.closed);
                    for (kind, values) in &o.references {
                        for v in values {
                            w.set(Tree::OrderRefs, keys::order_ref(kind, v, &o.id), true);
                        }
                    }
                }
                Effect::SaveReclamo(r) => w.put(Tree::Reclamos, r.id.clone().into_bytes(), to_json(r)?),
                Effect::SaveTask(t) => w.put(Tree::Tasks, t.id.clone().into_bytes(), to_json(t)?),
                Effect::LinkThread { message_id, link } => {
                    // Merge with what the id already points at (stored or earlier in this commit).
                    let merged = match links.remove(message_id) {
                        Some(m) => m,
                        None => self.thread(message_id)?.unwrap_or_default(),
                    };
                    let merged = ThreadLink {
                        order: link.order.clone().or(merged.order),
                        reclamo: link.reclamo.clone().or(merged.reclamo),
                    };
                    links.insert(message_id.clone(), merged);
                }
                Effect::Queue { mail, bytes } => {
                    w.put(Tree::Outbox, mail.id.clone().into_bytes(), to_json(mail)?);
                    w.put(Tree::OutboxRaw, mail.id.clone().into_bytes(), bytes.clone());
                    if mail.state == OutboxState::Pendiente {
                        w.set(Tree::OutboxPending, mail.id.clone().into_bytes(), true);
                    }
                }
                Effect::UpdateOutgoing(mail) => {
                    w.put(Tree::Outbox, mail.id.clone().into_bytes(), to_json(mail)?);
                    w.set(Tree::OutboxPending, mail.id.clone().into_bytes(), mail.state == OutboxState::Pendiente);
                }
                Effect::RefusalNoticed { id } => w.del(Tree::OutboxFailed, id.clone().into_bytes()),
                Effect::CountReply { counter, hour } => w.counts.push(keys::reply(counter, *hour)),
                Effect::JobDone { key, at } => w.put(Tree::Jobs, keys::job(key), at.to_rfc3339().into_bytes()),
                Effect::Schedule { subject, at } => {
                    w.schedule.push((keys::subject(subject), at.map(keys::instant_bytes)))
                }
                Effect::Sequence { name, value } => {
                    w.put(Tree::Meta, keys::sequence(name), value.to_be_bytes().to_vec())
                }
                Effect::SetThread { message_id, link } => {
                    links.remove(message_id);
                    match link {
                        Some(l) => w.put(Tree::Threads, message_id.clone().into_bytes(), to_json(l)?),
                        None => w.del(Tree::Threads, message_id.clone().into_bytes()),
                    }
                }
                Effect::SaveUndo(u) => w.put(Tree::Undo, u.id.clone().into_bytes(), to_json(u)?),
                Effect::KeepOriginal { sha256, bytes } => {
                    w.put(Tree::Originals, sha256.clone().into_bytes(), bytes.clone())
                }
                Effect::RequestDone { target } => w.del(Tree::Requests, target.clone().into_bytes()),
                // Made into mail by the pipeline before the commit; never stored as such.
                Effect::Dossier(_) => {}
            }
        }
        for (mid, link) in &links {
            w.put(Tree::Threads, mid.clone().into_bytes(), to_json(link)?);
        }
        let counts_processed = key.is_some();
        self.trees.as_slice().transaction(|t| {
            let tx = Tx(t);
            if counts_processed {
                let meta = tx.tree(Tree::Meta)?;
                let n = meta
                    .get(keys::PROCESSED_TOTAL_KEY)?
                    .and_then(|v| v.as_ref().try_into().ok().map(u64::from_be_bytes))
                    .unwrap_or(0);
                meta.insert(keys::PROCESSED_TOTAL_KEY, &(n + 1).to_be_bytes())?;
            }
            for (tree, k, v) in &w.puts {
                let tree = tx.tree(*tree)?;
                match v {
                    Some(v) => tree.insert(k.as_slice(), v.as_slice())?,
                    None => tree.remove(k.as_slice())?,
                };
            }
            let replies = tx.tree(Tree::Replies)?;
            for k in &w.counts {
                let n = match replies.get(k)? {
                    Some(v) => v.as_ref().try_into().map(u32::from_be_bytes).unwrap_or(0),
                    None => 0,
                };
                replies.insert(k.as_slice(), &(n + 1).to_be_bytes())?;
            }
            let (sched, by) = (tx.tree(Tree::Schedule)?, tx.tree(Tree::ScheduleBy)?);
            for (subject, at) in &w.schedule {
                if let Some(old) = by.get(subject.as_slice())? {
                    sched.remove(keys::schedule_key(&old, subject))?;
                }
                match at {
                    Some(at) => {
                        sched.insert(keys::schedule_key(at, subject), &[])?;
                        by.insert(subject.as_slice(), at)?;
                    }
                    None => {
                        by.remove(subject.as_slice())?;
                    }
                }
            }
            Ok::<(), ConflictableTransactionError<StoreError>>(())
        })?;
        Ok(())
    }

    fn get<T: DeserializeOwned>(&self, tree: Tree, key: &str) -> Result<Option<T>, StoreError> {
        self.tree(tree).get(key.as_bytes())?.map(|v| from_json(&v)).transpose()
    }

    fn all<T: DeserializeOwned>(&self, tree: Tree) -> Result<Vec<T>, StoreError> {
        self.tree(tree).iter().values().map(|v| from_json(&v?)).collect()
    }

    pub fn order(&self, id: &str) -> Result<Option<Order>, StoreError> {
        self.get(Tree::Orders, id)
    }

    pub fn orders(&self) -> Result<Vec<Order>, StoreError> {
        self.all(Tree::Orders)
    }

    /// Orders holding reference `kind`=`value` (through the index).
    pub fn orders_by_ref(&self, kind: &str, value: &str) -> Result<Vec<Order>, StoreError> {
        let prefix = keys::order_ref_prefix(kind, value);
        let mut out = Vec::new();
        for kv in self.tree(Tree::OrderRefs).scan_prefix(&prefix) {
            let (k, _) = kv?;
            let id = String::from_utf8_lossy(&k[prefix.len()..]).into_owned();
            // The index is never pruned (a merge undone, a document moved):
            // the order itself says whether it still holds the reference.
            if let Some(o) = self.order(&id)?
                && o.references.get(kind).is_some_and(|v| v.contains(value))
            {
                out.push(o);
            }
        }
        Ok(out)
    }

    pub fn reclamo(&self, id: &str) -> Result<Option<Reclamo>, StoreError> {
        self.get(Tree::Reclamos, id)
    }

    pub fn reclamos(&self) -> Result<Vec<Reclamo>, StoreError> {
        self.all(Tree::Reclamos)
    }

    pub fn task(&self, id: &str) -> Result<Option<Task>, StoreError> {
        self.get(Tree::Tasks, id)
    }

    pub fn tasks(&self) -> Result<Vec<Task>, StoreError> {
        self.all(Tree::Tasks)
    }

    /// What the commands confirmed by outbox mail `id` changed.
    pub fn undo(&self, id: &str) -> Result<Option<Undo>, StoreError> {
        self.get(Tree::Undo, id)
    }

    /// The kept raw bytes of a mail tasks came from.
    pub fn original(&self, sha256: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.tree(Tree::Originals).get(sha256.as_bytes())?.map(|v| v.to_vec()))
    }

    /// Ask the daemon to send a mail through the desk again.
    pub fn request_reprocess(&self, r: &Request) -> Result<(), StoreError> {
        self.tree(Tree::Requests).insert(r.target.as_bytes(), to_json(r)?)?;
        Ok(())
    }

    /// Reprocess requests waiting, oldest first.
    pub fn requests(&self) -> Result<Vec<Request>, StoreError> {
        let mut v: Vec<Request> = self.all(Tree::Requests)?;
        v.sort_by(|a, b| (a.at, &a.target).cmp(&(b.at, &b.target)));
        Ok(v)
    }

    /// Are reprocess requests waiting?
    pub fn has_requests(&self) -> bool {
        !self.tree(Tree::Requests).is_empty()
    }

    /// Forget a quarantine record (its message went through the desk again).
    pub fn forget_quarantine(&self, name: &str) -> Result<bool, StoreError> {
        let tree = self.tree(Tree::Quarantine);
        for kv in tree.iter() {
            let (k, v) = kv?;
            let q: Quarantined = from_json(&v)?;
            if q.name == name {
                tree.remove(k)?;
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The cursor of an IMAP folder (`source` names server, user and folder).
    pub fn cursor(&self, source: &str) -> Result<Option<Cursor>, StoreError> {
        self.tree(Tree::Meta).get(keys::cursor(source))?.map(|v| from_json(&v)).transpose()
    }

    pub fn set_cursor(&self, source: &str, cursor: &Cursor) -> Result<(), StoreError> {
        self.tree(Tree::Meta).insert(keys::cursor(source), to_json(cursor)?)?;
        Ok(())
    }

    /// Record a message that could not be processed (durable at the next flush).
    pub fn record_quarantine(&self, q: &Quarantined) -> Result<(), StoreError> {
        self.tree(Tree::Quarantine).insert(keys::quarantine(q.at, &q.name), to_json(q)?)?;
        Ok(())
    }

    /// Quarantined messages, oldest first.
    pub fn quarantined(&self) -> Result<Vec<Quarantined>, StoreError> {
        self.all(Tree::Quarantine)
    }

    pub fn thread(&self, message_id: &str) -> Result<Option<ThreadLink>, StoreError> {
        self.get(Tree::Threads, message_id)
    }

    /// The processed record of one mail, if it was processed.
    pub fn processed_record(&self, sha256: &str, message_id: Option<&str>) -> Result<Option<Processed>, StoreError> {
        match self.tree(Tree::Processed).get(keys::processed(sha256, message_id))? {
            Some(v) => Ok(Some(from_json(&v)?)),
            None => Ok(None),
        }
    }

    pub fn processed(&self) -> Result<Vec<Processed>, StoreError> {
        self.all(Tree::Processed)
    }

    /// Every open order (through the open-orders index: closed ones are not read).
    pub fn open_orders(&self) -> Result<Vec<Order>, StoreError> {
        let mut out = Vec::new();
        for k in self.tree(Tree::ClientOpen).iter().keys() {
            let k = k?;
            let key = String::from_utf8_lossy(&k);
            if let Some((_, id)) = key.split_once('|')
                && let Some(o) = self.order(id)?
            {
                out.push(o);
            }
        }
        Ok(out)
    }

    /// The `limit` most recent open orders of `client`, and how many are open.
    pub fn open_orders_of_client(&self, client: &str, limit: usize) -> Result<(Vec<Order>, usize), StoreError> {
        let prefix = keys::client_prefix(client);
        let mut out = Vec::new();
        let mut total = 0;
        for k in self.tree(Tree::ClientOpen).scan_prefix(&prefix).keys().rev() {
            let k = k?;
            total += 1;
            if out.len() < limit {
                let id = String::from_utf8_lossy(&k[prefix.len()..]).into_owned();
                if let Some(o) = self.order(&id)? {
                    out.push(o);
                }
            }
        }
        Ok((out, total))
    }
}

#[cfg(test)]
mod tests;
