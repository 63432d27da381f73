//! Staff commands by email: a `#command` on a line of the new text, from a
//! staff address (the rules give `interno` only to staff; DMARC must not
//! have failed). Each command is answered with a confirmation or a clear
//! error, and recorded in the history of what it changed.
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
            "estado" | "etapa" | "eta" | "nave" | "regimen" | "vence" | "cerrar" | "archivar" | "reabrir"
            | "revisado" => {
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
                    "vence" => {
                        let Some(day) = super::parse_dmy(&c.rest) else {
                            return Ok(Err(format!("fecha inválida «{}» (dd/mm/aaaa)", c.rest)));
                        };
                        let cal = &self.desk.settings.calendar;
                        let due = cal.at_local(day, cal.day_end);
                        o.regime_expires = Some(due);
                        // The reminders come from the task (days before per alert kind in rules/).
                        let summary =
                            format!("Vence el régimen {} de la orden {} el {}", o.regime, o.id, day.format("%d/%m/%Y"));
                        let (client, id) = (o.client.clone(), o.id.clone());
                        let task =
                            self.task("alerta_vencimiento_regimen", Some(&client), Some(&id), Some(due), summary)?;
                        format!(
                            "orden {} con vencimiento de régimen el {} (tarea {task})",
                            o.id,
                            day.format("%d/%m/%Y")
                        )
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
            "fusionar" => self.merge(c, &event),
            "mover" => self.move_document(c, &event),
            "asignar" => self.assign(c, &event),
            other => Ok(Err(format!(
                "comando desconocido #{other}; use #estado, #eta, #nave, #regimen, #vence, #cerrar, #archivar, #reabrir, #revisado, #resuelto, #hecho, #fusionar, #mover o #asignar"
            ))),
        }
    }
}

type Outcome = Result<Result<String, String>, StoreError>;

impl Work<'_, '_> {
    /// `#fusionar OC-A OC-B`: B's documents, references and thread go to A;
    /// B is closed with a pointer to A. Both must be of one client.
    fn merge(&mut self, c: &Command, event: &dyn Fn(String) -> Event) -> Outcome {
        let other = c.rest.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
        if other.is_empty() || other == c.target {
            return Ok(Err("indique dos órdenes distintas: #fusionar OC-A OC-B".into()));
        }
        let (Some(mut a), Some(mut b)) = (self.pending_order(&c.target)?, self.pending_order(&other)?) else {
            return Ok(Err(format!("no existe la orden {} o {other}", c.target)));
        };
        if a.client != b.client {
            return Ok(Err(format!("{} y {} son de clientes distintos", a.id, b.id)));
        }
        for d in std::mem::take(&mut b.documents) {
            if !a.documents.iter().any(|x| x.sha256 == d.sha256) {
                a.documents.push(d);
            }
        }
        for (kind, values) in &b.references {
            a.references.entry(kind.clone()).or_default().extend(values.iter().cloned());
        }
        for mid in &b.message_ids {
            if !a.message_ids.contains(mid) {
                a.message_ids.push(mid.clone());
            }
            self.out.effects.push(Effect::LinkThread {
                message_id: mid.clone(),
                link: super::model::ThreadLink { order: Some(a.id.clone()), reclamo: None },
            });
        }
        a.eta = a.eta.take().or(b.eta.take());
        a.vessel = a.vessel.take().or(b.vessel.take());
        a.missing = self.missing(&a.regime, &a.documents);
        a.history.push(event(format!("Fusionada con {}", b.id)));
        a.updated_at = self.now;
        b.missing.clear();
        b.closed = true;
        b.history.push(event(format!("Fusionada en {}", a.id)));
        b.updated_at = self.now;
        let msg = format!("orden {} fusionada en {}", b.id, a.id);
        self.out.effects.push(Effect::SaveOrder(b));
        self.out.effects.push(Effect::SaveOrder(a));
        Ok(Ok(msg))
    }

    /// `#mover OC-A <documento> OC-B`: the document (file name or a SHA-256
    /// prefix of at least 8) leaves A for B, of the same client.
    fn move_document(&mut self, c: &Command, event: &dyn Fn(String) -> Event) -> Outcome {
        let Some((doc, to)) = c.rest.trim().rsplit_once(char::is_whitespace) else {
            return Ok(Err("use #mover OC-A <documento> OC-B".into()));
        };
        let (doc, to) = (doc.trim(), to.trim().to_ascii_uppercase());
        let (Some(mut a), Some(mut b)) = (self.pending_order(&c.target)?, self.pending_order(&to)?) else {
            return Ok(Err(format!("no existe la orden {} o {to}", c.target)));
        };
        if a.id == b.id || a.client != b.client {
            return Ok(Err("las órdenes deben ser distintas y del mismo cliente".into()));
        }
        let lower = doc.to_lowercase();
        let found = a
            .documents
            .iter()
            .position(|d| d.name.to_lowercase() == lower || (lower.len() >= 8 && d.sha256.starts_with(lower.as_str())));
        let Some(i) = found else {
            let names: Vec<&str> = a.documents.iter().map(|d| d.name.as_str()).collect();
            return Ok(Err(format!("{} no tiene el documento «{doc}» (tiene: {})", a.id, names.join(", "))));
        };
        let d = a.documents.remove(i);
        let name = d.name.clone();
        if !b.documents.iter().any(|x| x.sha256 == d.sha256) {
            b.documents.push(d);
        }
        a.missing = self.missing(&a.regime, &a.documents);
        b.missing = self.missing(&b.regime, &b.documents);
        a.history.push(event(format!("Documento {name} movido a {}", b.id)));
        b.history.push(event(format!("Documento {name} recibido de {}", a.id)));
        a.updated_at = self.now;
        b.updated_at = self.now;
        let msg = format!("documento {name} movido de {} a {}", a.id, b.id);
        self.out.effects.push(Effect::SaveOrder(a));
        self.out.effects.push(Effect::SaveOrder(b));
        Ok(Ok(msg))
    }

    /// `#asignar T-… OC-…` or `#asignar T-… <cliente>`: the mail of a task
    /// (one that went to triage) belongs to that order or client; later
    /// replies in its thread follow. The task is done.
    fn assign(&mut self, c: &Command, event: &dyn Fn(String) -> Event) -> Outcome {
        let Some(mut t) = self.pending_task(&c.target)? else {
            return Ok(Err(format!("no existe la tarea {}", c.target)));
        };
        let dest = c.rest.split_whitespace().next().unwrap_or("");
        if dest.is_empty() {
            return Ok(Err("use #asignar T-000101 OC-2026-000123 o #asignar T-000101 <id de cliente>".into()));
        }
        let msg = if let Some(mut o) = self.pending_order(&dest.to_ascii_uppercase())? {
            if let Some(mid) = &t.message_id {
                if !o.message_ids.contains(mid) {
                    o.message_ids.push(mid.clone());
                }
                self.out.effects.push(Effect::LinkThread {
                    message_id: mid.clone(),
                    link: super::model::ThreadLink { order: Some(o.id.clone()), reclamo: None },
                });
            }
            o.history.push(event(format!("Correo de la tarea {} asignado a la orden", t.id)));
            o.updated_at = self.now;
            t.order = Some(o.id.clone());
            t.client = Some(o.client.clone());
            let msg = format!("tarea {} asignada a la orden {}", t.id, o.id);
            self.out.effects.push(Effect::SaveOrder(o));
            msg
        } else if let Some(client) = self.desk.directory.client(&dest.to_ascii_lowercase()) {
            t.client = Some(client.id.clone());
            t.assignee = client.assistant.clone();
            format!("tarea {} asignada al cliente {}", t.id, client.name)
        } else {
            return Ok(Err(format!("«{dest}» no es una orden ni un cliente conocido")));
        };
        t.state = "hecha".into();
        self.out.effects.push(Effect::SaveTask(t));
        Ok(Ok(msg))
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
