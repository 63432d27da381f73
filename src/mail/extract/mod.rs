//! Text extraction from attachments — the text layer of PDFs and the
//! members of ZIP archives — bounded in memory, CPU and time.
//!
//! ```text
//! mail::parse ─ MailExtractor (one mail's budget) ─ worker::run ─┬─ child `buzon extract-worker`
//!                                                                │   (RLIMIT_AS, RLIMIT_CPU; pooled)
//!                                                                └─ helper thread (no binary known)
//!                                          pdf::text · zip::Reader  (the bounded work, either place)
//! ```
//!
//! Two layers of bounds. Inside the readers, counts: PDF pages, inflated
//! page content, content operators, text bytes; ZIP members per archive,
//! bytes per member, nesting depth; and per mail, inflated bytes, kept
//! members and wall time ([`Limits`]). Around them, the process: a child
//! with an address-space and a CPU limit, killed at its deadline, so a file
//! that defeats the counts kills a replaceable process, never buzon. Every
//! bound that is reached is a [`Problem`] on the attachment, never silence:
//!
//! | code | meaning |
//! |---|---|
//! | `pdf_too_large` | the PDF is over `max_pdf_bytes`: kept, not read |
//! | `pdf_unreadable`, `pdf_encrypted`, `pdf_no_text` | as they say |
//! | `pdf_timeout`, `zip_timeout` | over `pdf_timeout` / `zip_timeout`: the extractor was killed; the text (and, for a ZIP, the members) read before stay |
//! | `extract_limit` | a PDF bound (pages, page content, operators, a stream at load) or the text cap: the text is what was read before it |
//! | `zip_limit` | members per archive, or a member over `max_zip_member_bytes` (listed, not kept) |
//! | `zip_nesting` | an archive deeper than `max_zip_depth`: kept, not opened |
//! | `zip_skipped` | members that are no document (by name or type): listed in the text, not kept |
//! | `zip_unreadable` | the archive or a member could not be read |
//! | `budget` | the mail's inflated bytes, kept members or extraction time are spent |
//! | `extractor_died` | see [`EXTRACTOR_DIED`] |

mod kind;
mod limits;
mod pdf;
mod protocol;
pub mod worker;
mod zip;

use std::time::{Duration, Instant};

pub use kind::{is_pdf, is_zip};
pub use limits::{Budget, Limits};
pub use protocol::{Member, What};
pub use worker::{Mode, serve, shutdown};

use super::Problem;

/// The problem code of an attachment whose extractor process died twice in
/// a row while reading it — killed by its memory or CPU limit, or by a
/// signal, or crashed: once, and once more in a fresh process. The
/// attachment is kept (its bytes, name and hash are right) but has no text;
/// the same code is on the mail's problems. It means *this file* reliably
/// kills a reader: the pipeline quarantines such a mail (a poison mail must
/// never stop the desk), and an assistant opens the file by hand. A
/// timeout is not a death (`pdf_timeout`, `zip_timeout`), nor is a file the
/// reader rejects (`pdf_unreadable`).
pub const EXTRACTOR_DIED: &str = "extractor_died";

/// What extracting one attachment gave.
#[derive(Debug, Default)]
pub struct Extracted {
    /// The attachment's text (a ZIP's: its members' names and texts).
    pub text: String,
    pub problems: Vec<Problem>,
    /// For a ZIP: the members kept, each to become an attachment (members
    /// of an inner archive come before that archive).
    pub members: Vec<Member>,
}

/// One mail's extraction: its budget of inflated bytes, kept members and
/// time, spent attachment by attachment.
pub struct MailExtractor<'a> {
    limits: &'a Limits,
    left: Budget,
    started: Instant,
}

impl<'a> MailExtractor<'a> {
    pub fn new(limits: &'a Limits) -> MailExtractor<'a> {
        MailExtractor { limits, left: Budget::new(limits), started: Instant::now() }
    }

    /// Read a PDF or a ZIP within the limits and what is left of the budget.
    pub fn extract(&mut self, what: What, name: &str, data: &[u8]) -> Extracted {
        let limits = self.limits;
        if what == What::Pdf {
            // Files that are no PDF need no extractor.
            let mut problems = Vec::new();
            if !pdf::worth_reading(data, limits, &mut problems) {
                return Extracted { problems, ..Extracted::default() };
            }
        }
        let per_file = if what == What::Pdf { limits.pdf_timeout } else { limits.zip_timeout };
        let time_left = limits.mail_timeout.saturating_sub(self.started.elapsed());
        if time_left.is_zero() {
            let detail = format!("the mail's extraction time ({:?}) is spent: not read", limits.mail_timeout);
            return Extracted { problems: vec![Problem::new("budget", detail)], ..Extracted::default() };
        }
        let (timeout, by_mail) = if time_left < per_file { (time_left, true) } else { (per_file, false) };
        let job = protocol::Job {
            what,
            name: name.to_string(),
            limits: limits.clone(),
            budget: self.left,
            cpu_seconds: timeout.as_secs() + 1,
            data_len: data.len() as u64,
        };
        match worker::run(&job, data, timeout) {
            worker::Ran::Done(done, members) => {
                self.left.spend(done.used);
                Extracted { text: done.text, problems: done.problems, members }
            }
            worker::Ran::TimedOut(members) => {
                let inflated = members.iter().map(|m| m.data.len() as u64).sum();
                self.left.spend(Budget { inflated, members: members.len() });
                let code = match (by_mail, what) {
                    (true, _) => "budget",
                    (false, What::Pdf) => "pdf_timeout",
                    (false, What::Zip) => "zip_timeout",
                };
                let detail = if by_mail {
                    format!("the mail's extraction time ({:?}) ran out while reading this file", limits.mail_timeout)
                } else {
                    format!("text extraction took over {}", secs(timeout))
                };
                Extracted { problems: vec![Problem::new(code, detail)], members, ..Extracted::default() }
            }
            worker::Ran::Died { first, second } => {
                let detail = format!("the extractor died twice on this file ({first}; then {second}): not read");
                Extracted { problems: vec![Problem::new(EXTRACTOR_DIED, detail)], ..Extracted::default() }
            }
        }
    }
}

fn secs(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

/// Cut `s` to at most `max` bytes on a character boundary.
pub fn truncate(s: &mut String, max: usize) {
    if s.len() > max {
        let mut cut = max;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
}

/// [`truncate`], reported: an `extract_limit` problem when text was cut.
pub fn cap_text(s: &mut String, max: usize, problems: &mut Vec<Problem>) {
    if s.len() > max {
        truncate(s, max);
        if !problems.iter().any(|p| p.code == "extract_limit" && p.detail.contains("text cut")) {
            problems.push(Problem::new("extract_limit", format!("text cut at {max} bytes")));
        }
    }
}

#[cfg(test)]
mod tests;
