//! The embedded default sink: one RFC 5322 `.eml` file per outgoing mail,
//! named by its outbox id, written atomically (temp file, fsync, rename).
//! Writing the same id twice replaces the file: never a duplicate.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::{Outcome, Sink};

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
        let tmp = self.dir.join(format!(".{safe}.tmp"));
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_data()?;
        std::fs::rename(&tmp, self.dir.join(format!("{safe}.eml")))
    }
}

impl Sink for FileSink {
    fn send(&mut self, id: &str, _to: &[String], bytes: &[u8]) -> Outcome {
        match self.write(id, bytes) {
            Ok(()) => Outcome::Delivered,
            Err(e) => Outcome::Retry(format!("cannot write the outbox file: {e}")),
        }
    }
}
