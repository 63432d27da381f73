//! What a mail points at: whose it is, the orders it names (order tag,
//! thread, shared references), the reclamo whose thread it continues.
//! One function for each, used by every handler.

use std::sync::LazyLock;

use regex::Regex;

use super::Incoming;
use super::draft::Draft;
use super::effect::Effect;
use super::model::{Order, Reclamo, ThreadLink};
use super::view::ViewResult;
use crate::clients::Sender;
use crate::mail::Mail;

/// Any `<PREFIX>-<YYYY>-<NNNNNN>`; the prefix is checked against the config.
static ORDER_TAG: LazyLock<Regex> = LazyLock::new(|| super::re(r"\b[A-Za-z0-9]+-\d{4}-\d{6}\b"));
static RECLAMO_TAG: LazyLock<Regex> = LazyLock::new(|| super::re(r"\bR-(\d{6})\b"));

/// Reference kinds that identify a shipment (and so an order).
pub const ORDER_REFS: &[&str] = &["bl", "awb", "container", "dam", "invoice"];

/// The client a mail is for: the sender's, or the only client of a partner.
pub fn client_of(sender: &Sender) -> Option<String> {
    match sender {
        Sender::Client(id) => Some(id.clone()),
        Sender::Partner(ids) if ids.len() == 1 => ids.first().cloned(),
        _ => None,
    }
}

/// The client of a mail a staff member forwards to the desk ("para abrir
/// la orden"): the forwarded From's, else the client whose RUC the mail
/// names, else the client of the open order its references name — never
/// the staff member.
pub fn forwarded_client(d: &Draft<'_>, m: &Incoming<'_>) -> ViewResult<Option<String>> {
    let dir = d.desk.directory;
    for a in &m.mail.forwarded_from {
        if let Some(c) = client_of(&dir.sender(&a.address)) {
            return Ok(Some(c));
        }
    }
    for ruc in m.class.references.get("ruc").into_iter().flatten() {
        if let Some(c) = dir.clients.iter().find(|c| &c.ruc == ruc) {
            return Ok(Some(c.id.clone()));
        }
    }
    for (kind, values) in &m.class.references {
        if !ORDER_REFS.contains(&kind.as_str()) {
            continue;
        }
        for v in values {
            if let Some(o) = d.orders_by_ref(kind, v)?.into_iter().find(|o| o.is_open()) {
                return Ok(Some(o.client));
            }
        }
    }
    Ok(None)
}

/// The client whose registered address sent the mail (partners excluded).
pub fn client_sender(sender: &Sender) -> Option<&str> {
    match sender {
        Sender::Client(id) => Some(id),
        _ => None,
    }
}

/// Order numbers named in the subject or the new text (`[OC-2026-000123]`).
pub fn tagged_orders(prefix: &str, mail: &Mail) -> Vec<String> {
    let mut out = Vec::new();
    for text in [&mail.subject, &mail.new_text] {
        for m in ORDER_TAG.find_iter(text) {
            if m.as_str().split('-').next() == Some(prefix) && !out.iter().any(|o| o == m.as_str()) {
                out.push(m.as_str().to_string());
            }
        }
    }
    out
}

/// The thread: In-Reply-To and References, then the mail's own id (a reply
/// processed before this mail linked its parents: mail is not always taken
/// in the order it was written).
pub fn thread_ids(mail: &Mail) -> Vec<&String> {
    mail.in_reply_to.iter().chain(mail.references.iter().rev()).chain(mail.message_id.iter()).collect()
}

/// The open orders of `client` this mail points at, best first: order tag,
/// thread, then a shared BL/AWB/container/DAM/invoice. `first_only`: stop at
/// the first (the order a mail belongs to).
pub fn pointed_orders(d: &Draft<'_>, m: &Incoming<'_>, client: &str, first_only: bool) -> ViewResult<Vec<Order>> {
    let mut out: Vec<Order> = Vec::new();
    let mine = |o: &Order| o.client == client && o.is_open();
    let add = |o: Order, out: &mut Vec<Order>| {
        if !out.iter().any(|x| x.id == o.id) {
            out.push(o);
        }
        first_only
    };
    for id in tagged_orders(&d.desk.settings.order_prefix, m.mail) {
        if let Some(o) = d.order(&id)?.filter(mine)
            && add(o, &mut out)
        {
            return Ok(out);
        }
    }
    for mid in thread_ids(m.mail) {
        if let Some(ThreadLink { order: Some(id), .. }) = d.view.thread(mid)?
            && let Some(o) = d.order(&id)?.filter(mine)
            && add(o, &mut out)
        {
            return Ok(out);
        }
    }
    for (kind, values) in &m.class.references {
        if !ORDER_REFS.contains(&kind.as_str()) {
            continue;
        }
        for v in values {
            for o in d.orders_by_ref(kind, v)?.into_iter().filter(mine) {
                if add(o, &mut out) {
                    return Ok(out);
                }
            }
        }
    }
    Ok(out)
}

/// The open reclamo this mail continues: the one of its thread, or one
/// named in the subject (`R-000045`) — only the same client's.
pub fn continued_reclamo(d: &Draft<'_>, m: &Incoming<'_>, client: Option<&str>) -> ViewResult<Option<Reclamo>> {
    let same_client = |r: &Reclamo| r.is_open() && r.client.as_deref() == client;
    for mid in thread_ids(m.mail) {
        if let Some(ThreadLink { reclamo: Some(id), .. }) = d.view.thread(mid)?
            && let Some(r) = d.reclamo(&id)?.filter(same_client)
        {
            return Ok(Some(r));
        }
    }
    for c in RECLAMO_TAG.captures_iter(&m.mail.subject) {
        let id = format!("R-{}", &c[1]);
        if let Some(r) = d.reclamo(&id)?.filter(same_client) {
            return Ok(Some(r));
        }
    }
    Ok(None)
}

/// Link this mail, and the mails it answers that nothing claims yet, to an
/// order or reclamo: a parent that arrives later then finds it.
pub fn link_thread(d: &mut Draft<'_>, m: &Incoming<'_>, link: ThreadLink) -> ViewResult<()> {
    let mut ids: Vec<String> = m.mail.message_id.iter().cloned().collect();
    for parent in m.mail.in_reply_to.iter().chain(&m.mail.references) {
        if !ids.contains(parent) && d.view.thread(parent)?.is_none() {
            ids.push(parent.clone());
        }
    }
    for message_id in ids {
        d.push(Effect::LinkThread { message_id, link: link.clone() });
    }
    Ok(())
}

/// Link one of our own mails (an acknowledgement, an escalation) to an
/// order or reclamo, so that the answer to it finds its way back.
pub fn link_ours(d: &mut Draft<'_>, message_id: String, link: ThreadLink) {
    d.push(Effect::LinkThread { message_id, link });
}
