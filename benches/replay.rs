//! `rules replay` throughput: every message of a corpus classified again
//! with the shipped rules and looked up in a store that processed it (plus
//! 50,000 other records, as months of mail leave), single-threaded,
//! messages already in memory. Prints medians of several runs:
//!
//! ```text
//! cargo bench --bench replay
//! ```
//!
//! BUZON_CORPUS picks another folder (default: ../shared/corpus/real, as
//! the classify bench).

use std::path::Path;
use std::time::Instant;

use buzon::desk::model::Processed;
use buzon::store::Store;

#[path = "support/corpus.rs"]
mod corpus;
use corpus::{files, median};

/// The allocator of the buzon binary (src/main.rs), so the figures are the
/// daemon's and the CLI's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut paths = Vec::new();
    match std::env::var_os("BUZON_CORPUS") {
        Some(c) => files(Path::new(&c), &mut paths),
        None => files(&root.join("../shared/corpus/real"), &mut paths),
    }
    let msgs: Vec<Vec<u8>> = paths.iter().filter_map(|p| std::fs::read(p).ok()).collect();
    let app = match buzon::app::App::load(&root.join("config.toml")) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let dir = std::env::temp_dir().join(format!("buzon-bench-replay-{}", std::process::id()));
    let store = match Store::open(&dir.join("store")) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let record = |labels: Vec<String>, subject: String| Processed {
        at: chrono::Utc::now(),
        message_id: None,
        from: "cliente@example.pe".into(),
        subject,
        labels,
        rule_labels: Vec::new(),
        outcome: vec!["opened OC-2026-000001".into()],
        problems: Vec::new(),
    };
    // Months of other mail.
    for i in 0..50_000u32 {
        let sha = format!("{:064x}", i);
        let r = record(vec!["otro".into()], format!("filler {i}"));
        if let Err(e) = store.commit(Some((&sha, Some(&format!("<f{i}@example.pe>")), &r)), &[]) {
            eprintln!("{e}");
            std::process::exit(2);
        }
    }
    // The corpus, processed under labels that differ for every third mail.
    for (i, m) in msgs.iter().enumerate() {
        let (mail, class) = app.classify(m);
        let mut labels: Vec<String> = class.labels.into_iter().collect();
        if i % 3 == 0 {
            labels = vec!["reclamo".into()];
        }
        let r = Processed { message_id: mail.message_id.clone(), ..record(labels, mail.subject.clone()) };
        if let Err(e) = store.commit(Some((&mail.sha256, mail.message_id.as_deref(), &r)), &[]) {
            eprintln!("{e}");
            std::process::exit(2);
        }
    }
    let runs = 9;
    let mut times = Vec::new();
    let mut classify_times = Vec::new();
    let mut changed = 0usize;
    for _ in 0..runs {
        let t = Instant::now();
        for m in &msgs {
            std::hint::black_box(app.classify(m));
        }
        classify_times.push(t.elapsed().as_secs_f64());
        changed = 0;
        let t = Instant::now();
        for m in &msgs {
            match buzon::replay::replay(&app, &store, m) {
                Ok(r) => changed += usize::from(r.changed()),
                Err(e) => {
                    eprintln!("{e}");
                    std::process::exit(2);
                }
            }
        }
        times.push(t.elapsed().as_secs_f64());
    }
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
    let n = msgs.len() as f64;
    let t = median(times);
    println!(
        "replay: {} messages ({changed} would change) against a store of {} records, {runs} runs, single thread",
        msgs.len(),
        msgs.len() + 50_000
    );
    let c = median(classify_times);
    println!("parse + rules (App::classify): {:>9.0} msg/s  ({:.1} ms per corpus)", n / c, c * 1e3);
    println!("replay (+ store lookup):       {:>9.0} msg/s  ({:.1} ms per corpus)", n / t, t * 1e3);
}
