//! `reclamo`: a complaint opens a reclamo due in 24 business hours (or is
//! added to the open one whose thread it continues), is escalated to the
//! supervisors and the client's executive at once, and acknowledged to a
//! verified client with its number.

use serde_json::json;

use super::Incoming;
use super::context::{excerpt, local_fmt, mail_context};
use super::draft::Draft;
use super::effect::Sequence;
use super::matching::{client_of, client_sender, continued_reclamo, link_ours, link_thread, pointed_orders};
use super::model::{HistoryEntry, Reclamo, ReclamoState, ThreadLink};
use super::reply::{Letter, Threading, Verdict};
use super::view::ViewResult;

pub fn handle(d: &mut Draft<'_>, m: &Incoming<'_>) -> ViewResult<()> {
    let desk = d.desk;
    let s = desk.settings;
    let client = client_of(&m.sender);
    let existing = continued_reclamo(d, m, client.as_deref())?;
    let new = existing.is_none();
    let mut r = match existing {
        Some(r) => r,
        None => {
            let n = d.next(Sequence::Reclamos)?;
            let order = match &client {
                Some(c) => pointed_orders(d, m, c, true)?.into_iter().next().map(|o| o.id),
                None => None,
            };
            Reclamo {
                id: format!("R-{n:06}"),
                client: client.clone(),
                order,
                received_at: d.now,
                due_at: s.calendar.add_business_hours(d.now, f64::from(s.reclamo_hours)),
                state: ReclamoState::Abierto,
                from: m.from().to_string(),
                from_name: m.mail.from.as_ref().map(|a| a.name.clone()).unwrap_or_default(),
                subject: m.mail.subject.clone(),
                excerpt: excerpt(&m.mail.new_text, 2000),
                message_ids: Vec::new(),
                resolution: None,
                history: Vec::new(),
                closed_at: None,
            }
        }
    };
    let what =
        if new { "Reclamo registrado".into() } else { format!("Nuevo mensaje: {}", excerpt(&m.mail.new_text, 300)) };
    r.history.push(HistoryEntry::public(d.now, what));
    if let Some(mid) = &m.mail.message_id
        && !r.message_ids.contains(mid)
    {
        r.message_ids.push(mid.clone());
    }
    d.note(format!("{} reclamo {}", if new { "opened" } else { "updated" }, r.id));
    let registered = client_sender(&m.sender).and_then(|c| desk.directory.client(c));
    let mut ctx = mail_context(s, m, registered, d.now);
    ctx["reclamo"] = json!({
        "id": r.id, "due_at": local_fmt(&s.calendar, r.due_at), "received_at": local_fmt(&s.calendar, r.received_at),
        "excerpt": excerpt(&m.mail.new_text, 2000), "from": r.from, "order": r.order, "new": new,
        "hours": s.reclamo_hours, "subject": r.subject, "topic": super::subjects::topic(&r.subject),
    });
    let executive = desk.executive_of(client.as_deref());
    ctx["executive"] = json!(executive);
    let link = ThreadLink { order: None, reclamo: Some(r.id.clone()) };
    // Escalation to the supervisors and the client's executive: always.
    let mut to: Vec<String> = s.supervisors.clone();
    if let Some(e) = &executive
        && !to.contains(e)
    {
        to.push(e.clone());
    }
    let order = r.order.clone();
    let escalation = Letter {
        template: "reclamo_escalamiento",
        to,
        ctx: &ctx,
        threading: Threading::Notice { references: &[] },
        order: order.as_deref(),
        id: None,
    };
    if let Some(sent) = d.send(escalation) {
        r.message_ids.push(sent.clone());
        link_ours(d, sent, link.clone());
    }
    if new && r.state == ReclamoState::Abierto {
        r.state = ReclamoState::Escalado;
        r.history.push(HistoryEntry::public(d.now, "Escalado a supervisión"));
    }
    let reply_to = m.reply_address(desk.directory);
    let verdict = if client.is_some() { d.may_reply(m, &reply_to)? } else { Verdict::DmarcFailed };
    if verdict == Verdict::SenderLimit {
        let summary = format!(
            "No se envió el acuse del reclamo {} a {reply_to} ({}). Confirmar al cliente que su reclamo fue registrado.",
            r.id,
            verdict.motivo()
        );
        d.open_task(
            "acuse_no_enviado",
            client.as_deref(),
            r.order.as_deref(),
            None,
            summary,
            m.mail.message_id.clone(),
        )?;
    }
    if verdict == Verdict::Send {
        let ack = Letter {
            template: "reclamo_acuse",
            to: vec![reply_to],
            ctx: &ctx,
            threading: Threading::Reply(m),
            order: order.as_deref(),
            id: None,
        };
        if let Some(sent) = d.send(ack) {
            r.message_ids.push(sent.clone());
            link_ours(d, sent, link.clone());
        }
    }
    link_thread(d, m, link)?;
    d.save_reclamo(r);
    Ok(())
}
