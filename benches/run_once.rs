//! `buzon run --once` end to end over a Maildir of 10,000 generated mails on
//! the embedded default (Maildir in, sled store with flushed group commits,
//! `.eml` files out). Prints the median of 3 runs and the peak memory.
//!
//! ```text
//! cargo bench --bench run_once
//! ```
//! BUZON_BENCH_MAILS changes the number of mails; BUZON_BENCH_METRICS=1
//! serves `/metrics` and scrapes it every second (benches/support/scrape.rs).
//! BUZON_BENCH_BIN runs another build of buzon (an older commit's, for a
//! before/after), with the config, clients and rules of BUZON_BENCH_ROOT
//! (that commit's checkout; default: this one).

#[path = "../tests/support/generate.rs"]
mod generate;
#[path = "support/scrape.rs"]
mod scrape;

use std::path::Path;
use std::process::Command;
use std::time::Instant;

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

fn main() {
    let root = std::env::var_os("BUZON_BENCH_ROOT")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf());
    let root = root.as_path();
    let bin = std::env::var_os("BUZON_BENCH_BIN").unwrap_or_else(|| env!("CARGO_BIN_EXE_buzon").into());
    let n: usize = std::env::var("BUZON_BENCH_MAILS").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000);
    // BUZON_BENCH_PREPARE=DIR: only lay out an instance with its Maildir in DIR (for profiling).
    let prepare = std::env::var_os("BUZON_BENCH_PREPARE").map(std::path::PathBuf::from);
    let mut rates = Vec::new();
    let mut peaks = Vec::new();
    for run in 0..3 {
        let Ok(tmp) = tempfile::tempdir() else { panic!("tempdir") };
        let dir_path = prepare.clone().unwrap_or_else(|| tmp.path().to_path_buf());
        struct D(std::path::PathBuf);
        impl D {
            fn path(&self) -> &Path {
                &self.0
            }
        }
        let dir = D(dir_path);
        copy_dir(&root.join("rules"), &dir.path().join("rules"));
        for f in ["config.toml", "clients.toml"] {
            let _ = std::fs::copy(root.join(f), dir.path().join(f));
        }
        let Ok(maildir) = buzon::mailbox::maildir::Maildir::open(&dir.path().join("var/maildir"), true) else {
            panic!("maildir")
        };
        let mut bytes = 0;
        for i in 0..n {
            let (name, raw) = generate::mail(i);
            bytes += raw.len();
            if let Err(e) = maildir.deliver(&name, &raw) {
                panic!("{e}");
            }
        }
        if prepare.is_some() {
            println!("prepared {n} mails in {}", dir.path().display());
            return;
        }
        let scraper = scrape::start(dir.path());
        let t = Instant::now();
        let out = Command::new("/usr/bin/time")
            .args(["-f", "%M"])
            .arg(&bin)
            .args(["--now", "2026-12-01T10:00:00-05:00", "run", "--once"])
            .current_dir(dir.path())
            .env("BUZON_LOG", "warn")
            .output();
        let secs = t.elapsed().as_secs_f64();
        let scraped = scraper.map(|s| format!(", /metrics scraped {} times", s.count())).unwrap_or_default();
        let Ok(out) = out else { panic!("cannot run /usr/bin/time") };
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let stderr = String::from_utf8_lossy(&out.stderr);
        let peak_kb: u64 = stderr.lines().last().and_then(|l| l.trim().parse().ok()).unwrap_or(0);
        let outbox = std::fs::read_dir(dir.path().join("var/outbox")).map(|r| r.count()).unwrap_or(0);
        println!(
            "run {run}: {n} mails ({:.1} MiB) in {secs:.2} s = {:.0} msg/s, peak RSS {:.1} MiB, {outbox} mails written{scraped}",
            bytes as f64 / 1048576.0,
            n as f64 / secs,
            peak_kb as f64 / 1024.0
        );
        rates.push(n as f64 / secs);
        peaks.push(peak_kb);
    }
    rates.sort_by(f64::total_cmp);
    peaks.sort();
    println!("median: {:.0} msg/s, peak RSS median {:.1} MiB", rates[1], peaks[1] as f64 / 1024.0);
}
