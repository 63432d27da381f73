//! The store (sled): the only module that knows the storage layout. A
//! message's effects, its processed mark and its outgoing mails are applied
//! in one transaction; `flush` makes them durable before any external side
//! effect (moving the Maildir file, sending).

mod keys;
mod migrate;

use std::path::Path;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError};

use crate::desk::effect::Effect;
use crate::desk::model::{Order, Outgoing, Processed, Reclamo, Task, ThreadLink};

/// Store failures. All are fatal for the operation: nothing was committed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database engine failed (I/O, corruption, lock held by another process).
    #[error("store: {0}")]
    Sled(#[from] sled::Error),
    /// A stored record could not be read back.
    #[error("store: corrupt record: {0}")]
    Corrupt(String),
    /// The database was written by a newer buzon.
    #[error("store: layout version {found} is newer than this buzon's ({expected})")]
    Layout { found: u64, expected: u64 },
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
    meta: sled::Tree,
    processed: sled::Tree,
    orders: sled::Tree,
    reclamos: sled::Tree,
    tasks: sled::Tree,
    outbox: sled::Tree,
    outbox_raw: sled::Tree,
    threads: sled::Tree,
    replies: sled::Tree,
    order_refs: sled::Tree,
    client_orders: sled::Tree,
    client_open: sled::Tree,
    outbox_pending: sled::Tree,
    jobs: sled::Tree,
    quarantine: sled::Tree,
    outbox_failed: sled::Tree,
    schedule: sled::Tree,
    schedule_by: sled::Tree,
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

fn to_json<T: Serialize>(v: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn from_json<T: DeserializeOwned>(b: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(b).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Is this error sled's "the folder is locked by another process"?
pub fn is_locked(e: &StoreError) -> bool {
    match e {
        StoreError::Sled(sled::Error::Io(io)) => {
            io.kind() == std::io::ErrorKind::WouldBlock || io.to_string().contains("lock")
        }
        _ => false,
    }
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
        return Ok(()); // in use: sled's open reports the lock
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

impl Store {
    /// Open (or create) the database at `path`.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        remove_unfinished_snapshots(path)?;
        let db =
            sled::Config::new().path(path).cache_capacity(64 * 1024 * 1024).mode(sled::Mode::HighThroughput).open()?;
        let tree = |name: &str| db.open_tree(name);
        let store = Store {
            meta: tree(keys::META)?,
            processed: tree(keys::PROCESSED)?,
            orders: tree(keys::ORDERS)?,
            reclamos: tree(keys::RECLAMOS)?,
            tasks: tree(keys::TASKS)?,
            outbox: tree(keys::OUTBOX)?,
            outbox_raw: tree(keys::OUTBOX_RAW)?,
            threads: tree(keys::THREADS)?,
            replies: tree(keys::REPLIES)?,
            order_refs: tree(keys::ORDER_REFS)?,
            client_orders: tree(keys::CLIENT_ORDERS)?,
            client_open: tree(keys::CLIENT_OPEN)?,
            outbox_pending: tree(keys::OUTBOX_PENDING)?,
            jobs: tree(keys::JOBS)?,
            quarantine: tree(keys::QUARANTINE)?,
            outbox_failed: tree(keys::OUTBOX_FAILED)?,
            schedule: tree(keys::SCHEDULE)?,
            schedule_by: tree(keys::SCHEDULE_BY)?,
            db,
        };
        migrate::migrate(&store.meta)?;
        Ok(store)
    }

    /// Make everything committed so far durable (fsync).
    pub fn flush(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        Ok(())
    }

    pub fn is_processed(&self, sha256: &str, message_id: Option<&str>) -> Result<bool, StoreError> {
        Ok(self.processed.contains_key(keys::processed_key(sha256, message_id))?)
    }

    /// Apply a message's effects and its processed mark in one transaction.
    /// `key` is `None` for work that comes from the clock, not from a mail.
    pub fn commit(&self, key: Option<(&str, Option<&str>, &Processed)>, effects: &[Effect]) -> Result<(), StoreError> {
        // Serialise outside the transaction closure (which may run again).
        let mut puts: Vec<(usize, Vec<u8>, Option<Vec<u8>>)> = Vec::new();
        const PROC: usize = 0;
        const ORD: usize = 1;
        const REC: usize = 2;
        const TSK: usize = 3;
        const OUT: usize = 4;
        const RAW: usize = 5;
        const THR: usize = 6;
        const META: usize = 8;
        const REFS: usize = 9;
        const CLIENTS: usize = 10;
        const OPEN: usize = 11;
        const PENDING: usize = 12;
        const JOBS: usize = 13;
        const FAILED: usize = 14;
        let mut links: std::collections::BTreeMap<String, ThreadLink> = std::collections::BTreeMap::new();
        let mut counts: Vec<Vec<u8>> = Vec::new();
        let mut schedule: Vec<(&str, Option<[u8; 8]>)> = Vec::new();
        if let Some((sha, mid, p)) = key {
            puts.push((PROC, keys::processed_key(sha, mid), Some(to_json(p)?)));
        }
        for e in effects {
            match e {
                Effect::SaveOrder(o) => {
                    puts.push((ORD, o.id.clone().into_bytes(), Some(to_json(o)?)));
                    puts.push((CLIENTS, keys::client_order_key(&o.client, &o.id), Some(Vec::new())));
                    let open = if o.closed { None } else { Some(Vec::new()) };
                    puts.push((OPEN, keys::client_order_key(&o.client, &o.id), open));
                    for (kind, values) in &o.references {
                        for v in values {
                            puts.push((REFS, keys::order_ref_key(kind, v, &o.id), Some(Vec::new())));
                        }
                    }
                }
                Effect::SaveReclamo(r) => puts.push((REC, r.id.clone().into_bytes(), Some(to_json(r)?))),
                Effect::SaveTask(t) => puts.push((TSK, t.id.clone().into_bytes(), Some(to_json(t)?))),
                Effect::LinkThread { message_id, link } => {
                    // Merge with what the id already points at (stored or earlier in this batch).
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
                    puts.push((OUT, mail.id.clone().into_bytes(), Some(to_json(mail)?)));
                    puts.push((RAW, mail.id.clone().into_bytes(), Some(bytes.clone())));
                    if mail.state == "pendiente" {
                        puts.push((PENDING, mail.id.clone().into_bytes(), Some(Vec::new())));
                    }
                }
                Effect::UpdateOutgoing(mail) => {
                    puts.push((OUT, mail.id.clone().into_bytes(), Some(to_json(mail)?)));
                    let pending = if mail.state == "pendiente" { Some(Vec::new()) } else { None };
                    puts.push((PENDING, mail.id.clone().into_bytes(), pending));
                }
                Effect::RefusalNoticed { id } => puts.push((FAILED, id.clone().into_bytes(), None)),
                Effect::CountReply { address, hour } => counts.push(keys::reply_key(address, hour)),
                Effect::JobDone { key, at } => {
                    puts.push((JOBS, key.clone().into_bytes(), Some(at.to_rfc3339().into_bytes())))
                }
                Effect::Schedule { subject, at } => schedule.push((subject, at.map(keys::instant_bytes))),
                Effect::Sequence { name, value } => {
                    puts.push((META, keys::seq_key(name), Some(value.to_be_bytes().to_vec())))
                }
            }
        }
        for (mid, link) in &links {
            puts.push((THR, mid.clone().into_bytes(), Some(to_json(link)?)));
        }
        let trees = [
            self.processed.clone(),
            self.orders.clone(),
            self.reclamos.clone(),
            self.tasks.clone(),
            self.outbox.clone(),
            self.outbox_raw.clone(),
            self.threads.clone(),
            self.replies.clone(),
            self.meta.clone(),
            self.order_refs.clone(),
            self.client_orders.clone(),
            self.client_open.clone(),
            self.outbox_pending.clone(),
            self.jobs.clone(),
            self.outbox_failed.clone(),
            self.schedule.clone(),
            self.schedule_by.clone(),
        ];
        trees.as_slice().transaction(|t| {
            for (tree, k, v) in &puts {
                match v {
                    Some(v) => t[*tree].insert(k.as_slice(), v.as_slice())?,
                    None => t[*tree].remove(k.as_slice())?,
                };
            }
            for k in &counts {
                let n = match t[7].get(k)? {
                    Some(v) => v.as_ref().try_into().map(u32::from_be_bytes).unwrap_or(0),
                    None => 0,
                };
                t[7].insert(k.as_slice(), &(n + 1).to_be_bytes())?;
            }
            for (subject, at) in &schedule {
                let (sched, by) = (&t[15], &t[16]);
                if let Some(old) = by.get(subject.as_bytes())? {
                    sched.remove(keys::schedule_key(&old, subject))?;
                }
                match at {
                    Some(at) => {
                        sched.insert(keys::schedule_key(at, subject), &[])?;
                        by.insert(subject.as_bytes(), at)?;
                    }
                    None => {
                        by.remove(subject.as_bytes())?;
                    }
                }
            }
            Ok::<(), ConflictableTransactionError<StoreError>>(())
        })?;
        Ok(())
    }

    fn get<T: DeserializeOwned>(tree: &sled::Tree, key: &str) -> Result<Option<T>, StoreError> {
        tree.get(key.as_bytes())?.map(|v| from_json(&v)).transpose()
    }

    fn all<T: DeserializeOwned>(tree: &sled::Tree) -> Result<Vec<T>, StoreError> {
        tree.iter().values().map(|v| from_json(&v?)).collect()
    }

    pub fn order(&self, id: &str) -> Result<Option<Order>, StoreError> {
        Self::get(&self.orders, id)
    }

    pub fn orders(&self) -> Result<Vec<Order>, StoreError> {
        Self::all(&self.orders)
    }

    /// Orders holding reference `kind`=`value` (through the index).
    pub fn orders_by_ref(&self, kind: &str, value: &str) -> Result<Vec<Order>, StoreError> {
        let prefix = keys::order_ref_prefix(kind, value);
        let mut out = Vec::new();
        for kv in self.order_refs.scan_prefix(&prefix) {
            let (k, _) = kv?;
            let id = String::from_utf8_lossy(&k[prefix.len()..]).into_owned();
            if let Some(o) = self.order(&id)? {
                out.push(o);
            }
        }
        Ok(out)
    }

    pub fn reclamo(&self, id: &str) -> Result<Option<Reclamo>, StoreError> {
        Self::get(&self.reclamos, id)
    }

    pub fn reclamos(&self) -> Result<Vec<Reclamo>, StoreError> {
        Self::all(&self.reclamos)
    }

    pub fn task(&self, id: &str) -> Result<Option<Task>, StoreError> {
        Self::get(&self.tasks, id)
    }

    pub fn tasks(&self) -> Result<Vec<Task>, StoreError> {
        Self::all(&self.tasks)
    }

    pub fn outbox(&self) -> Result<Vec<Outgoing>, StoreError> {
        Self::all(&self.outbox)
    }

    pub fn outgoing(&self, id: &str) -> Result<Option<Outgoing>, StoreError> {
        Self::get(&self.outbox, id)
    }

    pub fn outgoing_bytes(&self, id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.outbox_raw.get(id.as_bytes())?.map(|v| v.to_vec()))
    }

    /// Save an outbox entry's new state (sent, failed, next attempt).
    pub fn update_outgoing(&self, mail: &Outgoing) -> Result<(), StoreError> {
        let bytes = to_json(mail)?;
        let pending = mail.state == "pendiente";
        let refused = !pending && !mail.refused.is_empty();
        (&self.outbox, &self.outbox_pending, &self.outbox_failed).transaction(|(outbox, idx, failed)| {
            outbox.insert(mail.id.as_bytes(), bytes.as_slice())?;
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

    /// The cursor of an IMAP folder (`source` names server, user and folder).
    pub fn cursor(&self, source: &str) -> Result<Option<Cursor>, StoreError> {
        self.meta.get(keys::cursor_key(source))?.map(|v| from_json(&v)).transpose()
    }

    pub fn set_cursor(&self, source: &str, cursor: &Cursor) -> Result<(), StoreError> {
        self.meta.insert(keys::cursor_key(source), to_json(cursor)?)?;
        Ok(())
    }

    /// Record a message that could not be processed (durable at the next flush).
    pub fn record_quarantine(&self, q: &Quarantined) -> Result<(), StoreError> {
        let key = format!("{}|{}", q.at.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true), q.name);
        self.quarantine.insert(key.as_bytes(), to_json(q)?)?;
        Ok(())
    }

    /// Quarantined messages, oldest first.
    pub fn quarantined(&self) -> Result<Vec<Quarantined>, StoreError> {
        Self::all(&self.quarantine)
    }

    /// Outbox ids of refused mails no task tells a person about yet.
    pub fn unnoticed_refusals(&self) -> Result<Vec<String>, StoreError> {
        self.outbox_failed.iter().keys().map(|k| Ok(String::from_utf8_lossy(&k?).into_owned())).collect()
    }

    /// The earliest instant in the scheduler's index (one B-tree lookup).
    pub fn next_scheduled(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        Ok(self.schedule.first()?.and_then(|(k, _)| keys::instant_from_bytes(&k)))
    }

    /// Subjects whose scheduled instant is at or before `now`, earliest first.
    pub fn scheduled_until(&self, now: DateTime<Utc>) -> Result<Vec<String>, StoreError> {
        let end = keys::instant_bytes(now + chrono::Duration::milliseconds(1));
        let mut out = Vec::new();
        for k in self.schedule.range(..end.to_vec()).keys() {
            let k = k?;
            out.push(String::from_utf8_lossy(&k[8.min(k.len())..]).into_owned());
        }
        Ok(out)
    }

    /// The scheduled instant of one subject.
    pub fn scheduled(&self, subject: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        Ok(self.schedule_by.get(subject.as_bytes())?.and_then(|v| keys::instant_from_bytes(&v)))
    }

    /// What the schedule index was computed with (`None`: it must be rebuilt).
    pub fn schedule_signature(&self) -> Result<Option<String>, StoreError> {
        Ok(self.meta.get(keys::SCHEDULE_SIGNATURE_KEY)?.map(|v| String::from_utf8_lossy(&v).into_owned()))
    }

    /// Empty the schedule index (before a rebuild) and forget its signature.
    pub fn clear_schedule(&self) -> Result<(), StoreError> {
        self.meta.remove(keys::SCHEDULE_SIGNATURE_KEY)?;
        self.schedule.clear()?;
        self.schedule_by.clear()?;
        Ok(())
    }

    /// The index was rebuilt with this signature.
    pub fn set_schedule_signature(&self, signature: &str) -> Result<(), StoreError> {
        self.meta.insert(keys::SCHEDULE_SIGNATURE_KEY, signature.as_bytes())?;
        Ok(())
    }

    /// Are there refused outbox mails no task tells a person about yet?
    pub fn has_unnoticed_refusals(&self) -> bool {
        !self.outbox_failed.is_empty()
    }

    /// Has the scheduled job `key` run?
    pub fn job_done(&self, key: &str) -> Result<bool, StoreError> {
        Ok(self.jobs.contains_key(key.as_bytes())?)
    }

    /// When the job `key` ran, if it did.
    pub fn job_at(&self, key: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        Ok(self
            .jobs
            .get(key.as_bytes())?
            .and_then(|v| DateTime::parse_from_rfc3339(&String::from_utf8_lossy(&v)).ok())
            .map(|d| d.with_timezone(&Utc)))
    }

    pub fn thread(&self, message_id: &str) -> Result<Option<ThreadLink>, StoreError> {
        Self::get(&self.threads, message_id)
    }

    pub fn processed(&self) -> Result<Vec<Processed>, StoreError> {
        Self::all(&self.processed)
    }

    pub fn processed_count(&self) -> usize {
        self.processed.len()
    }

    pub fn replies_in(&self, address: &str, hour: &str) -> Result<u32, StoreError> {
        Ok(self
            .replies
            .get(keys::reply_key(address, hour))?
            .and_then(|v| v.as_ref().try_into().ok().map(u32::from_be_bytes))
            .unwrap_or(0))
    }

    /// Automatic replies to `address` in the day of `hour` (`YYYYMMDD…`).
    pub fn replies_in_day(&self, address: &str, day: &str) -> Result<u32, StoreError> {
        let prefix = format!("{address}|{day}");
        let mut n = 0;
        for kv in self.replies.scan_prefix(prefix.as_bytes()) {
            let (_, v) = kv?;
            n += v.as_ref().try_into().map(u32::from_be_bytes).unwrap_or(0);
        }
        Ok(n)
    }

    pub fn sequence(&self, name: &str) -> Result<u64, StoreError> {
        Ok(self
            .meta
            .get(keys::seq_key(name))?
            .and_then(|v| v.as_ref().try_into().ok().map(u64::from_be_bytes))
            .unwrap_or(0))
    }

    /// Outgoing mails due for a send attempt at `now`, oldest first.
    pub fn due_outgoing(&self, now: DateTime<Utc>) -> Result<Vec<Outgoing>, StoreError> {
        let mut v = Vec::new();
        for k in self.outbox_pending.iter().keys() {
            let k = k?;
            let id = String::from_utf8_lossy(&k).into_owned();
            if let Some(o) = self.outgoing(&id)?
                && o.state == "pendiente"
                && o.next_attempt.is_none_or(|t| t <= now)
            {
                v.push(o);
            }
        }
        v.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(v)
    }

    /// Every open order (through the open-orders index: closed ones are not read).
    pub fn open_orders(&self) -> Result<Vec<Order>, StoreError> {
        let mut out = Vec::new();
        for k in self.client_open.iter().keys() {
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
        let prefix = format!("{client}|");
        let mut out = Vec::new();
        let mut total = 0;
        for k in self.client_open.scan_prefix(prefix.as_bytes()).keys().rev() {
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

    #[test]
    fn a_snapshot_left_unfinished_by_a_crash_does_not_stop_the_store() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("store");
        {
            let s = Store::open(&path).unwrap_or_else(|e| panic!("{e}"));
            s.commit(None, &[Effect::Sequence { name: "task".into(), value: 7 }]).unwrap_or_else(|e| panic!("{e}"));
            s.flush().unwrap_or_else(|e| panic!("{e}"));
        }
        // What a kill -9 during sled's snapshot writing leaves behind.
        std::fs::write(path.join("snap.00000000FFFFFFFF.generating"), b"").unwrap_or_else(|e| panic!("{e}"));
        let s = Store::open(&path).unwrap_or_else(|e| panic!("the store must open after a crash: {e}"));
        assert_eq!(s.sequence("task").unwrap_or(0), 7);
    }

    #[test]
    fn the_schedule_index_keeps_one_entry_per_subject_in_time_order() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let s = Store::open(&dir.path().join("store")).unwrap_or_else(|e| panic!("{e}"));
        let at = |h: i64| DateTime::from_timestamp(1_800_000_000 + h * 3600, 0).unwrap_or_default();
        let sched = |subject: &str, t: Option<DateTime<Utc>>| Effect::Schedule { subject: subject.into(), at: t };
        let commit = |e: &[Effect]| s.commit(None, e).unwrap_or_else(|e| panic!("{e}"));
        commit(&[sched("reclamo:R-1", Some(at(5))), sched("task:T-1", Some(at(3)))]);
        assert_eq!(s.next_scheduled().ok().flatten(), Some(at(3)));
        // Moving a subject drops its old entry, in the same transaction.
        commit(&[sched("task:T-1", Some(at(7))), sched("review:OC-1", Some(at(-1)))]);
        assert_eq!(s.next_scheduled().ok().flatten(), Some(at(-1)), "earliest first");
        assert_eq!(s.scheduled_until(at(5)).unwrap_or_default(), vec!["review:OC-1", "reclamo:R-1"]);
        assert_eq!(s.scheduled("task:T-1").ok().flatten(), Some(at(7)));
        commit(&[sched("review:OC-1", None), sched("reclamo:R-1", None)]);
        assert_eq!(s.scheduled_until(at(100)).unwrap_or_default(), vec!["task:T-1"]);
        assert_eq!(s.next_scheduled().ok().flatten(), Some(at(7)));
    }
}
