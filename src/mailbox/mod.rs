//! The source: raw messages with a stable identity. The embedded default is a
//! Maildir (`maildir.rs`); a message is acknowledged (moved to `cur/`) only
//! after the store committed and flushed its processing.

pub mod maildir;
