//! `BUZON_BENCH_METRICS=1`: the benchmarked daemon serves `/metrics` on a
//! free loopback port (`[http] listen` appended to its config.toml) and a
//! thread scrapes it every second, as a Prometheus server would, so the
//! figures include the cost of keeping and serving the metrics.

use std::io::{Read, Write};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

pub fn enabled() -> bool {
    std::env::var("BUZON_BENCH_METRICS").is_ok_and(|v| v == "1")
}

/// A scraper of one instance's `/metrics`; stops when dropped.
pub struct Scraper {
    stop: Arc<AtomicBool>,
    pub scrapes: Arc<AtomicUsize>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// With `BUZON_BENCH_METRICS=1`: `[http] listen` in `instance/config.toml`
/// and a scraper of it; otherwise nothing.
pub fn start(instance: &Path) -> Option<Scraper> {
    if !enabled() {
        return None;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).ok()?;
    let config = instance.join("config.toml");
    let text = std::fs::read_to_string(&config).unwrap_or_default();
    if let Err(e) = std::fs::write(&config, format!("{text}\n[http]\nlisten = \"127.0.0.1:{port}\"\n")) {
        panic!("{}: {e}", config.display());
    }
    let stop = Arc::new(AtomicBool::new(false));
    let scrapes = Arc::new(AtomicUsize::new(0));
    let (s, n) = (stop.clone(), scrapes.clone());
    let thread = std::thread::spawn(move || {
        while !s.load(Ordering::Relaxed) {
            if let Ok(mut c) = std::net::TcpStream::connect(("127.0.0.1", port)) {
                let _ = c.set_read_timeout(Some(Duration::from_secs(5)));
                let mut body = String::new();
                if write!(c, "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").is_ok()
                    && c.read_to_string(&mut body).is_ok()
                    && body.starts_with("HTTP/1.1 200")
                {
                    n.fetch_add(1, Ordering::Relaxed);
                }
            }
            std::thread::sleep(Duration::from_secs(1));
        }
    });
    Some(Scraper { stop, scrapes, thread: Some(thread) })
}

impl Scraper {
    pub fn count(&self) -> usize {
        self.scrapes.load(Ordering::Relaxed)
    }
}

impl Drop for Scraper {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
