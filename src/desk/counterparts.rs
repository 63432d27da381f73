//! Counterparts: depósitos temporales, shipping lines and their agents,
//! airlines and transport companies (`[[counterpart]]` in the clients
//! file). The desk asks them things for one order (`#previo`, `#retiro`,
//! `#llegada`, `#bl`, and by itself the arrival question and the volante),
//! waits for the answer with a deadline in business hours, files the
//! answer in the order, and reminds them once.
//!
//! A counterpart is only ever sent the data of the order it is asked
//! about: the request's context is built here from that order alone.
//! Only mail from a counterpart's registered address whose DMARC did not
//! fail is its mail (`Sender::Counterpart`): anyone else claiming to be a
//! depósito changes no request.

use std::sync::LazyLock;

use chrono::{DateTime, NaiveDate, Utc};
use regex::Regex;
use serde_json::{Value, json};

use super::Incoming;
use super::context::{desk_block, excerpt, local_fmt};
use super::draft::Draft;
use super::effect::{Effect, JobKey};
use super::matching;
use super::model::{
    CounterpartRequest, CounterpartState, HistoryEntry, Order, OrderDocument, RequestKind, Task, TaskState,
};
use super::reply::{Letter, Threading};
use super::view::ViewResult;
use super::{RequestSettings, Settings};
use crate::calendar::BusinessCalendar;
use crate::clients::{Counterpart, CounterpartKind, Directory, Sender};

/// Who sends the automatic requests (in the order's records).
pub const AUTOMATIC: &str = "buzon";

/// The task kind that follows a request (`solicitud_previo`…).
pub fn task_kind(kind: RequestKind) -> String {
    format!("solicitud_{}", kind.as_str())
}

/// Is this task one that follows a counterpart request?
pub fn is_request_task(t: &Task) -> bool {
    t.kind.strip_prefix("solicitud_").is_some_and(|k| REQUEST_KINDS.iter().any(|(n, _)| *n == k))
}

const REQUEST_KINDS: &[(&str, RequestKind)] = &[
    ("previo", RequestKind::Previo),
    ("retiro", RequestKind::Retiro),
    ("llegada", RequestKind::Llegada),
    ("bl", RequestKind::Bl),
    ("volante", RequestKind::Volante),
];

/// What a request is called in Spanish mail ("solicitud de previo").
pub fn kind_words(kind: RequestKind) -> &'static str {
    match kind {
        RequestKind::Previo => "previo",
        RequestKind::Retiro => "retiro de la carga",
        RequestKind::Llegada => "confirmación de llegada",
        RequestKind::Bl => "emisión del BL",
        RequestKind::Volante => "volante de despacho",
    }
}

/// Business hours a counterpart has to answer a request of `kind`.
pub fn hours(s: &RequestSettings, kind: RequestKind) -> u32 {
    match kind {
        RequestKind::Previo => s.previo_hours,
        RequestKind::Retiro => s.retiro_hours,
        RequestKind::Llegada => s.llegada_hours,
        RequestKind::Bl => s.bl_hours,
        RequestKind::Volante => s.volante_hours,
    }
}

/// Which kinds of counterpart answer a request of `kind`.
fn answers(kind: RequestKind, p: CounterpartKind) -> bool {
    match kind {
        RequestKind::Previo | RequestKind::Retiro | RequestKind::Volante => p == CounterpartKind::Deposito,
        RequestKind::Llegada | RequestKind::Bl => p.is_line(),
    }
}

/// `depósito`, `naviera o agente` (for errors).
fn wanted(kind: RequestKind) -> &'static str {
    match kind {
        RequestKind::Previo | RequestKind::Retiro | RequestKind::Volante => "depósito",
        RequestKind::Llegada | RequestKind::Bl => "naviera, agente o aerolínea",
    }
}

/// The key of the command that names the counterpart of `kind`.
pub fn key_of(kind: RequestKind) -> &'static str {
    match kind {
        RequestKind::Previo | RequestKind::Retiro | RequestKind::Volante => "deposito",
        RequestKind::Llegada | RequestKind::Bl => "naviera",
    }
}

/// The four-letter prefixes of an order's BLs (`MEDUHG271461` → `MEDU`).
pub fn bl_prefixes(o: &Order) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for bl in o.references.get("bl").into_iter().flatten() {
        let p: String = bl.chars().take(4).collect::<String>().to_ascii_uppercase();
        if p.len() == 4 && p.chars().all(|c| c.is_ascii_alphabetic()) && !out.contains(&p) {
            out.push(p);
        }
    }
    out
}

/// The counterpart a request of `kind` about `o` goes to: the one named,
/// else the client's depósito, the line of the order's BL prefix, or the
/// only counterpart of that kind. A clear Spanish error otherwise.
pub fn find<'a>(
    dir: &'a Directory,
    kind: RequestKind,
    named: Option<&str>,
    o: &Order,
) -> Result<&'a Counterpart, String> {
    let fit: Vec<&'a Counterpart> = dir.counterparts.iter().filter(|p| answers(kind, p.kind)).collect();
    let ids: Vec<&str> = fit.iter().map(|p| p.id.as_str()).collect();
    if let Some(name) = named {
        if let Some(p) = fit.iter().copied().find(|p| p.id.eq_ignore_ascii_case(name)) {
            return Ok(p);
        }
        if let Some(p) = dir.counterparts.iter().find(|p| p.id.eq_ignore_ascii_case(name)) {
            return Err(format!("«{name}» ({}) no es un {}", p.name, wanted(kind)));
        }
        let hint = super::suggest::did_you_mean(name, &ids);
        let known = if ids.is_empty() { "ninguno registrado".to_string() } else { ids.join(", ") };
        return Err(format!(
            "no hay un {} registrado con el código «{name}».{hint} Registrados: {known}",
            wanted(kind)
        ));
    }
    if answers(kind, CounterpartKind::Deposito)
        && let Some(dp) = dir.client(&o.client).and_then(|c| c.deposito.as_deref())
        && let Some(p) = fit.iter().copied().find(|p| p.id == dp)
    {
        return Ok(p);
    }
    if !answers(kind, CounterpartKind::Deposito) {
        let prefixes = bl_prefixes(o);
        let by_prefix: Vec<&'a Counterpart> =
            fit.iter().copied().filter(|p| p.bl_prefixes.iter().any(|b| prefixes.contains(b))).collect();
        // A line and its agent in Peru both list the prefix: the agent is who answers.
        let agents: Vec<&'a Counterpart> =
            by_prefix.iter().copied().filter(|p| p.kind == CounterpartKind::Agente).collect();
        match (by_prefix.as_slice(), agents.as_slice()) {
            ([one], _) | (_, [one]) => return Ok(one),
            ([], _) => {}
            (many, _) => {
                let names: Vec<&str> = many.iter().map(|p| p.id.as_str()).collect();
                return Err(format!(
                    "varias contrapartes emiten BL con el prefijo {}: {}; indique {}=…",
                    prefixes.join(", "),
                    names.join(", "),
                    key_of(kind)
                ));
            }
        }
    }
    match fit.as_slice() {
        [one] => Ok(one),
        [] => Err(format!(
            "no hay ningún {} registrado en clients.toml ([[counterpart]]) a quien enviar la solicitud",
            wanted(kind)
        )),
        many => Err(format!(
            "hay varios de tipo {} ({}) y la orden no indica cuál; indique {}=…",
            wanted(kind),
            many.iter().map(|p| p.id.as_str()).collect::<Vec<_>>().join(", "),
            key_of(kind)
        )),
    }
}

/// What a request to a counterpart shows of its order: the shipment's
/// references, vessel, ETA, DAM and the consignee — nothing else of the
/// client, and nothing of any other order.
pub fn shipment(dir: &Directory, o: &Order) -> Value {
    let refs =
        |k: &str| -> Vec<String> { o.references.get(k).map(|v| v.iter().cloned().collect()).unwrap_or_default() };
    let client = dir.client(&o.client);
    json!({
        "id": o.id,
        "bl": refs("bl"),
        "awb": refs("awb"),
        "containers": refs("container"),
        "dam": refs("dam").first(),
        "vessel": o.vessel,
        "eta": o.eta,
        "consignee": client.map(|c| c.name.clone()),
        "ruc": client.map(|c| c.ruc.clone()),
    })
}

/// What the templates see of a request: what is asked, when, for which
/// date, with which transport, by when, the task that follows it.
fn ask_block(
    kind: RequestKind,
    at: DateTime<Utc>,
    date: Option<NaiveDate>,
    transport: Option<&str>,
    due: DateTime<Utc>,
    task: &str,
    cal: &BusinessCalendar,
) -> Value {
    json!({
        "kind": kind.as_str(),
        "what": kind_words(kind),
        "at": local_fmt(cal, at),
        "date": date.map(|day| day.format("%d/%m/%Y").to_string()),
        "transport": transport,
        "due": local_fmt(cal, due),
        "task": task,
    })
}

/// What one new request is: its kind, who asks, its date and transport.
pub struct Ask<'a> {
    pub kind: RequestKind,
    pub counterpart: &'a Counterpart,
    pub by: &'a str,
    pub date: Option<NaiveDate>,
    pub transport: Option<&'a Counterpart>,
}

/// Send a request for `o` and record it (with its task). The line for
/// the staff member's confirmation, or why it was not sent.
pub fn request(d: &mut Draft<'_>, o: &mut Order, ask: &Ask<'_>) -> ViewResult<Result<String, String>> {
    let desk = d.desk;
    let s = desk.settings;
    let cal = &s.calendar;
    let p = ask.counterpart;
    let n = o.thirdparty.requests.len() as u32 + 1;
    let due_at = cal.add_business_hours(d.now, f64::from(hours(&s.requests, ask.kind)));
    let mut to = p.addresses.clone();
    if let Some(t) = ask.transport {
        to.extend(t.addresses.iter().filter(|a| !to.contains(a)).cloned().collect::<Vec<_>>());
    }
    let ctx = json!({
        "desk": desk_block(s),
        "counterpart": {"name": p.name, "kind": p.kind.as_str()},
        "shipment": shipment(desk.directory, o),
        "ask": ask_block(ask.kind, d.now, ask.date, ask.transport.map(|t| t.name.as_str()), due_at, "", cal),
        "automatic": ask.by == AUTOMATIC,
        "lang": "es",
    });
    let template = format!("solicitud_{}", ask.kind.as_str());
    let letter = Letter {
        template: &template,
        to: to.clone(),
        ctx: &ctx,
        threading: Threading::Notice { references: &[] },
        order: Some(&o.id),
        id: Some(format!("solicitud-{}-{n}-{}", o.id, ask.kind.as_str())),
    };
    let Some(sent) = d.send(letter) else {
        return Ok(Err(format!("no se pudo preparar la solicitud a {} (vea el registro)", p.name)));
    };
    matching::link_ours(d, sent.clone(), super::model::ThreadLink { order: Some(o.id.clone()), reclamo: None });
    let what = kind_words(ask.kind);
    let summary = format!(
        "Esperar la respuesta de {} a la solicitud de {what} de la orden {} (hasta el {})",
        p.name,
        o.id,
        local_fmt(cal, due_at)
    );
    let (client, id) = (o.client.clone(), o.id.clone());
    let task = d.open_task(&task_kind(ask.kind), Some(&client), Some(&id), Some(due_at), summary, None)?;
    o.thirdparty.requests.push(CounterpartRequest {
        n,
        kind: ask.kind,
        counterpart: p.id.clone(),
        message_id: sent,
        by: ask.by.to_string(),
        at: d.now,
        due_at,
        date: ask.date,
        transport: ask.transport.map(|t| t.id.clone()),
        task: task.clone(),
        state: CounterpartState::Pendiente,
        reminded_at: None,
        answered_at: None,
        answer: None,
    });
    let when = ask.date.map(|day| format!(" para el {}", day.format("%d/%m/%Y"))).unwrap_or_default();
    o.history.push(HistoryEntry::internal(
        d.now,
        format!("Solicitud de {what}{when} enviada a {} ({})", p.name, to.join(", ")),
    ));
    o.updated_at = d.now;
    d.note(format!("request {} of {} sent to {}", ask.kind, o.id, p.id));
    Ok(Ok(format!(
        "solicitud de {what} de la orden {}{when} enviada a {} ({}); respuesta esperada hasta el {} (tarea {task})",
        o.id,
        p.name,
        to.join(", "),
        local_fmt(cal, due_at)
    )))
}

/// Is `r` waiting for an answer (or overdue and still unanswered)?
fn open(r: &CounterpartRequest) -> bool {
    matches!(r.state, CounterpartState::Pendiente | CounterpartState::Vencida)
}

/// May `counterpart` answer `r` (the one asked, or the transport named)?
fn from_party(r: &CounterpartRequest, counterpart: &str) -> bool {
    r.counterpart == counterpart || r.transport.as_deref() == Some(counterpart)
}

/// The request of `o` a counterpart's mail answers: the one whose thread
/// it continues, else (it names the order) its oldest open one.
pub fn answered<'a>(
    o: &'a Order,
    counterpart: &str,
    thread: &[&String],
    named: bool,
) -> Option<&'a CounterpartRequest> {
    let mine = || o.thirdparty.requests.iter().filter(move |r| open(r) && from_party(r, counterpart));
    mine().find(|r| thread.iter().any(|t| **t == r.message_id)).or_else(|| if named { mine().next() } else { None })
}

/// A counterpart's mail: filed in the orders it is about (an answer to a
/// request closes it). True when it was filed in at least one order (the
/// mail is then no client's business: no triage, no document intake).
pub fn incoming(d: &mut Draft<'_>, m: &Incoming<'_>) -> ViewResult<bool> {
    let Sender::Counterpart(pid) = &m.sender else { return Ok(false) };
    let Some(p) = d.desk.directory.counterpart(pid).cloned() else { return Ok(false) };
    let thread = matching::thread_ids(m.mail);
    // The orders it is about: its thread, the order numbers and shipment
    // references it names.
    let mut threaded: Vec<String> = Vec::new();
    for t in &thread {
        if let Some(link) = d.view.thread(t)?
            && let Some(id) = link.order
            && !threaded.contains(&id)
        {
            threaded.push(id);
        }
    }
    let mut named: Vec<String> = matching::tagged_orders(&d.desk.settings.order_prefix, m.mail);
    for (kind, values) in &m.class.references {
        if !matching::ORDER_REFS.contains(&kind.as_str()) {
            continue;
        }
        for v in values {
            for o in d.orders_by_ref(kind, v)? {
                if !named.contains(&o.id) {
                    named.push(o.id);
                }
            }
        }
    }
    let mut ids = threaded.clone();
    ids.extend(named.iter().filter(|n| !threaded.contains(n)).cloned());
    let mut filed = false;
    for id in ids {
        let Some(mut o) = d.order(&id)? else { continue };
        if !o.is_open() {
            continue;
        }
        // An out-of-office or other machine reply answers nothing.
        let machine = m.mail.is_auto() || m.class.has("automatico");
        let answer = if machine { None } else { answered(&o, &p.id, &thread, named.contains(&id)).map(|r| r.n) };
        file_mail(d, m, &mut o);
        matching::link_thread(d, m, super::model::ThreadLink { order: Some(o.id.clone()), reclamo: None })?;
        if let Some(n) = answer {
            answer_request(d, m, &mut o, &p, n)?;
        } else {
            o.history.push(HistoryEntry::internal(
                d.now,
                format!("Correo de {}: «{}»", p.name, excerpt(&m.mail.subject, 120)),
            ));
            d.note(format!("mail of counterpart {} filed in {} (no request of it answered)", p.id, o.id));
        }
        o.updated_at = d.now;
        d.save_order(o);
        filed = true;
    }
    Ok(filed)
}

/// The mail's attachments, kept in the order (its Message-ID is linked
/// to the order, not added to the order's own thread with the client).
fn file_mail(d: &Draft<'_>, m: &Incoming<'_>, o: &mut Order) {
    for (i, att) in m.mail.attachments.iter().enumerate() {
        if att.inline || att.data.is_empty() || o.documents.iter().any(|x| x.sha256 == att.sha256) {
            continue;
        }
        let kind = m.class.documents.iter().find(|doc| doc.index == i).map(|doc| doc.kind.clone());
        let k = m.kept.get(i).cloned().unwrap_or_default();
        o.documents.push(OrderDocument {
            kind: kind.unwrap_or_else(|| "otro".into()),
            name: att.name.clone(),
            sha256: att.sha256.clone(),
            path: k.path,
            size: att.size as u64,
            received_at: d.now,
            unreadable: k.not_kept,
        });
    }
}

/// Request `n` of `o` is answered by this mail: recorded, its task
/// closed, the assistant told.
fn answer_request(d: &mut Draft<'_>, m: &Incoming<'_>, o: &mut Order, p: &Counterpart, n: u32) -> ViewResult<()> {
    let desk = d.desk;
    let cal = &desk.settings.calendar;
    let Some(r) = o.thirdparty.requests.iter_mut().find(|r| r.n == n) else { return Ok(()) };
    r.state = CounterpartState::Respondida;
    r.answered_at = Some(d.now);
    r.answer = m.mail.message_id.clone();
    let r = r.clone();
    let what = kind_words(r.kind);
    let said = excerpt(m.mail.new_text.trim(), 600);
    o.history.push(HistoryEntry::internal(
        d.now,
        format!("Respuesta de {} a la solicitud de {what}: «{}»", p.name, excerpt(&said, 160)),
    ));
    let mut assignee = desk.assistant_of(Some(&o.client));
    if let Some(mut t) = d.task(&r.task)?
        && t.is_open()
    {
        t.state = TaskState::Hecha;
        t.history.push(HistoryEntry::internal(d.now, format!("Cerrada: respondió {}", p.name)));
        assignee = t.assignee.clone();
        d.save_task(t);
    }
    let files: Vec<&str> = m.mail.attachments.iter().filter(|a| !a.inline).map(|a| a.name.as_str()).collect();
    let transport = r.transport.as_deref().and_then(|t| desk.directory.counterpart(t)).map(|t| t.name.as_str());
    let ctx = json!({
        "desk": desk_block(desk.settings),
        "counterpart": {"name": p.name},
        "ask": ask_block(r.kind, r.at, r.date, transport, r.due_at, &r.task, cal),
        "shipment": shipment(desk.directory, o),
        "said": said,
        "files": files,
        "lang": "es",
    });
    let letter = Letter {
        template: "solicitud_respondida",
        to: vec![assignee],
        ctx: &ctx,
        threading: Threading::Notice { references: &[] },
        order: Some(&o.id),
        id: Some(format!("solicitud-{}-{}-respondida", o.id, r.n)),
    };
    d.send(letter);
    d.note(format!("request {} of {} answered by {}; task {} closed", r.kind, o.id, p.id, r.task));
    Ok(())
}

/// A request's task reached its deadline: one reminder to the
/// counterpart, in the request's thread, and a notice to the assistant.
/// Never twice (the job key; the request records it too).
pub fn overdue(d: &mut Draft<'_>, t: &Task) -> ViewResult<()> {
    let (Some(due), true, Some(order)) = (t.due_at, t.is_open(), t.order.as_deref()) else { return Ok(()) };
    if due > d.now {
        return Ok(());
    }
    let key = JobKey::TaskReminder { id: t.id.clone(), days_before: None };
    if d.view.job_done(&key)? {
        return Ok(());
    }
    d.push(Effect::JobDone { key, at: d.now });
    let Some(mut o) = d.order(order)? else { return Ok(()) };
    let Some(r) = o.thirdparty.requests.iter().find(|r| r.task == t.id).cloned() else { return Ok(()) };
    if r.state != CounterpartState::Pendiente || r.reminded_at.is_some() {
        return Ok(());
    }
    let desk = d.desk;
    let cal = &desk.settings.calendar;
    let Some(p) = desk.directory.counterpart(&r.counterpart).cloned() else {
        d.note(format!("request {} of {}: counterpart {} no longer registered", r.n, o.id, r.counterpart));
        return Ok(());
    };
    let what = kind_words(r.kind);
    let transport = r.transport.as_deref().and_then(|t| desk.directory.counterpart(t)).map(|t| t.name.as_str());
    let ask = ask_block(r.kind, r.at, r.date, transport, r.due_at, &r.task, cal);
    let ctx = json!({
        "desk": desk_block(desk.settings),
        "counterpart": {"name": p.name},
        "shipment": shipment(desk.directory, &o),
        "ask": ask.clone(),
        "lang": "es",
    });
    let refs = vec![r.message_id.clone()];
    let letter = Letter {
        template: "solicitud_recordatorio",
        to: p.addresses.clone(),
        ctx: &ctx,
        threading: Threading::Notice { references: &refs },
        order: Some(&o.id),
        id: Some(format!("solicitud-{}-{}-recordatorio", o.id, r.n)),
    };
    let reminded = d.send(letter);
    if let Some(mid) = &reminded {
        matching::link_ours(d, mid.clone(), super::model::ThreadLink { order: Some(o.id.clone()), reclamo: None });
    }
    let notice = json!({
        "desk": desk_block(desk.settings),
        "counterpart": {"name": p.name, "addresses": p.addresses},
        "shipment": shipment(desk.directory, &o),
        "ask": ask,
        "reminded": reminded.is_some(),
        "lang": "es",
    });
    let letter = Letter {
        template: "solicitud_vencida",
        to: vec![t.assignee.clone()],
        ctx: &notice,
        threading: Threading::Notice { references: &[] },
        order: Some(&o.id),
        id: Some(format!("solicitud-{}-{}-vencida", o.id, r.n)),
    };
    d.send(letter);
    if let Some(x) = o.thirdparty.requests.iter_mut().find(|x| x.n == r.n) {
        x.state = CounterpartState::Vencida;
        x.reminded_at = Some(d.now);
    }
    o.history.push(HistoryEntry::internal(
        d.now,
        format!("Sin respuesta de {} a la solicitud de {what}: se le envió un recordatorio", p.name),
    ));
    d.note(format!("request {} of {} overdue: reminder to {}", r.kind, o.id, p.id));
    d.save_order(o);
    Ok(())
}

/// An order's ETA as an instant: its time when a notice gave one, else
/// the end of that day (Lima).
pub fn eta_instant(o: &Order, cal: &BusinessCalendar) -> Option<DateTime<Utc>> {
    let day = crate::dates::parse_date(o.eta.as_deref()?)?;
    let time = o
        .follow
        .eta_time
        .as_deref()
        .and_then(|t| chrono::NaiveTime::parse_from_str(t, "%H:%M").ok())
        .or_else(|| chrono::NaiveTime::from_hms_opt(23, 59, 0))?;
    Some(cal.at_local(day, time))
}

fn asked(o: &Order, kind: RequestKind) -> bool {
    o.thirdparty.requests.iter().any(|r| r.kind == kind)
}

/// When the desk asks the line by itself whether the cargo arrived: the
/// ETA plus `arrival_check_hours`, while no arrival notice came and no
/// arrival question went.
pub fn arrival_check_at(o: &Order, s: &Settings) -> Option<DateTime<Utc>> {
    if !o.is_open() || o.thirdparty.arrived_at.is_some() || asked(o, RequestKind::Llegada) {
        return None;
    }
    Some(eta_instant(o, &s.calendar)? + chrono::Duration::hours(i64::from(s.requests.arrival_check_hours)))
}

/// When the desk asks the depósito for the volante: `volante_days`
/// business days after arrival, while the order has none and none was asked.
pub fn volante_check_at(o: &Order, s: &Settings) -> Option<DateTime<Utc>> {
    let arrived = o.thirdparty.arrived_at?;
    if !o.is_open() || o.documents.iter().any(|d| d.kind == "volante") || asked(o, RequestKind::Volante) {
        return None;
    }
    let cal = &s.calendar;
    let day_hours = (cal.day_end - cal.day_start).num_minutes() as f64 / 60.0;
    Some(cal.add_business_hours(arrived, f64::from(s.requests.volante_days) * day_hours))
}

/// The order's automatic-request instants (for its schedule entry).
pub fn order_instants(o: &Order, s: &Settings) -> Vec<DateTime<Utc>> {
    arrival_check_at(o, s).into_iter().chain(volante_check_at(o, s)).collect()
}

/// The order's automatic requests due at `now`. True when it changed.
pub fn order_due(d: &mut Draft<'_>, o: &mut Order) -> ViewResult<bool> {
    let s = d.desk.settings;
    let mut changed = false;
    for (kind, at) in [(RequestKind::Llegada, arrival_check_at(o, s)), (RequestKind::Volante, volante_check_at(o, s))] {
        let Some(at) = at else { continue };
        if at > d.now {
            continue;
        }
        let p = match find(d.desk.directory, kind, None, o) {
            Ok(p) => p.clone(),
            Err(why) => {
                d.note(format!("automatic {kind} request of {} not sent: {why}", o.id));
                continue;
            }
        };
        let ask = Ask { kind, counterpart: &p, by: AUTOMATIC, date: None, transport: None };
        if request(d, o, &ask)?.is_ok() {
            changed = true;
        }
    }
    Ok(changed)
}

/// A carrier notice that says the vessel or flight arrived (not one that
/// announces an ETA).
static ARRIVED: LazyLock<Regex> = LazyLock::new(|| {
    super::re(
        r"(?i)\b(?:arrib[oó]|ha arribado|lleg[oó] (?:la nave|el buque|la carga|el vuelo)|(?:la nave|el buque) (?:ya )?lleg[oó]|atrac[oó]|descarg(?:ó|o|ada|ado) en|t[eé]rmino de descarga|arrived|has arrived|discharged|ata\s*:)",
    )
});

/// Does a carrier notice's text say the cargo arrived?
pub fn says_arrived(text: &str) -> bool {
    ARRIVED.is_match(text)
}
