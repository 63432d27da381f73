//! The store as one stream of bytes, for backups: every tree, key by key,
//! and back. The layout stays the store's secret: a dump is read back only
//! by [`import`], which writes a new database and its high-water mark.
//!
//! Format (all integers big-endian):
//!
//! ```text
//! "BUZON-STORE\n" u64 layout-version u32 tree-count
//! per tree:   u32 name-length, name, u64 entry-count,
//!             per entry: u32 key-length, key, u32 value-length, value
//! trailer:    32 bytes SHA-256 of everything before it
//! ```
//!
//! Consistency: [`export`] reads tree after tree; the caller makes sure no
//! commit interleaves (the daemon's committer runs it between batches, or
//! the CLI holds the store itself). Writers outside the committer (the
//! outbox worker marking mail sent, an IMAP cursor moving forward after an
//! acknowledgement) may still land between two trees: [`import`] rebuilds
//! the outbox's pending index from the outbox entries, and an older cursor
//! only makes the source offer mail that is recognised as processed.

use std::io::{Read, Write};
use std::path::Path;

use sha2::{Digest, Sha256};

use super::keys::{self, Tree};
use super::{Store, StoreError};
use crate::desk::model::{OutboxState, Outgoing};

const MAGIC: &[u8] = b"BUZON-STORE\n";

/// What a dump holds (counted while writing or reading it).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DumpSummary {
    pub layout: u64,
    /// Processed marks ever committed (the high-water mark to write on import).
    pub processed_total: u64,
    pub processed: u64,
    pub orders: u64,
    pub reclamos: u64,
    pub tasks: u64,
    pub outbox: u64,
    pub entries: u64,
    pub bytes: u64,
}

/// A writer that hashes what passes through it and counts it.
struct Hashing<W> {
    inner: W,
    hash: Sha256,
    bytes: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

fn io(e: std::io::Error) -> StoreError {
    StoreError::Sled(sled::Error::Io(e))
}

fn count_of(summary: &mut DumpSummary, tree: &str, n: u64) {
    match tree {
        "processed" => summary.processed = n,
        "orders" => summary.orders = n,
        "reclamos" => summary.reclamos = n,
        "tasks" => summary.tasks = n,
        "outbox" => summary.outbox = n,
        _ => {}
    }
}

fn layout_of(meta: Option<sled::IVec>) -> u64 {
    meta.and_then(|v| v.as_ref().try_into().ok().map(u64::from_be_bytes)).unwrap_or(0)
}

/// Write every tree of `store` to `out`. The caller keeps commits out
/// meanwhile (see the module's text).
pub fn export(store: &Store, out: &mut dyn Write) -> Result<DumpSummary, StoreError> {
    let mut w = Hashing { inner: out, hash: Sha256::new(), bytes: 0 };
    let meta = store.tree(Tree::Meta);
    let mut summary = DumpSummary {
        layout: layout_of(meta.get(keys::LAYOUT_KEY)?),
        processed_total: layout_of(meta.get(keys::PROCESSED_TOTAL_KEY)?),
        ..DumpSummary::default()
    };
    w.write_all(MAGIC).map_err(io)?;
    w.write_all(&summary.layout.to_be_bytes()).map_err(io)?;
    w.write_all(&(Tree::ALL.len() as u32).to_be_bytes()).map_err(io)?;
    for t in Tree::ALL {
        let tree = store.tree(t);
        // Entries are counted as they are written: the count goes first, so
        // the tree is read twice would race; collect its entries instead.
        let entries: Vec<(sled::IVec, sled::IVec)> = tree.iter().collect::<Result<_, _>>()?;
        let name = t.name().as_bytes();
        w.write_all(&(name.len() as u32).to_be_bytes()).map_err(io)?;
        w.write_all(name).map_err(io)?;
        w.write_all(&(entries.len() as u64).to_be_bytes()).map_err(io)?;
        for (k, v) in &entries {
            w.write_all(&(k.len() as u32).to_be_bytes()).map_err(io)?;
            w.write_all(k).map_err(io)?;
            w.write_all(&(v.len() as u32).to_be_bytes()).map_err(io)?;
            w.write_all(v).map_err(io)?;
        }
        count_of(&mut summary, t.name(), entries.len() as u64);
        summary.entries += entries.len() as u64;
    }
    let digest = w.hash.clone().finalize();
    w.write_all(&digest).map_err(io)?;
    summary.bytes = w.bytes;
    w.flush().map_err(io)?;
    Ok(summary)
}

/// A reader that hashes what it hands out.
struct Checked<R> {
    inner: R,
    hash: Sha256,
    bytes: u64,
}

impl<R: Read> Checked<R> {
    fn exact(&mut self, n: usize) -> Result<Vec<u8>, String> {
        let mut buf = vec![0; n];
        self.inner.read_exact(&mut buf).map_err(|e| format!("cut short after {} bytes: {e}", self.bytes))?;
        self.hash.update(&buf);
        self.bytes += n as u64;
        Ok(buf)
    }

    fn u32(&mut self) -> Result<u32, String> {
        let b = self.exact(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self) -> Result<u64, String> {
        let b = self.exact(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(&b);
        Ok(u64::from_be_bytes(a))
    }
}

/// Longest key or value a dump may announce (sled keeps values far smaller).
const MAX_ITEM: u32 = 1 << 30;

/// Where [`read`] hands each entry: tree name, key, value.
pub type Put<'a> = dyn FnMut(&str, Vec<u8>, Vec<u8>) -> Result<(), String> + 'a;

/// Read a dump, handing each tree's entries to `put` (tree name, key,
/// value); checks the trailer. Errors say what is wrong with the dump.
pub fn read(input: &mut dyn Read, put: &mut Put<'_>) -> Result<DumpSummary, String> {
    let mut r = Checked { inner: input, hash: Sha256::new(), bytes: 0 };
    if r.exact(MAGIC.len())? != MAGIC {
        return Err("not a buzon store dump".into());
    }
    let mut summary = DumpSummary { layout: r.u64()?, ..DumpSummary::default() };
    let trees = r.u32()?;
    if trees > 1024 {
        return Err(format!("{trees} trees announced: not a store dump"));
    }
    for _ in 0..trees {
        let len = r.u32()?;
        if len > 256 {
            return Err("a tree name longer than 256 bytes".into());
        }
        let name =
            String::from_utf8(r.exact(len as usize)?).map_err(|_| "a tree name that is not UTF-8".to_string())?;
        let n = r.u64()?;
        for _ in 0..n {
            let kl = r.u32()?;
            if kl > MAX_ITEM {
                return Err(format!("tree {name}: a key of {kl} bytes"));
            }
            let k = r.exact(kl as usize)?;
            let vl = r.u32()?;
            if vl > MAX_ITEM {
                return Err(format!("tree {name}: a value of {vl} bytes"));
            }
            let v = r.exact(vl as usize)?;
            if name == Tree::Meta.name() && k == keys::PROCESSED_TOTAL_KEY {
                summary.processed_total = layout_of(Some(sled::IVec::from(v.as_slice())));
            }
            put(&name, k, v)?;
        }
        count_of(&mut summary, &name, n);
        summary.entries += n;
    }
    let want = r.hash.clone().finalize();
    let mut got = [0u8; 32];
    r.inner.read_exact(&mut got).map_err(|e| format!("the checksum is missing: {e}"))?;
    if got[..] != want[..] {
        return Err("the checksum does not match: the dump is damaged".into());
    }
    summary.bytes = r.bytes + 32;
    let mut rest = [0u8; 1];
    if r.inner.read(&mut rest).map_err(|e| e.to_string())? != 0 {
        return Err("bytes after the checksum".into());
    }
    Ok(summary)
}

/// Write a new database at `path` from a dump, and its high-water mark.
/// `path` must not hold a database. The outbox's pending index is rebuilt
/// from the outbox entries. The database is then opened as usual (an older
/// layout is migrated).
pub fn import(path: &Path, input: &mut dyn Read) -> Result<DumpSummary, String> {
    if path.exists() && std::fs::read_dir(path).map(|mut d| d.next().is_some()).unwrap_or(true) {
        return Err(format!("{} already holds a store: restore into a new folder", path.display()));
    }
    let db = sled::Config::new().path(path).open().map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    let mut batches: std::collections::BTreeMap<String, sled::Batch> = std::collections::BTreeMap::new();
    let mut pending = 0usize;
    let flush_batches = |batches: &mut std::collections::BTreeMap<String, sled::Batch>| -> Result<(), String> {
        for (name, batch) in std::mem::take(batches) {
            db.open_tree(&name).and_then(|t| t.apply_batch(batch)).map_err(|e| format!("tree {name}: {e}"))?;
        }
        Ok(())
    };
    let summary = read(input, &mut |tree, k, v| {
        if tree == Tree::OutboxPending.name() {
            return Ok(()); // rebuilt below
        }
        batches.entry(tree.to_string()).or_default().insert(k, v);
        pending += 1;
        if pending >= 4096 {
            pending = 0;
            flush_batches(&mut batches)?;
        }
        Ok(())
    })?;
    flush_batches(&mut batches)?;
    let outbox = db.open_tree(Tree::Outbox.name()).map_err(|e| e.to_string())?;
    let index = db.open_tree(Tree::OutboxPending.name()).map_err(|e| e.to_string())?;
    for kv in outbox.iter() {
        let (k, v) = kv.map_err(|e| e.to_string())?;
        let o: Outgoing = serde_json::from_slice(&v).map_err(|e| format!("outbox entry: {e}"))?;
        if o.state == OutboxState::Pendiente {
            index.insert(k, &[]).map_err(|e| e.to_string())?;
        }
    }
    db.flush().map_err(|e| e.to_string())?;
    drop(db);
    let hwm = keys::high_water_path(path);
    std::fs::write(&hwm, format!("{}\n", summary.processed_total)).map_err(|e| format!("{}: {e}", hwm.display()))?;
    Ok(summary)
}

/// Counts for operations (metrics), each one index lookup.
impl Store {
    /// Outgoing mails waiting to be sent.
    pub fn outbox_pending_count(&self) -> u64 {
        self.tree(Tree::OutboxPending).len() as u64
    }

    /// The layout version written in this database.
    pub fn layout_version(&self) -> u64 {
        layout_of(self.tree(Tree::Meta).get(keys::LAYOUT_KEY).ok().flatten())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desk::effect::{Effect, Sequence};

    fn store(dir: &Path) -> Store {
        Store::open(&dir.join("store")).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_dump_reads_back_into_an_equal_store() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let s = store(dir.path());
        s.commit(None, &[Effect::Sequence { name: Sequence::Tasks, value: 41 }]).unwrap_or_else(|e| panic!("{e}"));
        s.flush().unwrap_or_else(|e| panic!("{e}"));
        let mut dump = Vec::new();
        let written = export(&s, &mut dump).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(written.layout, keys::LAYOUT_VERSION);
        assert_eq!(written.bytes, dump.len() as u64);
        let to = dir.path().join("restored");
        let read = import(&to, &mut dump.as_slice()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(read, written);
        let back = Store::open(&to).unwrap_or_else(|e| panic!("the restored store opens: {e}"));
        assert_eq!(crate::desk::View::sequence(&back, &Sequence::Tasks).unwrap_or(0), 41);
        assert_eq!(back.layout_version(), keys::LAYOUT_VERSION);
    }

    #[test]
    fn a_damaged_dump_is_refused_with_its_fault() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let s = store(dir.path());
        s.commit(None, &[Effect::Sequence { name: Sequence::Tasks, value: 7 }]).unwrap_or_else(|e| panic!("{e}"));
        let mut dump = Vec::new();
        export(&s, &mut dump).unwrap_or_else(|e| panic!("{e}"));
        let mut flipped = dump.clone();
        let mid = flipped.len() / 2;
        flipped[mid] ^= 0x55;
        let mut truncated = dump.clone();
        truncated.truncate(dump.len() - 10);
        let mut longer = dump.clone();
        longer.push(0);
        let table: &[(&[u8], &str)] = &[
            (b"PK\x03\x04 not a dump", "not a buzon store dump"),
            (&flipped, ""),
            (&truncated, "checksum"),
            (&longer, "bytes after the checksum"),
        ];
        for (bytes, want) in table {
            let e = read(&mut &bytes[..], &mut |_, _, _| Ok(())).err().unwrap_or_else(|| panic!("accepted: {want}"));
            assert!(e.contains(want), "{e} (wanted {want})");
        }
    }

    #[test]
    fn import_never_writes_over_a_store() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let s = store(dir.path());
        let mut dump = Vec::new();
        export(&s, &mut dump).unwrap_or_else(|e| panic!("{e}"));
        drop(s);
        let e = import(&dir.path().join("store"), &mut dump.as_slice()).err().unwrap_or_default();
        assert!(e.contains("already holds a store"), "{e}");
    }
}
