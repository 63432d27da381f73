//! Requests to counterparts by command (`desk::counterparts` sends them):
//!
//! ```text
//! #previo OC-2026-000123 [deposito=dp-callao-1] [fecha=03/12/2026]
//! #retiro OC-2026-000123 fecha=04/12/2026 [transporte=tr-rapido] [deposito=…]
//! #llegada OC-2026-000123 [naviera=msc-peru]
//! #bl OC-2026-000123 [naviera=msc-peru]
//! #volante OC-2026-000123 [deposito=dp-callao-1]   (the desk also asks by itself)
//! ```

use super::super::counterparts::{self, Ask};
use super::super::draft::Draft;
use super::super::model::RequestKind;
use super::super::view::ViewResult;
use super::{Command, Done, entry};
use crate::clients::CounterpartKind;

/// The parsed arguments of a request command.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Args {
    pub counterpart: Option<String>,
    pub date: Option<chrono::NaiveDate>,
    pub transport: Option<String>,
}

/// The request kind of a verb.
pub fn kind_of(verb: &str) -> Option<RequestKind> {
    match verb {
        "previo" => Some(RequestKind::Previo),
        "retiro" => Some(RequestKind::Retiro),
        "llegada" => Some(RequestKind::Llegada),
        "bl" => Some(RequestKind::Bl),
        "volante" => Some(RequestKind::Volante),
        _ => None,
    }
}

/// The keys each verb takes.
fn keys(kind: RequestKind) -> &'static [&'static str] {
    match kind {
        RequestKind::Previo => &["deposito", "fecha"],
        RequestKind::Retiro => &["fecha", "transporte", "deposito"],
        RequestKind::Volante => &["deposito"],
        RequestKind::Llegada | RequestKind::Bl => &["naviera"],
    }
}

/// Read `key=value` words (`fecha=` in the desk's date forms, not in the past).
pub fn parse_args(kind: RequestKind, rest: &str, today: chrono::NaiveDate) -> Result<Args, String> {
    let allowed = keys(kind);
    let mut a = Args::default();
    for kv in rest.split_whitespace() {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        let k = crate::text::fold(k);
        if !allowed.contains(&k.as_str()) {
            let hint = super::super::suggest::did_you_mean(&k, allowed);
            let usage: Vec<String> = allowed.iter().map(|k| format!("{k}=")).collect();
            return Err(format!("no entiendo «{kv}».{hint} Use {}", usage.join(", ")));
        }
        if v.is_empty() {
            return Err(format!("falta el valor de {k}="));
        }
        match k.as_str() {
            "fecha" => match crate::dates::parse_date_on(v, today) {
                Some(day) if day < today => {
                    return Err(format!("la fecha {} ya pasó", day.format("%d/%m/%Y")));
                }
                Some(day) => a.date = Some(day),
                None => return Err(format!("fecha inválida «{v}» (fecha=dd/mm/aaaa)")),
            },
            "transporte" => a.transport = Some(v.to_string()),
            _ => a.counterpart = Some(v.to_string()),
        }
    }
    if kind == RequestKind::Retiro && a.date.is_none() {
        return Err("falta la fecha del retiro: #retiro OC-… fecha=dd/mm/aaaa [transporte=…]".into());
    }
    Ok(a)
}

/// `#previo`, `#retiro`, `#llegada`, `#bl`.
pub fn apply(d: &mut Draft<'_>, c: &Command, who: &str) -> ViewResult<Done> {
    let Some(kind) = kind_of(&c.verb) else { return Ok(Err(format!("comando desconocido #{}", c.verb))) };
    let Some(mut o) = d.order(&c.target)? else {
        return Ok(Err(format!("no existe la orden {}", c.target)));
    };
    if !o.is_open() {
        return Ok(Err(format!("la orden {} está cerrada", o.id)));
    }
    let today = d.desk.settings.calendar.local_date(d.now);
    let args = match parse_args(kind, &c.rest, today) {
        Ok(a) => a,
        Err(e) => return Ok(Err(e)),
    };
    let dir = d.desk.directory;
    let p = match counterparts::find(dir, kind, args.counterpart.as_deref(), &o) {
        Ok(p) => p.clone(),
        Err(e) => return Ok(Err(e)),
    };
    let transport = match &args.transport {
        None => None,
        Some(t) => match dir.counterparts.iter().find(|x| x.id.eq_ignore_ascii_case(t)) {
            Some(x) if x.kind == CounterpartKind::Transporte => Some(x.clone()),
            Some(x) => return Ok(Err(format!("«{t}» ({}) no es una empresa de transporte", x.name))),
            None => {
                let ids: Vec<&str> = dir
                    .counterparts
                    .iter()
                    .filter(|x| x.kind == CounterpartKind::Transporte)
                    .map(|x| x.id.as_str())
                    .collect();
                let hint = super::super::suggest::did_you_mean(t, &ids);
                return Ok(Err(format!("no hay una empresa de transporte registrada con el código «{t}».{hint}")));
            }
        },
    };
    let ask = Ask { kind, counterpart: &p, by: who, date: args.date, transport: transport.as_ref() };
    let done = counterparts::request(d, &mut o, &ask)?;
    if done.is_ok() {
        o.history.push(entry(d, who, format!("Comando #{} {}", c.verb, c.rest).trim().to_string()));
        d.save_order(o);
    }
    Ok(done)
}
