//! The embedded default sink: one RFC 5322 `.eml` file per outgoing mail,
//! named by its outbox id. Files are made durable together (`syncfs`) before
//! the outbox marks them sent; a file cut short by a crash is not marked sent
//! and is written again whole. Writing the same id twice replaces the file:
//! never a duplicate.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::{Delivery, Sink};

pub struct FileSink {
    dir: PathBuf,
}

impl FileSink {
    pub fn open(dir: &Path) -> std::io::Result<FileSink> {
        std::fs::create_dir_all(dir)?;
        Ok(FileSink { dir: dir.to_path_buf() })
    }

    fn write(&self, id: &str, bytes: &[u8]) -> std::io::Result<()> {
        let safe: String =
            id.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '.' { c } else { '_' }).collect();
        let mut f = std::fs::File::create(self.dir.join(format!("{safe}.eml")))?;
        f.write_all(bytes)
    }
}

impl Sink for FileSink {
    fn send(&mut self, id: &str, to: &[String], bytes: &[u8]) -> Vec<Delivery> {
        // One file holds the mail for every recipient.
        let outcome = match self.write(id, bytes) {
            Ok(()) => Delivery::Delivered,
            Err(e) => Delivery::Retry(format!("cannot write the outbox file: {e}")),
        };
        vec![outcome; to.len()]
    }

    fn sync(&mut self) -> std::io::Result<()> {
        let dir = std::fs::File::open(&self.dir)?;
        rustix::fs::syncfs(&dir)?;
        Ok(())
    }
}
