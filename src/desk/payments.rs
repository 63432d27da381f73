//! `pago`: a payment notice is a task for the client's assistant, and
//! Administración is told.

use super::Incoming;
use super::context::mail_context;
use super::draft::Draft;
use super::matching::client_of;
use super::reply::{Letter, Threading};
use super::view::ViewResult;

pub fn handle(d: &mut Draft<'_>, m: &Incoming<'_>) -> ViewResult<()> {
    let client = client_of(&m.sender);
    let summary = format!("Aviso de pago de {}: «{}». Confirmar con administración.", m.from(), m.mail.subject);
    d.open_task("pago", client.as_deref(), None, None, summary, m.mail.message_id.clone())?;
    let to = d.desk.settings.administracion.clone();
    if !to.is_empty() && !m.class.has("automatico") {
        let registered = super::matching::client_sender(&m.sender).and_then(|c| d.desk.directory.client(c));
        let ctx = mail_context(d.desk.settings, m, registered, d.now);
        d.send(Letter {
            template: "aviso_pago",
            to,
            ctx: &ctx,
            threading: Threading::Notice { references: &[] },
            order: None,
            id: None,
        });
    }
    Ok(())
}
