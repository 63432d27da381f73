//! The serde mirror of one rule file. Every string a person may get wrong
//! keeps its span so errors point at `file:line:col`.

use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

/// A `[[rule]]`: when its condition holds, the mail gets its labels.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRule {
    /// Unique id, reported in `classify --json` under `rules`.
    pub id: Spanned<String>,
    /// What the rule is for (free text, for people).
    #[serde(default)]
    pub description: Option<String>,
    /// Labels to add.
    #[serde(default)]
    pub labels: Vec<Spanned<String>>,
    /// Labels to remove, and to keep later rules from adding.
    #[serde(default)]
    pub exclude: Vec<Spanned<String>>,
    /// The mail gets this rule's labels and nothing else; evaluation stops.
    #[serde(default)]
    pub exclusive: bool,
    /// Evaluation stops after this rule (labels found so far are kept).
    #[serde(default)]
    pub stop: bool,
    /// The condition.
    pub when: Spanned<RawCond>,
}

/// A `[[document]]`: evaluated for each attachment; the first that holds sets
/// the attachment's document kind.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDocument {
    pub id: Spanned<String>,
    #[serde(default)]
    pub description: Option<String>,
    pub kind: Spanned<String>,
    pub when: Spanned<RawCond>,
}

/// A condition: one table whose keys are tests, all of which must hold.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawCond {
    pub any: Option<Vec<Spanned<RawCond>>>,
    pub all: Option<Vec<Spanned<RawCond>>>,
    pub none: Option<Vec<Spanned<RawCond>>>,
    pub subject: Option<Spanned<Patterns>>,
    pub new_text: Option<Spanned<Patterns>>,
    pub quoted_text: Option<Spanned<Patterns>>,
    /// The sender's signature and disclaimer block.
    pub signature: Option<Spanned<Patterns>>,
    /// The body of a forwarded message.
    pub forwarded: Option<Spanned<Patterns>>,
    /// The From addresses named by the forward header(s).
    pub forwarded_from: Option<Spanned<Patterns>>,
    /// The lines above the first quoted or forwarded part (staff commands).
    pub command_text: Option<Spanned<Patterns>>,
    /// A field name (`fecha limite`, `dam`); with `matches`, its value must
    /// match; alone, it must be present.
    pub field: Option<Spanned<String>>,
    /// Subject and new text.
    pub text: Option<Spanned<Patterns>>,
    /// The subject, the new text and the forwarded text: what the sender
    /// sends us (a client's `RV:` of its manager's complaint is its complaint).
    pub sent: Option<Spanned<Patterns>>,
    pub from: Option<Spanned<Patterns>>,
    pub from_domain: Option<Spanned<Patterns>>,
    /// Any To or Cc address.
    pub to: Option<Spanned<Patterns>>,
    pub attachment_name: Option<Spanned<Patterns>>,
    pub attachment_type: Option<Spanned<Patterns>>,
    pub attachment_text: Option<Spanned<Patterns>>,
    pub auto_signal: Option<Spanned<Patterns>>,
    /// A header name; with `matches`, its value must match; alone, it must be present.
    pub header: Option<Spanned<String>>,
    pub matches: Option<Spanned<Patterns>>,
    /// ours | staff | client | partner | unknown
    pub sender: Option<Spanned<Patterns>>,
    /// The role of the forwarded From: ours | staff | client | partner | unknown | none
    pub forwarded_sender: Option<Spanned<Patterns>>,
    pub has_attachments: Option<bool>,
    /// The text the sender wrote above any quote holds a known `#command`
    /// (the desk's own table of verbs: a new command needs no rule edit).
    pub command: Option<bool>,
    /// A label already given by an earlier rule.
    pub label: Option<Spanned<String>>,
    /// A document kind found among the attachments (`*` for any kind).
    pub document: Option<Spanned<String>>,
    /// DMARC result from our MTA (`pass`, `fail`, `none`…).
    pub dmarc: Option<Spanned<Patterns>>,
}

/// One pattern or a list of alternatives, each with its own span when known.
#[derive(Debug, Default)]
pub struct Patterns(pub Vec<(String, Option<Range<usize>>)>);

impl<'de> Deserialize<'de> for Patterns {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Patterns;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a regular expression or a list of them")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Patterns, E> {
                Ok(Patterns(vec![(v.to_string(), None)]))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Patterns, A::Error> {
                let mut out = Vec::new();
                while let Some(s) = seq.next_element::<Spanned<String>>()? {
                    let span = s.span();
                    out.push((s.into_inner(), Some(span)));
                }
                Ok(Patterns(out))
            }
        }
        d.deserialize_any(V)
    }
}
