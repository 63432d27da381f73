//! Attachment bombs through the real binary: each mail is read by
//! `buzon classify` and by `buzon run --once` within 256 MiB peak RSS and
//! 10 s (measured with `wait4`, as `/usr/bin/time -v` does), with every
//! bound reported; and the extractor child's deaths and deadlines.

#[path = "support/bombs.rs"]
mod bombs;
mod support;

use std::path::Path;
use std::process::Command;

use bombs::{Measured, measure};
use buzon::mail::extract::{self, Mode};
use buzon::mail::{Limits, ParseOptions, parse};
use serde_json::Value;
use support::*;

const PEAK_MIB: f64 = 256.0;
const SECS: f64 = 10.0;
const NOW: &str = "2026-12-01T10:00:00-05:00";

fn buzon_cmd(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_buzon"));
    cmd.current_dir(dir);
    cmd
}

/// How measure() re-runs this test binary as the measurer.
const MEASURER: &[&str] = &["--ignored", "--exact", "measurer", "--nocapture", "--test-threads=1", "-q"];

/// Not a test: the small process that starts and measures a buzon run
/// (see `bombs::measure`); does nothing unless measure() started it.
#[test]
#[ignore = "run by measure() only"]
fn measurer() {
    bombs::serve_measurement();
}

/// One measured run at a time: the tests of this file do not compete for
/// the 2 cores while one of them is timed.
static TIMED: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn timed(cmd: Command) -> Measured {
    let _one = TIMED.lock().unwrap_or_else(|e| e.into_inner());
    measure(cmd, MEASURER)
}

fn within_bounds(what: &str, m: &Measured) {
    assert!(m.success, "{what} failed: {}", m.stderr);
    eprintln!("{what}: {:.2} s ({:.2} s CPU), peak RSS {:.1} MiB", m.secs, m.cpu_secs, m.peak_mib);
    assert!(m.peak_mib < PEAK_MIB, "{what}: peak RSS {:.1} MiB", m.peak_mib);
    assert!(m.secs < SECS, "{what}: {:.2} s", m.secs);
    assert!(m.cpu_secs < SECS, "{what}: {:.2} s of CPU", m.cpu_secs);
}

/// `buzon classify --json` on one mail, with the extractor child and (to
/// see the whole cost in one process) in-process; the JSON line.
fn classify_bounded(name: &str, raw: &[u8]) -> Value {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let file = dir.path().join(format!("{name}.eml"));
    std::fs::write(&file, raw).unwrap_or_else(|e| panic!("{e}"));
    let mut lines = Vec::new();
    for in_process in [false, true] {
        let mut cmd = buzon_cmd(&root());
        cmd.args(["classify", "--json"]).arg(&file);
        if in_process {
            cmd.env(extract::worker::PROGRAM_ENV, "in-process");
        }
        let m = timed(cmd);
        within_bounds(&format!("classify {name} ({})", if in_process { "in-process" } else { "child" }), &m);
        lines.push(serde_json::from_str::<Value>(m.stdout.trim()).unwrap_or_else(|e| panic!("{e}: {}", m.stdout)));
    }
    assert_eq!(lines[0], lines[1], "the child and the in-process extractor read the same");
    lines.swap_remove(0)
}

/// `buzon run --once` on an instance holding the mail and two ordinary ones.
fn run_once_bounded(name: &str, raw: &[u8]) {
    let inst = Instance::new();
    inst.deliver(&format!("{name}.eml"), raw);
    for i in 0..2 {
        let (n, bytes) = generate::mail(i);
        inst.deliver(&n, &bytes);
    }
    let mut cmd = buzon_cmd(inst.path());
    cmd.args(["--now", NOW, "run", "--once"]).env("BUZON_LOG", "info");
    let m = timed(cmd);
    within_bounds(&format!("run --once {name}"), &m);
    assert!(m.stderr.contains("Done: 3 processed, 0 already done, 0 quarantined"), "{}", m.stderr);
}

/// In-process parsing in this test binary uses the real extractor child.
fn use_child() {
    let bin = std::path::PathBuf::from(env!("CARGO_BIN_EXE_buzon"));
    extract::worker::set_mode(Mode::Child(bin.clone()));
    assert_eq!(extract::worker::mode(), &Mode::Child(bin));
}

fn problems(v: &Value) -> Vec<String> {
    v["problems"].as_array().into_iter().flatten().filter_map(Value::as_str).map(str::to_string).collect()
}

fn has(v: &Value, fragment: &str) -> bool {
    problems(v).iter().any(|p| p.contains(fragment))
}

#[test]
fn an_operator_bomb_pdf_is_read_in_bounded_memory_and_time() {
    // The attacker's file (finding 1): ~100 KB whose page inflates to 15
    // million `Tj` (lopdf's extract_text took ~4 GB on it), and its cousin
    // just under the page bound, all operators: 2.3 million.
    let huge = bombs::operator_bomb(15_000_000);
    let dense = bombs::operator_bomb(2_300_000);
    assert!(huge.len() < 200_000 && dense.len() < 50_000, "{} / {} bytes", huge.len(), dense.len());
    let raw = bombs::mail(
        "ops1",
        "Commercial invoice TW-2026-118",
        &[("Invoice TW-2026-118.pdf", "application/pdf", &huge), ("Packing list.pdf", "application/pdf", &dense)],
    );
    let v = classify_bounded("operator-bomb", &raw);
    assert!(has(&v, "Invoice TW-2026-118.pdf: extract_limit: page 1: its content inflates past 16 MiB"), "{v}");
    assert!(has(&v, "Packing list.pdf: extract_limit: stopped at page 1: over 2000000 content operators"), "{v}");
    assert!(v["labels"].as_array().is_some_and(|l| l.iter().any(|l| l == "documentos")), "still classified: {v}");
    run_once_bounded("operator-bomb", &raw);
}

#[test]
fn a_nested_zip_bomb_opens_two_levels_and_keeps_the_mails_budget() {
    // Finding 2: ZIP in ZIP in ZIP, 10 wide: 1,111 files from one small mail.
    let archive = bombs::nested_zip(10, 3);
    let raw = bombs::mail("nest1", "Documentos embarque", &[("documentos.zip", "application/zip", &archive)]);
    eprintln!("nested-zip mail: {} bytes", raw.len());
    let v = classify_bounded("nested-zip", &raw);
    assert!(has(&v, "zip_nesting: an archive inside an archive 3 levels deep"), "{v}");
    assert!(has(&v, "budget: the mail's budget (100 archive members"), "{v}");
    let docs = v["documents"].as_array().map(Vec::len).unwrap_or(0);
    assert!((1..=101).contains(&docs), "{docs} documents");
    run_once_bounded("nested-zip", &raw);
}

#[test]
fn a_zip_of_thousands_of_tiny_members_is_cut_at_the_archive_limit() {
    let archive = bombs::many_members(5_000);
    let raw = bombs::mail("many1", "Escaneos", &[("escaneos.zip", "application/x-zip-compressed", &archive)]);
    let v = classify_bounded("many-members", &raw);
    assert!(has(&v, "escaneos.zip: zip_limit: 5000 members, only the first 64 looked at"), "{v}");
    let docs = v["documents"].as_array().map(Vec::len).unwrap_or(0);
    assert!(docs <= 65, "{docs} documents");
    run_once_bounded("many-members", &raw);
}

#[test]
fn a_2_mb_mail_whose_zips_inflate_past_1_gb_keeps_the_mails_64_mib() {
    // Finding 2: a 2 MB mail wrote 1.3 GB of attachments.
    let a = bombs::inflating_zip(40, 15, "escaneo_a");
    let b = bombs::inflating_zip(40, 15, "escaneo_b");
    let raw = bombs::mail(
        "infl1",
        "Scans of BL and invoices",
        &[("escaneos-1.zip", "application/zip", &a), ("escaneos-2.zip", "application/zip", &b)],
    );
    assert!(raw.len() > 1_000_000 && raw.len() < 3_000_000, "a 2 MB mail: {} bytes", raw.len());
    let v = classify_bounded("inflating-zips", &raw);
    assert!(has(&v, "escaneos-1.zip: budget: the mail's budget"), "{v}");
    assert!(has(&v, "escaneos-2.zip: budget"), "the second archive gets what is left, nothing: {v}");
    run_once_bounded("inflating-zips", &raw);

    // What the mail keeps: 64 MiB of members, not 1.2 GB.
    use_child();
    let opts = ParseOptions { limits: Limits::default(), ..ParseOptions::default() };
    let mail = parse(&raw, &opts);
    let from_zips: usize = mail.attachments.iter().filter(|a| a.container.is_some()).map(|a| a.size).sum();
    assert!(from_zips <= 64 << 20, "{from_zips} bytes kept");
    assert!(from_zips >= 45 << 20, "the budget is used, not refused at once: {from_zips}");
}

#[test]
fn a_real_invoice_of_30_pages_and_a_zip_of_20_scans_are_read_whole() {
    // Heavy work here: not while another test's run is timed.
    let _one = TIMED.lock().unwrap_or_else(|e| e.into_inner());
    // The defaults fit a desk: 5 MB, 30 pages, all read; 20 scans of
    // ~1.5 MB in a ZIP, all kept.
    let invoice = bombs::invoice(30, 165_000);
    assert!(invoice.len() > 4_900_000, "{} bytes", invoice.len());
    let scans: Vec<(String, Vec<u8>)> =
        (1..=20).map(|i| (format!("BL-scan-{i:02}.pdf"), bombs::scan(1_500_000 + i * 1000))).collect();
    let archive = bombs::zip(&scans);
    let raw = bombs::mail(
        "real1",
        "Commercial invoice and BL scans",
        &[
            ("Commercial Invoice TW-2026-118.pdf", "application/pdf", &invoice),
            ("scans.zip", "application/zip", &archive),
        ],
    );
    use_child();
    let mail = parse(&raw, &ParseOptions::default());
    let inv = mail.attachments.iter().find(|a| a.name.starts_with("Commercial")).unwrap_or_else(|| panic!("invoice"));
    assert!(inv.problems.is_empty(), "{:?}", inv.problems);
    assert!(inv.text.contains("Page 1 of 30") && inv.text.contains("Page 30 of 30"), "every page read");
    let kept: Vec<_> = mail.attachments.iter().filter(|a| a.container.as_deref() == Some("scans.zip")).collect();
    assert_eq!(kept.len(), 20);
    for a in kept {
        let codes: Vec<&str> = a.problems.iter().map(|p| p.code.as_str()).collect();
        assert_eq!(codes, vec!["pdf_no_text"], "{}: a scan, read and found textless", a.name);
    }
    let zip = mail.attachments.iter().find(|a| a.name == "scans.zip").unwrap_or_else(|| panic!("zip"));
    assert!(zip.problems.is_empty(), "{:?}", zip.problems);
    assert!(mail.problems.is_empty(), "{:?}", mail.problems);
}

#[test]
fn a_file_that_kills_the_extractor_twice_is_extractor_died_and_the_next_mail_is_read() {
    // Heavy work here: not while another test's run is timed.
    let _one = TIMED.lock().unwrap_or_else(|e| e.into_inner());
    use_child();
    // A page whose content inflates to 300 MiB, with the content bounds
    // lifted and the extractor given 192 MiB of address space: the
    // allocation fails in the child, which aborts — twice.
    let limits = Limits {
        max_pdf_page_content: 1 << 30,
        max_pdf_content: 1 << 30,
        worker_address_space: 192 << 20,
        ..Limits::default()
    };
    let opts = ParseOptions { limits, ..ParseOptions::default() };
    let poison = bombs::pdf(&[b" ".repeat(300 << 20)], 0);
    let raw = bombs::mail("die1", "Invoice", &[("invoice.pdf", "application/pdf", &poison)]);
    let mail = parse(&raw, &opts);
    let att = &mail.attachments[0];
    assert_eq!(att.problems.iter().map(|p| p.code.as_str()).collect::<Vec<_>>(), vec!["extractor_died"]);
    assert!(att.problems[0].detail.contains("died twice"), "{}", att.problems[0].detail);
    assert_eq!(att.size, poison.len(), "the file is kept as it came");
    assert!(
        mail.problems.iter().any(|p| p.code == "extractor_died" && p.detail.starts_with("invoice.pdf: ")),
        "on the mail too, for the pipeline's quarantine: {:?}",
        mail.problems
    );
    // The next mail gets a fresh extractor under the same limits.
    let ok = bombs::invoice(2, 0);
    let next = parse(&bombs::mail("die2", "Invoice", &[("ok.pdf", "application/pdf", &ok)]), &opts);
    assert!(next.attachments[0].text.contains("Page 2 of 2"), "{:?}", next.attachments[0].problems);
    assert!(next.problems.is_empty());
}

#[test]
fn a_late_extractor_is_killed_at_the_deadline_and_replaced() {
    // Heavy work here: not while another test's run is timed.
    let _one = TIMED.lock().unwrap_or_else(|e| e.into_inner());
    use_child();
    let limits = Limits { pdf_timeout: std::time::Duration::from_millis(300), ..Limits::default() };
    let opts = ParseOptions { limits, ..ParseOptions::default() };
    let slow = bombs::operator_bomb(2_300_000);
    let started = std::time::Instant::now();
    let mail = parse(&bombs::mail("late1", "Invoice", &[("slow.pdf", "application/pdf", &slow)]), &opts);
    assert!(
        started.elapsed().as_secs_f64() < 2.0,
        "the caller waits the deadline, not the file: {:?}",
        started.elapsed()
    );
    let codes: Vec<&str> = mail.attachments[0].problems.iter().map(|p| p.code.as_str()).collect();
    assert_eq!(codes, vec!["pdf_timeout"], "a timeout is not a death");
    let ok = parse(&bombs::mail("late2", "Invoice", &[("ok.pdf", "application/pdf", &bombs::invoice(1, 0))]), &opts);
    assert!(ok.attachments[0].text.contains("Page 1 of 1"), "{:?}", ok.attachments[0].problems);
}

#[test]
fn a_mail_that_kills_the_extractor_twice_is_quarantined_with_its_reason_and_the_desk_goes_on() {
    let _one = TIMED.lock().unwrap_or_else(|e| e.into_inner());
    let inst = Instance::new();
    // The same poison as above, with the bounds that would stop it lifted
    // through `[limits]`, so that it kills the reader (192 MiB) twice.
    let cfg = std::fs::read_to_string(inst.path().join("config.toml")).unwrap_or_default();
    inst.write(
        "config.toml",
        &format!(
            "{cfg}\n[limits]\nextractor_memory_mib = 192\nmax_pdf_page_content_bytes = 1073741824\nmax_pdf_content_bytes = 1073741824\n"
        ),
    );
    let poison = bombs::pdf(&[b" ".repeat(300 << 20)], 0);
    inst.deliver("0-poison.eml", &bombs::mail("die1", "Invoice", &[("invoice.pdf", "application/pdf", &poison)]));
    for i in 0..2 {
        let (n, bytes) = generate::mail(i);
        inst.deliver(&n, &bytes);
    }
    let out = inst.run(&["--now", NOW, "run", "--once"]);
    let err = stderr(&out);
    assert!(out.status.success(), "the desk goes on: {err}");
    assert!(err.contains("Done: 2 processed, 0 already done, 1 quarantined"), "{err}");
    let reason =
        std::fs::read_to_string(inst.path().join("var/maildir/quarantine/0-poison.eml.reason")).unwrap_or_default();
    assert!(reason.contains("died twice"), "the reason is kept: {reason}");
    assert_eq!(inst.status_json()["quarantined"], 1);
}
