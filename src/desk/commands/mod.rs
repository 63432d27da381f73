//! Staff commands by email (`interno`): a `#command` on a line of the new
//! text, from a staff address whose DMARC did not fail. Each command is
//! answered with a confirmation or a clear error (with the value meant,
//! when a typo is near one), recorded in the history of what it changed,
//! and can be undone: `#deshacer` in a reply to the confirmation puts back
//! what the commands of that mail changed.
//!
//! ```text
//! #estado OC-2026-000123 numerada dam=118-2026-10-012345
//! #eta OC-2026-000123 15/12/2026          #nave OC-2026-000123 MSC LORETO 611W
//! #regimen OC-2026-000123 40              #cerrar OC-2026-000123   #archivar OC-2026-000123 [forzar]
//! #vence OC-2026-000123 30/06/2027        (the regime's term ends: reminders before it)
//! #resuelto R-000045 Se coordinó con la naviera cliente: Asumimos la sobreestadía.
//! #noesreclamo R-000045 era una consulta  #reabrir OC-…|R-…|T-…
//! #hecho T-000101                        #revisado OC-2026-000123
//! #fusionar OC-2026-000123 OC-2026-000130   (the second is merged into the first)
//! #mover OC-2026-000123 factura.pdf OC-2026-000130   (a document, by name or SHA-256 prefix)
//! #asignar T-000101 OC-2026-000123        #asignar T-000101 andestextil   (a triaged mail)
//! #liquidacion OC-2026-000123 monto=1234.50 moneda=PEN vence=15/12/2026   (with its PDF)
//! #pagar OC-2026-000123 concepto=almacenaje monto=850 moneda=PEN beneficiario=Neptunia S.A.
//! #liberar OC-2026-000123                (its held payment requests go)
//! #previo OC-2026-000123 [deposito=dp-callao-1] [fecha=03/12/2026]   (requests to counterparts)
//! #retiro OC-2026-000123 fecha=04/12/2026 [transporte=…]   #llegada OC-…   #bl OC-… [naviera=…]
//! #volante OC-2026-000123 [deposito=…]
//! #expediente OC-2026-000123             (the file for liquidation, a ZIP, to whoever asked)
//! #deshacer                              (in a reply to a confirmation)
//! ```
//!
//! Adding a command: a verb in [`VERBS`], a branch in `apply`, and its
//! function in the file of what it changes (`orders.rs`, `fixes.rs`,
//! `reclamos.rs`, `tasks.rs`, …).

mod closing;
pub mod dossier;
mod fixes;
mod money;
mod orders;
mod reclamos;
pub(crate) mod requests;
mod tasks;
mod undo;

use serde_json::json;

use super::Incoming;
use super::context::mail_context;
use super::draft::Draft;
use super::model::HistoryEntry;
use super::reply::{Letter, Threading};
use super::view::ViewResult;
use crate::clients::Sender;
pub use crate::command_line::{Command, VERBS, parse};
pub use money::{TASK_KIND as LIQUIDATION_TASK, amount, amount_words};

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
    let watch = undo::Watch::start(d);
    // Only what the staff member wrote above any quoted or forwarded part:
    // a client's `#cerrar` inside a quote is never obeyed.
    for c in parse(&m.mail.command_text) {
        let done = apply(d, &c, &who, m)?;
        // Work on an order out of hours or out of the client's scope is an
        // extraordinary service (glosa 10110).
        if done.is_ok() && c.target.starts_with(&format!("{}-", d.desk.settings.order_prefix)) {
            let written = super::history::written_at(m.mail.date.as_deref(), d.now);
            super::extras::after_command(d, &c.verb, &c.target, &who, written)?;
        }
        let line = match done {
            Ok(msg) => format!("OK: {msg}"),
            Err(msg) => format!("Error en «#{} {}»: {msg}", c.verb, super::context::excerpt(&c.target, 40)),
        };
        results.push(line);
    }
    for r in &results {
        d.note(r.clone());
    }
    if !results.is_empty() && !m.mail.is_auto() {
        let changes = watch.finish(d)?;
        let mut ctx = mail_context(d.desk.settings, m, None, d.now);
        ctx["results"] = json!(results);
        ctx["undo"] = json!(changes.is_some());
        let letter = Letter {
            template: "confirmacion_comando",
            to: vec![who.clone()],
            ctx: &ctx,
            threading: Threading::Reply(m),
            order: None,
            id: None,
        };
        if let Some(sent) = d.send(letter)
            && let Some(changes) = changes
        {
            undo::keep(d, &sent, &who, results, changes);
        }
    }
    Ok(())
}

/// What one command line may hold at most (a resolution is short prose).
const MAX_LINE: usize = 1000;

fn apply(d: &mut Draft<'_>, c: &Command, who: &str, m: &Incoming<'_>) -> ViewResult<Done> {
    if c.rest.chars().count() > MAX_LINE || c.target.chars().count() > 40 {
        return Ok(Err(format!("la línea es demasiado larga (hasta {MAX_LINE} caracteres)")));
    }
    match c.verb.as_str() {
        "resuelto" => reclamos::resolve(d, c, who),
        "noesreclamo" => reclamos::not_a_reclamo(d, c, who),
        "reabrir" if c.target.starts_with("R-") => reclamos::reopen(d, c, who),
        "reabrir" if c.target.starts_with("T-") => tasks::reopen(d, c, who),
        "hecho" => tasks::done(d, c, who),
        "deshacer" => undo::undo(d, m, who),
        "archivar" => closing::archive(d, c, who, true),
        "cerrar" => closing::archive(d, c, who, false),
        "estado" | "etapa" | "eta" | "nave" | "regimen" | "vence" | "reabrir" | "revisado" => orders::apply(d, c, who),
        "liquidacion" => money::liquidation(d, c, who, m),
        "pagar" => money::pay(d, c, who),
        "liberar" => money::release(d, c, who),
        "expediente" => dossier::request(d, c, who, m),
        "fusionar" => fixes::merge(d, c, who),
        "mover" => fixes::move_document(d, c, who),
        "asignar" => fixes::assign(d, c, who),
        "previo" | "retiro" | "llegada" | "bl" | "volante" => requests::apply(d, c, who),
        other => Ok(Err(format!(
            "comando desconocido #{other};{} use uno de: #{}",
            super::suggest::did_you_mean(other, VERBS).replace("«", "«#"),
            VERBS.join(", #")
        ))),
    }
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
