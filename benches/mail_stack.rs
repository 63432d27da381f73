//! Latency and throughput against a real Postfix + Dovecot on loopback
//! (scripts/mailstack; needs root and scripts/install-mailstack).
//!
//! ```text
//! cargo bench --bench mail_stack
//! BUZON_BENCH_AUTH=oauth2 cargo bench --bench mail_stack
//! ```
//! - latency: 200 client mails sent one at a time through Postfix; from
//!   Postfix's SMTP 250 to the acknowledgement's file appearing in the
//!   client's Maildir (Dovecot's ~0.5 s IDLE notification delay included);
//! - throughput: 2,000 mails already waiting in INBOX drained by
//!   `buzon run --once` (IMAP fetch, processing, moves, SMTP replies), 3 runs.
//!
//! BUZON_BENCH_LATENCY_MAILS and BUZON_BENCH_DRAIN_MAILS change the counts.
//!
//! BUZON_BENCH_AUTH=oauth2: the same against the OAuth2 stack (Dovecot's
//! oauth2 passdb, Postfix submission with XOAUTH2 through Dovecot, the
//! identity provider of scripts/oauth-idp), client credentials, tokens
//! valid BUZON_BENCH_TOKEN_SECONDS (30). Dovecot never re-checks a token
//! inside a session, so during the latency run the server drops buzon's
//! IMAP session every BUZON_BENCH_DROP_SECONDS (default: the token
//! lifetime; `doveadm kick`), as Exchange Online does when a session's
//! token expires: buzon reconnects and refreshes its token. The drops can
//! be asked of the password run too (BUZON_BENCH_DROP_SECONDS) to compare
//! like with like. Token grants are counted at the identity provider.
//!
//! BUZON_BENCH_METRICS=1 serves `/metrics` and scrapes it every second
//! (benches/support/scrape.rs).

#[path = "support/scrape.rs"]
mod scrape;
#[path = "../tests/support/mod.rs"]
mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use support::generate;
use support::stack::{Daemon, OAUTH_CLIENT, Stack, connected, status, wait_until};

/// How buzon logs in.
#[derive(Debug, Clone, Copy)]
enum Auth {
    Password,
    /// Client credentials; access tokens valid this many seconds.
    OAuth2 {
        lifetime: u64,
    },
}

fn env(k: &str, d: usize) -> usize {
    std::env::var(k).ok().and_then(|v| v.parse().ok()).unwrap_or(d)
}

fn auth() -> Auth {
    match std::env::var("BUZON_BENCH_AUTH").as_deref() {
        Ok("oauth2") => Auth::OAuth2 { lifetime: env("BUZON_BENCH_TOKEN_SECONDS", 30) as u64 },
        Ok("password") | Err(_) => Auth::Password,
        Ok(other) => panic!("BUZON_BENCH_AUTH={other}: password or oauth2"),
    }
}

/// A private stack and a buzon instance wired to it.
fn setup(auth: Auth, test: &str) -> Option<(Stack, support::Instance)> {
    match auth {
        Auth::Password => {
            let stack = Stack::start(test)?;
            let inst = stack.instance("");
            Some((stack, inst))
        }
        Auth::OAuth2 { lifetime } => {
            let stack = Stack::start_oauth(test)?;
            stack.idp_admin("/admin/lifetime", serde_json::json!({"id": OAUTH_CLIENT, "lifetime": lifetime}));
            let inst = stack.oauth_instance("");
            Some((stack, inst))
        }
    }
}

/// Access tokens the identity provider issued by client credentials (0 on a password stack).
fn grants(stack: &Stack, auth: Auth) -> u64 {
    match auth {
        Auth::Password => 0,
        Auth::OAuth2 { .. } => stack.idp_stats()["token"]["client_credentials"].as_u64().unwrap_or(0),
    }
}

/// The server drops every IMAP session of the desk's mailbox.
fn kick(stack_dir: &std::path::Path) {
    let conf = stack_dir.join("dovecot.conf");
    let out = std::process::Command::new("doveadm")
        .args(["-c", &conf.to_string_lossy(), "kick", "ops@cli.test"])
        .output()
        .unwrap_or_else(|e| panic!("doveadm kick: {e}"));
    assert!(
        out.status.success(),
        "doveadm kick: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn count(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir).map(|r| r.count()).unwrap_or(0)
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn latency(n: usize, auth: Auth, drop_every: Option<Duration>) {
    let Some((stack, inst)) = setup(auth, "bench latency") else { return };
    let scraper = scrape::start(inst.path());
    let _d = Daemon::start(&inst);
    assert!(wait_until(Duration::from_secs(20), || connected(&inst)));
    let granted_before = grants(&stack, auth);
    let new = stack.maildir("andes@andestextil.test").join("new");
    let mut lat = Vec::new();
    // Mails in flight when the server dropped the session: (sent, latency).
    let mut sent_at = Vec::new();
    let drops: Arc<Mutex<Vec<Instant>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let dropper = drop_every.map(|every| {
        let (drops, stop, dir) = (drops.clone(), stop.clone(), stack.dir.clone());
        std::thread::spawn(move || {
            let mut next = Instant::now() + every;
            while !stop.load(Ordering::SeqCst) {
                if Instant::now() >= next {
                    kick(&dir);
                    if let Ok(mut d) = drops.lock() {
                        d.push(Instant::now());
                    }
                    next += every;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    });
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
        sent_at.push(t0);
    }
    stop.store(true, Ordering::SeqCst);
    if let Some(t) = dropper {
        let _ = t.join();
    }
    let refreshes = grants(&stack, auth).saturating_sub(granted_before);
    let drops = drops.lock().map(|d| d.clone()).unwrap_or_default();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    // The mails whose wait a drop (reconnect, and with OAuth2 a new token) fell into.
    let mut hit: Vec<Duration> = sent_at
        .iter()
        .zip(&lat)
        .filter(|&(t0, l)| drops.iter().any(|d| *d >= *t0 && *d <= *t0 + *l))
        .map(|(_, l)| *l)
        .collect();
    hit.sort();
    lat.sort();
    println!(
        "latency ({auth:?}) SMTP 250 → acknowledgement in the client's Maildir, {n} mails one at a time: p50 {:.0} ms, p90 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        ms(pct(&lat, 0.5)),
        ms(pct(&lat, 0.9)),
        ms(pct(&lat, 0.99)),
        ms(lat[lat.len() - 1])
    );
    println!(
        "  IMAP sessions dropped by the server: {}; new access tokens during the run (refreshes): {refreshes}; mails in flight at a drop: {} ({})",
        drops.len(),
        hit.len(),
        hit.iter().map(|l| format!("{:.0} ms", ms(*l))).collect::<Vec<_>>().join(", ")
    );
    if let Some(s) = scraper {
        println!("  /metrics scraped {} times", s.count());
    }
}

fn drain(n: usize, auth: Auth) -> f64 {
    let Some((stack, inst)) = setup(auth, "bench drain") else { return 0.0 };
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
    let granted_before = grants(&stack, auth);
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
        "drain ({auth:?}) {n} mails waiting in INBOX with run --once: {secs:.2} s = {rate:.0} msg/s ({} sent, {} access tokens){scraped}",
        status(&inst)["outbox"]["sent"],
        grants(&stack, auth).saturating_sub(granted_before)
    );
    rate
}

fn main() {
    let auth = auth();
    let drop_every = match (env("BUZON_BENCH_DROP_SECONDS", usize::MAX), auth) {
        (usize::MAX, Auth::OAuth2 { lifetime }) => Some(Duration::from_secs(lifetime)),
        (usize::MAX | 0, _) => None,
        (s, _) => Some(Duration::from_secs(s as u64)),
    };
    latency(env("BUZON_BENCH_LATENCY_MAILS", 200), auth, drop_every);
    let n = env("BUZON_BENCH_DRAIN_MAILS", 2000);
    let mut rates: Vec<f64> = (0..3).map(|_| drain(n, auth)).collect();
    rates.sort_by(|a, b| a.total_cmp(b));
    println!("drain median of 3: {:.0} msg/s", rates[1]);
}
