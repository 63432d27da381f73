//! `buzon extract-worker` (hidden): the attachment extractor child. buzon
//! starts it itself (see `mail::extract::worker`); it reads extraction jobs
//! on stdin and answers on stdout until stdin ends. Not for people.

use std::io;

/// Serve jobs until the parent closes our stdin.
pub fn execute() -> anyhow::Result<super::Exit> {
    crate::mail::extract::serve(io::stdin().lock(), io::stdout().lock())?;
    Ok(super::Exit::Ok)
}

/// In the buzon binary, extraction runs in children of this program; at
/// exit they are stopped and reaped.
pub fn enable() {
    crate::mail::extract::worker::use_current_exe();
}

pub fn finish() {
    crate::mail::extract::shutdown();
}
