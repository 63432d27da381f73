//! Staff commands by email (`interno`): a `#command` on a line of the new
//! text, from a staff address whose DMARC did not fail. Each command is
//! answered with a confirmation or a clear error, and recorded in the
//! history of what it changed.
//!
//! ```text
//! #estado OC-2026-000123 numerada dam=118-2026-10-012345
//! #eta OC-2026-000123 15/12/2026          #nave OC-2026-000123 MSC LORETO 611W
//! #regimen OC-2026-000123 40              #cerrar OC-2026-000123   #archivar OC-2026-000123
//! #vence OC-2026-000123 30/06/2027        (the regime's term ends: reminders before it)
//! #resuelto R-000045 Se coordinó con la naviera y asumimos la sobreestadía
//! #hecho T-000101                        #revisado OC-2026-000123
//! #fusionar OC-2026-000123 OC-2026-000130   (the second is merged into the first)
//! #mover OC-2026-000123 factura.pdf OC-2026-000130   (a document, by name or SHA-256 prefix)
//! #asignar T-000101 OC-2026-000123        #asignar T-000101 andestextil   (a triaged mail)
//! ```
//!
//! Adding a command: a verb in [`VERBS`], a branch in `apply`, and its
//! function in the file of what it changes (`orders.rs`, `fixes.rs`, …).

mod fixes;
mod orders;

use serde_json::json;

use super::Incoming;
use super::context::mail_context;
use super::draft::Draft;
use super::model::{HistoryEntry, ReclamoState, TaskState};
use super::reply::{Letter, Threading};
use super::view::ViewResult;
use crate::clients::Sender;
pub use crate::command_line::{Command, VERBS, parse};

/// What one command did: a confirmation, or why it was not done.
pub(super) type Done = Result<String, String>;

/// A history line of a command, with who gave it: staff-only.
pub(super) fn entry(d: &Draft<'_>, who: &str, what: String) -> HistoryEntry {
    HistoryEntry::internal(d.now, format!("{what} (por {who})"))
}

pub fn handle(d: &mut Draft<'_>, m: &Incoming<'_>) -> ViewResult<()> {
    if !matches!(m.sender, Sender::Staff) || m.mail.dmarc_failed() {
        d.note(format!("staff command refused: {} is not a verified staff address", m.from()));
        return Ok(());
    }
    let who = m.from().to_string();
    let mut results = Vec::new();
    // Only what the staff member wrote above any quoted or forwarded part:
    // a client's `#cerrar` inside a quote is never obeyed.
    for c in parse(&m.mail.command_text) {
        let line = match apply(d, &c, &who)? {
            Ok(msg) => format!("OK: {msg}"),
            Err(msg) => format!("Error en «#{} {}»: {msg}", c.verb, super::context::excerpt(&c.target, 40)),
        };
        results.push(line);
    }
    for r in &results {
        d.note(r.clone());
    }
    if !results.is_empty() && !m.mail.is_auto() {
        let mut ctx = mail_context(d.desk.settings, m, None, d.now);
        ctx["results"] = json!(results);
        let letter = Letter {
            template: "confirmacion_comando",
            to: vec![who],
            ctx: &ctx,
            threading: Threading::Reply(m),
            order: None,
            id: None,
        };
        d.send(letter);
    }
    Ok(())
}

/// What one command line may hold at most (a resolution is short prose).
const MAX_LINE: usize = 1000;

fn apply(d: &mut Draft<'_>, c: &Command, who: &str) -> ViewResult<Done> {
    if c.rest.chars().count() > MAX_LINE || c.target.chars().count() > 40 {
        return Ok(Err(format!("la línea es demasiado larga (hasta {MAX_LINE} caracteres)")));
    }
    match c.verb.as_str() {
        "resuelto" => resolve(d, c, who),
        "hecho" => done(d, c),
        "estado" | "etapa" | "eta" | "nave" | "regimen" | "vence" | "cerrar" | "archivar" | "reabrir" | "revisado" => {
            orders::apply(d, c, who)
        }
        "fusionar" => fixes::merge(d, c, who),
        "mover" => fixes::move_document(d, c, who),
        "asignar" => fixes::assign(d, c, who),
        other => Ok(Err(format!("comando desconocido #{other}; use uno de: #{}", VERBS.join(", #")))),
    }
}

/// `#resuelto R-… <resolución>`.
fn resolve(d: &mut Draft<'_>, c: &Command, who: &str) -> ViewResult<Done> {
    let Some(mut r) = d.reclamo(&c.target)? else {
        return Ok(Err(format!("no existe el reclamo {}", c.target)));
    };
    if r.state == ReclamoState::Resuelto {
        return Ok(Err(format!("el reclamo {} ya estaba resuelto", r.id)));
    }
    if c.rest.is_empty() {
        return Ok(Err("falta la resolución: #resuelto R-000045 <qué se hizo>".into()));
    }
    r.state = ReclamoState::Resuelto;
    r.resolution = Some(c.rest.clone());
    r.history.push(entry(d, who, format!("Resuelto: {}", c.rest)));
    let id = r.id.clone();
    d.save_reclamo(r);
    Ok(Ok(format!("reclamo {id} resuelto")))
}

/// `#hecho T-…`.
fn done(d: &mut Draft<'_>, c: &Command) -> ViewResult<Done> {
    let Some(mut t) = d.task(&c.target)? else {
        return Ok(Err(format!("no existe la tarea {}", c.target)));
    };
    t.state = TaskState::Hecha;
    let id = t.id.clone();
    d.save_task(t);
    Ok(Ok(format!("tarea {id} hecha")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_command_lines_only() {
        let c = parse("Hola\n#estado oc-2026-000123 numerada dam=118-2026-10-012345\n#hecho T-000101\n# no\n");
        assert_eq!(c.len(), 2);
        assert_eq!(
            c[0],
            Command {
                verb: "estado".into(),
                target: "OC-2026-000123".into(),
                rest: "numerada dam=118-2026-10-012345".into()
            }
        );
        assert_eq!(c[1].verb, "hecho");
    }
}
