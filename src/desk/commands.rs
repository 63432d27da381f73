//! Staff commands by email: a `#command` on a line of the new text, from a
//! staff address (the rules give `interno` only to staff; DMARC must not
//! have failed). Each command is answered with a confirmation or a clear
//! error, and recorded in the history of what it changed.
//!
//! ```text
//! #estado OC-2026-000123 numerada dam=118-2026-10-012345
//! #eta OC-2026-000123 15/12/2026          #nave OC-2026-000123 MSC LORETO 611W
//! #regimen OC-2026-000123 40              #cerrar OC-2026-000123   #archivar OC-2026-000123
//! #resuelto R-000045 Se coordinó con la naviera y asumimos la sobreestadía
//! #hecho T-000101                        #revisado OC-2026-000123
//! ```

use super::model::Event;
use super::{Effect, Work};
use crate::store::StoreError;
use crate::text::fold;

/// One parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub verb: String,
    pub target: String,
    pub rest: String,
}

/// The command lines of a text (`#verb TARGET rest…`).
pub fn parse(text: &str) -> Vec<Command> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        let Some(body) = line.strip_prefix('#') else { continue };
        let mut parts = body.splitn(3, char::is_whitespace);
        let verb = fold(parts.next().unwrap_or(""));
        if verb.is_empty() || !verb.chars().all(|c| c.is_ascii_alphabetic()) {
            continue;
        }
        let target = parts.next().unwrap_or("").trim().to_ascii_uppercase();
        let rest = parts.next().unwrap_or("").trim().to_string();
        out.push(Command { verb, target, rest });
    }
    out
}

impl Work<'_, '_> {
    /// The last version of a record saved by this decision so far (several
    /// commands may touch one record), else `None`.
    fn saved<T: Clone>(&self, pick: impl Fn(&Effect) -> Option<&T>) -> Option<T> {
        self.out.effects.iter().rev().find_map(|e| pick(e).cloned())
    }

    fn pending_order(&self, id: &str) -> Result<Option<super::model::Order>, StoreError> {
        let saved = self.saved(|e| match e {
            Effect::SaveOrder(o) if o.id == id => Some(o),
            _ => None,
        });
        saved.map_or_else(|| self.view.order(id), |o| Ok(Some(o)))
    }

    fn pending_reclamo(&self, id: &str) -> Result<Option<super::model::Reclamo>, StoreError> {
        let saved = self.saved(|e| match e {
            Effect::SaveReclamo(r) if r.id == id => Some(r),
            _ => None,
        });
        saved.map_or_else(|| self.view.reclamo(id), |r| Ok(Some(r)))
    }

    fn pending_task(&self, id: &str) -> Result<Option<super::model::Task>, StoreError> {
        let saved = self.saved(|e| match e {
            Effect::SaveTask(t) if t.id == id => Some(t),
            _ => None,
        });
        saved.map_or_else(|| self.view.task(id), |t| Ok(Some(t)))
    }

    /// Apply every command of the mail; returns one result line per command.
    pub(super) fn commands(&mut self) -> Result<Vec<String>, StoreError> {
        let who = self.from().to_string();
        let mut results = Vec::new();
        for c in parse(&self.mail.new_text) {
            let r = self.apply(&c, &who)?;
            results.push(match r {
                Ok(msg) => format!("OK: {msg}"),
                Err(msg) => format!("Error en «#{} {}»: {msg}", c.verb, c.target),
            });
        }
        Ok(results)
    }

    fn apply(&mut self, c: &Command, who: &str) -> Result<Result<String, String>, StoreError> {
        let now = self.now;
        let event = |what: String| Event { at: now, what: format!("{what} (por {who})") };
        match c.verb.as_str() {
            "resuelto" => {
                let Some(mut r) = self.pending_reclamo(&c.target)? else {
                    return Ok(Err(format!("no existe el reclamo {}", c.target)));
                };
                if r.state == "resuelto" {
                    return Ok(Err(format!("el reclamo {} ya estaba resuelto", r.id)));
                }
                if c.rest.is_empty() {
                    return Ok(Err("falta la resolución: #resuelto R-000045 <qué se hizo>".into()));
                }
                r.state = "resuelto".into();
                r.resolution = Some(c.rest.clone());
                r.history.push(event(format!("Resuelto: {}", c.rest)));
                let id = r.id.clone();
                self.out.effects.push(Effect::SaveReclamo(r));
                Ok(Ok(format!("reclamo {id} resuelto")))
            }
            "hecho" => {
                let Some(mut t) = self.pending_task(&c.target)? else {
                    return Ok(Err(format!("no existe la tarea {}", c.target)));
                };
                t.state = "hecha".into();
                let id = t.id.clone();
                self.out.effects.push(Effect::SaveTask(t));
                Ok(Ok(format!("tarea {id} hecha")))
            }
            "estado" | "etapa" | "eta" | "nave" | "regimen" | "cerrar" | "archivar" | "reabrir" | "revisado" => {
                let Some(mut o) = self.pending_order(&c.target)? else {
                    return Ok(Err(format!("no existe la orden {}", c.target)));
                };
                let msg = match c.verb.as_str() {
                    "estado" | "etapa" => {
                        let stages = &self.desk.rules.desk.stages;
                        let rest = fold(&c.rest);
                        let Some(stage) = stages.iter().filter(|s| rest.starts_with(&fold(s))).max_by_key(|s| s.len())
                        else {
                            return Ok(Err(format!("etapa desconocida; use una de: {}", stages.join(", "))));
                        };
                        let extra = c.rest.get(stage.len()..).unwrap_or("").trim().to_string();
                        for kv in extra.split_whitespace() {
                            match kv.split_once('=') {
                                Some(("dam", v)) => {
                                    let refs = crate::refs::extract(&format!("DAM {v}"));
                                    let Some(d) = refs.get("dam").and_then(|s| s.iter().next()) else {
                                        return Ok(Err(format!("DAM inválida: {v}")));
                                    };
                                    o.references.entry("dam".into()).or_default().insert(d.clone());
                                }
                                Some(("canal", v)) => o.history.push(event(format!("Canal {v}"))),
                                Some(("eta", v)) => o.eta = Some(v.to_string()),
                                _ => return Ok(Err(format!("no entiendo «{kv}» (use dam=, canal=, eta=)"))),
                            }
                        }
                        o.stage = stage.clone();
                        if o.stage == stages.last().cloned().unwrap_or_default() {
                            o.closed = true;
                        }
                        format!("orden {} en etapa «{stage}»", o.id)
                    }
                    "eta" => {
                        if super::parse_dmy(&c.rest).is_none() {
                            return Ok(Err(format!("fecha inválida «{}» (dd/mm/aaaa)", c.rest)));
                        }
                        o.eta = Some(c.rest.clone());
                        format!("orden {} con ETA {}", o.id, c.rest)
                    }
                    "nave" => {
                        if c.rest.is_empty() {
                            return Ok(Err("falta el nombre de la nave".into()));
                        }
                        o.vessel = Some(c.rest.clone());
                        format!("orden {} con nave {}", o.id, c.rest)
                    }
                    "regimen" => {
                        let code = c.rest.trim().to_string();
                        if self.desk.rules.desk.checklist(&code).is_none() {
                            let known: Vec<&str> =
                                self.desk.rules.desk.checklists.iter().map(|c| c.regime.as_str()).collect();
                            return Ok(Err(format!("régimen desconocido «{code}»; use uno de: {}", known.join(", "))));
                        }
                        o.regime = code;
                        o.missing = self.missing(&o.regime, &o.documents);
                        format!("orden {} con régimen {}", o.id, o.regime)
                    }
                    "reabrir" => {
                        o.closed = false;
                        format!("orden {} reabierta", o.id)
                    }
                    "revisado" => {
                        o.review_due = None;
                        format!("documentos de la orden {} revisados", o.id)
                    }
                    _ => {
                        o.closed = true;
                        if c.verb == "archivar" {
                            o.stage = self.desk.rules.desk.stages.last().cloned().unwrap_or_else(|| "archivada".into());
                        }
                        format!("orden {} cerrada", o.id)
                    }
                };
                o.history.push(event(format!("Comando #{} {}", c.verb, c.rest).trim().to_string()));
                o.updated_at = now;
                self.out.effects.push(Effect::SaveOrder(o));
                Ok(Ok(msg))
            }
            other => Ok(Err(format!(
                "comando desconocido #{other}; use #estado, #eta, #nave, #regimen, #cerrar, #archivar, #reabrir, #revisado, #resuelto o #hecho"
            ))),
        }
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
