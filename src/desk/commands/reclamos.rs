//! Commands on a reclamo: resolve it (and answer the client, with the text
//! after `cliente:`), say it was none, reopen it.

use serde_json::json;

use super::super::context::{desk_block, local_fmt};
use super::super::draft::Draft;
use super::super::model::{Reclamo, ReclamoState};
use super::super::reply::{Letter, Threading};
use super::super::view::ViewResult;
use super::{Command, Done, entry};

fn find(d: &Draft<'_>, c: &Command) -> ViewResult<Result<Reclamo, String>> {
    Ok(d.reclamo(&c.target)?.ok_or_else(|| format!("no existe el reclamo {}", c.target)))
}

/// `nota interna cliente: texto` → (the note, the text for the client).
pub fn split_client_text(rest: &str) -> (String, Option<String>) {
    const MARK: &str = "cliente:";
    let at = rest
        .char_indices()
        .map(|(i, _)| i)
        .find(|&i| rest.get(i..i + MARK.len()).is_some_and(|s| s.eq_ignore_ascii_case(MARK)));
    let Some(split) = at else { return (rest.trim().to_string(), None) };
    let note = rest[..split].trim().trim_end_matches(['-', '—', ',', ';']).trim().to_string();
    let client = rest[split + MARK.len()..].trim().to_string();
    (note, (!client.is_empty()).then_some(client))
}

/// `#resuelto R-… <nota interna> [cliente: <texto>]`: resolved; the client
/// is answered with the text after `cliente:` (template `reclamo_resuelto`),
/// only at an address registered for it. Without `cliente:` the resolution
/// stays internal.
pub fn resolve(d: &mut Draft<'_>, c: &Command, who: &str) -> ViewResult<Done> {
    let mut r = match find(d, c)? {
        Ok(r) => r,
        Err(e) => return Ok(Err(e)),
    };
    if !r.is_open() {
        return Ok(Err(format!("el reclamo {} ya estaba {} (cerrado)", r.id, r.state)));
    }
    if c.rest.trim().is_empty() {
        return Ok(Err(format!(
            "falta la resolución: #resuelto {} <qué se hizo> cliente: <respuesta para el cliente>",
            r.id
        )));
    }
    let (note, client_text) = split_client_text(&c.rest);
    r.state = ReclamoState::Resuelto;
    r.closed_at = Some(d.now);
    r.resolution = Some(if note.is_empty() { client_text.clone().unwrap_or_default() } else { note.clone() });
    r.history.push(entry(d, who, format!("Resuelto: {}", if note.is_empty() { "(sin nota interna)" } else { &note })));
    let mut msg = format!("reclamo {} resuelto", r.id);
    if let Some(text) = client_text {
        let desk = d.desk;
        let registered = r.client.as_deref().is_some_and(|cl| desk.directory.belongs_to(&r.from, cl));
        if !registered {
            msg.push_str(&format!(
                "; la respuesta NO se envió: {} no es una dirección registrada del cliente (respóndale a mano)",
                r.from
            ));
        } else {
            let s = desk.settings;
            let client = r.client.as_deref().and_then(|cl| desk.directory.client(cl));
            let lang = super::super::language::detect(&format!("{}\n{}", r.subject, r.excerpt));
            let ctx = json!({
                "lang": lang,
                "desk": desk_block(s),
                "client": {"id": r.client, "name": client.map(|c| c.name.clone())},
                "sender": {"name": r.from_name, "address": r.from,
                           "person": super::super::context::person_name(&r.from_name, client.map(|c| c.name.as_str()))},
                "reclamo": {"id": r.id, "order": r.order, "subject": r.subject,
                            "topic": super::super::subjects::topic(&r.subject),
                            "received_at": local_fmt(&s.calendar, r.received_at)},
                "message": text,
                "now": local_fmt(&s.calendar, d.now),
            });
            let refs = r.message_ids.clone();
            let letter = Letter {
                template: "reclamo_resuelto",
                to: vec![r.from.clone()],
                ctx: &ctx,
                threading: Threading::Notice { references: &refs },
                order: r.order.as_deref(),
                id: None,
            };
            match d.send(letter) {
                Some(sent) => {
                    r.message_ids.push(sent);
                    r.history.push(super::super::model::HistoryEntry::public(
                        d.now,
                        format!("Respuesta al cliente: {}", super::super::context::excerpt(&text, 300)),
                    ));
                    msg.push_str(&format!("; respuesta enviada a {}", r.from));
                }
                None => msg.push_str("; la respuesta al cliente no se pudo preparar (ver el registro)"),
            }
        }
    }
    d.save_reclamo(r);
    Ok(Ok(msg))
}

/// `#noesreclamo R-… <motivo>`: closed without counting as resolved, and
/// out of the reclamo clock's figures; no more warnings.
pub fn not_a_reclamo(d: &mut Draft<'_>, c: &Command, who: &str) -> ViewResult<Done> {
    let mut r = match find(d, c)? {
        Ok(r) => r,
        Err(e) => return Ok(Err(e)),
    };
    if !r.is_open() {
        return Ok(Err(format!("el reclamo {} ya estaba {} (cerrado)", r.id, r.state)));
    }
    let why = c.rest.trim();
    if why.is_empty() {
        return Ok(Err(format!("indique el motivo: #noesreclamo {} <por qué no es un reclamo>", r.id)));
    }
    r.state = ReclamoState::Descartado;
    r.closed_at = Some(d.now);
    r.resolution = Some(format!("No es un reclamo: {why}"));
    r.history.push(entry(d, who, format!("No es un reclamo: {why}")));
    let id = r.id.clone();
    d.save_reclamo(r);
    Ok(Ok(format!("{id} no es un reclamo: cerrado, fuera de las cifras de plazo")))
}

/// `#reabrir R-…`: open again, with its original due time (if that has
/// passed, the overdue escalation goes out unless it already did).
pub fn reopen(d: &mut Draft<'_>, c: &Command, who: &str) -> ViewResult<Done> {
    let mut r = match find(d, c)? {
        Ok(r) => r,
        Err(e) => return Ok(Err(e)),
    };
    if r.is_open() {
        return Ok(Err(format!("el reclamo {} está abierto", r.id)));
    }
    let was = r.state;
    r.state = ReclamoState::Escalado;
    r.closed_at = None;
    r.history.push(entry(d, who, format!("Reabierto (estaba {was})")));
    let id = r.id.clone();
    let due = local_fmt(&d.desk.settings.calendar, r.due_at);
    d.save_reclamo(r);
    Ok(Ok(format!("reclamo {id} reabierto (vence {due})")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_text_follows_cliente() {
        let cases = [
            (
                "Se coordinó con la naviera cliente: Asumimos la sobreestadía.",
                "Se coordinó con la naviera",
                Some("Asumimos la sobreestadía."),
            ),
            ("Nota — Cliente: Gracias por su paciencia", "Nota", Some("Gracias por su paciencia")),
            ("solo interno", "solo interno", None),
            ("cliente: Ya está resuelto", "", Some("Ya está resuelto")),
            ("nota cliente:", "nota", None),
            ("Ñandú áé cliente: ok", "Ñandú áé", Some("ok")),
        ];
        for (rest, note, client) in cases {
            let (n, c) = split_client_text(rest);
            assert_eq!((n.as_str(), c.as_deref()), (note, client), "{rest}");
        }
    }
}
