//! Backups: one `.tar.gz` holding everything an instance is — the store
//! (dumped by [`crate::store::export`]), the attachment files, the config,
//! the clients file and the rules folder (templates and rule tests
//! included) — with a manifest of every member's SHA-256.
//!
//! Consistency while the daemon runs: the store is dumped by the committer,
//! the store's single writer, between two batches (`daemon::pipeline`), so
//! no commit interleaves: orders, reclamos, tasks, processed marks, threads,
//! sequences and the schedule index are those of one instant. Attachment
//! files are written before the commit that names them and never changed,
//! so copying them after the dump finds every file the dump names. The
//! files of the business (config, clients, rules) are read as they are on
//! disk. Only the dump blocks the committer (about a second for a
//! store of 500 mails on a busy 2-core machine, BENCHMARKS.md); the archive
//! is compressed afterwards, beside it.
//!
//! Layout of the archive:
//!
//! ```text
//! store.dump               the store, all trees (checksummed)
//! attachments/ab/<sha256>  the kept documents, named by their SHA-256
//! config/config.toml       the config as it was
//! config/clients.toml      the clients file (under its own name)
//! config/rules/…           the rules folder
//! MANIFEST.json            version, store layout, counts, SHA-256 of each member
//! ```
//!
//! [`restore`] makes a folder a complete instance (its own `config.toml`,
//! paths inside it relative to the folder); [`verify`] checks an archive
//! by restoring everything but the attachments into a scratch folder (the
//! attachments are checked against their names).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::store::export::DumpSummary;

/// The archive format this buzon writes and reads.
pub const FORMAT: u32 = 1;

const STORE_MEMBER: &str = "store.dump";
const MANIFEST: &str = "MANIFEST.json";

/// One member of the archive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
}

/// What an archive holds (its `MANIFEST.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    /// The buzon that wrote it.
    pub version: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// The config file backed up (where it was).
    pub config: String,
    /// The clients file's name inside `config/`.
    pub clients: String,
    pub store: DumpSummary,
    pub attachments: u64,
    pub members: Vec<Member>,
}

/// What a backup, restore or verification found, for the operator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    pub file: PathBuf,
    pub version: String,
    pub layout: u64,
    pub processed: u64,
    pub orders: u64,
    pub reclamos: u64,
    pub tasks: u64,
    pub outbox: u64,
    pub attachments: u64,
    pub bytes: u64,
    /// Milliseconds the store dump held the committer (backup only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dump_ms: Option<u64>,
}

impl Outcome {
    fn of(file: &Path, m: &Manifest, bytes: u64) -> Outcome {
        Outcome {
            file: file.to_path_buf(),
            version: m.version.clone(),
            layout: m.store.layout,
            processed: m.store.processed,
            orders: m.store.orders,
            reclamos: m.store.reclamos,
            tasks: m.store.tasks,
            outbox: m.store.outbox,
            attachments: m.attachments,
            bytes,
            dump_ms: None,
        }
    }

    /// One line for the terminal.
    pub fn line(&self, what: &str) -> String {
        format!(
            "{what} {}: buzon {}, store layout {}, {} processed mails, {} orders, {} reclamos, {} tasks, {} outgoing mails, {} attachments ({} bytes){}\n",
            self.file.display(),
            self.version,
            self.layout,
            self.processed,
            self.orders,
            self.reclamos,
            self.tasks,
            self.outbox,
            self.attachments,
            self.bytes,
            self.dump_ms.map(|ms| format!("; the store dump took {ms} ms")).unwrap_or_default(),
        )
    }
}

/// A writer that hashes what it writes.
struct Hashed<W> {
    inner: W,
    hash: Sha256,
    bytes: u64,
}

impl<W: Write> Write for Hashed<W> {
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

fn sha256_file(path: &Path) -> std::io::Result<(String, u64)> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Hashed { inner: std::io::sink(), hash: Sha256::new(), bytes: 0 };
    std::io::copy(&mut f, &mut h)?;
    Ok((hex::encode(h.hash.finalize()), h.bytes))
}

/// The archive being written.
struct Archive {
    tar: tar::Builder<flate2::write::GzEncoder<std::fs::File>>,
    members: Vec<Member>,
}

impl Archive {
    fn file(&mut self, name: &str, path: &Path) -> anyhow::Result<()> {
        let (sha256, bytes) = sha256_file(path).with_context(|| format!("cannot read {}", path.display()))?;
        let mut f = std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes);
        header.set_mode(0o640);
        header.set_mtime(0);
        header.set_entry_type(tar::EntryType::Regular);
        // The file may have grown since it was hashed: exactly `bytes` go in.
        self.tar
            .append_data(&mut header, name, (&mut f).take(bytes))
            .with_context(|| format!("cannot write {name} into the archive"))?;
        self.members.push(Member { path: name.to_string(), sha256, bytes });
        Ok(())
    }

    fn bytes(&mut self, name: &str, data: &[u8]) -> anyhow::Result<()> {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o640);
        header.set_mtime(0);
        header.set_entry_type(tar::EntryType::Regular);
        self.tar.append_data(&mut header, name, data).with_context(|| format!("cannot write {name}"))?;
        Ok(())
    }

    /// Every regular file under `dir`, as `prefix/relative path`, in name order.
    fn tree(&mut self, prefix: &str, dir: &Path, skip: &dyn Fn(&str) -> bool) -> anyhow::Result<u64> {
        let mut n = 0;
        for (rel, path) in files_under(dir)? {
            if skip(&rel) {
                continue;
            }
            self.file(&format!("{prefix}/{rel}"), &path)?;
            n += 1;
        }
        Ok(n)
    }
}

/// Regular files under `dir` (relative `/`-joined paths), sorted; symbolic
/// links are not followed. A missing folder has none.
fn files_under(dir: &Path) -> anyhow::Result<Vec<(String, PathBuf)>> {
    let mut out = Vec::new();
    let mut stack = vec![(String::new(), dir.to_path_buf())];
    while let Some((rel, d)) = stack.pop() {
        let rd = match std::fs::read_dir(&d) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", d.display())),
        };
        for e in rd {
            let e = e.with_context(|| format!("cannot read {}", d.display()))?;
            let name = e.file_name().to_string_lossy().into_owned();
            let r = if rel.is_empty() { name } else { format!("{rel}/{name}") };
            let t = e.file_type()?;
            if t.is_dir() {
                stack.push((r, e.path()));
            } else if t.is_file() {
                out.push((r, e.path()));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The file name of `p`, for the archive.
fn base_name(p: &Path) -> String {
    p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "clients.toml".into())
}

/// A request to the committer: dump the store into `path` between two
/// batches, and say what the dump holds.
pub struct DumpJob {
    pub path: PathBuf,
    pub done: std::sync::mpsc::SyncSender<Result<DumpSummary, String>>,
}

impl DumpJob {
    /// Run by the committer (no commit interleaves).
    pub fn run(self, store: &crate::store::Store) {
        let started = std::time::Instant::now();
        let r = write_dump(store, &self.path);
        tracing::info!(
            took_ms = started.elapsed().as_millis() as u64,
            "Store dumped for a backup into {}",
            self.path.display()
        );
        let _ = self.done.send(r);
    }
}

/// Dump `store` into the file `path`, durable.
pub fn write_dump(store: &crate::store::Store, path: &Path) -> Result<DumpSummary, String> {
    let f = std::fs::File::create(path).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    let mut w = std::io::BufWriter::new(f);
    let s = crate::store::export::export(store, &mut w).map_err(|e| e.to_string())?;
    let f = w.into_inner().map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    f.sync_all().map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(s)
}

/// Refuse a backup file that exists or does not end in `.tar.gz` (a backup
/// never replaces a file: the daemon may write where its user can).
pub fn check_target(file: &Path) -> anyhow::Result<()> {
    if !file.to_string_lossy().ends_with(".tar.gz") {
        bail!("{}: a backup file's name ends in .tar.gz", file.display());
    }
    if file.exists() {
        bail!("{} exists: a backup never replaces a file; choose a new name", file.display());
    }
    let dir = file.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if !dir.is_dir() {
        bail!("{} does not exist: create it first", dir.display());
    }
    Ok(())
}

/// Write a backup of the instance of `config` to `file`. `dump` writes the
/// store into the file it is given (the caller makes sure no commit
/// interleaves: the committer, or a store this process holds).
pub fn create(
    config: &Config,
    file: &Path,
    dump: impl FnOnce(&Path) -> anyhow::Result<DumpSummary>,
) -> anyhow::Result<Outcome> {
    check_target(file)?;
    let dir = file.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = base_name(file);
    let scratch = dir.join(format!(".{name}.store.partial"));
    let partial = dir.join(format!(".{name}.partial"));
    // What a crashed backup may have left.
    let _ = std::fs::remove_file(&partial);
    let result = (|| {
        let started = std::time::Instant::now();
        let summary = dump(&scratch)?;
        let dump_ms = started.elapsed().as_millis() as u64;
        let out = {
            use std::os::unix::fs::OpenOptionsExt;
            // The desk's records: not for every local user.
            std::fs::OpenOptions::new().write(true).create_new(true).mode(0o640).open(&partial)
        }
        .with_context(|| format!("cannot write {}", partial.display()))?;
        let gz = flate2::write::GzEncoder::new(out, flate2::Compression::fast());
        let mut a = Archive { tar: tar::Builder::new(gz), members: Vec::new() };
        a.file(STORE_MEMBER, &scratch)?;
        let attachments = a.tree("attachments", &config.store.attachments_path, &|rel| rel.ends_with(".tmp"))?;
        a.file("config/config.toml", &config.file)?;
        let clients = base_name(&config.clients_path);
        a.file(&format!("config/{clients}"), &config.clients_path)?;
        a.tree("config/rules", &config.rules_path, &|_| false)?;
        let manifest = Manifest {
            format: FORMAT,
            version: env!("CARGO_PKG_VERSION").to_string(),
            created_at: chrono::Utc::now(),
            config: config.file.display().to_string(),
            clients,
            store: summary,
            attachments,
            members: a.members.clone(),
        };
        a.bytes(MANIFEST, &serde_json::to_vec_pretty(&manifest)?)?;
        let gz = a.tar.into_inner().context("cannot finish the archive")?;
        let f = gz.finish().context("cannot finish the archive")?;
        f.sync_all().context("cannot make the archive durable")?;
        let bytes = f.metadata().map(|m| m.len()).unwrap_or(0);
        std::fs::rename(&partial, file).with_context(|| format!("cannot write {}", file.display()))?;
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        let mut o = Outcome::of(file, &manifest, bytes);
        o.dump_ms = Some(dump_ms);
        Ok(o)
    })();
    let _ = std::fs::remove_file(&scratch);
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result
}

/// Back up the instance of `config_path`: through the running daemon
/// (whose committer dumps the store between batches), or, when none runs,
/// by holding the store here.
pub fn backup(config_path: &Path, file: &Path) -> anyhow::Result<Outcome> {
    let config = Config::load(config_path)?;
    let file = absolute(file)?;
    match crate::store::Store::open(&config.store.path) {
        Ok(store) => create(&config, &file, |path| write_dump(&store, path).map_err(|e| anyhow::anyhow!(e))),
        Err(crate::store::StoreError::Locked(_)) => crate::query::ask_backup(&config.store.path, &file),
        Err(e) => Err(e.into()),
    }
}

fn absolute(p: &Path) -> anyhow::Result<PathBuf> {
    if p.is_absolute() {
        Ok(p.to_path_buf())
    } else {
        Ok(std::env::current_dir().context("cannot read the current folder")?.join(p))
    }
}

mod restore;
pub use restore::{restore, restored_config, verify};

/// The newest backup in `dirs` (`*.tar.gz`, by modification time), to
/// name in an error that asks for one.
pub fn newest_backup(dirs: &[PathBuf]) -> Option<PathBuf> {
    let mut best: Option<(std::time::SystemTime, PathBuf)> = None;
    for d in dirs {
        let Ok(rd) = std::fs::read_dir(d) else { continue };
        for e in rd.flatten() {
            let p = e.path();
            if !p.to_string_lossy().ends_with(".tar.gz") {
                continue;
            }
            if let Ok(t) = e.metadata().and_then(|m| m.modified())
                && best.as_ref().is_none_or(|(b, _)| t > *b)
            {
                best = Some((t, p));
            }
        }
    }
    best.map(|(_, p)| p)
}

/// Where backups are looked for: `backups/` beside the store, and the
/// package's `/var/backups/buzon`.
pub fn backup_dirs(store: &Path) -> Vec<PathBuf> {
    let mut v = Vec::new();
    if let Some(parent) = store.parent() {
        v.push(parent.join("backups"));
    }
    v.push(PathBuf::from("/var/backups/buzon"));
    v
}

/// The message for a store written by a newer buzon: what to do, and the
/// backup to restore if going back is the choice.
pub fn newer_store_message(store: &Path, found: u64, expected: u64) -> String {
    let backup = newest_backup(&backup_dirs(store));
    format!(
        "the store {} has layout version {found}, written by a newer buzon; this buzon ({}) reads layout {expected} and changed nothing. Install the newer buzon again, or go back to the state before the upgrade: {}",
        store.display(),
        env!("CARGO_PKG_VERSION"),
        match backup {
            Some(b) => format!(
                "restore the backup {} (`buzon restore {} --to DIR`, then point the config at DIR or swap folders with the daemon stopped)",
                b.display(),
                b.display()
            ),
            None => "restore the backup taken before the upgrade (`buzon restore FILE --to DIR`)".to_string(),
        }
    )
}

#[cfg(test)]
mod tests;
