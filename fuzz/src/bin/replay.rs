//! Replay inputs through a target without AFL, in one process: every panic
//! (in dependencies too, also those a `catch_unwind` absorbs) is reported
//! with its location, and the slowest inputs are listed. For triage and for
//! measuring a campaign's queue:
//!
//! ```text
//! fuzz/target/release/replay mail fuzz/out/mail/default/queue
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use buzon_fuzz as harness;

static PANICS: Mutex<Vec<String>> = Mutex::new(Vec::new());

type Run = Box<dyn Fn(&[u8]) -> usize>;

fn files(p: &Path, out: &mut Vec<PathBuf>) {
    // afl's own state (`.state/`, `.cur_input`) is not input.
    if p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')) {
        return;
    }
    if p.is_dir() {
        let Ok(rd) = std::fs::read_dir(p) else { return };
        let mut v: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
        v.sort();
        for q in v {
            files(&q, out);
        }
    } else if p.is_file() {
        out.push(p.to_path_buf());
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((target, paths)) = args.split_first() else {
        eprintln!("usage: replay mail|rules|config FILE_OR_DIR...");
        std::process::exit(2);
    };
    let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    let scratch = harness::scratch_dir("replay");
    let run: Run = match target.as_str() {
        "mail" => {
            let t = harness::MailTarget::new(root).unwrap_or_else(|e| panic!("{e}"));
            Box::new(move |d| t.run(d))
        }
        "rules" => {
            let t = harness::RulesTarget::new(root, &scratch).unwrap_or_else(|e| panic!("{e}"));
            Box::new(move |d| t.run(d))
        }
        "config" => {
            let t = harness::ConfigTarget::new(root, &scratch).unwrap_or_else(|e| panic!("{e}"));
            Box::new(move |d| t.run(d))
        }
        other => {
            eprintln!("unknown target {other}");
            std::process::exit(2);
        }
    };
    std::panic::set_hook(Box::new(|info| {
        let at = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        PANICS.lock().unwrap_or_else(|e| e.into_inner()).push(format!("{at}: {msg}"));
    }));
    let mut inputs = Vec::new();
    for p in paths {
        files(Path::new(p), &mut inputs);
    }
    let mut by_location: BTreeMap<String, (usize, PathBuf)> = BTreeMap::new();
    let mut slow: Vec<(Duration, PathBuf)> = Vec::new();
    let started = Instant::now();
    for path in &inputs {
        let Ok(data) = std::fs::read(path) else { continue };
        let t = Instant::now();
        let escaped =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| std::hint::black_box(run(&data)))).is_err();
        slow.push((t.elapsed(), path.clone()));
        let mut panics = std::mem::take(&mut *PANICS.lock().unwrap_or_else(|e| e.into_inner()));
        if escaped {
            panics.push("(escaped to the caller)".into());
        }
        for p in panics {
            by_location.entry(p).or_insert((0, path.clone())).0 += 1;
        }
    }
    slow.sort_by_key(|s| std::cmp::Reverse(s.0));
    println!("{} inputs in {:.1} s", inputs.len(), started.elapsed().as_secs_f64());
    for (d, p) in slow.iter().take(5) {
        println!("slow: {:>8.1} ms  {}", d.as_secs_f64() * 1e3, p.display());
    }
    for (loc, (n, first)) in &by_location {
        println!("panic: {n} × {loc}  (first: {})", first.display());
    }
    println!("{} distinct panics", by_location.len());
}
