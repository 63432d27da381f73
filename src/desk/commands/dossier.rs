//! `#expediente OC-…`: the staff member who asks receives the file for
//! liquidation — one mail with a ZIP of every document under its original
//! name, the order's history and an index (HTML and CSV). The desk stays
//! pure: the command only asks ([`Effect::Dossier`]); the pipeline makes
//! the ZIP where the documents are kept and hands it to [`mail`], which
//! writes the mail — or, when the ZIP is over the attachment limit, a mail
//! saying so with the command to run on the server instead.

use serde_json::json;

use super::super::compose::Attached;
use super::super::context::desk_block;
use super::super::draft::Draft;
use super::super::effect::{DossierRequest, Effect};
use super::super::reply::{Letter, Threading};
use super::super::view::{View, ViewResult};
use super::super::{Decision, Desk, Incoming};
use super::{Command, Done};

/// The template of the mail with the ZIP, and of the one without it.
pub const TEMPLATE: &str = "expediente";
pub const TEMPLATE_TOO_LARGE: &str = "expediente_grande";

pub fn request(d: &mut Draft<'_>, c: &Command, who: &str, m: &Incoming<'_>) -> ViewResult<Done> {
    let Some(o) = d.order(&c.target)? else {
        return Ok(Err(format!("no existe la orden {}", c.target)));
    };
    let mut references = m.mail.references.clone();
    if let Some(mid) = &m.mail.message_id
        && !references.contains(mid)
    {
        references.push(mid.clone());
    }
    let id = format!("{}-expediente-{}", d.id_base, o.id);
    d.push(Effect::Dossier(DossierRequest { order: o.id.clone(), to: who.to_string(), id, references }));
    let n = o.documents.len() + o.money.payments.iter().map(|p| p.vouchers.len()).sum::<usize>();
    Ok(Ok(format!(
        "el expediente de la orden {} ({n} {}) le llega en otro correo",
        o.id,
        if n == 1 { "documento" } else { "documentos" }
    )))
}

/// What the pipeline made of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Made {
    /// The ZIP, with how many documents it carries and those it could not.
    Zip { bytes: Vec<u8>, documents: usize, not_kept: Vec<String> },
    /// Over the attachment limit (its size, or the documents' when it was
    /// not even built).
    TooLarge { bytes: u64, documents: usize },
    /// It could not be made (why, for the log): the staff member gets the
    /// command to make it on the server.
    Failed { why: String, documents: usize },
}

/// The ZIP's file name (what the staff member saves).
pub fn file_name(order: &str) -> String {
    format!("Expediente {order}.zip")
}

/// The mail answering `req` with what was made: the decision's effects
/// (the queued mail) and its outcome lines.
pub fn mail(
    desk: &Desk<'_>,
    view: &dyn View,
    req: &DossierRequest,
    made: Made,
    now: chrono::DateTime<chrono::Utc>,
) -> ViewResult<Decision> {
    let mut d = Draft::for_time(desk, view, now);
    d.id_base = req.id.clone();
    let Some(o) = view.order(&req.order)? else {
        d.note(format!("#expediente {}: the order is gone", req.order));
        return Ok(d.finish());
    };
    let s = desk.settings;
    let client = desk.directory.client(&o.client);
    let file = file_name(&o.id);
    let mut failed = false;
    let (template, size, documents, not_kept, files) = match made {
        Made::Zip { bytes, documents, not_kept } => {
            let size = bytes.len() as u64;
            let files = vec![Attached { name: file.clone(), content_type: "application/zip".into(), bytes }];
            (TEMPLATE, size, documents, not_kept, files)
        }
        Made::TooLarge { bytes, documents } => (TEMPLATE_TOO_LARGE, bytes, documents, Vec::new(), Vec::new()),
        Made::Failed { why, documents } => {
            d.note(format!("#expediente {}: the ZIP could not be made: {why}", o.id));
            failed = true;
            (TEMPLATE_TOO_LARGE, 0, documents, Vec::new(), Vec::new())
        }
    };
    let ctx = json!({
        "desk": desk_block(s),
        "client": client.map(|c| json!({"id": c.id, "name": c.name})).unwrap_or(json!({"id": o.client, "name": ""})),
        "order": {"id": o.id, "stage": o.stage},
        "dossier": {
            "documents": documents,
            "size": super::super::size_words(size),
            "limit": super::super::size_words(s.max_attachment_bytes),
            "file": file,
            "not_kept": not_kept,
            "command": format!("buzon orders export {} --zip \"{file}\"", o.id),
            "failed": failed,
        },
        "lang": "es",
    });
    let letter = Letter {
        template,
        to: vec![req.to.clone()],
        ctx: &ctx,
        threading: Threading::Notice { references: &req.references },
        order: Some(&o.id),
        id: Some(req.id.clone()),
    };
    d.send_with(letter, &files);
    Ok(d.finish())
}
