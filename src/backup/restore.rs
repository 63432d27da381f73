//! Reading an archive back: `restore` into a fresh folder (a complete
//! instance with its own config) and `verify` (every member against its
//! SHA-256 in the manifest), never following a path out of the target.

use super::*;

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
pub(super) fn safe_member(path: &Path) -> Option<String> {
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
pub(super) fn fresh_target(dir: &Path) -> anyhow::Result<()> {
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
