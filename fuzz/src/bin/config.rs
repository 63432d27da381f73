//! Fuzz target `config`: the config and clients loaders (see `src/lib.rs`).

use buzon_fuzz as harness;

fn main() {
    let root = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    let scratch = harness::scratch_dir("config");
    let target =
        harness::ConfigTarget::new(root, &scratch).unwrap_or_else(|e| panic!("cannot set up the config target: {e}"));
    harness::install_panic_hook(true);
    // The targets hold templates and regexes that are not RefUnwindSafe;
    // a panic aborts the process anyway (install_panic_hook).
    let target = std::panic::AssertUnwindSafe(target);
    afl::fuzz_nohook!(|data: &[u8]| {
        std::hint::black_box(target.run(data));
    });
}
