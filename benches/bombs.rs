//! Time and peak memory of each attachment bomb through the release
//! binary: `buzon classify` (extractor child, and in-process) and `buzon run
//! --once` (the bomb and two ordinary mails). Medians of several runs; peak
//! RSS as `/usr/bin/time -v` counts it (the process and its extractors).
//!
//! ```text
//! cargo bench --bench bombs
//! ```
//! BUZON_BENCH_RUNS changes the number of runs (default 5).

#[path = "../tests/support/bombs.rs"]
mod bombs;
#[path = "../tests/support/generate.rs"]
mod generate;

use std::path::Path;
use std::process::Command;

#[path = "support/corpus.rs"]
mod corpus;
use corpus::median;

fn copy_dir(from: &Path, to: &Path) {
    let _ = std::fs::create_dir_all(to);
    for e in std::fs::read_dir(from).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            let _ = std::fs::copy(&p, to.join(e.file_name()));
        }
    }
}

struct Row {
    name: &'static str,
    mail_kib: f64,
    cells: Vec<(f64, f64)>,
}

fn main() {
    // The measurer: this same program, re-run by bombs::measure.
    if bombs::serve_measurement() {
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bin = env!("CARGO_BIN_EXE_buzon");
    let runs: usize = std::env::var("BUZON_BENCH_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(5);
    let huge = bombs::operator_bomb(15_000_000);
    let dense = bombs::operator_bomb(2_300_000);
    let a = bombs::inflating_zip(40, 15, "escaneo_a");
    let b = bombs::inflating_zip(40, 15, "escaneo_b");
    let invoice = bombs::invoice(30, 165_000);
    let scans: Vec<(String, Vec<u8>)> =
        (1..=20).map(|i| (format!("BL-scan-{i:02}.pdf"), bombs::scan(1_500_000 + i * 1000))).collect();
    let scans = bombs::zip(&scans);
    let cases: Vec<(&'static str, Vec<u8>)> = vec![
        (
            "operator-bomb PDFs (15 M and 2.3 M `Tj`)",
            bombs::mail(
                "b1",
                "Invoice",
                &[("Invoice.pdf", "application/pdf", &huge), ("Packing list.pdf", "application/pdf", &dense)],
            ),
        ),
        (
            "nested ZIPs (10 wide, 3 deep: 1,111 files)",
            bombs::mail("b2", "Docs", &[("documentos.zip", "application/zip", &bombs::nested_zip(10, 3))]),
        ),
        (
            "ZIP of 5,000 tiny members",
            bombs::mail("b3", "Scans", &[("escaneos.zip", "application/zip", &bombs::many_members(5_000))]),
        ),
        (
            "2 ZIPs inflating to 1.2 GB",
            bombs::mail(
                "b4",
                "Scans",
                &[("escaneos-1.zip", "application/zip", &a), ("escaneos-2.zip", "application/zip", &b)],
            ),
        ),
        (
            "real: 5 MB 30-page invoice + ZIP of 20 scans",
            bombs::mail(
                "b5",
                "Docs",
                &[("Invoice.pdf", "application/pdf", &invoice), ("scans.zip", "application/zip", &scans)],
            ),
        ),
    ];
    let Ok(tmp) = tempfile::tempdir() else { panic!("tempdir") };
    let mut rows = Vec::new();
    for (i, (name, raw)) in cases.iter().enumerate() {
        let file = tmp.path().join(format!("bomb{i}.eml"));
        if let Err(e) = std::fs::write(&file, raw) {
            panic!("{e}");
        }
        let mut cells = Vec::new();
        for mode in ["child", "in-process", "run --once"] {
            let (mut secs, mut peaks) = (Vec::new(), Vec::new());
            for _ in 0..runs {
                let inst = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
                let mut cmd = Command::new(bin);
                if mode == "run --once" {
                    copy_dir(&root.join("rules"), &inst.path().join("rules"));
                    for f in ["config.toml", "clients.toml"] {
                        let _ = std::fs::copy(root.join(f), inst.path().join(f));
                    }
                    let Ok(maildir) = buzon::mailbox::maildir::Maildir::open(&inst.path().join("var/maildir"), true)
                    else {
                        panic!("maildir")
                    };
                    let _ = maildir.deliver("bomb.eml", raw);
                    for k in 0..2 {
                        let (n, bytes) = generate::mail(k);
                        let _ = maildir.deliver(&n, &bytes);
                    }
                    cmd.current_dir(inst.path()).args(["--now", "2026-12-01T10:00:00-05:00", "run", "--once"]);
                    cmd.env("BUZON_LOG", "warn");
                } else {
                    cmd.current_dir(root).args(["classify", "--json"]).arg(&file);
                    if mode == "in-process" {
                        cmd.env(buzon::mail::extract::worker::PROGRAM_ENV, "in-process");
                    }
                }
                let m = bombs::measure(cmd, &[]);
                assert!(m.success, "{name} ({mode}): {}", m.stderr);
                secs.push(m.secs);
                peaks.push(m.peak_mib);
            }
            cells.push((median(secs), median(peaks)));
        }
        rows.push(Row { name, mail_kib: raw.len() as f64 / 1024.0, cells });
    }
    println!("median of {runs} runs; time and peak RSS (MiB)");
    println!("| mail | size | classify (child) | classify (in-process) | run --once (+2 mails) |");
    println!("|---|---|---|---|---|");
    for r in rows {
        let c: Vec<String> = r.cells.iter().map(|(s, p)| format!("{s:.2} s, {p:.0} MiB")).collect();
        println!("| {} | {:.0} KiB | {} |", r.name, r.mail_kib, c.join(" | "));
    }
}
