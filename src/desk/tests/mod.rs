//! Table tests of the desk: the shipped rules, templates and clients, real
//! parsing and classification, and the in-memory view — decisions in
//! milliseconds, no store, no clock.

mod closing;
mod commands;
mod mail;
mod money;
mod people;
mod realmail;
mod thirdparty;
mod time;
mod trust;
mod volantes;

use std::sync::LazyLock;

use chrono::{DateTime, Utc};

use super::memory::Memory;
use super::model::Outgoing;
use super::{Decision, Desk, Due, Kept, Settings, decide, decide_due};
use crate::clients::Directory;
use crate::rules::RuleSet;
use crate::templates::Templates;

struct Fixture {
    settings: Settings,
    directory: Directory,
    rules: RuleSet,
    templates: Templates,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let rules = RuleSet::load(&root.join("rules")).unwrap_or_else(|e| panic!("rules: {e}"));
    let templates = Templates::load(&root.join("rules/templates")).unwrap_or_else(|e| panic!("templates: {e:?}"));
    let (mut clients, counterparts) =
        crate::clients::load_all(&root.join("clients.toml"), None).unwrap_or_else(|e| panic!("clients: {e}"));
    // A client with no configured regime: its orders' regime comes from the mail.
    let extra: crate::clients::Client = toml::from_str(
        "id = \"agroexport\"\nname = \"Agro Export del Sur S.A.C.\"\nruc = \"20100047218\"\ndomains = [\"agroexport.test\"]\nexecutive = \"jrojas@cli.test\"\nassistant = \"asistente2@cli.test\"\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    clients.push(extra);
    // A client who asked to be told of its orders' stages.
    let notified: crate::clients::Client = toml::from_str(
        "id = \"costaverde\"\nname = \"Costa Verde Alimentos S.A.C.\"\nruc = \"20100070970\"\ndomains = [\"costaverde.test\"]\ncontacts = [\"logistica.costaverde@gmail.com\"]\nexecutive = \"jrojas@cli.test\"\nassistant = \"asistente2@cli.test\"\nregime = \"10\"\nnotify = [\"numerada\", \"canal asignado\", \"levante\", \"retirada\"]\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    clients.push(notified);
    let directory = Directory {
        desk_address: "ops@cli.test".into(),
        staff_domains: vec!["cli.test".into()],
        clients,
        counterparts,
    };
    Fixture { settings: Settings::default(), directory, rules, templates }
});

fn desk() -> Desk<'static> {
    let f = &*FIXTURE;
    Desk { settings: &f.settings, directory: &f.directory, rules: &f.rules, templates: &f.templates }
}

/// An instant in Lima (`2026-12-01T10:00`).
fn lima(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(&format!("{s}:00-05:00"))
        .map(|d| d.with_timezone(&Utc))
        .unwrap_or_else(|e| panic!("{s}: {e}"))
}

/// The desk's state across decisions.
#[derive(Default)]
struct World {
    mem: Memory,
    /// Mails queued so far, in order.
    sent: Vec<Outgoing>,
}

impl World {
    /// Decide one raw mail at `now` and apply the decision.
    fn mail(&mut self, now: &str, raw: &str) -> Decision {
        let raw = raw.replace('\n', "\r\n");
        let mail = crate::mail::parse(
            raw.as_bytes(),
            &crate::mail::ParseOptions { authserv_id: "mx.cli.test".into(), ..Default::default() },
        );
        let f = &*FIXTURE;
        let sender = f.directory.sender(mail.from_address());
        let class = crate::rules::classify(
            &f.rules,
            &mail,
            crate::rules::Facts::of(&mail, sender.role(), &|a| f.directory.sender(a).role()),
        );
        let kept: Vec<Kept> = mail
            .attachments
            .iter()
            .map(|a| Kept { path: format!("{}/{}", a.sha256.get(..2).unwrap_or("00"), a.sha256), not_kept: None })
            .collect();
        let d = decide(&desk(), &self.mem, &mail, &class, &kept, lima(now)).unwrap_or_else(|e| panic!("{e}"));
        self.take(d)
    }

    /// Run the time jobs due at `now` (index subjects, then the slots).
    fn tick(&mut self, now: &str) -> Vec<Decision> {
        let now = lima(now);
        let mut jobs: Vec<Due> = self.mem.due(now).into_iter().map(Due::Subject).collect();
        jobs.push(Due::Digests);
        jobs.push(Due::StatusSummaries);
        let mut out = Vec::new();
        for job in jobs {
            let d = decide_due(&desk(), &self.mem, &job, now).unwrap_or_else(|e| panic!("{e}"));
            out.push(self.take(d));
        }
        out
    }

    fn take(&mut self, d: Decision) -> Decision {
        for e in &d.effects {
            if let super::Effect::Queue { mail, .. } = e {
                self.sent.push(mail.clone());
            }
        }
        self.mem.apply(&d.effects);
        d
    }

    /// Mails queued with this template.
    fn sent_of(&self, template: &str) -> Vec<&Outgoing> {
        self.sent.iter().filter(|m| m.kind == template).collect()
    }

    /// The text of a queued mail (quoted-printable undone).
    fn body(&self, id: &str) -> String {
        let raw = self.mem.outbox_bytes.get(id).cloned().unwrap_or_default();
        let parsed = crate::mail::parse(&raw, &crate::mail::ParseOptions::default());
        format!("{}\n{}", parsed.subject, parsed.new_text)
    }
}

/// A plain-text mail.
fn text_mail(from: &str, subject: &str, id: &str, body: &str) -> String {
    format!(
        "From: {from}\nTo: Operaciones CLI <ops@cli.test>\nSubject: {subject}\nMessage-ID: <{id}>\nDate: Tue, 01 Dec 2026 09:00:00 -0500\nContent-Type: text/plain; charset=utf-8\n\n{body}\n"
    )
}

/// A mail with one PDF attachment (with a text layer).
fn mail_with_pdf(from: &str, subject: &str, id: &str, body: &str, file: &str, pdf_text: &str) -> String {
    let pdf = tiny_pdf(pdf_text);
    let b64 = base64_lines(&pdf);
    format!(
        "From: {from}\nTo: ops@cli.test\nSubject: {subject}\nMessage-ID: <{id}>\nDate: Tue, 01 Dec 2026 09:00:00 -0500\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b1\"\n\n--b1\nContent-Type: text/plain; charset=utf-8\n\n{body}\n--b1\nContent-Type: application/pdf; name=\"{file}\"\nContent-Disposition: attachment; filename=\"{file}\"\nContent-Transfer-Encoding: base64\n\n{b64}\n--b1--\n"
    )
}

/// A one-page PDF whose text layer says `text`.
fn tiny_pdf(text: &str) -> Vec<u8> {
    let content = format!("BT /F1 12 Tf 72 720 Td ({}) Tj ET", text.replace('(', "[").replace(')', "]"));
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>"
            .to_string(),
        format!("<< /Length {} >>\nstream\n{content}\nendstream", content.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_string(),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for off in offsets {
        out.extend_from_slice(format!("{off:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1).as_bytes(),
    );
    out
}

fn base64_lines(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for chunk in data.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                s.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
    }
    s.as_bytes().chunks(76).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join("\n")
}
