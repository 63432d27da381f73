//! `pago`: a payment notice is a task for the client's assistant, and
//! Administración is told — with the documents the notice is about (the
//! voucher, the bank's constancia) attached, so nobody has to look for them.

use serde_json::json;

use super::Incoming;
use super::compose::Attached;
use super::context::mail_context;
use super::draft::Draft;
use super::matching::client_of;
use super::reply::{Letter, Threading};
use super::view::ViewResult;

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
