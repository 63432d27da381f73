//! Classification throughput over the real-world corpus, single-threaded,
//! messages already in memory. Prints medians of several runs:
//!
//! ```text
//! cargo bench --bench classify
//! ```
//!
//! Set BUZON_CORPUS to another folder to measure it instead of
//! ../shared/corpus/real.

use std::path::{Path, PathBuf};
use std::time::Instant;

use buzon::clients::Directory;
use buzon::mail::{ParseOptions, parse};
use buzon::rules::{Facts, RuleSet, classify};

#[path = "support/corpus.rs"]
mod corpus;
use corpus::{files, median};

/// The allocator of the buzon binary (src/main.rs), so the figures are the
/// daemon's and the CLI's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let corpus =
        std::env::var_os("BUZON_CORPUS").map(PathBuf::from).unwrap_or_else(|| root.join("../shared/corpus/real"));
    let mut paths = Vec::new();
    files(&corpus, &mut paths);
    let msgs: Vec<Vec<u8>> = paths.iter().filter_map(|p| std::fs::read(p).ok()).collect();
    let bytes: usize = msgs.iter().map(Vec::len).sum();
    let rules = match RuleSet::load(&root.join("rules")) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let dir = Directory::default();
    let opts = ParseOptions::default();
    let runs = 9;
    let mut parse_only = Vec::new();
    let mut mime_only = Vec::new();
    let mut no_extract_t = Vec::new();
    let no_extract = ParseOptions { skip_extraction: true, ..ParseOptions::default() };
    let mut full = Vec::new();
    let mut labels = 0usize;
    for _ in 0..runs {
        let t = Instant::now();
        for m in &msgs {
            std::hint::black_box(parse(m, &opts));
        }
        parse_only.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        for m in &msgs {
            std::hint::black_box(mail_parser::MessageParser::default().parse(m.as_slice()));
        }
        mime_only.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        for m in &msgs {
            std::hint::black_box(parse(m, &no_extract));
        }
        no_extract_t.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        for m in &msgs {
            let mail = parse(m, &opts);
            let sender = dir.sender(mail.from_address());
            let c = classify(&rules, &mail, Facts::of(&mail, sender.role(), &|a| dir.sender(a).role()));
            labels += c.labels.len();
        }
        full.push(t.elapsed().as_secs_f64());
    }
    std::hint::black_box(labels);
    let n = msgs.len() as f64;
    let (p, f) = (median(parse_only), median(full));
    println!("corpus: {} messages, {:.1} MiB, {} runs, single thread", msgs.len(), bytes as f64 / 1048576.0, runs);
    let (mo, ne) = (median(mime_only), median(no_extract_t));
    println!("mail-parser alone:          {:>9.0} msg/s  ({:.1} ms per corpus)", n / mo, mo * 1e3);
    println!("parse, no attachment text:  {:>9.0} msg/s  ({:.1} ms per corpus)", n / ne, ne * 1e3);
    println!("parse only:                 {:>9.0} msg/s  ({:.1} ms per corpus)", n / p, p * 1e3);
    println!("parse + rules + references: {:>9.0} msg/s  ({:.1} ms per corpus)", n / f, f * 1e3);
    println!("rules + references alone:   {:.1} ms per corpus ({:.0}% of parse)", (f - p) * 1e3, (f - p) / p * 100.0);
}
