//! `#archivar OC-… [forzar]` and `#cerrar OC-… [forzar]`: the order is
//! archived (closed, at the last stage) or closed (at its stage) when its
//! file is complete by its regime's closing list; else the command lists
//! what is missing and refuses. `forzar` goes ahead anyway and records,
//! staff-only, who forced it, what was missing and the reason written after
//! it (`#archivar OC-… forzar el cliente enviará el volante`).

use super::super::closing::{archive_stage, falta, forced_entry, missing, names, refusal};
use super::super::draft::Draft;
use super::super::model::HistoryEntry;
use super::super::view::ViewResult;
use super::{Command, Done, entry};
use crate::text::fold;

/// `#archivar` (`archive`: to the last stage) or `#cerrar` (at its stage).
pub fn archive(d: &mut Draft<'_>, c: &Command, who: &str, archive: bool) -> ViewResult<Done> {
    let verb = if archive { "archivar" } else { "cerrar" };
    let rules = &d.desk.rules.desk;
    let Some(mut o) = d.order(&c.target)? else {
        return Ok(Err(format!("no existe la orden {}", c.target)));
    };
    // `forzar`, then (optionally) why, in the staff member's words.
    let mut words = c.rest.split_whitespace();
    let forced = match words.next() {
        None => false,
        Some(w)
            if matches!(fold(w).trim_matches(|ch: char| !ch.is_alphanumeric()), "forzar" | "forzado" | "forzada") =>
        {
            true
        }
        Some(w) => {
            let hint = super::super::suggest::did_you_mean(w, &["forzar"]);
            return Ok(Err(format!(
                "no entiendo «{w}».{hint} Escriba «#{verb} {}» o, con el expediente incompleto, «#{verb} {} forzar [motivo]»",
                o.id, o.id
            )));
        }
    };
    let why = words.collect::<Vec<_>>().join(" ");
    let lacking = missing(rules, &o);
    if !lacking.is_empty() && !forced {
        return Ok(Err(refusal(&o.id, &lacking, verb)));
    }
    o.closed = true;
    if archive {
        o.stage = archive_stage(rules);
    }
    o.history.push(entry(d, who, format!("Comando #{verb} {}", c.rest).trim().to_string()));
    let done = if archive { "archivada" } else { "cerrada" };
    let msg = if lacking.is_empty() {
        format!("orden {} {done} con el expediente completo", o.id)
    } else {
        let mut line = forced_entry(&lacking, who, if archive { "Archivada" } else { "Cerrada" });
        if !why.is_empty() {
            line.push_str(&format!(". Motivo: {why}"));
        }
        o.history.push(HistoryEntry::internal(d.now, line));
        format!(
            "orden {} {done} con el expediente incompleto ({} {}); queda registrado que usted lo forzó",
            o.id,
            falta(&lacking, true),
            names(&lacking)
        )
    };
    o.updated_at = d.now;
    d.save_order(o);
    Ok(Ok(msg))
}
