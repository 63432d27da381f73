//! Decide: the desk's business logic. From a mail, its classification, what
//! the store knows (through [`View`]) and `now`, produce [`Effect`]s. No
//! side effects and no clock: the same inputs give the same effects.

mod commands;
pub mod compose;
pub mod effect;
pub mod model;
pub mod rulebook;
mod view;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use regex::Regex;
use serde_json::{Value, json};

use crate::calendar::BusinessCalendar;
use crate::clients::{Client, Directory, Sender};
use crate::mail::Mail;
use crate::refs::References;
use crate::rules::{Classification, RuleSet};
use crate::store::StoreError;
use crate::templates::Templates;
pub use effect::Effect;
use model::{Event, Order, OrderDocument, Outgoing, Reclamo, Task, ThreadLink};
pub use view::View;

/// The desk's settings, from `config.toml`.
#[derive(Debug, Clone)]
pub struct Settings {
    pub address: String,
    pub name: String,
    pub supervisors: Vec<String>,
    pub managers: Vec<String>,
    pub assistants: Vec<String>,
    pub administracion: Vec<String>,
    pub default_assistant: String,
    pub order_prefix: String,
    pub reclamo_hours: u32,
    pub reclamo_warnings: Vec<u32>,
    pub digest_times: Vec<NaiveTime>,
    pub digest_when_empty: bool,
    pub review_hours: u32,
    pub replies_per_hour: u32,
    pub replies_per_day: u32,
    pub calendar: BusinessCalendar,
}

impl Settings {
    pub fn from_config(c: &crate::config::Config) -> Settings {
        let d = c.desk();
        Settings {
            address: c.desk_address(),
            name: d.name.clone(),
            supervisors: crate::config::addresses(&d.supervisors),
            managers: crate::config::addresses(&d.managers),
            assistants: crate::config::addresses(&d.assistants),
            administracion: crate::config::addresses(&d.administracion),
            default_assistant: d.default_assistant.get_ref().to_ascii_lowercase(),
            order_prefix: d.order_prefix.get_ref().clone(),
            reclamo_hours: d.reclamo_hours,
            reclamo_warnings: d.reclamo_warnings.clone(),
            digest_times: d
                .digest_times
                .iter()
                .filter_map(|t| NaiveTime::parse_from_str(t.get_ref(), "%H:%M").ok())
                .collect(),
            digest_when_empty: d.digest_when_empty,
            review_hours: d.review_hours,
            replies_per_hour: d.replies_per_sender_hour,
            replies_per_day: d.replies_per_sender_day,
            calendar: BusinessCalendar {
                tz: c.timezone,
                day_start: c.day_start,
                day_end: c.day_end,
                work_days: d.work_days.clone(),
                extra_holidays: c.extra_holidays.clone(),
            },
        }
    }

    pub fn domain(&self) -> &str {
        self.address.rsplit_once('@').map(|(_, d)| d).unwrap_or("localhost")
    }
}

/// Where an attachment was kept, decided by the caller before `decide`.
#[derive(Debug, Clone, Default)]
pub struct Kept {
    /// Relative path in the attachments folder ("" when not kept).
    pub path: String,
    /// Why it was not kept (too large…).
    pub not_kept: Option<String>,
}

/// Everything decide needs that does not change per mail.
pub struct Desk<'a> {
    pub settings: &'a Settings,
    pub directory: &'a Directory,
    pub rules: &'a RuleSet,
    pub templates: &'a Templates,
}

/// The outcome of decide.
#[derive(Debug, Default)]
pub struct Decision {
    pub effects: Vec<Effect>,
    /// One line per thing done, for the processed record and logs.
    pub outcome: Vec<String>,
}

/// Orders shown at most in one status summary (the most recent open ones).
const STATUS_LIMIT: usize = 10;

static ETA: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)\bETA\b[^0-9\n]{0,40}(\d{1,2}/\d{1,2}(?:/\d{2,4})?)"));
static VESSEL: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:la nave|nave|vessel|m/?v)\s+([A-Z][A-Z0-9]*(?:\s+[A-Z][A-Z0-9]*){0,3})\s+(?:viaje|voy\.?|v\.)\s*([A-Z0-9]+)",
    )
});
static ALERT_LINE: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?im)^\s*(DAM|Cliente|Tipo|Fecha l[ií]mite|Vence|Vencimiento)\s*:\s*(.+?)\s*$"));
static DATE_DMY: LazyLock<Regex> = LazyLock::new(|| re(r"(\d{1,2})/(\d{1,2})/(\d{4})"));
/// Any `<PREFIX>-<YYYY>-<NNNNNN>`; the prefix is checked against the config.
static ORDER_TAG: LazyLock<Regex> = LazyLock::new(|| re(r"\b[A-Za-z0-9]+-\d{4}-\d{6}\b"));
static RECLAMO_TAG: LazyLock<Regex> = LazyLock::new(|| re(r"\bR-(\d{6})\b"));

fn re(p: &str) -> Regex {
    match Regex::new(p) {
        Ok(r) => r,
        Err(e) => panic!("built-in pattern does not compile: {e}"),
    }
}

/// Document kind → the name shown to people.
pub fn kind_name(kind: &str) -> &str {
    match kind {
        "factura_comercial" => "Factura comercial",
        "documento_transporte" => "Documento de transporte (BL / AWB)",
        "lista_empaque" => "Lista de empaque",
        "certificado_origen" => "Certificado de origen",
        "poliza_seguro" => "Póliza de seguro",
        "dam" => "DAM",
        "volante" => "Volante de despacho",
        "permiso" => "Permiso / registro sanitario",
        "otro_documento" => "Otro documento",
        other => other,
    }
}

/// What the templates see of an order (status summaries, acknowledgements).
pub fn order_context(rb: &rulebook::DeskRules, cal: &BusinessCalendar, o: &Order) -> Value {
    let regime_name =
        rb.checklist(&o.regime).map(|c| c.name.clone()).unwrap_or_else(|| format!("Régimen {}", o.regime));
    let docs: Vec<Value> = o
        .documents
        .iter()
        .map(|d| json!({"kind": d.kind, "kind_name": kind_name(&d.kind), "name": d.name, "unreadable": d.unreadable}))
        .collect();
    let events: Vec<Value> =
        o.history.iter().rev().take(5).rev().map(|e| json!({"at": local_fmt(cal, e.at), "what": e.what})).collect();
    json!({
        "id": o.id, "client": o.client, "stage": o.stage, "regime": o.regime, "regime_name": regime_name,
        "references": o.references, "documents": docs, "missing": o.missing,
        "missing_names": o.missing.iter().map(|k| kind_name(k)).collect::<Vec<_>>(),
        "eta": o.eta, "vessel": o.vessel, "opened_at": local_fmt(cal, o.opened_at), "events": events,
    })
}

/// `dd/mm/yyyy HH:MM` in the desk's zone.
pub fn local_fmt(cal: &BusinessCalendar, at: DateTime<Utc>) -> String {
    at.with_timezone(&cal.tz).format("%d/%m/%Y %H:%M").to_string()
}

/// A day-first date (`04/12/2026` is 4 December).
pub fn parse_dmy(s: &str) -> Option<NaiveDate> {
    let c = DATE_DMY.captures(s)?;
    let d = c.get(1)?.as_str().parse().ok()?;
    let m = c.get(2)?.as_str().parse().ok()?;
    let y = c.get(3)?.as_str().parse().ok()?;
    NaiveDate::from_ymd_opt(y, m, d)
}

fn excerpt(text: &str, max: usize) -> String {
    let t = text.trim();
    if t.chars().count() <= max {
        return t.to_string();
    }
    let cut: String = t.chars().take(max).collect();
    format!("{cut}…")
}

/// Work in progress of one decision.
struct Work<'a, 'v> {
    desk: &'a Desk<'a>,
    view: &'v dyn View,
    mail: &'a Mail,
    class: &'a Classification,
    now: DateTime<Utc>,
    sender: Sender,
    out: Decision,
    seqs: BTreeMap<String, u64>,
    replies_queued: u32,
    mails: u32,
}

impl Work<'_, '_> {
    fn next(&mut self, name: &str) -> Result<u64, StoreError> {
        let cur = match self.seqs.get(name) {
            Some(v) => *v,
            None => self.view.sequence(name)?,
        };
        self.seqs.insert(name.to_string(), cur + 1);
        Ok(cur + 1)
    }

    fn from(&self) -> &str {
        self.mail.from_address()
    }

    fn client(&self) -> Option<&Client> {
        match &self.sender {
            Sender::Client(id) => self.desk.directory.client(id),
            _ => None,
        }
    }

    /// The client a mail is for: the sender's, or the only client of a partner.
    fn client_for_documents(&self) -> Option<String> {
        match &self.sender {
            Sender::Client(id) => Some(id.clone()),
            Sender::Partner(ids) if ids.len() == 1 => ids.first().cloned(),
            _ => None,
        }
    }

    fn assistant_of(&self, client: Option<&str>) -> String {
        client
            .and_then(|c| self.desk.directory.client(c))
            .map(|c| c.assistant.clone())
            .unwrap_or_else(|| self.desk.settings.default_assistant.clone())
    }

    /// May we answer this mail automatically (loops, rate limits)?
    fn may_reply(&self, to: &str) -> Result<bool, StoreError> {
        let m = self.mail;
        if self.class.has("automatico") || m.is_auto() || m.return_path.as_deref() == Some("") {
            return Ok(false);
        }
        let to = to.to_ascii_lowercase();
        let local = to.split('@').next().unwrap_or("");
        if to.is_empty()
            || to == self.desk.settings.address
            || matches!(self.desk.directory.sender(&to), Sender::Ours)
            || ["mailer-daemon", "postmaster", "noreply", "no-reply", "donotreply", "do-not-reply", "bounce", "bounces"]
                .iter()
                .any(|p| local == *p || local.starts_with(&format!("{p}-")) || local.starts_with(&format!("{p}+")))
        {
            return Ok(false);
        }
        let hour = self.now.format("%Y%m%d%H").to_string();
        let day = self.now.format("%Y%m%d").to_string();
        let in_hour = self.view.replies_in(&to, &hour)? + self.replies_queued;
        let in_day = self.view.replies_in_day(&to, &day)? + self.replies_queued;
        Ok(in_hour < self.desk.settings.replies_per_hour && in_day < self.desk.settings.replies_per_day)
    }

    /// The address to answer: Reply-To when it is registered for the same
    /// client as From, else From.
    fn reply_address(&self) -> String {
        if let Sender::Client(id) = &self.sender
            && let Some(rt) = self.mail.reply_to.first()
            && self.desk.directory.belongs_to(&rt.address, id)
        {
            return rt.address.clone();
        }
        self.from().to_string()
    }

    fn message_id(&mut self, kind: &str) -> (String, String) {
        self.mails += 1;
        let sha = self.mail.sha256.get(..16).unwrap_or(&self.mail.sha256);
        let id = format!("{sha}-{kind}-{}", self.mails);
        (id.clone(), format!("buzon.{id}@{}", self.desk.settings.domain()))
    }

    /// Render and queue a mail. Answers (`reply`) are threaded under the
    /// incoming mail and counted against the sender's rate limit.
    fn queue(
        &mut self,
        template: &str,
        to: Vec<String>,
        ctx: &Value,
        reply: bool,
        order: Option<&str>,
    ) -> Option<String> {
        let rendered = match self.desk.templates.render(template, ctx) {
            Ok(r) => r,
            Err(e) => {
                self.out.outcome.push(format!("template {template} failed: {e:#}"));
                return None;
            }
        };
        let (id, message_id) = self.message_id(template);
        let mut references = self.mail.references.clone();
        if let Some(mid) = &self.mail.message_id
            && !references.contains(mid)
        {
            references.push(mid.clone());
        }
        let env = compose::Envelope {
            from_name: &self.desk.settings.name,
            from_address: &self.desk.settings.address,
            to: &to,
            message_id: &message_id,
            in_reply_to: if reply { self.mail.message_id.as_deref() } else { None },
            references: if reply { &references } else { &[] },
            date: self.now,
            auto_submitted: if reply { "auto-replied" } else { "auto-generated" },
        };
        let bytes = match compose::compose(&env, &rendered) {
            Ok(b) => b,
            Err(e) => {
                self.out.outcome.push(format!("mail {template} not sent: {e}"));
                return None;
            }
        };
        let mail = Outgoing {
            id: id.clone(),
            message_id: message_id.clone(),
            kind: template.to_string(),
            to: to.clone(),
            subject: rendered.subject,
            created_at: self.now,
            state: "pendiente".into(),
            attempts: 0,
            next_attempt: None,
            sent_at: None,
            error: None,
            order: order.map(str::to_string),
            delivered_to: Vec::new(),
            refused: Vec::new(),
        };
        if reply {
            for addr in &to {
                self.out
                    .effects
                    .push(Effect::CountReply { address: addr.clone(), hour: self.now.format("%Y%m%d%H").to_string() });
            }
            self.replies_queued += 1;
        }
        self.out.outcome.push(format!("queued {template} to {}", to.join(", ")));
        self.out.effects.push(Effect::Queue { mail, bytes });
        Some(message_id)
    }

    fn task(
        &mut self,
        kind: &str,
        client: Option<&str>,
        order: Option<&str>,
        due_at: Option<DateTime<Utc>>,
        summary: String,
    ) -> Result<String, StoreError> {
        let n = self.next("task")?;
        let id = format!("T-{n:06}");
        let assignee = self.assistant_of(client);
        self.out.outcome.push(format!("task {id} ({kind}) for {assignee}"));
        self.out.effects.push(Effect::SaveTask(Task {
            id: id.clone(),
            kind: kind.to_string(),
            client: client.map(str::to_string),
            order: order.map(str::to_string),
            due_at,
            state: "pendiente".into(),
            assignee,
            summary,
            created_at: self.now,
            message_id: self.mail.message_id.clone(),
        }));
        Ok(id)
    }

    fn base_context(&self) -> Value {
        let client =
            self.client().map(|c| json!({"id": c.id, "name": c.name})).unwrap_or(json!({"id": null, "name": null}));
        let name = self.mail.from.as_ref().map(|a| a.name.clone()).unwrap_or_default();
        json!({
            "desk": {"name": self.desk.settings.name, "address": self.desk.settings.address},
            "client": client,
            "sender": {"name": name, "address": self.from()},
            "mail": {
                "subject": self.mail.subject,
                "date": local_fmt(&self.desk.settings.calendar, self.now),
                "excerpt": excerpt(&self.mail.new_text, 1500),
            },
            "now": local_fmt(&self.desk.settings.calendar, self.now),
        })
    }

    fn order_context(&self, o: &Order) -> Value {
        order_context(&self.desk.rules.desk, &self.desk.settings.calendar, o)
    }

    /// Order numbers named in the subject or the new text (`[OC-2026-000123]`).
    fn tagged_orders(&self) -> Vec<String> {
        let prefix = &self.desk.settings.order_prefix;
        let mut out = Vec::new();
        for text in [&self.mail.subject, &self.mail.new_text] {
            for m in ORDER_TAG.find_iter(text) {
                if m.as_str().split('-').next() == Some(prefix.as_str()) {
                    out.push(m.as_str().to_string());
                }
            }
        }
        out
    }

    /// The thread: In-Reply-To and References.
    fn thread_ids(&self) -> Vec<&String> {
        // Its own id too: a reply processed before this mail (mail is not
        // always taken in the order it was written) linked its parents.
        self.mail
            .in_reply_to
            .iter()
            .chain(self.mail.references.iter().rev())
            .chain(self.mail.message_id.iter())
            .collect()
    }

    /// Link this mail, and the mails it answers that nothing claims yet, to
    /// an order or reclamo: a parent that arrives later then finds it.
    fn link_thread(&mut self, link: ThreadLink) -> Result<(), StoreError> {
        let mut ids: Vec<String> = self.mail.message_id.iter().cloned().collect();
        for parent in self.mail.in_reply_to.iter().chain(&self.mail.references) {
            if !ids.contains(parent) && self.view.thread(parent)?.is_none() {
                ids.push(parent.clone());
            }
        }
        for message_id in ids {
            self.out.effects.push(Effect::LinkThread { message_id, link: link.clone() });
        }
        Ok(())
    }

    /// The open order of `client` this mail belongs to: order tag, thread, shared references.
    fn match_order(&self, client: &str) -> Result<Option<Order>, StoreError> {
        for id in self.tagged_orders() {
            if let Some(o) = self.view.order(&id)?
                && o.client == client
                && o.is_open()
            {
                return Ok(Some(o));
            }
        }
        for mid in self.thread_ids() {
            if let Some(ThreadLink { order: Some(id), .. }) = self.view.thread(mid)?
                && let Some(o) = self.view.order(&id)?
                && o.client == client
                && o.is_open()
            {
                return Ok(Some(o));
            }
        }
        for (kind, values) in &self.class.references {
            if !matches!(kind.as_str(), "bl" | "awb" | "container" | "dam" | "invoice") {
                continue;
            }
            for v in values {
                if let Some(o) =
                    self.view.orders_by_ref(kind, v)?.into_iter().find(|o| o.client == client && o.is_open())
                {
                    return Ok(Some(o));
                }
            }
        }
        Ok(None)
    }

    fn infer_regime(&self, client: &str, existing: Option<&Order>) -> String {
        let rb = &self.desk.rules.desk;
        if let Some(o) = existing {
            return o.regime.clone();
        }
        for dam in self.class.references.get("dam").into_iter().flatten() {
            if let Some(r) = crate::refs::dam_regime(dam)
                && rb.checklist(r).is_some()
            {
                return r.to_string();
            }
        }
        let text = format!("{}\n{}", self.mail.subject, self.mail.new_text);
        if let Some(r) = rb.regime_from_text(&text) {
            return r.to_string();
        }
        if let Some(r) = self.desk.directory.client(client).and_then(|c| c.regime.clone())
            && rb.checklist(&r).is_some()
        {
            return r;
        }
        rb.default_regime().unwrap_or("10").to_string()
    }

    fn missing(&self, regime: &str, docs: &[OrderDocument]) -> Vec<String> {
        let have: BTreeSet<&str> = docs.iter().filter(|d| d.unreadable.is_none()).map(|d| d.kind.as_str()).collect();
        self.desk
            .rules
            .desk
            .checklist(regime)
            .map(|c| c.required.iter().filter(|k| !have.contains(k.as_str())).cloned().collect())
            .unwrap_or_default()
    }

    fn stage_after_documents(&self, order: &Order) -> String {
        let stages = &self.desk.rules.desk.stages;
        let first = stages.first().cloned().unwrap_or_else(|| "abierta".into());
        let complete = stages.get(1).cloned().unwrap_or_else(|| first.clone());
        if order.stage == first || order.stage == complete {
            if order.missing.is_empty() { complete } else { first }
        } else {
            order.stage.clone()
        }
    }

    fn documents(&mut self, kept: &[Kept]) -> Result<(), StoreError> {
        let Some(client) = self.client_for_documents() else {
            let who = self.from().to_string();
            let summary = format!(
                "Documentos de un remitente no registrado ({who}): «{}». Asignar a un cliente u orden.",
                self.mail.subject
            );
            self.task("triage_documentos", None, None, None, summary)?;
            return Ok(());
        };
        if self.mail.dmarc_failed() {
            let summary = format!(
                "Documentos con DMARC fallido de {}: «{}». Verificar el remitente antes de archivarlos.",
                self.from(),
                self.mail.subject
            );
            self.task("remitente_no_verificado", Some(&client), None, None, summary)?;
            return Ok(());
        }
        let existing = self.match_order(&client)?;
        let new_order = existing.is_none();
        let mut order = match existing {
            Some(o) => o,
            None => {
                let year = self.desk.settings.calendar.local_date(self.now).format("%Y").to_string();
                let n = self.next(&format!("order:{year}"))?;
                let regime = self.infer_regime(&client, None);
                Order {
                    id: format!("{}-{year}-{n:06}", self.desk.settings.order_prefix),
                    client: client.clone(),
                    stage: self.desk.rules.desk.stages.first().cloned().unwrap_or_else(|| "abierta".into()),
                    regime,
                    references: References::new(),
                    documents: Vec::new(),
                    missing: Vec::new(),
                    opened_at: self.now,
                    updated_at: self.now,
                    subject: self.mail.subject.clone(),
                    eta: None,
                    vessel: None,
                    review_due: None,
                    regime_expires: None,
                    message_ids: Vec::new(),
                    history: Vec::new(),
                    closed: false,
                }
            }
        };
        let mut added = Vec::new();
        let mut unreadable = Vec::new();
        for d in &self.class.documents {
            let Some(att) = self.mail.attachments.get(d.index) else {
                continue;
            };
            if order.documents.iter().any(|x| x.sha256 == att.sha256) {
                continue; // the same file sent again
            }
            let k = kept.get(d.index).cloned().unwrap_or_default();
            let reason =
                att.problems.iter().find(|p| p.code.starts_with("pdf_")).map(|p| p.to_string()).or(k.not_kept.clone());
            if let Some(r) = &reason {
                unreadable.push(format!("{} ({r})", att.name));
            }
            let doc = OrderDocument {
                kind: d.kind.clone(),
                name: att.name.clone(),
                sha256: att.sha256.clone(),
                path: k.path,
                size: att.size as u64,
                received_at: self.now,
                unreadable: reason,
            };
            added.push(doc.clone());
            order.documents.push(doc);
        }
        for (kind, values) in &self.class.references {
            order.references.entry(kind.clone()).or_default().extend(values.iter().cloned());
        }
        order.missing = self.missing(&order.regime, &order.documents);
        order.stage = self.stage_after_documents(&order);
        order.updated_at = self.now;
        if !added.is_empty() {
            order.review_due = Some(
                self.desk.settings.calendar.add_business_hours(self.now, f64::from(self.desk.settings.review_hours)),
            );
        }
        let names: Vec<&str> = added.iter().map(|d| kind_name(&d.kind)).collect();
        let what = if new_order {
            format!("Orden abierta con {} documento(s): {}", added.len(), names.join(", "))
        } else if added.is_empty() {
            "Correo recibido sin documentos nuevos".to_string()
        } else {
            format!("Documentos recibidos: {}", names.join(", "))
        };
        order.history.push(Event { at: self.now, what });
        if let Some(mid) = &self.mail.message_id
            && !order.message_ids.contains(mid)
        {
            order.message_ids.push(mid.clone());
        }
        self.out.outcome.push(format!("{} {}", if new_order { "opened" } else { "updated" }, order.id));
        if !unreadable.is_empty() {
            let summary = format!(
                "Documento(s) ilegible(s) en {}: {}. Pedir una copia legible o revisar a mano.",
                order.id,
                unreadable.join("; ")
            );
            self.task("documento_ilegible", Some(&client), Some(&order.id), None, summary)?;
        }
        // Acknowledge to the sender (a client address or the partner).
        let to = self.reply_address();
        if self.may_reply(&to)? {
            let mut ctx = self.base_context();
            ctx["order"] = self.order_context(&order);
            ctx["new_order"] = json!(new_order);
            ctx["added"] = json!(added.iter().map(|d| json!({"kind": d.kind, "kind_name": kind_name(&d.kind), "name": d.name, "unreadable": d.unreadable})).collect::<Vec<_>>());
            if let Some(mid) = self.queue("acuse_documentos", vec![to], &ctx, true, Some(&order.id.clone())) {
                order.message_ids.push(mid.clone());
                self.out.effects.push(Effect::LinkThread {
                    message_id: mid,
                    link: ThreadLink { order: Some(order.id.clone()), reclamo: None },
                });
            }
        }
        self.link_thread(ThreadLink { order: Some(order.id.clone()), reclamo: None })?;
        self.out.effects.push(Effect::SaveOrder(order));
        Ok(())
    }

    fn status(&mut self) -> Result<(), StoreError> {
        let to = self.reply_address();
        let verified = matches!(self.sender, Sender::Client(_)) && !self.mail.dmarc_failed();
        if !verified {
            let why = if self.mail.dmarc_failed() { "DMARC fallido" } else { "remitente no registrado" };
            let summary = format!(
                "Consulta de estado de {} ({why}): «{}». Responder a mano si corresponde.",
                self.from(),
                self.mail.subject
            );
            let client = match &self.sender {
                Sender::Client(id) => Some(id.clone()),
                _ => None,
            };
            self.task("estado_sin_verificar", client.as_deref(), None, None, summary)?;
            if self.may_reply(&to)? {
                let ctx = self.base_context();
                self.queue("estado_generico", vec![to], &ctx, true, None);
            }
            return Ok(());
        }
        let Some(client) = self.client().map(|c| c.id.clone()) else {
            return Ok(());
        };
        // The orders the mail points at (order tag, thread, shared references),
        // else the client's most recent open orders.
        let mut pointed: BTreeMap<String, Order> = BTreeMap::new();
        let mine = |o: &Order| o.client == client && o.is_open();
        for id in self.tagged_orders() {
            if let Some(o) = self.view.order(&id)?.filter(|o| mine(o)) {
                pointed.insert(o.id.clone(), o);
            }
        }
        for mid in self.thread_ids() {
            if let Some(ThreadLink { order: Some(id), .. }) = self.view.thread(mid)?
                && let Some(o) = self.view.order(&id)?.filter(|o| mine(o))
            {
                pointed.insert(o.id.clone(), o);
            }
        }
        for (kind, values) in &self.class.references {
            if matches!(kind.as_str(), "bl" | "awb" | "container" | "dam" | "invoice") {
                for v in values {
                    for o in self.view.orders_by_ref(kind, v)?.into_iter().filter(|o| mine(o)) {
                        pointed.insert(o.id.clone(), o);
                    }
                }
            }
        }
        let (orders, total) = if pointed.is_empty() {
            self.view.open_orders_of_client(&client, STATUS_LIMIT)?
        } else {
            let n = pointed.len();
            (pointed.into_values().collect::<Vec<_>>(), n)
        };
        if !self.may_reply(&to)? {
            self.out.outcome.push("status request not answered (loop guard or rate limit)".into());
            return Ok(());
        }
        let mut ctx = self.base_context();
        ctx["orders"] = json!(orders.iter().map(|o| self.order_context(o)).collect::<Vec<_>>());
        ctx["more"] = json!(total.saturating_sub(orders.len()));
        let single = (orders.len() == 1).then(|| orders[0].id.clone());
        self.queue("estado", vec![to], &ctx, true, single.as_deref());
        Ok(())
    }

    fn reclamo(&mut self) -> Result<(), StoreError> {
        let client = match &self.sender {
            Sender::Client(id) => Some(id.clone()),
            Sender::Partner(ids) if ids.len() == 1 => ids.first().cloned(),
            _ => None,
        };
        // An open reclamo of this thread, or one named in the subject.
        let mut existing: Option<Reclamo> = None;
        for mid in self.thread_ids() {
            if let Some(ThreadLink { reclamo: Some(id), .. }) = self.view.thread(mid)?
                && let Some(r) = self.view.reclamo(&id)?
                && r.state != "resuelto"
            {
                existing = Some(r);
                break;
            }
        }
        if existing.is_none() {
            let subject = self.mail.subject.clone();
            for c in RECLAMO_TAG.captures_iter(&subject) {
                let id = format!("R-{}", &c[1]);
                if let Some(r) = self.view.reclamo(&id)?
                    && r.state != "resuelto"
                    && r.client == client
                {
                    existing = Some(r);
                    break;
                }
            }
        }
        let new = existing.is_none();
        let mut r = match existing {
            Some(r) => r,
            None => {
                let n = self.next("reclamo")?;
                let order = match &client {
                    Some(c) => self.match_order(c)?.map(|o| o.id),
                    None => None,
                };
                Reclamo {
                    id: format!("R-{n:06}"),
                    client: client.clone(),
                    order,
                    received_at: self.now,
                    due_at: self
                        .desk
                        .settings
                        .calendar
                        .add_business_hours(self.now, f64::from(self.desk.settings.reclamo_hours)),
                    state: "abierto".into(),
                    from: self.from().to_string(),
                    subject: self.mail.subject.clone(),
                    excerpt: excerpt(&self.mail.new_text, 2000),
                    message_ids: Vec::new(),
                    resolution: None,
                    history: Vec::new(),
                }
            }
        };
        r.history.push(Event {
            at: self.now,
            what: if new {
                "Reclamo registrado".into()
            } else {
                format!("Nuevo mensaje: {}", excerpt(&self.mail.new_text, 300))
            },
        });
        if let Some(mid) = &self.mail.message_id
            && !r.message_ids.contains(mid)
        {
            r.message_ids.push(mid.clone());
        }
        self.out.outcome.push(format!("{} reclamo {}", if new { "opened" } else { "updated" }, r.id));
        let cal = &self.desk.settings.calendar;
        let mut ctx = self.base_context();
        ctx["reclamo"] = json!({
            "id": r.id, "due_at": local_fmt(cal, r.due_at), "received_at": local_fmt(cal, r.received_at),
            "excerpt": excerpt(&self.mail.new_text, 2000), "from": r.from, "order": r.order, "new": new,
        });
        let executive = client.as_deref().and_then(|c| self.desk.directory.client(c)).map(|c| c.executive.clone());
        ctx["executive"] = json!(executive);
        // Escalation to the supervisors and the client's executive: always.
        let mut to: Vec<String> = self.desk.settings.supervisors.clone();
        if let Some(e) = &executive
            && !to.contains(e)
        {
            to.push(e.clone());
        }
        if let Some(mid) = self.queue("reclamo_escalamiento", to, &ctx, false, r.order.clone().as_deref()) {
            r.message_ids.push(mid.clone());
            self.out.effects.push(Effect::LinkThread {
                message_id: mid,
                link: ThreadLink { order: None, reclamo: Some(r.id.clone()) },
            });
        }
        if new && r.state == "abierto" {
            r.state = "escalado".into();
            r.history.push(Event { at: self.now, what: "Escalado a supervisión".into() });
        }
        let reply_to = self.reply_address();
        if client.is_some()
            && !self.mail.dmarc_failed()
            && self.may_reply(&reply_to)?
            && let Some(mid) = self.queue("reclamo_acuse", vec![reply_to], &ctx, true, r.order.clone().as_deref())
        {
            {
                r.message_ids.push(mid.clone());
                self.out.effects.push(Effect::LinkThread {
                    message_id: mid,
                    link: ThreadLink { order: None, reclamo: Some(r.id.clone()) },
                });
            }
        }
        self.link_thread(ThreadLink { order: None, reclamo: Some(r.id.clone()) })?;
        self.out.effects.push(Effect::SaveReclamo(r));
        Ok(())
    }

    fn carrier_notice(&mut self) -> Result<(), StoreError> {
        let mut orders: BTreeMap<String, Order> = BTreeMap::new();
        for (kind, values) in &self.class.references {
            if !matches!(kind.as_str(), "bl" | "awb" | "container" | "dam") {
                continue;
            }
            for v in values {
                for o in self.view.orders_by_ref(kind, v)? {
                    if o.is_open() {
                        orders.insert(o.id.clone(), o);
                    }
                }
            }
        }
        let text = format!("{}\n{}", self.mail.subject, self.mail.new_text);
        let eta = ETA.captures(&text).and_then(|c| c.get(1)).map(|m| m.as_str().to_string());
        let vessel = VESSEL.captures(&text).map(|c| format!("{} {}", &c[1], &c[2]).trim().to_string());
        if orders.is_empty() {
            let summary =
                format!("Aviso de transportista sin orden identificada de {}: «{}».", self.from(), self.mail.subject);
            self.task("aviso_sin_orden", None, None, None, summary)?;
            return Ok(());
        }
        for (_, mut o) in orders {
            let mut parts = Vec::new();
            if let Some(e) = &eta {
                if o.eta.as_deref() != Some(e) {
                    parts.push(format!("ETA {e}"));
                }
                o.eta = Some(e.clone());
            }
            if let Some(v) = &vessel {
                o.vessel = Some(v.clone());
                parts.push(format!("nave {v}"));
            }
            let what = if parts.is_empty() {
                format!("Aviso del transportista: {}", excerpt(&self.mail.subject, 120))
            } else {
                format!("Aviso del transportista: {}", parts.join(", "))
            };
            o.history.push(Event { at: self.now, what });
            o.updated_at = self.now;
            if let Some(mid) = &self.mail.message_id {
                o.message_ids.push(mid.clone());
            }
            self.out.outcome.push(format!("carrier notice filed in {}", o.id));
            self.out.effects.push(Effect::SaveOrder(o));
        }
        Ok(())
    }

    fn alert(&mut self) -> Result<(), StoreError> {
        let mut fields: BTreeMap<String, String> = BTreeMap::new();
        for c in ALERT_LINE.captures_iter(&self.mail.new_text) {
            let key = crate::text::fold(&c[1]);
            fields.entry(key).or_insert_with(|| c[2].to_string());
        }
        let tipo = fields.get("tipo").cloned().unwrap_or_else(|| self.mail.subject.clone());
        let deadline =
            ["fecha limite", "vence", "vencimiento"].iter().find_map(|k| fields.get(*k)).and_then(|s| parse_dmy(s));
        let dam = self.class.references.get("dam").and_then(|s| s.iter().next().cloned());
        // The client: by the order holding the DAM, else by name.
        let mut client = None;
        let mut order = None;
        if let Some(d) = &dam
            && let Some(o) = self.view.orders_by_ref("dam", d)?.into_iter().next()
        {
            client = Some(o.client.clone());
            order = Some(o.id.clone());
        }
        if client.is_none()
            && let Some(name) = fields.get("cliente")
        {
            let n = crate::text::fold(name);
            client = self
                .desk
                .directory
                .clients
                .iter()
                .find(|c| crate::text::fold(&c.name) == n || n.contains(&c.ruc))
                .map(|c| c.id.clone());
        }
        let kind = self.desk.rules.desk.alert_kind(&tipo).map(|a| a.kind.clone()).unwrap_or_else(|| "otro".into());
        let cal = &self.desk.settings.calendar;
        let due = deadline.map(|d| cal.at_local(d, cal.day_end));
        let mut summary = format!("Alerta: {tipo}");
        if let Some(d) = &dam {
            summary.push_str(&format!(" — DAM {d}"));
        }
        if let Some(c) = fields.get("cliente") {
            summary.push_str(&format!(" — {c}"));
        }
        match deadline {
            Some(d) => summary.push_str(&format!(" — vence {}", d.format("%d/%m/%Y"))),
            None => summary.push_str(" — sin fecha límite legible: revisar"),
        }
        let task = self.task(&format!("alerta_{kind}"), client.as_deref(), order.as_deref(), due, summary)?;
        // A regime's expiry is a deadline on the order itself.
        if kind == "vencimiento_regimen"
            && let (Some(id), Some(due)) = (order.as_deref(), due)
            && let Some(mut o) = self.view.order(id)?
        {
            o.regime_expires = Some(due);
            o.history.push(Event {
                at: self.now,
                what: format!("Vence el régimen el {} (alerta, tarea {task})", cal.local_date(due).format("%d/%m/%Y")),
            });
            o.updated_at = self.now;
            self.out.effects.push(Effect::SaveOrder(o));
        }
        Ok(())
    }

    fn staff_commands(&mut self) -> Result<(), StoreError> {
        if !matches!(self.sender, Sender::Staff) || self.mail.dmarc_failed() {
            self.out.outcome.push(format!("staff command refused: {} is not a verified staff address", self.from()));
            return Ok(());
        }
        let results = self.commands()?;
        self.out.outcome.extend(results.iter().cloned());
        let to = self.from().to_string();
        if !results.is_empty() && !self.mail.is_auto() {
            let mut ctx = self.base_context();
            ctx["results"] = json!(results);
            self.queue("confirmacion_comando", vec![to], &ctx, true, None);
        }
        Ok(())
    }

    fn payment(&mut self) -> Result<(), StoreError> {
        let client = self.client_for_documents();
        let summary =
            format!("Aviso de pago de {}: «{}». Confirmar con administración.", self.from(), self.mail.subject);
        self.task("pago", client.as_deref(), None, None, summary)?;
        let to = self.desk.settings.administracion.clone();
        if !to.is_empty() && !self.class.has("automatico") {
            let ctx = self.base_context();
            self.queue("aviso_pago", to, &ctx, false, None);
        }
        Ok(())
    }
}

impl Work<'_, '_> {
    /// A delivery report quoting one of our mails: that outbox entry failed,
    /// and a person must reach the recipient another way.
    fn bounce(&mut self) -> Result<(), StoreError> {
        let domain = format!("@{}", self.desk.settings.domain());
        for mid in self.mail.bounced_ids.clone() {
            let Some(id) = mid.strip_prefix("buzon.").and_then(|r| r.strip_suffix(domain.as_str())) else {
                continue;
            };
            let Some(mut out) = self.view.outgoing(id)? else { continue };
            if out.state == "fallido" && out.error.as_deref().is_some_and(|e| e.starts_with("rebotado")) {
                continue; // a second report of the same bounce
            }
            let why = excerpt(self.mail.new_text.trim(), 300);
            out.state = "fallido".into();
            out.error = Some(format!("rebotado: {why}"));
            let summary = format!(
                "El correo «{}» enviado a {} fue rebotado por el servidor de destino. Contactar al destinatario por otra vía y corregir la dirección.",
                out.subject,
                out.to.join(", ")
            );
            let client = out.order.as_deref().and_then(|o| self.view.order(o).ok().flatten()).map(|o| o.client);
            self.out.outcome.push(format!("bounce of outbox {id}"));
            let order = out.order.clone();
            self.out.effects.push(Effect::UpdateOutgoing(out));
            self.task("correo_rebotado", client.as_deref(), order.as_deref(), None, summary)?;
        }
        Ok(())
    }
}

/// Decide what to do with one mail.
pub fn decide(
    desk: &Desk<'_>,
    view: &dyn View,
    mail: &Mail,
    class: &Classification,
    kept: &[Kept],
    now: DateTime<Utc>,
) -> Result<Decision, StoreError> {
    let sender = desk.directory.sender(mail.from_address());
    let mut w = Work {
        desk,
        view,
        mail,
        class,
        now,
        sender,
        out: Decision::default(),
        seqs: BTreeMap::new(),
        replies_queued: 0,
        mails: 0,
    };
    let labels = &class.labels;
    if labels.contains("automatico") {
        w.out.outcome.push("automatic mail: recorded, not answered".into());
        w.bounce()?;
    }
    if labels.contains("interno") {
        w.staff_commands()?;
    }
    if labels.contains("alerta_cli") {
        w.alert()?;
    }
    if labels.contains("documentos") {
        w.documents(kept)?;
    }
    if labels.contains("reclamo") {
        w.reclamo()?;
    }
    if labels.contains("estado") {
        w.status()?;
    }
    if labels.contains("aviso_transportista") {
        w.carrier_notice()?;
    }
    if labels.contains("pago") {
        w.payment()?;
    }
    let client = w.client_for_documents();
    if labels.contains("proforma") {
        let summary = format!("Solicitud de cotización/proforma de {}: «{}».", w.from(), mail.subject);
        w.task("proforma", client.as_deref(), None, None, summary)?;
    }
    if labels.contains("otro") && !matches!(w.sender, Sender::Ours) {
        let summary = format!("Correo sin clasificar de {}: «{}». Revisar y asignar.", w.from(), mail.subject);
        w.task("triage", client.as_deref(), None, None, summary)?;
    }
    for (name, value) in std::mem::take(&mut w.seqs) {
        w.out.effects.push(Effect::Sequence { name, value });
    }
    Ok(w.out)
}
