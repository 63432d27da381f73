//! Poison messages. Reading a mail (MIME, HTML, classification) is the one
//! stage where a mail's own bytes drive the work in this process (attachment
//! text is read in a bounded child: `mail::extract`). If a mail still kills
//! the process (out of memory under a service's memory cap, a stack
//! overflow), a restart must not read it again for ever with every mail
//! behind it waiting: the preparer reads one mail at a time and names it in
//! `<store>.reading` before it starts and clears the file when it is done.
//! A process that dies leaves the name there; the next start knows that
//! mail was alone in flight, reads it once more (with the count), and a
//! mail the process died on twice is quarantined with its reason.
//!
//! An outside `kill -9` that happens to land while one mail is read counts
//! once; only a second death on the same mail, at its next reading, sets it
//! aside — the crash tests' exact end state holds.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

use tracing::{error, warn};

/// Deaths while reading one mail after which it is set aside.
pub const DEATHS: u32 = 2;

/// What `<store>.reading` says: the mail being read, and how many times the
/// process had already died reading it when that reading began.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reading {
    pub name: String,
    pub deaths_before: u32,
}

impl Reading {
    /// The file's text, or `None` when it names nothing (a clean stop).
    pub fn parse(text: &str) -> Option<Reading> {
        let line = text.lines().next()?;
        let (count, name) = line.split_once('\t')?;
        let deaths_before = count.trim().parse().ok()?;
        (!name.is_empty()).then(|| Reading { name: name.to_string(), deaths_before })
    }

    pub fn render(&self) -> String {
        format!("{}\t{}\n", self.deaths_before, self.name)
    }
}

/// How many times the process died reading `name`, given what the previous
/// process left (its death is the one more).
pub fn deaths(left: Option<&Reading>, name: &str) -> u32 {
    match left {
        Some(r) if r.name == name => r.deaths_before + 1,
        _ => 0,
    }
}

/// The preparer's watch over the mail it reads.
pub struct Watch {
    file: Option<File>,
    /// What the previous process was reading when it died.
    left: Option<Reading>,
}

impl Watch {
    /// Open `<store>.reading`. A watch that cannot write its file only logs:
    /// the desk goes on without poison detection rather than not at all.
    pub fn open(store: &Path) -> Watch {
        let path = crate::store::reading_path(store);
        let left = std::fs::read_to_string(&path).ok().as_deref().and_then(Reading::parse);
        if let Some(r) = &left {
            warn!(
                "buzon stopped while reading {} (it had stopped on it {} time(s) before): reading it again, alone",
                r.name, r.deaths_before
            );
        }
        let file = match std::fs::OpenOptions::new().create(true).write(true).truncate(false).open(&path) {
            Ok(f) => Some(f),
            Err(e) => {
                error!("Cannot write {}: {e}; a mail that kills buzon will not be set aside", path.display());
                None
            }
        };
        Watch { file, left }
    }

    /// Why `name` must not be read again (the process died on it twice).
    pub fn verdict(&self, name: &str) -> Option<String> {
        let n = deaths(self.left.as_ref(), name);
        (n >= DEATHS).then(|| {
            format!(
                "buzon stopped {n} times while reading this mail alone (out of memory or killed): \
                 set aside so the mail behind it goes on"
            )
        })
    }

    /// About to read `name`.
    pub fn begin(&self, name: &str) {
        let r = Reading { name: name.to_string(), deaths_before: deaths(self.left.as_ref(), name) };
        self.write(r.render().as_bytes());
    }

    /// Done reading (whatever the outcome).
    pub fn end(&mut self, name: &str) {
        if self.left.as_ref().is_some_and(|r| r.name == name) {
            self.left = None;
        }
        self.write(b"");
    }

    fn write(&self, text: &[u8]) {
        if let Some(f) = &self.file {
            let r = f.set_len(0).and_then(|()| if text.is_empty() { Ok(()) } else { f.write_all_at(text, 0) });
            if let Err(e) = r {
                warn!("Cannot note the mail being read: {e}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_the_previous_process_left_counts_its_death_on_that_mail_only() {
        let left = Reading { name: "1764600000.M1P2.host".into(), deaths_before: 0 };
        let again = Reading { name: "INBOX UID 42".into(), deaths_before: 1 };
        let cases: &[(Option<&Reading>, &str, u32)] = &[
            (None, "a", 0),
            (Some(&left), "1764600000.M1P2.host", 1),
            (Some(&left), "other", 0),
            (Some(&again), "INBOX UID 42", 2),
        ];
        for (l, name, want) in cases {
            assert_eq!(deaths(*l, name), *want, "{l:?} {name}");
        }
    }

    #[test]
    fn the_file_round_trips_and_an_empty_or_damaged_one_names_nothing() {
        let r = Reading { name: "INBOX UID 7\twith tab".into(), deaths_before: 1 };
        assert_eq!(Reading::parse(&r.render()), Some(r));
        for text in ["", "\n", "x\tname", "1\t", "no tab"] {
            assert_eq!(Reading::parse(text), None, "{text:?}");
        }
    }

    #[test]
    fn a_mail_is_set_aside_after_the_second_death_and_not_before() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let store = dir.path().join("store");
        // First life: dies while reading m1.
        let w = Watch::open(&store);
        assert_eq!(w.verdict("m1"), None);
        w.begin("m1");
        drop(w);
        // Second life: m1 again (one death), dies again.
        let w = Watch::open(&store);
        assert_eq!(w.verdict("m1"), None);
        w.begin("m1");
        drop(w);
        // Third life: m1 is set aside; m2 is read normally and ends cleanly.
        let mut w = Watch::open(&store);
        assert!(w.verdict("m1").is_some_and(|v| v.contains("2 times")));
        assert_eq!(w.verdict("m2"), None);
        w.begin("m2");
        w.end("m2");
        drop(w);
        let w = Watch::open(&store);
        assert_eq!(w.verdict("m1"), None, "a clean stop forgets");
    }
}
