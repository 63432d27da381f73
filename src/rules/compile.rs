//! Raw rules → compiled matchers. Every regular expression of every rule is
//! compiled once into one `RegexSet` per field, so a mail costs one pass per
//! field however many rules there are.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;

use regex::bytes::{RegexSet, RegexSetBuilder};
use toml::Spanned;

use super::syntax::{Patterns, RawCond};
use crate::diag::{Diagnostic, suggest};

/// The text a pattern is matched against.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Field {
    Subject,
    NewText,
    QuotedText,
    Signature,
    Forwarded,
    ForwardedFrom,
    CommandText,
    Text,
    /// What the sender sends us: the subject, its new text and what it forwards.
    Sent,
    From,
    FromDomain,
    To,
    AutoSignal,
    Dmarc,
    /// A header's value (name lower case).
    Header(String),
    /// A field's value (key folded).
    MailField(String),
    AttachmentName,
    AttachmentType,
    AttachmentText,
}

impl Field {
    /// Attachment fields are matched per attachment.
    pub fn per_attachment(&self) -> bool {
        matches!(self, Field::AttachmentName | Field::AttachmentType | Field::AttachmentText)
    }
}

/// Sender roles a rule can test.
pub const SENDER_ROLES: &[&str] = &["ours", "staff", "client", "partner", "counterpart", "unknown"];
/// Roles of a forwarded From (`none`: the mail forwards nothing).
pub const FORWARDED_ROLES: &[&str] = &["ours", "staff", "client", "partner", "counterpart", "unknown", "none"];

/// A compiled condition.
#[derive(Debug, Clone)]
pub enum Cond {
    All(Vec<Cond>),
    Any(Vec<Cond>),
    None(Vec<Cond>),
    /// Any of these global pattern ids matched.
    Pattern(Vec<usize>),
    /// The header is present.
    HeaderPresent(String),
    /// The field is present (key folded).
    FieldPresent(String),
    Sender(Vec<String>),
    HasAttachments(bool),
    /// What the sender wrote holds a known staff command.
    Command(bool),
    /// The role of the forwarded From (`none`: nothing forwarded).
    ForwardedSender(Vec<String>),
    Label(String),
    /// A document kind (`*` any) among the attachments.
    Document(String),
}

/// All patterns of a rule set, grouped per field.
#[derive(Default)]
pub struct PatternTable {
    /// field → (patterns in order, their global ids)
    pub pending: BTreeMap<Field, (Vec<String>, Vec<usize>)>,
    pub count: usize,
}

/// Patterns per `RegexSet`. An overlapping search over one huge set makes
/// the lazy DFA build new states for almost every text (each state records
/// which of the many patterns are part-way through); a few passes over
/// smaller sets are cheaper. Measured in BENCHMARKS.md.
const SET_CHUNK: usize = 32;

/// One field's compiled set and the global id of each of its patterns.
#[derive(Debug)]
pub struct FieldSet {
    pub field: Field,
    pub set: RegexSet,
    pub ids: Vec<usize>,
}

/// Build the options every pattern is compiled with (patterns and texts are
/// both folded to lower case without accents): ASCII word boundaries (texts are folded to ASCII first), generous limits.
fn builder(patterns: &[String]) -> RegexSetBuilder {
    let mut b = RegexSetBuilder::new(patterns);
    b.multi_line(true).unicode(false).size_limit(64 << 20).dfa_size_limit(64 << 20);
    b
}

impl PatternTable {
    /// Check and register one pattern; returns its global id.
    fn add(&mut self, field: Field, pattern: &str) -> Result<usize, String> {
        let folded = crate::text::fold_pattern(pattern);
        // Parse alone first (cheap: no automaton is built), for an error
        // message about this pattern only.
        regex_syntax::ParserBuilder::new()
            .multi_line(true)
            .unicode(false)
            .utf8(false)
            .build()
            .parse(&folded)
            .map_err(|e| e.to_string().lines().last().unwrap_or("invalid regular expression").trim().to_string())?;
        let id = self.count;
        self.count += 1;
        // `text` is the subject or the new text: the pattern joins both sets
        // under one id, so the new text is scanned once for all its patterns.
        let fields = match field {
            Field::Text => vec![Field::Subject, Field::NewText],
            Field::Sent => vec![Field::Subject, Field::NewText, Field::Forwarded],
            _ => vec![field],
        };
        for f in fields {
            let entry = self.pending.entry(f).or_default();
            entry.0.push(folded.clone());
            entry.1.push(id);
        }
        Ok(id)
    }

    /// Compile the sets.
    pub fn build(self) -> Result<Vec<FieldSet>, String> {
        let mut out = Vec::new();
        for (field, (patterns, ids)) in self.pending {
            for (p, i) in patterns.chunks(SET_CHUNK).zip(ids.chunks(SET_CHUNK)) {
                let set = builder(p).build().map_err(|e| e.to_string())?;
                out.push(FieldSet { field: field.clone(), set, ids: i.to_vec() });
            }
        }
        Ok(out)
    }
}

/// Context of a compilation: where errors go, what names are known.
pub struct Compiler<'a> {
    pub file: &'a Path,
    pub text: &'a str,
    pub labels: &'a [String],
    pub kinds: &'a [String],
    pub table: &'a mut PatternTable,
    pub errors: &'a mut Vec<Diagnostic>,
    /// Conditions of document rules may not test labels or documents.
    pub in_document_rule: bool,
}

impl Compiler<'_> {
    /// The roles of a `sender`-like test, each checked against `known`.
    fn roles(&mut self, s: &Spanned<Patterns>, what: &str, known: &[&str]) -> Vec<String> {
        let mut roles = Vec::new();
        for (role, rspan) in &s.get_ref().0 {
            if known.contains(&role.as_str()) {
                roles.push(role.clone());
            } else {
                self.err(
                    rspan.clone().or(Some(s.span())),
                    format!("unknown {what} role `{role}`; use one of: {}", known.join(", ")),
                );
            }
        }
        roles
    }

    fn err(&mut self, span: Option<Range<usize>>, msg: impl Into<String>) {
        self.errors.push(Diagnostic::at(self.file, self.text, span, msg));
    }

    /// Check that `name` is a declared label.
    pub fn label(&mut self, name: &Spanned<String>) -> String {
        let n = name.get_ref();
        if !self.labels.iter().any(|l| l == n) {
            let known: Vec<&str> = self.labels.iter().map(String::as_str).collect();
            let hint = suggest(n, &known).map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default();
            self.err(
                Some(name.span()),
                format!("unknown label `{n}`{hint}; declare it in labels.toml or use one of: {}", known.join(", ")),
            );
        }
        n.clone()
    }

    pub fn kind(&mut self, name: &Spanned<String>, allow_any: bool) -> String {
        let n = name.get_ref();
        let known = self.kinds.iter().any(|l| l == n) || (allow_any && n == "*");
        if !known {
            let known: Vec<&str> = self.kinds.iter().map(String::as_str).collect();
            let hint = suggest(n, &known).map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default();
            self.err(Some(name.span()), format!("unknown document kind `{n}`{hint}; known: {}", known.join(", ")));
        }
        n.clone()
    }

    fn patterns(&mut self, field: Field, p: &Spanned<Patterns>) -> Cond {
        let mut ids = Vec::new();
        if p.get_ref().0.is_empty() {
            self.err(Some(p.span()), "an empty list of patterns never matches; remove the test or add a pattern");
        }
        for (pattern, span) in &p.get_ref().0 {
            match self.table.add(field.clone(), pattern) {
                Ok(id) => ids.push(id),
                Err(e) => self.err(span.clone().or(Some(p.span())), format!("bad regular expression `{pattern}`: {e}")),
            }
        }
        Cond::Pattern(ids)
    }

    /// Compile one condition table.
    pub fn cond(&mut self, c: &Spanned<RawCond>) -> Cond {
        let span = c.span();
        let r = c.get_ref();
        let mut parts = Vec::new();
        let list = |this: &mut Self, items: &Option<Vec<Spanned<RawCond>>>| -> Option<Vec<Cond>> {
            items.as_ref().map(|v| v.iter().map(|i| this.cond(i)).collect())
        };
        if let Some(v) = list(self, &r.any) {
            parts.push(Cond::Any(v));
        }
        if let Some(v) = list(self, &r.all) {
            parts.push(Cond::All(v));
        }
        if let Some(v) = list(self, &r.none) {
            parts.push(Cond::None(v));
        }
        let simple: [(&Option<Spanned<Patterns>>, Field); 16] = [
            (&r.subject, Field::Subject),
            (&r.new_text, Field::NewText),
            (&r.quoted_text, Field::QuotedText),
            (&r.signature, Field::Signature),
            (&r.forwarded, Field::Forwarded),
            (&r.forwarded_from, Field::ForwardedFrom),
            (&r.command_text, Field::CommandText),
            (&r.text, Field::Text),
            (&r.sent, Field::Sent),
            (&r.from, Field::From),
            (&r.from_domain, Field::FromDomain),
            (&r.to, Field::To),
            (&r.attachment_name, Field::AttachmentName),
            (&r.attachment_type, Field::AttachmentType),
            (&r.attachment_text, Field::AttachmentText),
            (&r.auto_signal, Field::AutoSignal),
        ];
        for (p, field) in simple {
            if let Some(p) = p {
                parts.push(self.patterns(field, p));
            }
        }
        if let Some(p) = &r.dmarc {
            parts.push(self.patterns(Field::Dmarc, p));
        }
        match (&r.header, &r.field, &r.matches) {
            (Some(h), Some(f), _) => {
                self.err(Some(f.span()), "`field` and `header` cannot share one `matches`: put them in two tables");
                let _ = h;
            }
            (Some(h), None, Some(m)) => {
                let name = h.get_ref().trim().to_ascii_lowercase();
                parts.push(self.patterns(Field::Header(name), m));
            }
            (Some(h), None, None) => parts.push(Cond::HeaderPresent(h.get_ref().trim().to_ascii_lowercase())),
            (None, Some(f), m) => {
                let key = crate::mail::fields::fold_key(f.get_ref());
                if key.is_empty() {
                    self.err(Some(f.span()), "an empty field name never matches; write a key such as \"fecha limite\"");
                }
                match m {
                    Some(m) => parts.push(self.patterns(Field::MailField(key), m)),
                    None => parts.push(Cond::FieldPresent(key)),
                }
            }
            (None, None, Some(m)) => {
                self.err(Some(m.span()), "`matches` needs `header = \"Name\"` or `field = \"name\"` beside it")
            }
            (None, None, None) => {}
        }
        if let Some(s) = &r.sender {
            let roles = self.roles(s, "sender", SENDER_ROLES);
            parts.push(Cond::Sender(roles));
        }
        if let Some(s) = &r.forwarded_sender {
            let roles = self.roles(s, "forwarded sender", FORWARDED_ROLES);
            parts.push(Cond::ForwardedSender(roles));
        }
        if let Some(b) = r.has_attachments {
            parts.push(Cond::HasAttachments(b));
        }
        if let Some(b) = r.command {
            parts.push(Cond::Command(b));
        }
        if let Some(l) = &r.label {
            if self.in_document_rule {
                self.err(Some(l.span()), "document rules run before labels are known: `label` cannot be used here");
            }
            let l = self.label(l);
            parts.push(Cond::Label(l));
        }
        if let Some(d) = &r.document {
            if self.in_document_rule {
                self.err(Some(d.span()), "`document` cannot be used inside a document rule");
            }
            let d = self.kind(d, true);
            parts.push(Cond::Document(d));
        }
        match parts.len() {
            0 => {
                self.err(
                    Some(span),
                    "empty condition: give at least one test (subject, new_text, attachment_name, any, …)",
                );
                Cond::Any(Vec::new())
            }
            1 => parts.remove(0),
            _ => Cond::All(parts),
        }
    }
}
