//! `automatico`: auto-replies, bounces and list mail are recorded, never
//! answered. A delivery report quoting one of our mails marks that outbox
//! entry failed and gives a person a task to reach the recipient.

use super::Incoming;
use super::context::excerpt;
use super::draft::Draft;
use super::model::OutboxState;
use super::view::ViewResult;

pub fn handle(d: &mut Draft<'_>, m: &Incoming<'_>) -> ViewResult<()> {
    d.note("automatic mail: recorded, not answered");
    let domain = format!("@{}", d.desk.settings.domain());
    for mid in &m.mail.bounced_ids {
        let Some(id) = mid.strip_prefix("buzon.").and_then(|r| r.strip_suffix(domain.as_str())) else {
            continue;
        };
        let Some(mut out) = d.outgoing(id)? else { continue };
        if out.state == OutboxState::Fallido && out.error.as_deref().is_some_and(|e| e.starts_with("rebotado")) {
            continue; // a second report of the same bounce
        }
        let why = excerpt(m.mail.new_text.trim(), 300);
        out.state = OutboxState::Fallido;
        out.error = Some(format!("rebotado: {why}"));
        let summary = format!(
            "El correo «{}» enviado a {} fue rebotado por el servidor de destino. Contactar al destinatario por otra vía y corregir la dirección.",
            out.subject,
            out.to.join(", ")
        );
        let client = match out.order.as_deref() {
            Some(o) => d.order(o)?.map(|o| o.client),
            None => None,
        };
        d.note(format!("bounce of outbox {id}"));
        let order = out.order.clone();
        d.save_outgoing(out);
        d.open_task("correo_rebotado", client.as_deref(), order.as_deref(), None, summary, m.mail.message_id.clone())?;
    }
    Ok(())
}
