//! `estado`: a client's registered address gets the summary of the orders
//! its mail points at, or of its open orders; a BL, AWB, container… that
//! none of its orders holds is answered "not found among your orders"
//! (naming what was looked for, no order) and a person gets a task. Anyone
//! else (or a mail whose DMARC failed) gets a polite generic answer, and a
//! person a task.

use serde_json::json;

use super::Incoming;
use super::context::{mail_context, order_context, ref_label, stranger_context};
use super::draft::Draft;
use super::matching::{ORDER_REFS, client_sender, pointed_orders};
use super::reply::{Letter, Threading, Verdict};
use super::view::ViewResult;

/// Orders shown at most in one status summary (the most recent open ones).
pub const STATUS_LIMIT: usize = 10;

pub fn handle(d: &mut Draft<'_>, m: &Incoming<'_>) -> ViewResult<()> {
    let desk = d.desk;
    let to = m.reply_address(desk.directory);
    let registered = client_sender(&m.sender).and_then(|c| desk.directory.client(c));
    let verified = registered.is_some() && !m.mail.dmarc_failed();
    if !verified {
        let why = if m.mail.dmarc_failed() { "DMARC fallido" } else { "remitente no registrado" };
        let summary = format!(
            "Consulta de estado de {} ({why}): «{}». Responder a mano si corresponde.",
            m.from(),
            m.mail.subject
        );
        let client = client_sender(&m.sender).map(str::to_string);
        d.open_task("estado_sin_verificar", client.as_deref(), None, None, summary, m.mail.message_id.clone())?;
        // DMARC failed: nothing automatic. A stranger: a polite answer that
        // echoes nothing of what the sender wrote (a forger cannot make the
        // desk's server send their text), within the desk-wide cap.
        let verdict = d.may_reply(m, &to)?;
        if verdict != Verdict::Send {
            d.note(format!("generic status answer not sent: {}", verdict.why()));
        } else {
            let ctx = stranger_context(desk.settings, &to, d.now);
            let letter = Letter {
                template: "estado_generico",
                to: vec![to],
                ctx: &ctx,
                threading: Threading::Reply(m),
                order: None,
                id: None,
            };
            d.send(letter);
        }
        return Ok(());
    }
    let Some(client) = registered else { return Ok(()) };
    // What the mail asks about: the shipment references it names.
    let asked: Vec<(String, String)> = m
        .class
        .references
        .iter()
        .filter(|(k, _)| ORDER_REFS.contains(&k.as_str()))
        .flat_map(|(k, vs)| vs.iter().map(move |v| (k.clone(), v.clone())))
        .collect();
    // The orders the mail points at (order tag, thread, a shared
    // reference), and the client's closed orders its references name.
    let mut pointed = pointed_orders(d, m, &client.id, false)?;
    let mut not_found = Vec::new();
    for (kind, value) in &asked {
        let theirs: Vec<_> = d.orders_by_ref(kind, value)?.into_iter().filter(|o| o.client == client.id).collect();
        if theirs.is_empty() {
            not_found.push(json!({"kind": kind, "label": ref_label(kind), "value": value}));
        }
        for o in theirs {
            if !pointed.iter().any(|p| p.id == o.id) {
                pointed.push(o);
            }
        }
    }
    pointed.sort_by(|a, b| a.id.cmp(&b.id));
    // Only what was asked: a reference none of the client's orders holds
    // gets "not found", never another order's status (whose tag would
    // file the client's next mail into the wrong order).
    let nothing_found = pointed.is_empty() && !asked.is_empty();
    let (orders, total) = if nothing_found {
        (Vec::new(), 0)
    } else if pointed.is_empty() {
        d.open_orders_of_client(&client.id, STATUS_LIMIT)?
    } else {
        let n = pointed.len();
        (pointed, n)
    };
    if !not_found.is_empty() {
        let what: Vec<String> = not_found
            .iter()
            .map(|n| format!("{} {}", n["label"].as_str().unwrap_or(""), n["value"].as_str().unwrap_or("")))
            .collect();
        let summary = format!(
            "Consulta de estado de {} por {} que no figura en ninguna orden de {}: {}. Buscar el embarque y responder.",
            super::tasks::who(m),
            what.join(", "),
            client.name,
            super::tasks::subject_words(m)
        );
        d.open_task("estado_no_encontrado", Some(&client.id), None, None, summary, m.mail.message_id.clone())?;
    }
    match d.may_reply(m, &to)? {
        Verdict::Send => {}
        // A question is always answered or given to a person.
        verdict @ (Verdict::SenderLimit | Verdict::Echo) => {
            let summary = format!(
                "Consulta de estado de {} sin respuesta automática ({}): «{}». Responder a mano.",
                m.from(),
                verdict.motivo(),
                crate::desk::context::excerpt(&m.mail.subject, 120)
            );
            d.open_task("estado_no_respondido", Some(&client.id), None, None, summary, m.mail.message_id.clone())?;
            return Ok(());
        }
        other => {
            d.note(format!("status request not answered: {}", other.why()));
            return Ok(());
        }
    }
    let rules = &desk.rules.desk;
    let mut ctx = mail_context(desk.settings, m, Some(client), d.now);
    ctx["orders"] = json!(orders.iter().map(|o| order_context(rules, &desk.settings.calendar, o)).collect::<Vec<_>>());
    ctx["more"] = json!(total.saturating_sub(orders.len()));
    ctx["not_found"] = json!(not_found);
    // The order tag only when the answer is about exactly one order.
    let single = (orders.len() == 1 && total == 1).then(|| orders[0].id.clone());
    ctx["tag"] = json!(single);
    let template = if nothing_found { "estado_no_encontrado" } else { "estado" };
    let letter = Letter {
        template,
        to: vec![to],
        ctx: &ctx,
        threading: Threading::Reply(m),
        order: single.as_deref(),
        id: None,
    };
    d.send(letter);
    Ok(())
}
