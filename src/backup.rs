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

/// An archive read member by member: checked against its manifest.
struct Reader {
    file: PathBuf,
}

/// What one pass over the archive found.
struct Seen {
    manifest: Manifest,
    /// SHA-256 of the attachments present (their names, checked against their bytes).
    attachments: std::collections::BTreeSet<String>,
}

/// A member path that may be written under a folder: relative, no `..`.
fn safe_member(path: &Path) -> Option<String> {
    let mut parts = Vec::new();
    for c in path.components() {
        match c {
            std::path::Component::Normal(p) => parts.push(p.to_str()?.to_string()),
            std::path::Component::CurDir => {}
            _ => return None,
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

impl Reader {
    /// Go through every member: hash it, hand it to `take` (member path and
    /// a reader of its bytes), then check the hashes against the manifest.
    fn pass(&self, take: &mut dyn FnMut(&str, &mut dyn Read) -> anyhow::Result<()>) -> anyhow::Result<Seen> {
        let f = std::fs::File::open(&self.file).with_context(|| format!("cannot read {}", self.file.display()))?;
        let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(std::io::BufReader::new(f)));
        let mut hashes: std::collections::BTreeMap<String, (String, u64)> = std::collections::BTreeMap::new();
        let mut manifest: Option<Manifest> = None;
        let mut attachments = std::collections::BTreeSet::new();
        let entries = tar.entries().with_context(|| format!("{}: not a backup archive", self.file.display()))?;
        for entry in entries {
            let mut entry = entry.with_context(|| format!("{}: damaged archive", self.file.display()))?;
            if entry.header().entry_type() != tar::EntryType::Regular {
                bail!("{}: unexpected member type in the archive", self.file.display());
            }
            let raw = entry.path().context("a member's name is unreadable")?.into_owned();
            let Some(name) = safe_member(&raw) else {
                bail!("{}: a member's path leaves the archive: {}", self.file.display(), raw.display());
            };
            if name == MANIFEST {
                let mut text = Vec::new();
                entry.read_to_end(&mut text)?;
                manifest = Some(serde_json::from_slice(&text).context("MANIFEST.json is unreadable")?);
                continue;
            }
            let mut h = HashingReader { inner: &mut entry, hash: Sha256::new(), bytes: 0 };
            take(&name, &mut h).with_context(|| format!("member {name}"))?;
            std::io::copy(&mut h, &mut std::io::sink())?;
            let sha = hex::encode(h.hash.clone().finalize());
            if let Some(rest) = name.strip_prefix("attachments/") {
                let stem = rest.rsplit('/').next().unwrap_or_default();
                if stem != sha {
                    bail!("attachment {rest} does not hold what its name says (SHA-256 {sha})");
                }
                attachments.insert(sha.clone());
            }
            hashes.insert(name, (sha, h.bytes));
        }
        // The rest of the compressed stream: its CRC is checked at its end.
        std::io::copy(&mut tar.into_inner(), &mut std::io::sink())
            .with_context(|| format!("{}: damaged archive", self.file.display()))?;
        let Some(manifest) = manifest else {
            bail!("{}: no MANIFEST.json: not a complete buzon backup", self.file.display());
        };
        if manifest.format > FORMAT {
            bail!(
                "{} is backup format {} (buzon {}); this buzon reads format {FORMAT}: restore it with that version",
                self.file.display(),
                manifest.format,
                manifest.version
            );
        }
        for m in &manifest.members {
            match hashes.get(&m.path) {
                None => bail!("{} is listed in the manifest but missing from the archive", m.path),
                Some((sha, bytes)) if *sha != m.sha256 || *bytes != m.bytes => {
                    bail!(
                        "{} is damaged: SHA-256 {sha} ({bytes} bytes), the manifest says {} ({} bytes)",
                        m.path,
                        m.sha256,
                        m.bytes
                    )
                }
                Some(_) => {}
            }
        }
        if hashes.len() != manifest.members.len() {
            bail!("the archive holds members the manifest does not list");
        }
        Ok(Seen { manifest, attachments })
    }
}

struct HashingReader<'a, R> {
    inner: &'a mut R,
    hash: Sha256,
    bytes: u64,
}

impl<R: Read> Read for HashingReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}

/// Is `dir` usable as a restore target: absent, or an empty folder?
fn fresh_target(dir: &Path) -> anyhow::Result<()> {
    match std::fs::read_dir(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", dir.display())),
        Ok(mut rd) => {
            if rd.next().is_none() {
                return Ok(());
            }
            let live = dir.join("var/store");
            if live.exists() {
                bail!(
                    "{} already holds a store ({}); buzon never restores over one (it may be live): restore into a new folder, then swap folders with the daemon stopped",
                    dir.display(),
                    live.display()
                );
            }
            bail!("{} is not empty: restore into a new or empty folder", dir.display())
        }
    }
}

/// The config of a restored instance: the original's keys, with the store,
/// attachments, rules, clients, a Maildir and a files outbox inside `DIR`
/// (relative paths), and every other relative path (password and CA
/// files, OAuth2 files) made absolute against the original config's
/// folder, so that it still names the same file.
pub fn restored_config(text: &str, original_dir: &Path, clients: &str) -> anyhow::Result<String> {
    let mut doc: toml::Table = toml::from_str(text).context("the backed-up config.toml is not TOML")?;
    fn absolutise(t: &mut toml::Table, base: &Path) {
        for (k, v) in t.iter_mut() {
            match v {
                toml::Value::Table(inner) => absolutise(inner, base),
                toml::Value::String(s) if (k == "path" || k.ends_with("_path") || k.ends_with("_file")) => {
                    let p = Path::new(s.as_str());
                    if p.is_relative() {
                        *s = base.join(p).display().to_string();
                    }
                }
                _ => {}
            }
        }
    }
    absolutise(&mut doc, original_dir);
    let set = |doc: &mut toml::Table, table: &str, key: &str, value: &str| {
        if let Some(toml::Value::Table(t)) = doc.get_mut(table) {
            t.insert(key.to_string(), toml::Value::String(value.to_string()));
        }
    };
    let kind = |doc: &toml::Table, table: &str| {
        doc.get(table).and_then(|t| t.get("kind")).and_then(|k| k.as_str()).unwrap_or_default().to_string()
    };
    set(&mut doc, "store", "path", "var/store");
    set(&mut doc, "store", "attachments_path", "var/attachments");
    set(&mut doc, "rules", "path", "rules");
    set(&mut doc, "clients", "path", clients);
    if kind(&doc, "mailbox") == "maildir" {
        set(&mut doc, "mailbox", "path", "var/maildir");
    }
    if kind(&doc, "outbox") == "files" {
        set(&mut doc, "outbox", "path", "var/outbox");
    }
    let mut out = String::from(
        "# Restored by `buzon restore`: the paths of this instance are relative to this folder.\n\
         # Comments of the original config are not kept; it is in the backup as config/config.toml.\n\n",
    );
    out.push_str(&toml::to_string(&doc).context("cannot write the restored config")?);
    Ok(out)
}

/// Write `r` to `path` (folders created), durable.
fn write_file(path: &Path, r: &mut dyn Read) -> anyhow::Result<()> {
    if let Some(p) = path.parent() {
        std::fs::create_dir_all(p).with_context(|| format!("cannot create {}", p.display()))?;
    }
    let mut f = std::fs::File::create(path).with_context(|| format!("cannot write {}", path.display()))?;
    std::io::copy(r, &mut f).with_context(|| format!("cannot write {}", path.display()))?;
    f.sync_all()?;
    Ok(())
}

/// Unpack `file` into `dir` (the attachments only with `attachments`),
/// write its config, and check that it opens as an instance.
fn unpack(file: &Path, dir: &Path, attachments: bool) -> anyhow::Result<(Outcome, Seen)> {
    let reader = Reader { file: file.to_path_buf() };
    let mut store: Option<DumpSummary> = None;
    let mut original_config: Option<String> = None;
    let seen = reader.pass(&mut |name, r| {
        if name == STORE_MEMBER {
            let s = crate::store::export::import(&dir.join("var/store"), r).map_err(|e| anyhow::anyhow!("{e}"))?;
            store = Some(s);
        } else if let Some(rel) = name.strip_prefix("attachments/") {
            if attachments {
                write_file(&dir.join("var/attachments").join(rel), r)?;
            }
        } else if name == "config/config.toml" {
            let mut text = String::new();
            r.read_to_string(&mut text).context("config.toml is not UTF-8")?;
            original_config = Some(text);
        } else if let Some(rel) = name.strip_prefix("config/") {
            write_file(&dir.join(rel), r)?;
        } else {
            bail!("not a member of a buzon backup");
        }
        Ok(())
    })?;
    let m = &seen.manifest;
    let Some(store) = store else { bail!("the archive holds no store") };
    if store != m.store {
        bail!("the store dump does not hold what the manifest says ({store:?} / {:?})", m.store);
    }
    let Some(text) = original_config else { bail!("the archive holds no config.toml") };
    let original_dir = Path::new(&m.config).parent().map(Path::to_path_buf).unwrap_or_default();
    let config = restored_config(&text, &original_dir, &m.clients)?;
    std::fs::write(dir.join("config.toml"), config).context("cannot write config.toml")?;
    for d in ["var/maildir/new", "var/maildir/cur", "var/maildir/tmp", "var/attachments"] {
        std::fs::create_dir_all(dir.join(d))?;
    }
    // The instance must load and its store open as the daemon would.
    let app = crate::app::App::load(&dir.join("config.toml"))
        .map_err(|e| anyhow::anyhow!("the restored config, clients or rules do not load:\n{e}"))?;
    let opened = crate::store::Store::open(&app.config.store.path)
        .with_context(|| format!("the restored store at {} does not open", app.config.store.path.display()))?;
    drop(opened);
    let size = std::fs::metadata(file).map(|md| md.len()).unwrap_or(0);
    Ok((Outcome::of(file, m, size), seen))
}

/// `buzon restore FILE --to DIR`: DIR (absent or empty) becomes a complete
/// instance: `config.toml`, `var/store`, `var/attachments`, clients, rules.
pub fn restore(file: &Path, dir: &Path) -> anyhow::Result<Outcome> {
    fresh_target(dir)?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let made = unpack(file, dir, true);
    if made.is_err() {
        // Leave nothing half-made behind (the folder was new or empty).
        if let Ok(rd) = std::fs::read_dir(dir) {
            for e in rd.flatten() {
                let _ =
                    if e.path().is_dir() { std::fs::remove_dir_all(e.path()) } else { std::fs::remove_file(e.path()) };
            }
        }
    }
    Ok(made?.0)
}

/// `buzon backup --verify FILE`: every member against the manifest, every
/// attachment against its name, every document the orders name present,
/// and the store, config, clients and rules restored into a scratch
/// folder where they must load.
pub fn verify(file: &Path) -> anyhow::Result<Outcome> {
    let scratch = std::env::temp_dir().join(format!(
        "buzon-verify-{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
    ));
    let result = (|| {
        let (outcome, seen) = unpack(file, &scratch, false)?;
        let store = crate::store::Store::open(&scratch.join("var/store"))?;
        let mut missing = Vec::new();
        for o in store.orders()? {
            for d in &o.documents {
                if !d.path.is_empty() && !seen.attachments.contains(&d.sha256) {
                    missing.push(format!("{} {} ({})", o.id, d.name, d.sha256));
                }
            }
        }
        if !missing.is_empty() {
            bail!("{} documents of orders are missing from the archive: {}", missing.len(), missing.join(", "));
        }
        Ok(outcome)
    })();
    let _ = std::fs::remove_dir_all(&scratch);
    result
}

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
mod tests {
    use super::*;

    #[test]
    fn member_paths_never_leave_the_target() {
        let table: &[(&str, Option<&str>)] = &[
            ("store.dump", Some("store.dump")),
            ("./config/rules/labels.toml", Some("config/rules/labels.toml")),
            ("attachments/ab/abcdef", Some("attachments/ab/abcdef")),
            ("../etc/passwd", None),
            ("config/../../x", None),
            ("/etc/passwd", None),
            ("", None),
            (".", None),
        ];
        for (path, want) in table {
            assert_eq!(safe_member(Path::new(path)).as_deref(), *want, "{path}");
        }
    }

    #[test]
    fn a_restored_config_lives_in_its_folder() {
        let text = r#"
[mailbox]
kind = "maildir"
path = "/srv/mail/desk"
[outbox]
kind = "smtp"
host = "smtp.cli.test"
password_file = "secrets/smtp.pw"
ca_file = "/etc/ssl/ca.pem"
[store]
path = "/var/lib/buzon/store"
attachments_path = "/var/lib/buzon/attachments"
[rules]
path = "/etc/buzon/rules"
[clients]
path = "/etc/buzon/clientes.toml"
[desk]
address = "ops@cli.test"
"#;
        let out = restored_config(text, Path::new("/etc/buzon"), "clientes.toml").unwrap_or_else(|e| panic!("{e}"));
        let t: toml::Table = toml::from_str(&out).unwrap_or_else(|e| panic!("{e}\n{out}"));
        let get = |a: &str, b: &str| t[a][b].as_str().unwrap_or_default().to_string();
        let table = [
            ("mailbox", "path", "var/maildir"),
            ("store", "path", "var/store"),
            ("store", "attachments_path", "var/attachments"),
            ("rules", "path", "rules"),
            ("clients", "path", "clientes.toml"),
            ("outbox", "password_file", "/etc/buzon/secrets/smtp.pw"),
            ("outbox", "ca_file", "/etc/ssl/ca.pem"),
            ("outbox", "host", "smtp.cli.test"),
            ("desk", "address", "ops@cli.test"),
        ];
        for (a, b, want) in table {
            assert_eq!(get(a, b), want, "[{a}] {b}");
        }
    }

    #[test]
    fn a_restore_never_lands_on_a_store() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        assert!(fresh_target(&dir.path().join("new")).is_ok());
        assert!(fresh_target(dir.path()).is_ok(), "an empty folder is fine");
        std::fs::create_dir_all(dir.path().join("var/store")).unwrap_or_else(|e| panic!("{e}"));
        let e = fresh_target(dir.path()).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.contains("already holds a store"), "{e}");
        let other = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(other.path().join("notes.txt"), "x").unwrap_or_else(|e| panic!("{e}"));
        let e = fresh_target(other.path()).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.contains("not empty"), "{e}");
    }

    #[test]
    fn the_newest_backup_is_named() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let b = dir.path().join("backups");
        std::fs::create_dir_all(&b).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(b.join("buzon-2026-11-30.tar.gz"), "old").unwrap_or_else(|e| panic!("{e}"));
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(b.join("pre-upgrade-0.1.0.tar.gz"), "new").unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(b.join("notes.txt"), "not a backup").unwrap_or_else(|e| panic!("{e}"));
        let msg = newer_store_message(&dir.path().join("store"), 9, 3);
        assert!(msg.contains("layout version 9"), "{msg}");
        assert!(msg.contains("pre-upgrade-0.1.0.tar.gz"), "{msg}");
    }
}
