//! Commands on one order: stage, ETA, vessel, regime, regime expiry,
//! close/archive/reopen, documents reviewed.

use super::super::context::{dmy, first_date};
use super::super::documents::missing;
use super::super::draft::Draft;
use super::super::model::HistoryEntry;
use super::super::view::ViewResult;
use super::{Command, Done, entry};
use crate::text::fold;

/// Customs channels (`#estado OC-… canal asignado canal=rojo`).
const CHANNELS: &[&str] = &["verde", "naranja", "rojo"];
/// A vessel's name and voyage, at most.
const MAX_VESSEL: usize = 60;

pub fn apply(d: &mut Draft<'_>, c: &Command, who: &str) -> ViewResult<Done> {
    let desk = d.desk;
    let rules = &desk.rules.desk;
    let today = desk.settings.calendar.local_date(d.now);
    let Some(mut o) = d.order(&c.target)? else {
        return Ok(Err(format!("no existe la orden {}", c.target)));
    };
    let msg = match c.verb.as_str() {
        "estado" | "etapa" => {
            let stages = &rules.stages;
            let rest = fold(&c.rest);
            let Some(stage) = stages.iter().filter(|s| rest.starts_with(&fold(s))).max_by_key(|s| s.len()) else {
                // What was typed for the stage: the words before any `clave=valor`.
                let typed: Vec<&str> = c.rest.split_whitespace().take_while(|w| !w.contains('=')).collect();
                let names: Vec<&str> = stages.iter().map(String::as_str).collect();
                let hint = super::super::suggest::did_you_mean(&typed.join(" "), &names);
                return Ok(Err(format!(
                    "etapa desconocida «{}».{hint} Use una de: {}",
                    typed.join(" "),
                    stages.join(", ")
                )));
            };
            let extra = c.rest.get(stage.len()..).unwrap_or("").trim().to_string();
            for kv in extra.split_whitespace() {
                match kv.split_once('=') {
                    Some(("dam", v)) => {
                        let refs = crate::refs::extract(&format!("DAM {v}"));
                        let Some(dam) = refs.get("dam").and_then(|s| s.iter().next()) else {
                            return Ok(Err(format!("DAM inválida: {v}")));
                        };
                        o.references.entry("dam".into()).or_default().insert(dam.clone());
                    }
                    Some(("canal", v)) => {
                        let canal = fold(v);
                        if !CHANNELS.contains(&canal.as_str()) {
                            let hint = super::super::suggest::did_you_mean(v, CHANNELS);
                            return Ok(Err(format!(
                                "canal «{v}» desconocido.{hint} Use canal=verde, canal=naranja o canal=rojo"
                            )));
                        }
                        o.history.push(HistoryEntry::public(d.now, format!("Canal {canal}")));
                        o.follow.channel = Some(canal);
                    }
                    Some(("eta", v)) => {
                        let Some(day) = crate::dates::parse_date_on(v, today) else {
                            return Ok(Err(format!("fecha inválida «{v}» (dd/mm/aaaa)")));
                        };
                        o.eta = Some(dmy(day));
                        o.follow.eta_time = None;
                    }
                    _ => {
                        let key = kv.split('=').next().unwrap_or(kv);
                        let hint = super::super::suggest::did_you_mean(key, &["dam", "canal", "eta"]);
                        return Ok(Err(format!("no entiendo «{kv}».{hint} Use dam=, canal=, eta=")));
                    }
                }
            }
            if Some(stage) == stages.last() {
                // The archive state goes through the closing list, as `#archivar`.
                let lacking = super::super::closing::missing(rules, &o);
                if !lacking.is_empty() {
                    return Ok(Err(super::super::closing::refusal(&o.id, &lacking, "archivar")));
                }
                o.closed = true;
            }
            o.stage = stage.clone();
            format!("orden {} en etapa «{stage}»", o.id)
        }
        "eta" => {
            // Only the date is data: whatever else the line says stays in
            // the (internal) history with the command.
            let Some(day) = first_date(&c.rest, today) else {
                return Ok(Err(format!("fecha inválida «{}» (dd/mm/aaaa)", c.rest)));
            };
            let eta = dmy(day);
            let msg = format!("orden {} con ETA {eta}", o.id);
            o.eta = Some(eta);
            o.follow.eta_time = None;
            msg
        }
        "nave" => {
            let name = c.rest.trim();
            if name.is_empty() {
                return Ok(Err("falta el nombre de la nave".into()));
            }
            if name.chars().count() > MAX_VESSEL
                || !name.chars().all(|ch| ch.is_alphanumeric() || matches!(ch, ' ' | '.' | '-' | '/' | '\''))
            {
                return Ok(Err(format!(
                    "el nombre de la nave debe tener hasta {MAX_VESSEL} letras, números, espacios y . - / (p. ej. MSC LORETO 611W)"
                )));
            }
            o.vessel = Some(name.to_string());
            format!("orden {} con nave {name}", o.id)
        }
        "regimen" => {
            let code = c.rest.trim().to_string();
            if rules.checklist(&code).is_none() {
                let known: Vec<&str> = rules.checklists.iter().map(|c| c.regime.as_str()).collect();
                return Ok(Err(format!("régimen desconocido «{code}»; use uno de: {}", known.join(", "))));
            }
            o.regime = code;
            o.missing = missing(rules, &o.regime, &o.documents);
            format!("orden {} con régimen {}", o.id, o.regime)
        }
        "vence" => {
            let Some(day) = first_date(&c.rest, today) else {
                return Ok(Err(format!("fecha inválida «{}» (dd/mm/aaaa)", c.rest)));
            };
            let cal = &desk.settings.calendar;
            let due = cal.at_local(day, cal.day_end);
            o.regime_expires = Some(due);
            // The reminders come from the task (days before per alert kind in rules/).
            let summary = format!("Vence el régimen {} de la orden {} el {}", o.regime, o.id, day.format("%d/%m/%Y"));
            let (client, id) = (o.client.clone(), o.id.clone());
            let task = d.open_task("alerta_vencimiento_regimen", Some(&client), Some(&id), Some(due), summary, None)?;
            format!("orden {} con vencimiento de régimen el {} (tarea {task})", o.id, day.format("%d/%m/%Y"))
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
            // `#cerrar` goes through the closing list (`commands::closing`).
            return Ok(Err(format!("«#{}» no es un comando de órdenes", c.verb)));
        }
    };
    o.history.push(entry(d, who, format!("Comando #{} {}", c.verb, c.rest).trim().to_string()));
    o.updated_at = d.now;
    d.save_order(o);
    Ok(Ok(msg))
}
