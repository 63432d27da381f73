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
    receipts: Vec<super::Receipt>,
}

impl FileSink {
    pub fn open(dir: &Path) -> std::io::Result<FileSink> {
        std::fs::create_dir_all(dir)?;
        Ok(FileSink { dir: dir.to_path_buf(), receipts: Vec::new() })
    }

    fn write(&self, id: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
        let safe: String =
            id.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '.' { c } else { '_' }).collect();
        let path = self.dir.join(format!("{safe}.eml"));
        let mut f = std::fs::File::create(&path)?;
        f.write_all(bytes)?;
        Ok(path)
    }
}

impl Sink for FileSink {
    fn send(&mut self, id: &str, to: &[String], bytes: &[u8]) -> Vec<Delivery> {
        // One file holds the mail for every recipient.
        let outcome = match self.write(id, bytes) {
            Ok(path) => {
                for t in to {
                    let reply = format!("written {}", path.display());
                    self.receipts.push(super::Receipt { id: id.to_string(), to: t.clone(), reply });
                }
                Delivery::Delivered
            }
            Err(e) => Delivery::Retry(format!("cannot write the outbox file: {e}")),
        };
        vec![outcome; to.len()]
    }

    fn take_receipts(&mut self) -> Vec<super::Receipt> {
        std::mem::take(&mut self.receipts)
    }

    fn sync(&mut self) -> std::io::Result<()> {
        let dir = std::fs::File::open(&self.dir)?;
        rustix::fs::syncfs(&dir)?;
        Ok(())
    }
}
