//! Work that only a person can do: quotation requests (`proforma`), mail
//! nobody recognised (`otro`: triage), and refused outgoing mail.

use super::Incoming;
use super::draft::Draft;
use super::matching::client_of;
use super::view::ViewResult;
use crate::clients::Sender;

/// Who sent a mail, for a person: `Patricia Huamán <phuaman@…>`, the
/// address alone, or that it could not be read.
pub fn who(m: &Incoming<'_>) -> String {
    let addr = m.from();
    let name = m.mail.from.as_ref().map(|a| a.name.trim()).unwrap_or("");
    match (name.is_empty(), addr.is_empty()) {
        (_, true) => "un remitente ilegible".to_string(),
        (true, false) => addr.to_string(),
        (false, false) => format!("{} <{addr}>", super::context::excerpt(name, 60)),
    }
}

/// A mail's subject for a person: `«Consulta»`, or that it has none.
pub fn subject_words(m: &Incoming<'_>) -> String {
    let s = m.mail.subject.trim();
    if s.is_empty() { "sin asunto".to_string() } else { format!("«{}»", super::context::excerpt(s, 120)) }
}

/// `proforma`: a task for the client's assistant.
pub fn proforma(d: &mut Draft<'_>, m: &Incoming<'_>) -> ViewResult<()> {
    let client = client_of(&m.sender);
    let summary = format!("Solicitud de cotización/proforma de {}: {}.", who(m), subject_words(m));
    d.open_task("proforma", client.as_deref(), None, None, summary, m.mail.message_id.clone())?;
    Ok(())
}

/// `otro`: a triage task (never for our own mail), saying who wrote, about
/// what and when, so the assistant can find the mail (it is also attached
/// to the assistant's notice).
pub fn triage(d: &mut Draft<'_>, m: &Incoming<'_>) -> ViewResult<()> {
    if matches!(m.sender, Sender::Ours) {
        return Ok(());
    }
    let client = client_of(&m.sender);
    let when = super::context::local_fmt(&d.desk.settings.calendar, super::notices::mail_date(m, d.now));
    let summary = format!(
        "Correo sin clasificar de {}, {}, del {when}. Revisar y asignar a una orden o un cliente.",
        who(m),
        subject_words(m)
    );
    d.open_task("triage", client.as_deref(), None, None, summary, m.mail.message_id.clone())?;
    Ok(())
}

/// Mails the SMTP server refused (for some or all recipients): a task for
/// the assistant of the order's client (or the default one) each.
pub fn refusals(d: &mut Draft<'_>, ids: &[String]) -> ViewResult<()> {
    for id in ids {
        d.push(super::Effect::RefusalNoticed { id: id.clone() });
        let Some(m) = d.outgoing(id)? else { continue };
        let client = match m.order.as_deref() {
            Some(o) => d.order(o)?.map(|o| o.client),
            None => None,
        };
        let summary = format!(
            "El servidor de correo rechazó «{}» para: {}. Contactar al destinatario por otra vía o corregir la dirección.",
            m.subject,
            m.refused.join("; ")
        );
        let task = d.open_task(
            "correo_rechazado",
            client.as_deref(),
            m.order.as_deref(),
            None,
            summary,
            Some(m.message_id.clone()),
        )?;
        d.note(format!("outbox {id} refused ({}): task {task}", m.refused.join("; ")));
    }
    Ok(())
}

/// The mailbox source stopped for good (a refused login…): the supervisors
/// hear it once a day, with what to do; nothing arriving is processed
/// until it is fixed, and nothing is lost.
pub fn source_stopped(d: &mut Draft<'_>, source: &str, why: &str, fix: &str) -> ViewResult<()> {
    let desk = d.desk;
    let s = desk.settings;
    let key = super::effect::JobKey::SourceStopped { date: s.calendar.local_date(d.now) };
    if d.view.job_done(&key)? {
        return Ok(());
    }
    d.push(super::Effect::JobDone { key: key.clone(), at: d.now });
    let ctx = serde_json::json!({
        "desk": super::context::desk_block(s),
        "now": super::context::local_fmt(&s.calendar, d.now),
        "source": {"where": source, "why": why, "fix": fix},
    });
    let letter = super::reply::Letter {
        template: "fuente_detenida",
        to: s.supervisors.clone(),
        ctx: &ctx,
        threading: super::reply::Threading::Notice { references: &[] },
        order: None,
        id: Some(super::reminders::job_mail_id(&key)),
    };
    d.send(letter);
    Ok(())
}
