//! `classify --explain`: for each label and document kind, which rule gave
//! it and which of its conditions matched which text (the field and the
//! words), and which rules removed or blocked other labels. The same
//! evaluation as [`classify`](super::classify), with the evidence kept.

use std::collections::BTreeSet;

use regex::bytes::RegexBuilder;
use serde::Serialize;

use super::RuleSet;
use super::compile::{Cond, Field};
use super::eval::{Ctx, Facts, Hits, Texts, holds, scan};
use crate::mail::Mail;
use crate::text::fold;

/// One condition that held, and the text it matched.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Evidence {
    /// `new_text`, `subject`, `attachment_name`…, or a fact (`sender`, `label`, `document`…).
    pub field: String,
    /// The pattern (as folded for matching), or the fact's value.
    pub pattern: String,
    /// The words it matched (folded: lower case, no accents).
    pub matched: String,
    /// For attachment fields: which attachment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachment: Option<String>,
}

/// A label rule that fired.
#[derive(Debug, Clone, Serialize)]
pub struct Fired {
    pub rule: String,
    /// Labels it gave (an exclusive rule: the only ones).
    pub labels: Vec<String>,
    /// Labels it removed and blocked for the rules after it.
    pub excluded: Vec<String>,
    pub exclusive: bool,
    pub evidence: Vec<Evidence>,
}

/// The document kind of one attachment, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Kind {
    pub attachment: String,
    pub kind: String,
    pub rule: String,
    pub evidence: Vec<Evidence>,
}

/// Everything `--explain` shows of one mail.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    pub labels: Vec<String>,
    pub documents: Vec<Kind>,
    pub fired: Vec<Fired>,
    /// The fallback label was given because no rule gave one.
    pub fallback: bool,
}

fn field_name(f: &Field) -> String {
    match f {
        Field::Subject => "subject".into(),
        Field::NewText => "new_text".into(),
        Field::QuotedText => "quoted_text".into(),
        Field::Signature => "signature".into(),
        Field::Forwarded => "forwarded".into(),
        Field::ForwardedFrom => "forwarded_from".into(),
        Field::CommandText => "command_text".into(),
        Field::Text => "text".into(),
        Field::Sent => "sent".into(),
        Field::From => "from".into(),
        Field::FromDomain => "from_domain".into(),
        Field::To => "to".into(),
        Field::AutoSignal => "auto_signal".into(),
        Field::Dmarc => "dmarc".into(),
        Field::Header(h) => format!("header {h}"),
        Field::MailField(k) => format!("field {k}"),
        Field::AttachmentName => "attachment_name".into(),
        Field::AttachmentType => "attachment_type".into(),
        Field::AttachmentText => "attachment_text".into(),
    }
}

/// The words `pattern` matches in `text`, cut to a readable length.
fn matched_in(pattern: &str, text: &str) -> Option<String> {
    let re = RegexBuilder::new(pattern).multi_line(true).unicode(false).size_limit(64 << 20).build().ok()?;
    let m = re.find(text.as_bytes())?;
    let words = String::from_utf8_lossy(m.as_bytes()).into_owned();
    let short: String = words.chars().take(80).collect();
    Some(if short.len() < words.len() { format!("{short}…") } else { short })
}

struct Explainer<'a> {
    rules: &'a RuleSet,
    mail: &'a Mail,
    hits: &'a Hits,
}

impl Explainer<'_> {
    /// Where pattern `id` matched: the mail's fields (or attachment `att`, or any attachment).
    fn evidence_of(&self, id: usize, att: Option<usize>) -> Option<Evidence> {
        let mut texts = Texts { mail: self.mail, subject: None, new_text: None };
        for fs in &self.rules.sets {
            let Some(pos) = fs.ids.iter().position(|i| *i == id) else { continue };
            let pattern = fs.set.patterns().get(pos)?.clone();
            if fs.field.per_attachment() {
                let candidates: Vec<usize> = match att {
                    Some(i) => vec![i],
                    None => (0..self.mail.attachments.len()).filter(|i| self.hits.per_att[*i][id]).collect(),
                };
                for i in candidates {
                    let a = &self.mail.attachments[i];
                    let text = match fs.field {
                        Field::AttachmentName => fold(&a.name),
                        Field::AttachmentType => a.content_type.clone(),
                        _ => fold(&a.text),
                    };
                    if let Some(matched) = matched_in(&pattern, &text) {
                        return Some(Evidence {
                            field: field_name(&fs.field),
                            pattern,
                            matched,
                            attachment: Some(a.name.clone()),
                        });
                    }
                }
            } else if self.hits.mail_hits[id]
                && let Some(text) = texts.field(&fs.field)
                && let Some(matched) = matched_in(&pattern, &text)
            {
                return Some(Evidence { field: field_name(&fs.field), pattern, matched, attachment: None });
            }
        }
        None
    }

    /// The conditions of `c` that held, with their evidence (a `none`
    /// holds by what is absent: nothing to show).
    fn walk(&self, c: &Cond, att: Option<usize>, ctx: &Ctx<'_>, out: &mut Vec<Evidence>) {
        let att_hits: &[bool] = match att {
            Some(i) => &self.hits.per_att[i],
            None => &self.hits.any_att,
        };
        let fact = |field: &str, value: String| Evidence {
            field: field.into(),
            pattern: value.clone(),
            matched: value,
            attachment: None,
        };
        match c {
            Cond::All(v) => v.iter().for_each(|c| self.walk(c, att, ctx, out)),
            Cond::Any(v) => {
                if let Some(c) = v.iter().find(|c| holds(c, &self.hits.mail_hits, att_hits, ctx)) {
                    self.walk(c, att, ctx, out);
                }
            }
            // What is absent has no words to show.
            Cond::None(_) => {}
            Cond::Pattern(ids) => {
                if let Some(e) = ids
                    .iter()
                    .filter(|&&i| self.hits.mail_hits[i] || att_hits.get(i).copied().unwrap_or(false))
                    .find_map(|&i| self.evidence_of(i, att))
                {
                    out.push(e);
                }
            }
            Cond::HeaderPresent(h) => out.push(fact("header", h.clone())),
            Cond::FieldPresent(f) => out.push(fact("field", f.clone())),
            Cond::Sender(r) => out.push(fact("sender", r.join("|"))),
            Cond::ForwardedSender(r) => out.push(fact("forwarded_sender", r.join("|"))),
            Cond::HasAttachments(b) => out.push(fact("has_attachments", b.to_string())),
            Cond::Command(b) => out.push(fact("command", b.to_string())),
            Cond::Label(l) => out.push(fact("label", l.clone())),
            Cond::Document(k) => out.push(fact("document", k.clone())),
        }
    }
}

/// Classify `mail` and say why, step by step.
pub fn explain(rules: &RuleSet, mail: &Mail, facts: Facts<'_>) -> Explanation {
    let c = super::classify(rules, mail, facts);
    let hits = scan(rules, mail);
    let x = Explainer { rules, mail, hits: &hits };
    let empty = BTreeSet::new();
    let mut documents = Vec::new();
    let mut kinds = BTreeSet::new();
    for (i, a) in mail.attachments.iter().enumerate() {
        let ctx = Ctx { mail, facts, labels: &empty, kinds: &empty };
        if let Some(rule) = rules.documents.iter().find(|d| holds(&d.cond, &hits.mail_hits, &hits.per_att[i], &ctx)) {
            let mut evidence = Vec::new();
            x.walk(&rule.cond, Some(i), &ctx, &mut evidence);
            kinds.insert(rule.kind.clone());
            documents.push(Kind {
                attachment: a.name.clone(),
                kind: rule.kind.clone(),
                rule: rule.id.clone(),
                evidence,
            });
        }
    }
    let mut fired = Vec::new();
    let mut labels: BTreeSet<String> = BTreeSet::new();
    let mut excluded: BTreeSet<String> = BTreeSet::new();
    for rule in &rules.rules {
        let ctx = Ctx { mail, facts, labels: &labels, kinds: &kinds };
        if !holds(&rule.cond, &hits.mail_hits, &hits.any_att, &ctx) {
            continue;
        }
        let mut evidence = Vec::new();
        x.walk(&rule.cond, None, &ctx, &mut evidence);
        let given: Vec<String> =
            rule.labels.iter().filter(|l| rule.exclusive || !excluded.contains(*l)).cloned().collect();
        fired.push(Fired {
            rule: rule.id.clone(),
            labels: given.clone(),
            excluded: rule.exclude.clone(),
            exclusive: rule.exclusive,
            evidence,
        });
        if rule.exclusive {
            labels = given.into_iter().collect();
            break;
        }
        labels.extend(given);
        for e in &rule.exclude {
            labels.remove(e);
            excluded.insert(e.clone());
        }
        if rule.stop {
            break;
        }
    }
    let fallback = labels.is_empty();
    Explanation { labels: c.labels.into_iter().collect(), documents, fired, fallback }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::{ParseOptions, parse};

    fn shipped() -> RuleSet {
        RuleSet::load(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/rules"))).expect("shipped rules load")
    }

    fn mail(from: &str, subject: &str, body: &str) -> Mail {
        let raw = format!(
            "From: {from}\r\nTo: desk@example.pe\r\nSubject: {subject}\r\nMessage-ID: <x@example.pe>\r\n\r\n{body}\r\n"
        );
        parse(raw.as_bytes(), &ParseOptions::default())
    }

    /// The explanation gives the same labels as classification, and names
    /// the words that gave them.
    #[test]
    fn explains_what_classify_decides() {
        let rules = shipped();
        let cases = [
            (
                "cliente@importadora.pe",
                "Reclamo por demora",
                "Estoy muy molesto, es inaceptable la demora de mi carga.",
            ),
            ("cliente@importadora.pe", "Consulta", "Buenos dias, en que estado esta mi despacho?"),
            ("cliente@importadora.pe", "Hola", "Gracias por todo."),
        ];
        for (from, subject, body) in cases {
            let m = mail(from, subject, body);
            let facts = Facts { sender: "client", ..Facts::default() };
            let c = super::super::classify(&rules, &m, facts);
            let x = explain(&rules, &m, facts);
            let want: Vec<String> = c.labels.iter().cloned().collect();
            assert_eq!(x.labels, want, "{subject}");
            for f in &x.fired {
                assert!(c.rules.contains(&f.rule), "{} fired in explain only", f.rule);
            }
            if x.fallback {
                assert_eq!(want, vec![rules.fallback.clone()], "{subject}");
            }
        }
        let m = mail("cliente@importadora.pe", "Reclamo por demora", "Es inaceptable la demora de mi carga.");
        let x = explain(&rules, &m, Facts { sender: "client", ..Facts::default() });
        let reclamo = x.fired.iter().find(|f| f.labels.iter().any(|l| l == "reclamo")).expect("a rule gave reclamo");
        assert!(
            reclamo
                .evidence
                .iter()
                .any(|e| !e.matched.is_empty() && (e.field == "sent" || e.field == "subject" || e.field == "new_text")),
            "{reclamo:?}"
        );
    }
}
