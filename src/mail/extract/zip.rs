//! The members of a ZIP archive, read within limits: members looked at per
//! archive, bytes per member, ZIP-in-ZIP depth, and the mail's budget of
//! inflated bytes and kept members. Members become documents only by name or
//! type ([`kind::member`](super::kind::member)); every member's name is in
//! the archive's text either way.

use std::io::{self, Read};

use super::kind::{self, Member as Kind};
use super::limits::{Budget, Limits};
use super::protocol::Member;
use super::{cap_text, pdf};
use crate::mail::{Problem, sanitize_name};

const MIB: f64 = 1024.0 * 1024.0;

/// One job's reading of an archive and everything inside it.
pub struct Reader<'a> {
    pub limits: &'a Limits,
    /// What is left of the mail's budget.
    pub left: Budget,
    /// What this job used of it.
    pub used: Budget,
    /// Where kept members go, as soon as each is read.
    pub emit: &'a mut dyn FnMut(Member) -> io::Result<()>,
}

/// Members not kept, reported once per archive.
#[derive(Default)]
struct NotKept {
    not_documents: Vec<String>,
    over_budget: Vec<String>,
}

impl Reader<'_> {
    /// Read the archive `name` at nesting `depth` (1: attached to the mail).
    /// Kept members go to `emit` (members of an inner archive before the
    /// inner archive itself); returns the archive's text: its members' names
    /// and texts. An `Err` is only the caller's `emit` failing.
    pub fn archive(&mut self, name: &str, data: &[u8], depth: u32, problems: &mut Vec<Problem>) -> io::Result<String> {
        let mut text = String::new();
        let mut archive = match ::zip::ZipArchive::new(io::Cursor::new(data)) {
            Ok(a) => a,
            Err(e) => {
                problems.push(Problem::new("zip_unreadable", e.to_string()));
                return Ok(text);
            }
        };
        let limits = self.limits;
        let n = archive.len();
        if n > limits.max_zip_members {
            problems.push(Problem::new(
                "zip_limit",
                format!("{n} members, only the first {} looked at", limits.max_zip_members),
            ));
        }
        let mut not_kept = NotKept::default();
        for i in 0..n.min(limits.max_zip_members) {
            let mut file = match archive.by_index(i) {
                Ok(f) => f,
                Err(e) => {
                    problems.push(Problem::new("zip_unreadable", format!("member {}: {e}", i + 1)));
                    continue;
                }
            };
            if file.is_dir() {
                continue;
            }
            let path = file.name().map(|n| n.into_owned()).unwrap_or_default();
            let mut member_name = sanitize_name(&path);
            if member_name.is_empty() {
                member_name = format!("miembro-{}", i + 1);
            }
            if text.len() <= limits.max_text_bytes {
                text.push_str(if path.is_empty() { &member_name } else { &path });
                text.push('\n');
            }
            // The first bytes tell what a member without a known extension is.
            let mut head = Vec::new();
            if kind::member(&member_name, b"") == Kind::Other
                && let Err(e) = (&mut file).take(8).read_to_end(&mut head)
            {
                problems.push(Problem::new("zip_unreadable", format!("{member_name}: {e}")));
                continue;
            }
            let what = kind::member(&member_name, &head);
            if what == Kind::Other {
                not_kept.not_documents.push(member_name);
                continue;
            }
            if self.left.members == 0 {
                not_kept.over_budget.push(member_name);
                continue;
            }
            let declared = file.size();
            if declared > limits.max_zip_member_bytes {
                problems.push(Problem::new(
                    "zip_limit",
                    format!(
                        "{member_name}: {declared} bytes inflated, over the {:.0} MiB limit: not kept",
                        limits.max_zip_member_bytes as f64 / MIB
                    ),
                ));
                continue;
            }
            if declared > self.left.inflated {
                not_kept.over_budget.push(member_name);
                self.left.inflated = 0;
                continue;
            }
            // What the archive declares may lie: read one byte past the bound.
            let bound = limits.max_zip_member_bytes.min(self.left.inflated);
            let mut data = head;
            let read = (&mut file).take((bound + 1).saturating_sub(data.len() as u64)).read_to_end(&mut data);
            let spent = data.len() as u64;
            self.left.inflated = self.left.inflated.saturating_sub(spent);
            self.used.inflated += spent;
            if let Err(e) = read {
                problems.push(Problem::new("zip_unreadable", format!("{member_name}: {e}")));
                continue;
            }
            if spent > bound {
                if bound == limits.max_zip_member_bytes {
                    problems.push(Problem::new(
                        "zip_limit",
                        format!(
                            "{member_name}: inflates past the {:.0} MiB limit: not kept",
                            limits.max_zip_member_bytes as f64 / MIB
                        ),
                    ));
                } else {
                    not_kept.over_budget.push(member_name);
                    self.left.inflated = 0;
                }
                continue;
            }
            // Counted before an inner archive is opened, so that its members
            // get only what is left after it.
            self.left.members -= 1;
            self.used.members += 1;
            let member = self.member(member_name, what, data, name, depth)?;
            if text.len() <= limits.max_text_bytes {
                text.push_str(&member.text);
            }
            (self.emit)(member)?;
        }
        self.report(name, not_kept, problems);
        Ok(text)
    }

    /// Read one kept member: its text, and for an archive its own members.
    fn member(&mut self, name: String, what: Kind, data: Vec<u8>, container: &str, depth: u32) -> io::Result<Member> {
        let limits = self.limits;
        let mut problems = Vec::new();
        let mut text = match what {
            Kind::Pdf => pdf::text(&data, limits, &mut problems),
            Kind::Text(_) => String::from_utf8_lossy(&data).into_owned(),
            Kind::Zip if depth < limits.max_zip_depth => self.archive(&name, &data, depth + 1, &mut problems)?,
            Kind::Zip => {
                problems.push(Problem::new(
                    "zip_nesting",
                    format!(
                        "an archive inside an archive {} levels deep: kept, not opened (limit {})",
                        depth + 1,
                        limits.max_zip_depth
                    ),
                ));
                String::new()
            }
            Kind::Document(_) | Kind::Other => String::new(),
        };
        cap_text(&mut text, limits.max_text_bytes, &mut problems);
        Ok(Member {
            name,
            content_type: what.content_type().to_string(),
            container: container.to_string(),
            text,
            problems,
            data,
        })
    }

    fn report(&self, archive: &str, not_kept: NotKept, problems: &mut Vec<Problem>) {
        let list = |names: &[String]| {
            let mut s = names.iter().take(5).cloned().collect::<Vec<_>>().join(", ");
            if names.len() > 5 {
                s.push_str(&format!(" and {} more", names.len() - 5));
            }
            s
        };
        if !not_kept.not_documents.is_empty() {
            problems.push(Problem::new(
                "zip_skipped",
                format!(
                    "{} members of {archive} are not documents and were not kept: {}",
                    not_kept.not_documents.len(),
                    list(&not_kept.not_documents)
                ),
            ));
        }
        if !not_kept.over_budget.is_empty() {
            let limits = self.limits;
            problems.push(Problem::new(
                "budget",
                format!(
                    "the mail's budget ({} archive members, {:.0} MiB inflated) is spent: {} members of {archive} not kept: {}",
                    limits.max_mail_members,
                    limits.max_mail_inflated as f64 / MIB,
                    not_kept.over_budget.len(),
                    list(&not_kept.over_budget)
                ),
            ));
        }
    }
}
