//! Hostile and heavy attachments, made on the spot (deterministic), and a
//! way to measure a process's peak memory: shared by tests/bombs.rs and
//! benches/bombs.rs.
#![allow(dead_code)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use lopdf::{Document, Object, Stream, dictionary};

/// A PDF with one page per content stream (deflated unless `raw`), an
/// optional image per page (stored as is: `image_bytes` of noise).
pub fn pdf(pages: &[Vec<u8>], image_bytes: usize) -> Vec<u8> {
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font_id = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica",
    });
    let mut kids = Vec::new();
    let mut seed = 0x2545_f491_u64;
    for content in pages {
        let mut stream = Stream::new(dictionary! {}, content.clone());
        let _ = stream.compress();
        let content_id = doc.add_object(stream);
        let mut xobjects = lopdf::Dictionary::new();
        if image_bytes > 0 {
            // Noise does not compress: a scan's weight.
            let noise: Vec<u8> = (0..image_bytes)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    seed as u8
                })
                .collect();
            let side = ((image_bytes / 3) as f64).sqrt() as i64;
            let image = Stream::new(
                dictionary! {
                    "Type" => "XObject", "Subtype" => "Image", "Width" => side, "Height" => side,
                    "ColorSpace" => "DeviceRGB", "BitsPerComponent" => 8,
                },
                noise,
            );
            xobjects.set("Im1", doc.add_object(image));
        }
        let resources = dictionary! { "Font" => dictionary! { "F1" => font_id }, "XObject" => xobjects };
        let page_id = doc.add_object(dictionary! {
            "Type" => "Page", "Parent" => pages_id, "Contents" => content_id,
            "Resources" => resources, "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        });
        kids.push(Object::Reference(page_id));
    }
    let count = kids.len() as i64;
    doc.objects
        .insert(pages_id, Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => kids, "Count" => count }));
    let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog_id);
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap_or_else(|e| panic!("{e}"));
    out
}

/// A page showing these lines.
pub fn text_page(lines: &[String]) -> Vec<u8> {
    let mut c = String::from("BT /F1 10 Tf 40 800 Td 12 TL\n");
    for l in lines {
        c.push_str(&format!("({}) Tj T*\n", l.replace('(', "\\(").replace(')', "\\)")));
    }
    c.push_str("ET\n");
    if lines.is_empty() {
        c = "q 595 0 0 842 0 0 cm /Im1 Do Q\n".into();
    }
    c.into_bytes()
}

/// The attacker's PDF: a small file whose one content stream inflates to
/// `ops` show-text operators (7 bytes each), shown in no font: no text to
/// fill the text cap, only operators to interpret.
pub fn operator_bomb(ops: usize) -> Vec<u8> {
    pdf(&[b"(A) Tj ".repeat(ops)], 0)
}

/// A real-looking invoice: `pages` pages of text, each with a scanned
/// stamp of `image_bytes`.
pub fn invoice(pages: usize, image_bytes: usize) -> Vec<u8> {
    let contents: Vec<Vec<u8>> = (1..=pages)
        .map(|p| {
            let mut lines = vec![
                "SHENZHEN TOPWAY TRADING CO., LTD.".to_string(),
                "COMMERCIAL INVOICE No. TW-2026-118".to_string(),
                format!("Page {p} of {pages}"),
            ];
            for i in 0..40 {
                lines.push(format!(
                    "Item {:03}  Cotton yarn 40/1, HS 5205.12  {} KG  USD {}.50",
                    p * 40 + i,
                    100 + i,
                    900 + i
                ));
            }
            let mut c = text_page(&lines);
            c.extend(b"q 120 0 0 120 400 40 cm /Im1 Do Q\n");
            c
        })
        .collect();
    pdf(&contents, image_bytes)
}

/// A scan: one page, an image, no text.
pub fn scan(image_bytes: usize) -> Vec<u8> {
    pdf(&[text_page(&[])], image_bytes)
}

/// A ZIP of (name, bytes), deflated.
pub fn zip(members: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(9))
        .large_file(true);
    for (name, data) in members {
        w.start_file(name.as_str(), opts).unwrap_or_else(|e| panic!("{e}"));
        w.write_all(data).unwrap_or_else(|e| panic!("{e}"));
    }
    w.finish().unwrap_or_else(|e| panic!("{e}")).into_inner()
}

/// ZIP in ZIP: `fanout` archives per level, `levels` deep, a small invoice
/// PDF at the bottom ((fanout^(levels+1) - 1) / (fanout - 1) files in all).
pub fn nested_zip(fanout: usize, levels: usize) -> Vec<u8> {
    let leaf = invoice(1, 0);
    let mut level = zip(&(0..fanout).map(|i| (format!("factura-{i}.pdf"), leaf.clone())).collect::<Vec<_>>());
    for depth in 1..levels {
        level = zip(&(0..fanout).map(|i| (format!("nivel{depth}-{i}.zip"), level.clone())).collect::<Vec<_>>());
    }
    level
}

/// A ZIP of `n` tiny "PDFs".
pub fn many_members(n: usize) -> Vec<u8> {
    zip(&(0..n).map(|i| (format!("escaneos/scan_{i:05}.pdf"), b"%PDF-1.4\n%%EOF\n".to_vec())).collect::<Vec<_>>())
}

/// A ZIP of `n` members of `mib` MiB of zeros each, named like scans.
pub fn inflating_zip(n: usize, mib: usize, prefix: &str) -> Vec<u8> {
    let zeros = vec![0u8; mib << 20];
    zip(&(0..n).map(|i| (format!("{prefix}_{i:02}.pdf"), zeros.clone())).collect::<Vec<_>>())
}

pub fn b64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::with_capacity(data.len() * 4 / 3 + data.len() / 38 + 4);
    for (n, c) in data.chunks(3).enumerate() {
        let b = [c[0], *c.get(1).unwrap_or(&0), *c.get(2).unwrap_or(&0)];
        let v = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for k in 0..4 {
            if k <= c.len() {
                s.push(T[((v >> (18 - 6 * k)) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
        if n % 19 == 18 {
            s.push_str("\r\n");
        }
    }
    s
}

/// A supplier's mail (Outlook-style HTML with a plain alternative and a
/// signature) carrying these attachments (name, MIME type, bytes).
pub fn mail(id: &str, subject: &str, attachments: &[(&str, &str, &[u8])]) -> Vec<u8> {
    let mut m = format!(
        "From: \"Lily Chen | Topway\" <lily.chen@topway-sz.test>\r\nTo: Operaciones CLI <ops@cli.test>\r\n\
         Subject: {subject}\r\nDate: Tue, 01 Dec 2026 09:12:00 +0800\r\nMessage-ID: <{id}@topway-sz.test>\r\n\
         MIME-Version: 1.0\r\nX-Mailer: Microsoft Outlook 16.0\r\nContent-Type: multipart/mixed; boundary=\"=_m\"\r\n\r\n\
         --=_m\r\nContent-Type: multipart/alternative; boundary=\"=_a\"\r\n\r\n\
         --=_a\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
         Dear Sir/Madam,\r\n\r\nPlease find attached the documents for shipment TW-2026-118 (POL Shanghai, POD Callao).\r\n\
         Kindly confirm receipt.\r\n\r\nBest regards,\r\nLily Chen\r\nExport Dept. | Shenzhen Topway Trading Co., Ltd.\r\n\
         This e-mail and any attachments are confidential.\r\n\
         --=_a\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
         <html><body><p>Dear Sir/Madam,</p><p>Please find attached the documents for shipment TW-2026-118 \
         (POL Shanghai, POD Callao).<br>Kindly confirm receipt.</p><p>Best regards,<br>Lily Chen</p></body></html>\r\n\
         --=_a--\r\n"
    );
    for (name, ctype, data) in attachments {
        m.push_str(&format!(
            "--=_m\r\nContent-Type: {ctype}; name=\"{name}\"\r\nContent-Disposition: attachment; filename=\"{name}\"\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n{}\r\n",
            b64(data)
        ));
    }
    m.push_str("--=_m--\r\n");
    m.into_bytes()
}

/// A finished process: its output, wall time and peak memory.
pub struct Measured {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
    pub secs: f64,
    /// CPU time (user + system) of the process and its reaped children.
    pub cpu_secs: f64,
    /// Peak resident set of the process and of the children it reaped
    /// (its extractors), as `/usr/bin/time -v` reports it: `ru_maxrss` of
    /// `wait4`, which for a waited child is the larger of its own peak and
    /// its reaped descendants'.
    pub peak_mib: f64,
}

const PROG: &str = "BOMBS_MEASURE_PROG";
const ARGS: &str = "BOMBS_MEASURE_ARGS";
const DIR: &str = "BOMBS_MEASURE_DIR";
const OUT: &str = "BOMBS_MEASURE_OUT";
const ERR: &str = "BOMBS_MEASURE_ERR";

/// Run `cmd` to the end and measure it.
///
/// NOTE: Linux charges a process, at `exec`, with the peak RSS of the
/// address space it replaces — for a child spawned by this (large, busy)
/// test process, ours. So the command is started by a small measurer: this
/// executable re-run with `reexec_args` (which must reach
/// [`serve_measurement`]), freshly exec'd and a few MiB large, which spawns
/// the command and reads its `wait4` usage. That is what GNU time does.
pub fn measure(cmd: Command, reexec_args: &[&str]) -> Measured {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (out, err) = (dir.path().join("stdout"), dir.path().join("stderr"));
    let me = std::env::current_exe().unwrap_or_else(|e| panic!("{e}"));
    let mut m = Command::new(me);
    m.args(reexec_args)
        .env(PROG, cmd.get_program())
        .env(ARGS, cmd.get_args().map(|a| a.to_string_lossy().into_owned()).collect::<Vec<_>>().join("\u{1f}"))
        .env(DIR, cmd.get_current_dir().unwrap_or(Path::new(".")))
        .env(OUT, &out)
        .env(ERR, &err)
        .stdin(Stdio::null());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => m.env(k, v),
            None => m.env_remove(k),
        };
    }
    let report = m.output().unwrap_or_else(|e| panic!("cannot run the measurer: {e}"));
    let text = String::from_utf8_lossy(&report.stdout);
    let Some(line) = text.lines().find_map(|l| l.strip_prefix("MEASURED ")) else {
        panic!("no measurement: {text}\n{}", String::from_utf8_lossy(&report.stderr))
    };
    let f: Vec<&str> = line.split_whitespace().collect();
    let num = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or_else(|| panic!("bad line {line}"));
    Measured {
        success: f.first() == Some(&"ok"),
        stdout: std::fs::read_to_string(&out).unwrap_or_default(),
        stderr: std::fs::read_to_string(&err).unwrap_or_default(),
        secs: num(1),
        peak_mib: num(2) / 1024.0,
        cpu_secs: num(3),
    }
}

/// In the measurer: spawn the command the environment names, wait for it
/// with `wait4`, print `MEASURED ok|failed SECS PEAK_KIB CPU_SECS`. Returns false
/// (doing nothing) when this process is not a measurer.
pub fn serve_measurement() -> bool {
    let Some(prog) = std::env::var_os(PROG) else { return false };
    let args = std::env::var(ARGS).unwrap_or_default();
    let mut cmd = Command::new(prog);
    cmd.args(args.split('\u{1f}').filter(|a| !a.is_empty()));
    for k in [PROG, ARGS, DIR, OUT, ERR] {
        cmd.env_remove(k);
    }
    if let Some(d) = std::env::var_os(DIR) {
        cmd.current_dir(d);
    }
    let file = |k: &str| {
        let p = std::env::var_os(k).unwrap_or_else(|| panic!("{k}"));
        std::fs::File::create(p).unwrap_or_else(|e| panic!("{e}"))
    };
    cmd.stdin(Stdio::null()).stdout(file(OUT)).stderr(file(ERR));
    let started = Instant::now();
    let child = cmd.spawn().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain old data; zeroes are a valid value of it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our own child, not yet waited for (std's `Child` is
    // dropped below without waiting); the pointers are to locals.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid, "wait4: {}", std::io::Error::last_os_error());
    let secs = started.elapsed().as_secs_f64();
    drop(child);
    let ok = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    let cpu = tv(usage.ru_utime) + tv(usage.ru_stime);
    println!("MEASURED {} {secs:.3} {} {cpu:.3}", if ok { "ok" } else { "failed" }, usage.ru_maxrss);
    true
}
