//! The store (sled), with its key layout in `keys.rs` and the attachments'
//! in [`attachments`]: the only place that knows how things are kept. A
//! decision's effects (and a mail's processed mark) are applied in one
//! transaction; [`Store::flush`] makes them durable before any external
//! side effect (moving the Maildir file, sending). The store implements
//! the desk's [`View`](crate::desk::View) (`view.rs`).

pub mod attachments;
pub mod export;
mod keys;
mod migrate;
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

/// A private copy of a store for dry runs (`classify --desk`, `rules
/// replay`): the files copied aside (the daemon may hold the original, and
/// nothing done to the copy reaches it), removed when dropped.
pub struct StoreCopy {
    store: Option<Store>,
    dir: PathBuf,
}

impl StoreCopy {
    pub fn store(&self) -> &Store {
        // `store` is only taken in `drop`.
        self.store.as_ref().unwrap_or_else(|| unreachable!("a StoreCopy holds its store until dropped"))
    }
}

impl Drop for StoreCopy {
    fn drop(&mut self) {
        drop(self.store.take());
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Copy the files of a sled folder (without unfinished snapshots).
fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        let name = e.file_name();
        if name.to_string_lossy().ends_with(".generating") {
            continue;
        }
        let kind = e.file_type()?;
        if kind.is_dir() {
            copy_tree(&e.path(), &to.join(&name))?;
        } else if kind.is_file() {
            std::fs::copy(e.path(), to.join(&name))?;
        }
    }
    Ok(())
}

impl Store {
    /// Open (or create) the database at `path`.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        remove_unfinished_snapshots(path)?;
        let db = sled::Config::new()
            .path(path)
            .cache_capacity(64 * 1024 * 1024)
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

    /// Open a private copy of the store at `path` as it is now (an empty
    /// store when there is none yet).
    pub fn open_copy(path: &Path) -> Result<StoreCopy, StoreError> {
        let dir = std::env::temp_dir().join(format!("buzon-copy-{}-{}", std::process::id(), fastrand::u64(..)));
        let io = |e: std::io::Error| StoreError::Sled(sled::Error::Io(e));
        let db = dir.join("store");
        if path.join("db").exists() {
            copy_tree(path, &db).map_err(io)?;
        }
        let mut copy = StoreCopy { store: None, dir };
        copy.store = Some(Store::open(&db)?);
        Ok(copy)
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

    pub fn outbox(&self) -> Result<Vec<Outgoing>, StoreError> {
        self.all(Tree::Outbox)
    }

    pub fn outgoing(&self, id: &str) -> Result<Option<Outgoing>, StoreError> {
        self.get(Tree::Outbox, id)
    }

    pub fn outgoing_bytes(&self, id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.tree(Tree::OutboxRaw).get(id.as_bytes())?.map(|v| v.to_vec()))
    }

    /// Save an outbox entry's new state (sent, failed, next attempt). A mail
    /// a person held or cancelled meanwhile stays held or cancelled: a send
    /// attempt that ends in "try again" never releases it.
    pub fn update_outgoing(&self, mail: &Outgoing) -> Result<(), StoreError> {
        let (outbox, idx, failed) =
            (self.tree(Tree::Outbox), self.tree(Tree::OutboxPending), self.tree(Tree::OutboxFailed));
        (outbox, idx, failed).transaction(|(outbox, idx, failed)| {
            let stored: Option<Outgoing> = match outbox.get(mail.id.as_bytes())? {
                Some(b) => from_json(&b).ok(),
                None => None,
            };
            let mut mail = mail.clone();
            if let Some(s) = stored
                && matches!(s.state, OutboxState::Retenido | OutboxState::Cancelado)
                && mail.state == OutboxState::Pendiente
            {
                mail.state = s.state;
                mail.held = s.held;
                mail.cancelled = s.cancelled;
            }
            let pending = mail.state == OutboxState::Pendiente;
            let refused = matches!(mail.state, OutboxState::Enviado | OutboxState::Fallido) && !mail.refused.is_empty();
            let bytes = to_json(&mail).map_err(ConflictableTransactionError::Abort)?;
            outbox.insert(mail.id.as_bytes(), bytes)?;
            if pending {
                idx.insert(mail.id.as_bytes(), &[])?;
            } else {
                idx.remove(mail.id.as_bytes())?;
            }
            if refused {
                failed.insert(mail.id.as_bytes(), &[])?;
            }
            Ok::<(), ConflictableTransactionError<StoreError>>(())
        })?;
        Ok(())
    }

    /// A person's hand on one outbox mail (`outbox hold|release|cancel`).
    /// Returns the mail as it now is, or why nothing was done.
    pub fn control_outgoing(
        &self,
        id: &str,
        what: &Control,
        mark: &Mark,
    ) -> Result<Result<Outgoing, String>, StoreError> {
        let (outbox, idx) = (self.tree(Tree::Outbox), self.tree(Tree::OutboxPending));
        let r = (outbox, idx).transaction(|(outbox, idx)| {
            let Some(b) = outbox.get(id.as_bytes())? else {
                return Ok(Err(format!("no outgoing mail {id}")));
            };
            let mut m: Outgoing = from_json(&b).map_err(ConflictableTransactionError::Abort)?;
            let done = match (what, m.state) {
                (Control::Hold, OutboxState::Pendiente) => {
                    m.state = OutboxState::Retenido;
                    m.held = Some(mark.clone());
                    Ok(())
                }
                (Control::Release, OutboxState::Retenido) => {
                    m.state = OutboxState::Pendiente;
                    m.next_attempt = None;
                    Ok(())
                }
                (Control::Cancel, OutboxState::Pendiente | OutboxState::Retenido) => {
                    m.state = OutboxState::Cancelado;
                    m.cancelled = Some(mark.clone());
                    Ok(())
                }
                (_, state) => Err(format!(
                    "{id} is {state}: {}",
                    match what {
                        Control::Hold => "only pending mail can be held",
                        Control::Release => "only held mail can be released",
                        Control::Cancel => "only pending or held mail can be cancelled",
                    }
                )),
            };
            if let Err(why) = done {
                return Ok(Err(why));
            }
            outbox.insert(id.as_bytes(), to_json(&m).map_err(ConflictableTransactionError::Abort)?)?;
            if m.state == OutboxState::Pendiente {
                idx.insert(id.as_bytes(), &[])?;
            } else {
                idx.remove(id.as_bytes())?;
            }
            Ok::<Result<Outgoing, String>, ConflictableTransactionError<StoreError>>(Ok(m))
        })?;
        Ok(r)
    }

    /// The ids of every outbox mail in `state` now.
    pub fn outgoing_in(&self, state: OutboxState) -> Result<Vec<String>, StoreError> {
        let mut v: Vec<Outgoing> = self.outbox()?.into_iter().filter(|m| m.state == state).collect();
        v.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(v.into_iter().map(|m| m.id).collect())
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

    /// Outbox ids of refused mails no task tells a person about yet.
    pub fn unnoticed_refusals(&self) -> Result<Vec<String>, StoreError> {
        self.tree(Tree::OutboxFailed).iter().keys().map(|k| Ok(String::from_utf8_lossy(&k?).into_owned())).collect()
    }

    /// The earliest instant in the scheduler's index (one B-tree lookup).
    pub fn next_scheduled(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        Ok(self.tree(Tree::Schedule).first()?.and_then(|(k, _)| keys::instant_from_bytes(&k)))
    }

    /// Subjects whose scheduled instant is at or before `now`, earliest
    /// first (an entry whose subject this buzon cannot read is skipped).
    pub fn scheduled_until(&self, now: DateTime<Utc>) -> Result<Vec<Subject>, StoreError> {
        let end = keys::instant_bytes(now + chrono::Duration::milliseconds(1));
        let mut out = Vec::new();
        for k in self.tree(Tree::Schedule).range(..end.to_vec()).keys() {
            let k = k?;
            match k.get(8..).and_then(keys::subject_from) {
                Some(s) => out.push(s),
                None => tracing::warn!("Unreadable schedule entry {:?}: skipped", String::from_utf8_lossy(&k)),
            }
        }
        Ok(out)
    }

    /// The scheduled instant of one subject.
    pub fn scheduled(&self, subject: &Subject) -> Result<Option<DateTime<Utc>>, StoreError> {
        Ok(self.tree(Tree::ScheduleBy).get(keys::subject(subject))?.and_then(|v| keys::instant_from_bytes(&v)))
    }

    /// What the schedule index was computed with (`None`: it must be rebuilt).
    pub fn schedule_signature(&self) -> Result<Option<String>, StoreError> {
        Ok(self.tree(Tree::Meta).get(keys::SCHEDULE_SIGNATURE_KEY)?.map(|v| String::from_utf8_lossy(&v).into_owned()))
    }

    /// Empty the schedule index (before a rebuild) and forget its signature.
    pub fn clear_schedule(&self) -> Result<(), StoreError> {
        self.tree(Tree::Meta).remove(keys::SCHEDULE_SIGNATURE_KEY)?;
        self.tree(Tree::Schedule).clear()?;
        self.tree(Tree::ScheduleBy).clear()?;
        Ok(())
    }

    /// The index was rebuilt with this signature.
    pub fn set_schedule_signature(&self, signature: &str) -> Result<(), StoreError> {
        self.tree(Tree::Meta).insert(keys::SCHEDULE_SIGNATURE_KEY, signature.as_bytes())?;
        Ok(())
    }

    /// Are there refused outbox mails no task tells a person about yet?
    pub fn has_unnoticed_refusals(&self) -> bool {
        !self.tree(Tree::OutboxFailed).is_empty()
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

    /// Outgoing mails due for a send attempt at `now`, oldest first.
    pub fn due_outgoing(&self, now: DateTime<Utc>) -> Result<Vec<Outgoing>, StoreError> {
        let mut v = Vec::new();
        for k in self.tree(Tree::OutboxPending).iter().keys() {
            let k = k?;
            let id = String::from_utf8_lossy(&k).into_owned();
            if let Some(o) = self.outgoing(&id)?
                && o.state == OutboxState::Pendiente
                && o.next_attempt.is_none_or(|t| t <= now)
            {
                v.push(o);
            }
        }
        v.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(v)
    }

    /// The earliest instant a pending mail waits for (`None`: none waits).
    pub fn next_outbox_attempt(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        let mut first: Option<DateTime<Utc>> = None;
        for k in self.tree(Tree::OutboxPending).iter().keys() {
            let k = k?;
            if let Some(o) = self.outgoing(&String::from_utf8_lossy(&k))?
                && o.state == OutboxState::Pendiente
                && let Some(at) = o.next_attempt
            {
                first = Some(first.map_or(at, |f| f.min(at)));
            }
        }
        Ok(first)
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
mod tests {
    use super::*;
    use crate::desk::effect::Sequence;

    #[test]
    fn a_snapshot_left_unfinished_by_a_crash_does_not_stop_the_store() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("store");
        {
            let s = Store::open(&path).unwrap_or_else(|e| panic!("{e}"));
            s.commit(None, &[Effect::Sequence { name: Sequence::Tasks, value: 7 }]).unwrap_or_else(|e| panic!("{e}"));
            s.flush().unwrap_or_else(|e| panic!("{e}"));
        }
        // What a kill -9 during sled's snapshot writing leaves behind.
        std::fs::write(path.join("snap.00000000FFFFFFFF.generating"), b"").unwrap_or_else(|e| panic!("{e}"));
        // sled's flusher thread may hold the dropped database's lock a moment
        // longer (the daemon waits it out the same way).
        let started = std::time::Instant::now();
        let s = loop {
            match Store::open(&path) {
                Err(StoreError::Locked(_)) if started.elapsed() < std::time::Duration::from_secs(10) => {
                    std::thread::sleep(std::time::Duration::from_millis(50))
                }
                r => break r.unwrap_or_else(|e| panic!("the store must open after a crash: {e}")),
            }
        };
        assert_eq!(crate::desk::View::sequence(&s, &Sequence::Tasks).unwrap_or(0), 7);
    }

    #[test]
    fn the_schedule_index_keeps_one_entry_per_subject_in_time_order() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let s = Store::open(&dir.path().join("store")).unwrap_or_else(|e| panic!("{e}"));
        let at = |h: i64| DateTime::from_timestamp(1_800_000_000 + h * 3600, 0).unwrap_or_default();
        let sched = |subject: Subject, t: Option<DateTime<Utc>>| Effect::Schedule { subject, at: t };
        let commit = |e: &[Effect]| s.commit(None, e).unwrap_or_else(|e| panic!("{e}"));
        let (r1, t1, o1) =
            (Subject::Reclamo("R-1".into()), Subject::Task("T-1".into()), Subject::Review("OC-1".into()));
        commit(&[sched(r1.clone(), Some(at(5))), sched(t1.clone(), Some(at(3)))]);
        assert_eq!(s.next_scheduled().ok().flatten(), Some(at(3)));
        // Moving a subject drops its old entry, in the same transaction.
        commit(&[sched(t1.clone(), Some(at(7))), sched(o1.clone(), Some(at(-1)))]);
        assert_eq!(s.next_scheduled().ok().flatten(), Some(at(-1)), "earliest first");
        assert_eq!(s.scheduled_until(at(5)).unwrap_or_default(), vec![o1.clone(), r1.clone()]);
        assert_eq!(s.scheduled(&t1).ok().flatten(), Some(at(7)));
        commit(&[sched(o1, None), sched(r1, None)]);
        assert_eq!(s.scheduled_until(at(100)).unwrap_or_default(), vec![t1]);
        assert_eq!(s.next_scheduled().ok().flatten(), Some(at(7)));
    }
}
