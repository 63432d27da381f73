//! `pago`: a payment notice is a task for the client's assistant, and
//! Administración is told — with the documents the notice is about (the
//! voucher, the bank's constancia) attached, so nobody has to look for them.

use serde_json::json;

use super::Incoming;
use super::compose::Attached;
use super::context::mail_context;
use super::draft::Draft;
use super::matching::client_of;
use super::model::{HistoryEntry, TaskState};
use super::reply::{Letter, Threading};
use super::view::ViewResult;
use crate::clients::Sender;

/// The files of a payment notice worth forwarding: real attachments (not
/// signature images), within the attachment limit in total.
fn vouchers(m: &Incoming<'_>, max: u64) -> (Vec<Attached>, Vec<String>) {
    let mut files = Vec::new();
    let mut left_out = Vec::new();
    let mut total = 0u64;
    for a in m.mail.attachments.iter().filter(|a| !a.inline && a.container.is_none()) {
        if total + a.data.len() as u64 > max || a.data.is_empty() {
            left_out.push(a.name.clone());
            continue;
        }
        total += a.data.len() as u64;
        let ct =
            if a.content_type.is_empty() { "application/octet-stream".to_string() } else { a.content_type.clone() };
        files.push(Attached { name: a.name.clone(), content_type: ct, bytes: a.data.clone() });
    }
    (files, left_out)
}

pub fn handle(d: &mut Draft<'_>, m: &Incoming<'_>) -> ViewResult<()> {
    if liquidation_paid(d, m)? {
        return Ok(());
    }
    let client = client_of(&m.sender);
    let summary = format!(
        "Aviso de pago de {}: {}. Confirmar con administración.",
        super::tasks::who(m),
        super::tasks::subject_words(m)
    );
    let task = d.open_task("pago", client.as_deref(), None, None, summary, m.mail.message_id.clone())?;
    let to = d.desk.settings.administracion.clone();
    if !to.is_empty() && !m.class.has("automatico") {
        let registered = super::matching::client_sender(&m.sender).and_then(|c| d.desk.directory.client(c));
        let mut ctx = mail_context(d.desk.settings, m, registered, d.now);
        let (files, left_out) = vouchers(m, d.desk.settings.max_attachment_bytes);
        ctx["attachments"] = json!(files.iter().map(|f| f.name.clone()).collect::<Vec<_>>());
        ctx["left_out"] = json!(left_out);
        let assignee = d.desk.assistant_of(client.as_deref());
        ctx["task"] = json!({"id": task, "assignee": assignee});
        d.send_with(
            Letter {
                template: "aviso_pago",
                to,
                ctx: &ctx,
                threading: Threading::Notice { references: &[] },
                order: None,
                id: None,
            },
            &files,
        );
    }
    Ok(())
}

/// A payment from the client's registered address (DMARC not failed) that
/// points at one of its orders — by its tag, its DAM or one of its
/// references — with an unpaid liquidation: the liquidation is paid, its
/// task closed and Administración told with the voucher. When several
/// liquidations are unpaid, the amount written in the mail picks one.
/// True when the mail was such a payment.
fn liquidation_paid(d: &mut Draft<'_>, m: &Incoming<'_>) -> ViewResult<bool> {
    let Sender::Client(client) = &m.sender else { return Ok(false) };
    if m.mail.dmarc_failed() || m.mail.is_auto() || m.class.has("automatico") {
        return Ok(false);
    }
    let mut orders = Vec::new();
    for id in super::matching::tagged_orders(&d.desk.settings.order_prefix, m.mail) {
        if let Some(o) = d.order(&id)? {
            orders.push(o);
        }
    }
    for (kind, values) in &m.class.references {
        if !super::matching::ORDER_REFS.contains(&kind.as_str()) {
            continue;
        }
        for v in values {
            orders.extend(d.orders_by_ref(kind, v)?);
        }
    }
    orders.retain(|o| o.client == *client);
    orders.sort_by(|a, b| a.id.cmp(&b.id));
    orders.dedup_by(|a, b| a.id == b.id);
    let text = format!("{}\n{}\n{}", m.mail.subject, m.mail.new_text, m.mail.forwarded_text);
    let vouchers_text: String = m.mail.attachments.iter().map(|a| a.text.as_str()).collect::<Vec<_>>().join("\n");
    let unpaid: Vec<(usize, usize)> = orders
        .iter()
        .enumerate()
        .flat_map(|(i, o)| {
            o.money.liquidations.iter().enumerate().filter(|(_, l)| l.paid_at.is_none()).map(move |(j, _)| (i, j))
        })
        .collect();
    let written = |amount: &str| {
        let words = super::commands::amount_words(amount);
        let plain = amount.to_string();
        [&text, &vouchers_text].iter().any(|t| t.contains(&words) || t.contains(&plain))
    };
    let pick = match unpaid.as_slice() {
        [] => return Ok(false),
        [one] => *one,
        many => {
            match many.iter().filter(|(i, j)| written(&orders[*i].money.liquidations[*j].amount)).collect::<Vec<_>>()[..]
            {
                [one] => *one,
                _ => return Ok(false),
            }
        }
    };
    let (i, j) = pick;
    let mut o = orders.swap_remove(i);
    let desk = d.desk;
    let Some(l) = o.money.liquidations.get_mut(j) else { return Ok(false) };
    l.paid_at = Some(d.now);
    l.paid_by = Some(m.from().to_ascii_lowercase());
    let l = l.clone();
    let shown = format!("{} {}", l.currency, super::commands::amount_words(&l.amount));
    o.history.push(HistoryEntry::public(d.now, format!("Pago de la liquidación recibido ({shown})")));
    o.updated_at = d.now;
    if let Some(mid) = &m.mail.message_id
        && !o.message_ids.contains(mid)
    {
        o.message_ids.push(mid.clone());
    }
    if let Some(mut t) = d.task(&l.task)?
        && t.is_open()
    {
        t.state = TaskState::Hecha;
        t.history.push(HistoryEntry::internal(d.now, format!("Cerrada: el cliente pagó ({})", m.from())));
        d.save_task(t);
    }
    d.note(format!("liquidation of {} paid ({shown})", o.id));
    let to = desk.settings.administracion.clone();
    if to.is_empty() {
        let summary = format!(
            "Pago de la liquidación de la orden {} ({shown}) recibido; no hay dirección de administración configurada.",
            o.id
        );
        d.open_task("pago", Some(client), Some(&o.id), None, summary, m.mail.message_id.clone())?;
    } else {
        let registered = desk.directory.client(client);
        let mut ctx = mail_context(desk.settings, m, registered, d.now);
        let (files, left_out) = vouchers(m, desk.settings.max_attachment_bytes);
        ctx["attachments"] = json!(files.iter().map(|f| f.name.clone()).collect::<Vec<_>>());
        ctx["left_out"] = json!(left_out);
        ctx["task"] = json!({"id": l.task});
        ctx["order"] = super::context::order_context(&desk.rules.desk, &desk.settings.calendar, &o);
        ctx["dam"] = json!(o.references.get("dam").and_then(|v| v.iter().next().cloned()));
        ctx["liquidation"] = json!({"amount": super::commands::amount_words(&l.amount), "currency": l.currency,
                                    "due": l.due_date.format("%d/%m/%Y").to_string()});
        let id = format!("liquidacion-{}-{}-pagada", o.id, j + 1);
        d.send_with(
            Letter {
                template: "liquidacion_pagada",
                to,
                ctx: &ctx,
                threading: Threading::Notice { references: &[] },
                order: Some(&o.id),
                id: Some(id),
            },
            &files,
        );
    }
    d.save_order(o);
    Ok(true)
}
