//! What the benches share: a folder's files in a stable order, and the
//! median of timed runs. (Included by path: not every bench uses both.)
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// Every regular file under `dir`, recursively, sorted by path.
pub fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// The median of the runs' times (the upper one of an even count).
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}
