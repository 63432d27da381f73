//! `#archivar OC-… [forzar]`: the order is archived (closed, at the last
//! stage) when its file is complete by its regime's closing list; else the
//! command lists what is missing and refuses. `forzar` archives anyway and
//! records, staff-only, who forced it, what was missing and the reason
//! written after it (`#archivar OC-… forzar el cliente enviará el volante`).

use super::super::closing::{archive_stage, falta, forced_entry, missing, names, refusal};
use super::super::draft::Draft;
use super::super::model::HistoryEntry;
use super::super::view::ViewResult;
use super::{Command, Done, entry};
use crate::text::fold;

pub fn archive(d: &mut Draft<'_>, c: &Command, who: &str) -> ViewResult<Done> {
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
                "no entiendo «{w}».{hint} Escriba «#archivar {}» o, con el expediente incompleto, «#archivar {} forzar [motivo]»",
                o.id, o.id
            )));
        }
    };
    let why = words.collect::<Vec<_>>().join(" ");
    let lacking = missing(rules, &o);
    if !lacking.is_empty() && !forced {
        return Ok(Err(refusal(&o.id, &lacking)));
    }
    o.closed = true;
    o.stage = archive_stage(rules);
    o.history.push(entry(d, who, format!("Comando #archivar {}", c.rest).trim().to_string()));
    let msg = if lacking.is_empty() {
        format!("orden {} archivada con el expediente completo", o.id)
    } else {
        let mut line = forced_entry(&lacking, who);
        if !why.is_empty() {
            line.push_str(&format!(". Motivo: {why}"));
        }
        o.history.push(HistoryEntry::internal(d.now, line));
        format!(
            "orden {} archivada con el expediente incompleto ({} {}); queda registrado que usted lo forzó",
            o.id,
            falta(&lacking, true),
            names(&lacking)
        )
    };
    o.updated_at = d.now;
    d.save_order(o);
    Ok(Ok(msg))
}
