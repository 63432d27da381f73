use std::process::ExitCode;

/// sled and mail parsing allocate and free many small buffers: malloc/free
/// were ~16 % of a `run --once` profile with glibc's allocator; mimalloc
/// makes the run ~15 % faster (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's option numbers (`mi_option_e` in its `mimalloc.h`, v2 and v3
/// alike); the crate names only some of them.
const MI_OPTION_ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// By default mimalloc keeps freed memory for a while and commits whole
/// arenas up front: peak RSS 174 MiB on the 10,000-mail run instead of
/// ~100. Return memory at once, commit on demand — unless the operator set
/// `MIMALLOC_*` in the environment, which mimalloc reads itself.
fn tune_allocator() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: mi_option_set stores a plain integer option; any value is valid.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0) };
    }
    if std::env::var_os("MIMALLOC_ARENA_EAGER_COMMIT").is_none() {
        // SAFETY: as above.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_ARENA_EAGER_COMMIT, 0) };
    }
}

/// Out of memory (a refused allocation) and a stack overflow end in
/// `abort()`: mark it beside the store before the process goes, so the next
/// start can tell a mail that kills buzon from an outside `kill -9`
/// (`daemon::poison`). glibc's `abort()` still ends the process after the
/// handler returns.
fn note_aborts() {
    // SAFETY: the action is async-signal-safe: an atomic load (OnceLock::get
    // of an already-set value) and one write(2) syscall, no allocation, no lock.
    let registered = unsafe { signal_hook_registry::register(libc::SIGABRT, buzon::daemon::note_abort) };
    if let Err(e) = registered {
        eprintln!("buzon: cannot watch for aborts ({e}); a mail that kills buzon will not be set aside");
    }
}

fn main() -> ExitCode {
    tune_allocator();
    note_aborts();
    buzon::cli::main()
}
