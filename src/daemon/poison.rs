//! Poison messages. Reading a mail (MIME, HTML, classification) is the one
//! stage where a mail's own bytes drive the work in this process (attachment
//! text is read in a bounded child: `mail::extract`). If a mail still kills
//! the process (out of memory under a service's memory cap, a stack
//! overflow), a restart must not read it again for ever with every mail
//! behind it waiting.
//!
//! `<store>.reading` says how the last process ended. While buzon runs it
//! says `running`; a clean stop empties it. A process that died leaves it
//! non-empty, and the next one starts *careful*: it reads the next mails one
//! at a time, each only when everything before it is committed, so the mail
//! being read is the only one in flight — and names it in the file while it
//! reads it. A process that dies then leaves that name; a mail that was alone
//! in flight at two deaths is quarantined with its reason. Careful reading
//! ends after [`CAREFUL_MAILS`] mails or when the source is caught up.
//!
//! Only a death the process brings on itself counts: running out of memory
//! (a refused allocation) and a stack overflow both end in `abort()`, and
//! the binary's SIGABRT handler ([`note_abort`]) marks `<store>.aborted`
//! before the process goes. An outside `kill -9` (or SIGTERM) leaves no mark:
//! it only makes the next start careful, and never sets a mail aside.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use tracing::{error, warn};

/// Deaths with one mail alone in flight after which it is set aside.
pub const DEATHS: u32 = 2;

/// Mails read one at a time after an unclean stop.
pub const CAREFUL_MAILS: u32 = 256;

/// What `<store>.reading` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// Nothing: the last process stopped cleanly (or never ran).
    Clean,
    /// A process was running normally.
    Running,
    /// A process was reading carefully, between mails.
    Careful,
    /// A process was reading `name` alone; it had died `deaths_before`
    /// times with that mail alone in flight before.
    Reading { name: String, deaths_before: u32 },
}

impl State {
    pub fn parse(text: &str) -> State {
        let line = text.lines().next().unwrap_or("").trim_end();
        let mut f = line.splitn(3, '\t');
        match (f.next(), f.next(), f.next()) {
            (Some("running"), _, _) => State::Running,
            (Some("careful"), _, _) => State::Careful,
            (Some("reading"), Some(n), Some(name)) if !name.is_empty() => match n.parse() {
                Ok(deaths_before) => State::Reading { name: name.to_string(), deaths_before },
                Err(_) => State::Careful,
            },
            (Some(""), None, None) | (None, _, _) => State::Clean,
            // Anything else was written by a process that did not stop cleanly.
            _ => State::Careful,
        }
    }

    pub fn render(&self) -> String {
        match self {
            State::Clean => String::new(),
            State::Running => "running\n".into(),
            State::Careful => "careful\n".into(),
            State::Reading { name, deaths_before } => format!("reading\t{deaths_before}\t{name}\n"),
        }
    }
}

/// How many times the process aborted with `name` alone in flight, given
/// what the previous process left and whether it aborted (its own death is
/// then one more).
pub fn deaths(left: &State, aborted: bool, name: &str) -> u32 {
    match left {
        State::Reading { name: n, deaths_before } if n == name => deaths_before + u32::from(aborted),
        _ => 0,
    }
}

/// The file the SIGABRT handler marks (opened by the first [`Watch`]).
static ABORT_MARK: std::sync::OnceLock<File> = std::sync::OnceLock::new();

/// For the binary's SIGABRT handler: mark `<store>.aborted`. One `write(2)`
/// on a file opened beforehand, no allocation, no lock: safe in a signal
/// handler.
pub fn note_abort() {
    if let Some(f) = ABORT_MARK.get() {
        let _ = rustix::io::write(f, b"aborted\n");
    }
}

/// How many mails the committer has handled (committed, or set aside):
/// careful reading waits for the pipeline to be empty.
#[derive(Clone, Default)]
pub struct Progress(Arc<(Mutex<u64>, Condvar)>);

impl Progress {
    /// The committer handled `n` more mails.
    pub fn handled(&self, n: u64) {
        let (m, cv) = &*self.0;
        *m.lock().unwrap_or_else(std::sync::PoisonError::into_inner) += n;
        cv.notify_all();
    }

    /// Wait until `sent` mails are handled; `false` when `stop()` said so
    /// first (checked every 100 ms).
    pub fn wait_for(&self, sent: u64, stop: impl Fn() -> bool) -> bool {
        let (m, cv) = &*self.0;
        let mut done = m.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        while *done < sent {
            if stop() {
                return false;
            }
            done = match cv.wait_timeout(done, Duration::from_millis(100)) {
                Ok((d, _)) => d,
                Err(p) => p.into_inner().0,
            };
        }
        true
    }
}

/// The preparer's watch over the mail it reads.
pub struct Watch {
    file: Option<File>,
    /// What the previous process left, and whether it aborted.
    left: State,
    aborted: bool,
    /// Mails still to read one at a time (0: normal reading).
    careful: u32,
}

impl Watch {
    /// Read what the last process left and say that this one runs. A watch
    /// that cannot write its file only logs: the desk goes on without poison
    /// detection rather than not at all.
    pub fn open(store: &Path) -> Watch {
        let path = crate::store::reading_path(store);
        let left = std::fs::read_to_string(&path).map(|t| State::parse(&t)).unwrap_or(State::Clean);
        let mark = crate::store::aborted_path(store);
        let aborted = std::fs::read(&mark).is_ok_and(|t| !t.is_empty());
        match std::fs::OpenOptions::new().create(true).write(true).truncate(true).open(&mark) {
            Ok(f) => {
                let _ = ABORT_MARK.set(f);
            }
            Err(e) => error!("Cannot write {}: {e}; a mail that kills buzon will not be set aside", mark.display()),
        }
        let careful = match &left {
            State::Clean => 0,
            State::Running | State::Careful => {
                warn!("buzon did not stop cleanly last time: reading the next mails one at a time");
                CAREFUL_MAILS
            }
            State::Reading { name, deaths_before } => {
                if aborted {
                    warn!(
                        "buzon aborted while reading {name} alone ({} time(s) now): reading the next mails one at a time",
                        deaths_before + 1
                    );
                } else {
                    warn!("buzon was stopped while reading {name}: reading the next mails one at a time");
                }
                CAREFUL_MAILS
            }
        };
        let file = match std::fs::OpenOptions::new().create(true).write(true).truncate(false).open(&path) {
            Ok(f) => Some(f),
            Err(e) => {
                error!("Cannot write {}: {e}; a mail that kills buzon will not be set aside", path.display());
                None
            }
        };
        let w = Watch { file, left, aborted, careful };
        w.write(if careful > 0 { &State::Careful } else { &State::Running });
        w
    }

    /// Reading one mail at a time, each alone in flight.
    pub fn careful(&self) -> bool {
        self.careful > 0
    }

    /// Why `name` must not be read again (it was alone in flight at two deaths).
    pub fn verdict(&self, name: &str) -> Option<String> {
        let n = deaths(&self.left, self.aborted, name);
        (n >= DEATHS).then(|| {
            format!(
                "buzon aborted {n} times while reading this mail alone (out of memory, or a stack \
                 overflow): set aside so the mail behind it goes on"
            )
        })
    }

    /// About to read `name` (alone, when careful).
    pub fn begin(&self, name: &str) {
        if self.careful() {
            self.write(&State::Reading {
                name: name.to_string(),
                deaths_before: deaths(&self.left, self.aborted, name),
            });
        }
    }

    /// Done reading `name`, whatever the outcome.
    pub fn end(&mut self) {
        if self.careful() {
            self.careful -= 1;
            self.write(if self.careful() { &State::Careful } else { &State::Running });
        }
    }

    /// The source has handed out all it holds: back to normal reading.
    pub fn caught_up(&mut self) {
        if self.careful() {
            self.careful = 0;
            self.write(&State::Running);
        }
    }

    fn write(&self, state: &State) {
        if let Some(f) = &self.file {
            let text = state.render();
            let r =
                f.set_len(0).and_then(|()| if text.is_empty() { Ok(()) } else { f.write_all_at(text.as_bytes(), 0) });
            if let Err(e) = r {
                warn!("Cannot note the mail being read: {e}");
            }
        }
    }
}

impl Drop for Watch {
    /// A clean stop (also a panic that unwinds): the next start reads normally.
    fn drop(&mut self) {
        self.write(&State::Clean);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_abort_with_that_mail_alone_counts_a_death() {
        let reading = |n: &str, d| State::Reading { name: n.into(), deaths_before: d };
        let cases: &[(State, bool, &str, u32)] = &[
            (State::Clean, true, "a", 0),
            (State::Running, true, "a", 0),
            (State::Careful, true, "a", 0),
            (reading("1764600000.M1P2.host", 0), true, "1764600000.M1P2.host", 1),
            // Killed from outside (no abort mark): no death counted.
            (reading("1764600000.M1P2.host", 1), false, "1764600000.M1P2.host", 1),
            (reading("1764600000.M1P2.host", 0), true, "other", 0),
            (reading("INBOX UID 42", 1), true, "INBOX UID 42", 2),
        ];
        for (left, aborted, name, want) in cases {
            assert_eq!(deaths(left, *aborted, name), *want, "{left:?} {aborted} {name}");
        }
    }

    #[test]
    fn the_file_round_trips_and_a_damaged_one_means_careful() {
        for s in [
            State::Clean,
            State::Running,
            State::Careful,
            State::Reading { name: "INBOX UID 7\twith tab".into(), deaths_before: 1 },
        ] {
            assert_eq!(State::parse(&s.render()), s);
        }
        assert_eq!(State::parse(""), State::Clean);
        assert_eq!(State::parse("reading\tx\tname"), State::Careful);
        assert_eq!(State::parse("garbage"), State::Careful);
    }

    #[test]
    fn two_aborts_alone_set_a_mail_aside_and_outside_kills_never() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let store = dir.path().join("store");
        // First life: normal reading; dies with mails in flight.
        let w = Watch::open(&store);
        assert!(!w.careful());
        w.begin("m1");
        std::mem::forget(w); // a death: no clean stop
        // What the SIGABRT handler writes as the process goes.
        let abort =
            || std::fs::write(crate::store::aborted_path(&store), "aborted\n").unwrap_or_else(|e| panic!("{e}"));
        // Second life: careful; killed from outside while reading m1 alone: no mark.
        let w = Watch::open(&store);
        assert!(w.careful());
        assert_eq!(w.verdict("m1"), None);
        w.begin("m1");
        std::mem::forget(w);
        // Third life: aborts reading m1 alone.
        let w = Watch::open(&store);
        assert_eq!(w.verdict("m1"), None);
        w.begin("m1");
        std::mem::forget(w);
        abort();
        // Fourth life: one abort on m1; aborts on it alone again.
        let w = Watch::open(&store);
        assert_eq!(w.verdict("m1"), None);
        w.begin("m1");
        std::mem::forget(w);
        abort();
        // Fifth life: m1 is set aside; m2 is read; a clean stop.
        let mut w = Watch::open(&store);
        assert!(w.verdict("m1").is_some_and(|v| v.contains("2 times")));
        assert_eq!(w.verdict("m2"), None);
        w.begin("m2");
        w.end();
        w.caught_up();
        assert!(!w.careful());
        drop(w);
        let w = Watch::open(&store);
        assert!(!w.careful(), "a clean stop reads normally next time");
        assert_eq!(w.verdict("m1"), None);
    }
}
