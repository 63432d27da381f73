//! Latency and throughput against a real Postfix + Dovecot on loopback
//! (scripts/mailstack; needs root and scripts/install-mailstack).
//!
//! ```text
//! cargo bench --bench mail_stack
//! ```
//! - latency: 200 client mails sent one at a time through Postfix; from
//!   Postfix's SMTP 250 to the acknowledgement's file appearing in the
//!   client's Maildir (Dovecot's ~0.5 s IDLE notification delay included);
//! - throughput: 2,000 mails already waiting in INBOX drained by
//!   `buzon run --once` (IMAP fetch, processing, moves, SMTP replies), 3 runs.
//!
//! BUZON_BENCH_LATENCY_MAILS and BUZON_BENCH_DRAIN_MAILS change the counts;
//! BUZON_BENCH_METRICS=1 serves `/metrics` and scrapes it every second
//! (benches/support/scrape.rs).

#[path = "support/scrape.rs"]
mod scrape;
#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use support::generate;
use support::stack::{Daemon, Stack, connected, status, wait_until};

fn count(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir).map(|r| r.count()).unwrap_or(0)
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn latency(n: usize) {
    let Some(stack) = Stack::start("bench latency") else { return };
    let inst = stack.instance("");
    let scraper = scrape::start(inst.path());
    let _d = Daemon::start(&inst);
    assert!(wait_until(Duration::from_secs(20), || connected(&inst)));
    let new = stack.maildir("andes@andestextil.test").join("new");
    let mut lat = Vec::new();
    for k in 0..n {
        let i = k * 10; // documents from andestextil, a new sender each time
        let (_, raw) = generate::mail(i);
        let before = count(&new);
        stack.smtp_send(&format!("usuario{i}@andestextil.test"), "ops@cli.test", &raw);
        let t0 = Instant::now();
        while count(&new) == before {
            assert!(t0.elapsed() < Duration::from_secs(30), "no acknowledgement for mail {i}");
            std::thread::sleep(Duration::from_millis(1));
        }
        lat.push(t0.elapsed());
    }
    lat.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "latency SMTP 250 → acknowledgement in the client's Maildir, {n} mails one at a time: p50 {:.0} ms, p90 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        ms(pct(&lat, 0.5)),
        ms(pct(&lat, 0.9)),
        ms(pct(&lat, 0.99)),
        ms(lat[lat.len() - 1])
    );
    if let Some(s) = scraper {
        println!("  /metrics scraped {} times", s.count());
    }
}

fn drain(n: usize) -> f64 {
    let Some(stack) = Stack::start("bench drain") else { return 0.0 };
    let inst = stack.instance("");
    {
        // First start on the empty mailbox sets the cursor.
        let mut d = Daemon::start(&inst);
        assert!(wait_until(Duration::from_secs(20), || connected(&inst)));
        d.signal("-TERM");
        let _ = d.wait_exit(Duration::from_secs(10));
    }
    let mails: Vec<Vec<u8>> = (0..n).map(|i| generate::mail(i).1).collect();
    for chunk in mails.chunks(200) {
        stack.lmtp_deliver("remitente@andestextil.test", "ops@cli.test", chunk);
    }
    let scraper = scrape::start(inst.path());
    let t = Instant::now();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_buzon"))
        .current_dir(inst.path())
        .args(["run", "--once"])
        .env("BUZON_TEST_IMAP_PASSWORD", support::stack::PASSWORD)
        .env("RUST_LOG", "warn")
        .output();
    let secs = t.elapsed().as_secs_f64();
    let scraped = scraper.map(|s| format!(", /metrics scraped {} times", s.count())).unwrap_or_default();
    match out {
        Ok(o) if o.status.success() => {}
        Ok(o) => panic!("run --once failed: {}", String::from_utf8_lossy(&o.stderr)),
        Err(e) => panic!("run --once: {e}"),
    }
    let done = status(&inst)["processed"].as_u64().unwrap_or(0);
    assert_eq!(done, n as u64, "every waiting mail processed");
    let rate = n as f64 / secs;
    println!(
        "drain {n} mails waiting in INBOX with run --once: {secs:.2} s = {rate:.0} msg/s ({} sent){scraped}",
        status(&inst)["outbox"]["sent"]
    );
    rate
}

fn main() {
    let env = |k: &str, d: usize| std::env::var(k).ok().and_then(|v| v.parse().ok()).unwrap_or(d);
    latency(env("BUZON_BENCH_LATENCY_MAILS", 200));
    let n = env("BUZON_BENCH_DRAIN_MAILS", 2000);
    let mut rates: Vec<f64> = (0..3).map(|_| drain(n)).collect();
    rates.sort_by(|a, b| a.total_cmp(b));
    println!("drain median of 3: {:.0} msg/s", rates[1]);
}
