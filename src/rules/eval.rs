//! Evaluate a rule set on a mail. Pure: no I/O, no clock.

use std::collections::BTreeSet;

use serde::Serialize;

use super::RuleSet;
use super::compile::{Cond, Field};
use crate::mail::Mail;
use crate::refs::{self, References};
use crate::text::fold;

/// What the caller knows about the mail beyond its bytes.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    /// The sender's role: ours | staff | client | partner | unknown.
    pub sender: &'a str,
    /// What the sender wrote holds a known staff `#command` (by the command
    /// parser's own table of verbs).
    pub command: bool,
    /// The role of the first forwarded From (`none` when nothing is forwarded).
    pub forwarded_sender: &'a str,
}

impl Default for Facts<'_> {
    fn default() -> Self {
        Facts { sender: "unknown", command: false, forwarded_sender: "none" }
    }
}

impl<'a> Facts<'a> {
    /// The facts of `mail` from a sender of role `sender`; `role` tells the
    /// role of an address (for the forwarded From).
    pub fn of(mail: &Mail, sender: &'a str, role: &dyn Fn(&str) -> &'static str) -> Facts<'a> {
        Facts {
            sender,
            command: crate::command_line::has_known_command(&mail.command_text),
            forwarded_sender: mail.forwarded_from.first().map(|a| role(&a.address)).unwrap_or("none"),
        }
    }
}

/// The document kind given to one attachment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DocumentMatch {
    /// The attachment's file name.
    pub attachment: String,
    pub kind: String,
    /// Index into `Mail::attachments`.
    #[serde(skip)]
    pub index: usize,
}

/// The outcome of classification.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Classification {
    pub labels: BTreeSet<String>,
    pub documents: Vec<DocumentMatch>,
    pub references: References,
    /// Ids of the rules that fired, in evaluation order.
    pub rules: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
}

impl Classification {
    pub fn has(&self, label: &str) -> bool {
        self.labels.contains(label)
    }
}

pub(super) struct Ctx<'a> {
    pub(super) mail: &'a Mail,
    pub(super) facts: Facts<'a>,
    pub(super) labels: &'a BTreeSet<String>,
    pub(super) kinds: &'a BTreeSet<String>,
}

pub(super) fn holds(c: &Cond, mail_hits: &[bool], att_hits: &[bool], ctx: &Ctx<'_>) -> bool {
    match c {
        Cond::All(v) => v.iter().all(|c| holds(c, mail_hits, att_hits, ctx)),
        Cond::Any(v) => v.iter().any(|c| holds(c, mail_hits, att_hits, ctx)),
        Cond::None(v) => !v.iter().any(|c| holds(c, mail_hits, att_hits, ctx)),
        Cond::Pattern(ids) => {
            ids.iter().any(|&i| mail_hits.get(i).copied().unwrap_or(false) || att_hits.get(i).copied().unwrap_or(false))
        }
        Cond::HeaderPresent(name) => ctx.mail.headers.iter().any(|(n, _)| n == name),
        Cond::FieldPresent(key) => ctx.mail.fields.iter().any(|(k, _)| k == key),
        Cond::Sender(roles) => roles.iter().any(|r| r == ctx.facts.sender),
        Cond::HasAttachments(b) => ctx.mail.attachments.iter().any(|a| !a.inline) == *b,
        Cond::Command(b) => ctx.facts.command == *b,
        Cond::ForwardedSender(roles) => roles.iter().any(|r| r == ctx.facts.forwarded_sender),
        Cond::Label(l) => ctx.labels.contains(l),
        Cond::Document(k) => {
            if k == "*" {
                !ctx.kinds.is_empty()
            } else {
                ctx.kinds.contains(k)
            }
        }
    }
}

/// The folded texts of a mail, computed once each.
pub(super) struct Texts<'a> {
    pub(super) mail: &'a Mail,
    pub(super) subject: Option<String>,
    pub(super) new_text: Option<String>,
}

impl Texts<'_> {
    fn subject(&mut self) -> &str {
        self.subject.get_or_insert_with(|| fold(&self.mail.subject))
    }

    fn new_text(&mut self) -> &str {
        self.new_text.get_or_insert_with(|| fold(&self.mail.new_text))
    }

    pub(super) fn field(&mut self, field: &Field) -> Option<String> {
        let mail = self.mail;
        Some(match field {
            Field::Subject => self.subject().to_string(),
            Field::NewText => self.new_text().to_string(),
            Field::QuotedText => fold(&mail.quoted_text),
            Field::Signature => fold(&mail.signature),
            Field::Forwarded => fold(&mail.forwarded_text),
            Field::CommandText => fold(&mail.command_text),
            Field::ForwardedFrom => {
                mail.forwarded_from.iter().map(|a| a.address.as_str()).collect::<Vec<_>>().join("\n")
            }
            Field::MailField(key) => {
                let values: Vec<&str> = mail.fields.iter().filter(|(k, _)| k == key).map(|(_, v)| v.as_str()).collect();
                if values.is_empty() {
                    return None;
                }
                fold(&values.join("\n"))
            }
            Field::Text => {
                let mut s = String::with_capacity(mail.subject.len() + mail.new_text.len() + 1);
                s.push_str(self.subject());
                s.push('\n');
                s.push_str(self.new_text());
                s
            }
            Field::Sent => {
                let mut s =
                    String::with_capacity(mail.subject.len() + mail.new_text.len() + mail.forwarded_text.len() + 2);
                s.push_str(self.subject());
                s.push('\n');
                s.push_str(self.new_text());
                s.push('\n');
                s.push_str(&fold(&mail.forwarded_text));
                s
            }
            Field::From => mail.from_address().to_string(),
            Field::FromDomain => mail.from.as_ref().map(|a| a.domain().to_string()).unwrap_or_default(),
            Field::To => mail.to.iter().chain(&mail.cc).map(|a| a.address.as_str()).collect::<Vec<_>>().join("\n"),
            Field::AutoSignal => mail.auto_signals.join("\n"),
            Field::Dmarc => mail.dmarc.clone().unwrap_or_default(),
            Field::Header(name) => {
                let values: Vec<&str> =
                    mail.headers.iter().filter(|(n, _)| n == name).map(|(_, v)| v.as_str()).collect();
                if values.is_empty() {
                    return None;
                }
                fold(&values.join("\n"))
            }
            Field::AttachmentName | Field::AttachmentType | Field::AttachmentText => return None,
        })
    }
}

/// Which patterns matched: on the mail's texts, on any attachment, per attachment.
pub(super) struct Hits {
    pub mail_hits: Vec<bool>,
    pub any_att: Vec<bool>,
    pub per_att: Vec<Vec<bool>>,
}

/// Run every field's pattern sets over the mail once.
pub(super) fn scan(rules: &RuleSet, mail: &Mail) -> Hits {
    let n = rules.pattern_count;
    let mut mail_hits = vec![false; n];
    let mut texts = Texts { mail, subject: None, new_text: None };
    for fs in rules.sets.iter().filter(|fs| !fs.field.per_attachment()) {
        if let Some(text) = texts.field(&fs.field) {
            for m in fs.set.matches(text.as_bytes()).iter() {
                mail_hits[fs.ids[m]] = true;
            }
        }
    }
    let att_sets: Vec<_> = rules.sets.iter().filter(|fs| fs.field.per_attachment()).collect();
    let mut any_att = vec![false; n];
    let mut per_att: Vec<Vec<bool>> = Vec::with_capacity(mail.attachments.len());
    for a in &mail.attachments {
        let mut hits = vec![false; if att_sets.is_empty() { 0 } else { n }];
        for fs in &att_sets {
            let text = match fs.field {
                Field::AttachmentName => fold(&a.name),
                Field::AttachmentType => a.content_type.clone(),
                _ => fold(&a.text),
            };
            for m in fs.set.matches(text.as_bytes()).iter() {
                hits[fs.ids[m]] = true;
                any_att[fs.ids[m]] = true;
            }
        }
        per_att.push(hits);
    }

    Hits { mail_hits, any_att, per_att }
}

/// Classify `mail` with `rules`.
pub fn classify(rules: &RuleSet, mail: &Mail, facts: Facts<'_>) -> Classification {
    let Hits { mail_hits, any_att, per_att } = scan(rules, mail);
    let mut out = Classification::default();
    let empty_labels = BTreeSet::new();
    let empty_kinds = BTreeSet::new();
    // Documents first: label rules may test the kinds found.
    let mut kinds = BTreeSet::new();
    for (i, hits) in per_att.iter().enumerate() {
        let ctx = Ctx { mail, facts, labels: &empty_labels, kinds: &empty_kinds };
        if let Some(rule) = rules.documents.iter().find(|d| holds(&d.cond, &mail_hits, hits, &ctx)) {
            out.documents.push(DocumentMatch {
                attachment: mail.attachments[i].name.clone(),
                kind: rule.kind.clone(),
                index: i,
            });
            kinds.insert(rule.kind.clone());
            if !out.rules.contains(&rule.id) {
                out.rules.push(rule.id.clone());
            }
        }
    }
    let mut labels = BTreeSet::new();
    let mut excluded = BTreeSet::new();
    for rule in &rules.rules {
        let fired = {
            let ctx = Ctx { mail, facts, labels: &labels, kinds: &kinds };
            holds(&rule.cond, &mail_hits, &any_att, &ctx)
        };
        if !fired {
            continue;
        }
        out.rules.push(rule.id.clone());
        if rule.exclusive {
            labels = rule.labels.iter().cloned().collect();
            break;
        }
        for l in &rule.labels {
            if !excluded.contains(l) {
                labels.insert(l.clone());
            }
        }
        for e in &rule.exclude {
            labels.remove(e);
            excluded.insert(e.clone());
        }
        if rule.stop {
            break;
        }
    }
    if labels.is_empty() {
        labels.insert(rules.fallback.clone());
    }
    out.labels = labels;

    refs::extract_into(&mail.subject, &mut out.references);
    refs::extract_into(&mail.new_text, &mut out.references);
    // A forwarded notice is what the sender sends us: its references count.
    refs::extract_into(&mail.forwarded_text, &mut out.references);
    for a in &mail.attachments {
        refs::extract_into(&a.name, &mut out.references);
        refs::extract_into(&a.text, &mut out.references);
    }
    out.problems = mail.problems.iter().map(ToString::to_string).collect();
    for a in &mail.attachments {
        for p in &a.problems {
            out.problems.push(format!("{}: {p}", if a.name.is_empty() { "(sin nombre)" } else { &a.name }));
        }
    }
    out
}
