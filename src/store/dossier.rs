//! The file for liquidation (expediente): one ZIP with every document of an
//! order under its original name, the order's history, and an index in HTML
//! and CSV. Built where the documents are kept — by `buzon orders export
//! OC-… --zip FILE` (from the order as `orders show --json` gives it, so it
//! works through the daemon's socket too) and, for `#expediente`, by the
//! pipeline before the commit (the desk only asks for it; see
//! `desk::commands::dossier`).
//!
//! ```text
//! Factura PF-88812.pdf        every document, its name made safe for a ZIP
//! Factura PF-88812 (2).pdf    a second document of the same name
//! indice.html  indice.csv     document, kind, from, received, size; then the history
//! historial.txt               the order's history, one line per entry
//! ```

use std::collections::BTreeSet;
use std::io::{Seek, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Datelike, NaiveDateTime, Timelike, Utc};
use serde_json::Value;

use crate::calendar::BusinessCalendar;
use crate::desk::model::Order;

/// One document of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// The sender's own file name (never used as a path as it is).
    pub name: String,
    /// The document kind (`factura_comercial`, `volante`…).
    pub kind: String,
    /// Who sent it ("" when the record is older than that field).
    pub from: String,
    /// When it came, local time (`dd/mm/aaaa hh:mm`).
    pub received: String,
    pub received_local: Option<NaiveDateTime>,
    pub size: u64,
    pub sha256: String,
    /// Where its bytes are (`None`: not kept, e.g. over the size limit).
    pub file: Option<PathBuf>,
}

/// One line of the order's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// Local time (`dd/mm/aaaa hh:mm`).
    pub at: String,
    pub what: String,
}

/// What goes into the ZIP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dossier {
    pub order: String,
    pub client: String,
    pub stage: String,
    /// The order's references (`BL`, `Contenedor`, `DAM`…) with their values.
    pub references: Vec<(String, Vec<String>)>,
    pub documents: Vec<Document>,
    pub history: Vec<Line>,
    /// When it was made (local): the time of the index entries.
    pub made: Option<NaiveDateTime>,
}

/// What a written ZIP holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Written {
    /// Documents written, by their name in the ZIP (in order).
    pub members: Vec<String>,
    /// Documents listed but not in the ZIP, with why.
    pub not_kept: Vec<String>,
    /// The ZIP's size.
    pub bytes: u64,
}

/// The names the index takes (a document named so gets ` (2)`).
const INDEX_HTML: &str = "indice.html";
const INDEX_CSV: &str = "indice.csv";
const HISTORY: &str = "historial.txt";
/// The longest member name kept (characters, extension included).
const MAX_NAME: usize = 150;

impl Dossier {
    /// The file of `order` as the store keeps it: its documents under
    /// `attachments`, times in the desk's zone.
    pub fn of_order(
        order: &Order,
        client: &str,
        attachments: &Path,
        cal: &BusinessCalendar,
        now: DateTime<Utc>,
    ) -> Dossier {
        let local = |t: DateTime<Utc>| t.with_timezone(&cal.tz).naive_local();
        Dossier {
            order: order.id.clone(),
            client: client.to_string(),
            stage: order.stage.clone(),
            references: order
                .references
                .iter()
                .map(|(k, v)| (crate::desk::context::ref_label(k).to_string(), v.iter().cloned().collect()))
                .collect(),
            documents: order
                .documents
                .iter()
                .chain(order.money.payments.iter().flat_map(|p| &p.vouchers))
                .map(|d| Document {
                    name: d.name.clone(),
                    kind: d.kind.clone(),
                    from: d.from.clone(),
                    received: dmy_hm(local(d.received_at)),
                    received_local: Some(local(d.received_at)),
                    size: d.size,
                    sha256: d.sha256.clone(),
                    file: (!d.path.is_empty()).then(|| attachments.join(&d.path)),
                })
                .collect(),
            history: order.history.iter().map(|h| Line { at: dmy_hm(local(h.at)), what: h.what.clone() }).collect(),
            made: Some(local(now)),
        }
    }

    /// The file of an order as `orders show --json` gives it (times are
    /// RFC 3339 in the desk's zone; documents' paths absolute, the payment
    /// vouchers' relative to `attachments`).
    pub fn of_json(v: &Value, attachments: &Path, tz: chrono_tz::Tz, now: Option<NaiveDateTime>) -> Dossier {
        let s = |v: &Value, k: &str| v[k].as_str().unwrap_or("").to_string();
        let local = |t: &str| DateTime::parse_from_rfc3339(t).ok().map(|t| t.naive_local());
        let shown = |t: &str| local(t).map(dmy_hm).unwrap_or_else(|| t.to_string());
        let utc_local = |d: &Value| {
            d["received_at"]
                .as_str()
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.with_timezone(&tz).naive_local())
        };
        let vouchers = v["money"]["payments"].as_array().into_iter().flatten().flat_map(|p| {
            p["vouchers"].as_array().into_iter().flatten().map(|d| Document {
                name: s(d, "name"),
                kind: s(d, "kind"),
                from: s(d, "from"),
                // Stored records: RFC 3339 in UTC.
                received: utc_local(d).map(dmy_hm).unwrap_or_default(),
                received_local: utc_local(d),
                size: d["size"].as_u64().unwrap_or(0),
                sha256: s(d, "sha256"),
                file: d["path"].as_str().filter(|p| !p.is_empty()).map(|p| attachments.join(p)),
            })
        });
        Dossier {
            order: s(v, "id"),
            client: v["client_name"].as_str().or(v["client"].as_str()).unwrap_or("").to_string(),
            stage: s(v, "stage"),
            references: v["references"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, vals)| {
                    let vals = vals.as_array().into_iter().flatten().filter_map(|x| x.as_str().map(str::to_string));
                    (crate::desk::context::ref_label(k).to_string(), vals.collect())
                })
                .collect(),
            documents: v["documents"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|d| Document {
                    name: s(d, "name"),
                    kind: s(d, "kind"),
                    from: s(d, "from"),
                    received: shown(d["received_at"].as_str().unwrap_or("")),
                    received_local: local(d["received_at"].as_str().unwrap_or("")),
                    size: d["size"].as_u64().unwrap_or(0),
                    sha256: s(d, "sha256"),
                    file: d["path"].as_str().map(PathBuf::from),
                })
                .chain(vouchers)
                .collect(),
            history: v["history"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|h| Line { at: shown(h["at"].as_str().unwrap_or("")), what: s(h, "what") })
                .collect(),
            made: now,
        }
    }

    /// The documents' bytes in total, before compression (those kept).
    pub fn stored_bytes(&self) -> u64 {
        self.documents.iter().filter(|d| d.file.is_some()).map(|d| d.size).sum()
    }
}

fn dmy_hm(t: NaiveDateTime) -> String {
    t.format("%d/%m/%Y %H:%M").to_string()
}

/// A document's name as a ZIP member: no folders (`..`, absolute paths,
/// drive letters), no control characters, nothing Windows refuses; never
/// empty or hidden; at most [`MAX_NAME`] characters, its extension kept.
pub fn member_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let s: String = base
        .chars()
        .map(|c| if c.is_control() || matches!(c, ':' | '*' | '?' | '"' | '<' | '>' | '|') { '_' } else { c })
        .collect();
    let s = s.trim().trim_start_matches('.').trim().to_string();
    let s = if s.is_empty() { "documento".to_string() } else { s };
    if s.chars().count() <= MAX_NAME {
        return s;
    }
    let (stem, ext) = split_ext(&s);
    let ext: String = ext.chars().take(12).collect();
    let stem: String = stem.chars().take(MAX_NAME - ext.chars().count()).collect();
    format!("{}{ext}", stem.trim_end())
}

fn split_ext(name: &str) -> (&str, &str) {
    match name.rfind('.') {
        Some(i) if i > 0 => (&name[..i], &name[i..]),
        _ => (name, ""),
    }
}

/// `name`, or `stem (2).ext`, `stem (3).ext`… — the first one not in
/// `taken` (compared without case: Windows and macOS would merge them).
pub fn free_name(name: &str, taken: &BTreeSet<String>) -> String {
    let free = |n: &str| !taken.contains(&n.to_lowercase());
    if free(name) {
        return name.to_string();
    }
    let (stem, ext) = split_ext(name);
    (2..).map(|n| format!("{stem} ({n}){ext}")).find(|n| free(n)).unwrap_or_else(|| name.to_string())
}

fn html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// One row of the index: the name in the ZIP (or why it is not there).
struct Row<'a> {
    doc: &'a Document,
    member: Option<String>,
    note: Option<String>,
}

fn index_html(d: &Dossier, rows: &[Row<'_>]) -> String {
    let mut out = String::new();
    out.push_str("<!DOCTYPE html>\n<html lang=\"es\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str(&format!("<title>Expediente {}</title>\n", html(&d.order)));
    out.push_str(
        "<style>body{font-family:Arial,sans-serif;font-size:13px}table{border-collapse:collapse;margin-bottom:24px}\
         th,td{border:1px solid #999;padding:4px 8px;text-align:left;vertical-align:top}th{background:#eee}\
         td.n{text-align:right}</style>\n</head>\n<body>\n",
    );
    out.push_str(&format!("<h1>Expediente {}</h1>\n", html(&d.order)));
    out.push_str(&format!("<p>Cliente: {}<br>Etapa: {}", html(&d.client), html(&d.stage)));
    for (label, values) in d.references.iter().filter(|(_, v)| !v.is_empty()) {
        out.push_str(&format!("<br>{}: {}", html(label), html(&values.join(", "))));
    }
    out.push_str("</p>\n");
    out.push_str("<h2>Documentos</h2>\n<table>\n<thead><tr><th>Documento</th><th>Tipo</th><th>De</th><th>Recibido</th><th>Tamaño</th></tr></thead>\n<tbody>\n");
    for r in rows {
        let name = match (&r.member, &r.note) {
            (Some(m), _) => format!("<a href=\"{}\">{}</a>", html(&percent(m)), html(m)),
            (None, Some(n)) => format!("{} ({})", html(&r.doc.name), html(n)),
            (None, None) => html(&r.doc.name),
        };
        out.push_str(&format!(
            "<tr><td>{name}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td></tr>\n",
            html(crate::desk::kind_name(&r.doc.kind)),
            html(&r.doc.from),
            html(&r.doc.received),
            html(&crate::desk::size_words(r.doc.size)),
        ));
    }
    out.push_str("</tbody>\n</table>\n<h2>Historial</h2>\n<table>\n<thead><tr><th>Fecha</th><th>Evento</th></tr></thead>\n<tbody>\n");
    for h in &d.history {
        out.push_str(&format!("<tr><td>{}</td><td>{}</td></tr>\n", html(&h.at), html(&h.what)));
    }
    out.push_str("</tbody>\n</table>\n</body>\n</html>\n");
    out
}

/// A member name as a relative link (spaces, `#`, `%`… escaped).
fn percent(name: &str) -> String {
    let mut out = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'(' | b')') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn index_csv(rows: &[Row<'_>]) -> String {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.member.clone().unwrap_or_else(|| r.doc.name.clone()),
                crate::desk::kind_name(&r.doc.kind).to_string(),
                r.doc.from.clone(),
                r.doc.received.clone(),
                r.doc.size.to_string(),
                r.note.clone().unwrap_or_default(),
            ]
        })
        .collect();
    crate::query::table::csv(&["DOCUMENTO", "TIPO", "DE", "RECIBIDO", "BYTES", "OBSERVACION"], &cells)
}

fn history_text(d: &Dossier) -> String {
    let mut out = format!("Historial de la orden {} ({})\r\n\r\n", d.order, d.client);
    for h in &d.history {
        out.push_str(&format!("{}  {}\r\n", h.at, h.what.replace(['\r', '\n'], " ")));
    }
    out
}

fn zip_time(t: Option<NaiveDateTime>) -> zip::DateTime {
    t.and_then(|t| {
        zip::DateTime::from_date_and_time(
            u16::try_from(t.year()).ok()?,
            t.month() as u8,
            t.day() as u8,
            t.hour() as u8,
            t.minute() as u8,
            t.second() as u8,
        )
        .ok()
    })
    .unwrap_or_default()
}

/// Write the ZIP of `d` to `out`. A document whose file cannot be read is
/// listed in the index with why, not carried.
pub fn write_zip<W: Write + Seek>(d: &Dossier, out: W) -> Result<Written, String> {
    let mut zip = zip::ZipWriter::new(out);
    let options = |t: Option<NaiveDateTime>| {
        zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .last_modified_time(zip_time(t))
            .unix_permissions(0o644)
            .large_file(true)
    };
    let mut taken: BTreeSet<String> = [INDEX_HTML, INDEX_CSV, HISTORY].iter().map(|n| n.to_string()).collect();
    let mut seen: BTreeSet<(String, String)> = BTreeSet::new();
    let mut rows = Vec::new();
    let mut written = Written::default();
    for doc in &d.documents {
        // The same file under the same name twice (a merge, a voucher) is written once.
        if !seen.insert((doc.sha256.clone(), doc.name.clone())) {
            continue;
        }
        let Some(path) = &doc.file else {
            let why = "no guardado: excedía el tamaño máximo al llegar".to_string();
            written.not_kept.push(format!("{}: {why}", doc.name));
            rows.push(Row { doc, member: None, note: Some(why) });
            continue;
        };
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => {
                let why = format!("no se pudo leer el archivo guardado: {e}");
                written.not_kept.push(format!("{}: {why}", doc.name));
                rows.push(Row { doc, member: None, note: Some(why) });
                continue;
            }
        };
        let member = free_name(&member_name(&doc.name), &taken);
        taken.insert(member.to_lowercase());
        zip.start_file(member.as_str(), options(doc.received_local)).map_err(|e| format!("{member}: {e}"))?;
        zip.write_all(&bytes).map_err(|e| format!("{member}: {e}"))?;
        written.members.push(member.clone());
        rows.push(Row { doc, member: Some(member), note: None });
    }
    for (name, body) in [(INDEX_HTML, index_html(d, &rows)), (INDEX_CSV, index_csv(&rows)), (HISTORY, history_text(d))]
    {
        zip.start_file(name, options(d.made)).map_err(|e| format!("{name}: {e}"))?;
        zip.write_all(body.as_bytes()).map_err(|e| format!("{name}: {e}"))?;
    }
    let mut out = zip.finish().map_err(|e| format!("cannot finish the ZIP: {e}"))?;
    written.bytes = out.stream_position().map_err(|e| e.to_string())?;
    Ok(written)
}

/// The ZIP of `d` in memory (to attach to a mail).
pub fn zip_bytes(d: &Dossier) -> Result<(Vec<u8>, Written), String> {
    let mut cursor = std::io::Cursor::new(Vec::new());
    let written = write_zip(d, &mut cursor)?;
    Ok((cursor.into_inner(), written))
}

/// Write the ZIP of `d` to a new file `path`: an existing file is never
/// overwritten; a ZIP cut short by an error is removed.
pub fn write_file(d: &Dossier, path: &Path) -> Result<Written, String> {
    let file = std::fs::OpenOptions::new().write(true).create_new(true).open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            format!("{} already exists: it is not overwritten (choose another name or move it away)", path.display())
        } else {
            format!("cannot create {}: {e}", path.display())
        }
    })?;
    let result = (|| {
        let mut w = std::io::BufWriter::new(file);
        let written = write_zip(d, &mut w)?;
        let file = w.into_inner().map_err(|e| e.to_string())?;
        file.sync_all().map_err(|e| e.to_string())?;
        Ok(written)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(path);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn doc(name: &str, sha: &str, file: Option<PathBuf>) -> Document {
        Document {
            name: name.into(),
            kind: "factura_comercial".into(),
            from: "lparedes@pacificfoods.test".into(),
            received: "01/12/2026 09:00".into(),
            received_local: None,
            size: 3,
            sha256: sha.into(),
            file,
        }
    }

    #[test]
    fn member_names_are_safe_for_a_zip() {
        let long = format!("{}.pdf", "a".repeat(300));
        for (input, want) in [
            ("Factura 001-2345.pdf", "Factura 001-2345.pdf"),
            ("../../etc/passwd", "passwd"),
            ("/abs/olute.pdf", "olute.pdf"),
            ("C:\\Users\\ana\\BL MSC.pdf", "BL MSC.pdf"),
            ("..", "documento"),
            (".hidden", "hidden"),
            ("", "documento"),
            ("a\u{0}b\r\n.pdf", "a_b__.pdf"),
            ("C:volante.pdf", "C_volante.pdf"),
            ("Volante Nº 123.pdf", "Volante Nº 123.pdf"),
        ] {
            assert_eq!(member_name(input), want, "{input:?}");
        }
        let cut = member_name(&long);
        assert_eq!(cut.chars().count(), MAX_NAME);
        assert!(cut.ends_with(".pdf"), "{cut}");
        let taken: BTreeSet<String> = ["factura.pdf", "factura (2).pdf", "indice.html"].map(String::from).into();
        assert_eq!(free_name("Factura.pdf", &taken), "Factura (3).pdf");
        assert_eq!(free_name("indice.html", &taken), "indice (2).html");
        assert_eq!(free_name("nuevo.pdf", &taken), "nuevo.pdf");
    }

    #[test]
    fn every_document_goes_in_once_by_name_and_the_index_lists_it() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let a = dir.path().join("a");
        let b = dir.path().join("b");
        std::fs::write(&a, b"AAA").unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(&b, b"BBB").unwrap_or_else(|e| panic!("{e}"));
        let d = Dossier {
            order: "OC-2026-000001".into(),
            client: "Pacific Foods S.A.C.".into(),
            stage: "abierta".into(),
            references: vec![("BL".into(), vec!["MEDUHG271461".into()])],
            documents: vec![
                doc("Factura.pdf", "aa", Some(a.clone())),
                doc("Factura.pdf", "bb", Some(b.clone())),
                doc("Factura.pdf", "aa", Some(a)),
                doc("indice.html", "cc", Some(b)),
                doc("enorme <1>.pdf", "dd", None),
            ],
            history: vec![Line { at: "01/12/2026 09:00".into(), what: "Orden abierta & <b>".into() }],
            made: None,
        };
        let (bytes, w) = zip_bytes(&d).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(w.members, ["Factura.pdf", "Factura (2).pdf", "indice (2).html"]);
        assert_eq!(w.not_kept.len(), 1, "{:?}", w.not_kept);
        assert_eq!(w.bytes, bytes.len() as u64);
        let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap_or_else(|e| panic!("{e}"));
        let mut read = |n: &str| {
            let mut s = String::new();
            z.by_name(n)
                .unwrap_or_else(|e| panic!("{n}: {e}"))
                .read_to_string(&mut s)
                .unwrap_or_else(|e| panic!("{e}"));
            s
        };
        assert_eq!(read("Factura (2).pdf"), "BBB");
        let html = read(INDEX_HTML);
        assert!(html.contains("<th>Documento</th><th>Tipo</th><th>De</th><th>Recibido</th><th>Tamaño</th>"), "{html}");
        assert!(
            html.contains("href=\"Factura%20%282%29.pdf\"") || html.contains("href=\"Factura%20(2).pdf\""),
            "{html}"
        );
        assert!(html.contains("enorme &lt;1&gt;.pdf (no guardado"), "{html}");
        assert!(html.contains("Orden abierta &amp; &lt;b&gt;"), "{html}");
        assert!(html.contains("<br>BL: MEDUHG271461</p>"), "{html}");
        let csv = read(INDEX_CSV);
        assert!(csv.starts_with("\u{feff}DOCUMENTO,TIPO,DE,RECIBIDO,BYTES"), "{csv}");
        assert!(
            csv.contains("Factura (2).pdf,Factura comercial,lparedes@pacificfoods.test,01/12/2026 09:00,3,"),
            "{csv}"
        );
    }

    #[test]
    fn an_existing_file_is_never_overwritten() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("x.zip");
        std::fs::write(&path, b"mine").unwrap_or_else(|e| panic!("{e}"));
        let d = Dossier {
            order: "OC-1".into(),
            client: String::new(),
            stage: String::new(),
            references: vec![],
            documents: vec![],
            history: vec![],
            made: None,
        };
        let e = write_file(&d, &path).err().unwrap_or_default();
        assert!(e.contains("already exists"), "{e}");
        assert_eq!(std::fs::read(&path).unwrap_or_default(), b"mine");
    }
}
