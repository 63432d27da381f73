//! The clients file: one `[[client]]` per customer, with the domains and
//! contacts whose mail is theirs. [`Directory`] answers "who sent this?".

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::config::{Config, PUBLIC_DOMAINS, valid_address};
use crate::diag::{Diagnostic, Diagnostics, deserialize_value};

/// A scheduled status summary.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct StatusSchedule {
    /// `daily` (business days) or `weekly`.
    pub frequency: String,
    /// For weekly: 1 = Monday … 7 = Sunday.
    #[serde(default = "monday")]
    pub weekday: u8,
    /// Local time `HH:MM`.
    pub time: String,
    /// Who receives it (must be contacts or in the client's domains).
    pub recipients: Vec<String>,
}

fn monday() -> u8 {
    1
}

/// One client.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Client {
    pub id: String,
    pub name: String,
    pub ruc: String,
    /// The client's own mail domains (never public webmail).
    #[serde(default)]
    pub domains: Vec<String>,
    /// Individual addresses of the client (e.g. on gmail.com).
    #[serde(default)]
    pub contacts: Vec<String>,
    /// Account executive (ESC).
    pub executive: String,
    /// Customer-service assistant (ASC).
    pub assistant: String,
    /// Domains of suppliers and forwarders who send documents for this client.
    #[serde(default)]
    pub partners: Vec<String>,
    /// Default regime code (`10`, `40`…).
    #[serde(default)]
    pub regime: Option<String>,
    #[serde(default)]
    pub status: Option<StatusSchedule>,
    /// Stages (`rules/checklists.toml`) whose reaching the client is told
    /// of; a non-empty list also brings ETA and vessel changes.
    #[serde(default)]
    pub notify: Vec<String>,
    /// Approved credit: third-party payments go ahead without funds first.
    /// Absent: no credit.
    #[serde(default)]
    pub credito: bool,
    /// The services agreed with the client; work of another kind is an
    /// extraordinary service (`desk::extras`). Absent: no scope check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub servicios: Option<Vec<Service>>,
    /// The depósito temporal this client's cargo usually goes to (a
    /// `[[counterpart]]` id of kind `deposito`): where `#previo` asks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deposito: Option<String>,
}

/// What a counterpart is to the desk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CounterpartKind {
    /// A depósito temporal (warehouse): previos, retiros, volantes.
    Deposito,
    /// A shipping line.
    Naviera,
    /// A shipping line's agent.
    Agente,
    Aerolinea,
    /// A transport company (pickup from the depósito).
    Transporte,
}

impl CounterpartKind {
    pub const ALL: &[&str] = &["deposito", "naviera", "agente", "aerolinea", "transporte"];

    pub fn as_str(self) -> &'static str {
        match self {
            CounterpartKind::Deposito => "deposito",
            CounterpartKind::Naviera => "naviera",
            CounterpartKind::Agente => "agente",
            CounterpartKind::Aerolinea => "aerolinea",
            CounterpartKind::Transporte => "transporte",
        }
    }

    /// A line or its agent (they answer arrival and BL questions).
    pub fn is_line(self) -> bool {
        matches!(self, CounterpartKind::Naviera | CounterpartKind::Agente | CounterpartKind::Aerolinea)
    }
}

/// A third party the desk asks things of (`[[counterpart]]`).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Counterpart {
    pub id: String,
    pub kind: CounterpartKind,
    pub name: String,
    /// Its registered addresses: only mail from them is its mail.
    pub addresses: Vec<String>,
    /// For lines and agents: the BL prefixes they issue (`MEDU`, `MAEU`).
    #[serde(default)]
    pub bl_prefixes: Vec<String>,
}

/// A service a client may have agreed to (`servicios = [...]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Service {
    /// Customs clearance of imports (regime 10…).
    Importacion,
    /// Customs clearance of exports (regime 40…).
    Exportacion,
    /// Temporary admission (regime 20, 21).
    AdmisionTemporal,
    /// A pre-inspection at the depósito (`#previo`).
    Previo,
    /// The cargo's pickup (`#retiro`).
    Retiro,
    /// Asking the line to confirm an arrival (`#llegada`).
    Llegada,
    /// Asking for the BL's release (`#bl`).
    Bl,
    /// Inland transport.
    Transporte,
}

impl Service {
    pub const ALL: &[Service] = &[
        Service::Importacion,
        Service::Exportacion,
        Service::AdmisionTemporal,
        Service::Previo,
        Service::Retiro,
        Service::Llegada,
        Service::Bl,
        Service::Transporte,
    ];

    /// The name in `clients.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            Service::Importacion => "importacion",
            Service::Exportacion => "exportacion",
            Service::AdmisionTemporal => "admision_temporal",
            Service::Previo => "previo",
            Service::Retiro => "retiro",
            Service::Llegada => "llegada",
            Service::Bl => "bl",
            Service::Transporte => "transporte",
        }
    }

    /// The name people read.
    pub fn name(self) -> &'static str {
        match self {
            Service::Importacion => "importación",
            Service::Exportacion => "exportación",
            Service::AdmisionTemporal => "admisión temporal",
            Service::Previo => "reconocimiento previo",
            Service::Retiro => "retiro de la carga",
            Service::Llegada => "confirmación de llegada",
            Service::Bl => "liberación del BL",
            Service::Transporte => "transporte",
        }
    }
}

impl Client {
    /// Is the client told when an order reaches `stage`?
    pub fn notified_of(&self, stage: &str) -> bool {
        self.notify.iter().any(|s| crate::text::fold(s) == crate::text::fold(stage))
    }
}

/// Load and validate the clients file.
pub fn load(file: &Path) -> Result<Vec<Client>, Diagnostics> {
    load_with(file, None)
}

/// Load and validate the clients file; with the desk's stages, every
/// `notify` entry must name one of them (an unknown one is an error at its line).
pub fn load_with(file: &Path, stages: Option<&[String]>) -> Result<Vec<Client>, Diagnostics> {
    load_all(file, stages).map(|(clients, _)| clients)
}

/// The clients and the counterparts of the clients file.
pub fn load_all(file: &Path, stages: Option<&[String]>) -> Result<(Vec<Client>, Vec<Counterpart>), Diagnostics> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| Diagnostics(vec![Diagnostic::file(file, format!("cannot read the clients file: {e}"))]))?;
    let table =
        toml::de::DeTable::parse(&text).map_err(|e| Diagnostics(vec![crate::diag::from_toml(file, &text, &e)]))?;
    let mut errs = Vec::new();
    let mut clients: Vec<Client> = Vec::new();
    let mut owner: BTreeMap<String, String> = BTreeMap::new();
    let mut counterparts: Vec<Counterpart> = Vec::new();
    // Each client's `deposito`, checked once every counterpart is read.
    let mut depositos: Vec<(String, std::ops::Range<usize>, String)> = Vec::new();
    for (key, value) in table.get_ref().iter() {
        if key.get_ref() == "counterpart" {
            counterparts.extend(read_counterparts(file, &text, value, &mut errs));
            continue;
        }
        if key.get_ref() != "client" {
            errs.push(Diagnostic::at(
                file,
                &text,
                Some(key.span()),
                format!(
                    "unknown key `{}`; the clients file holds [[client]] and [[counterpart]] entries",
                    key.get_ref()
                ),
            ));
            continue;
        }
        let Some(items) = value.get_ref().as_array() else {
            errs.push(Diagnostic::at(file, &text, Some(value.span()), "write each client as [[client]]"));
            continue;
        };
        for item in items.iter() {
            let at = |msg: String| Diagnostic::at(file, &text, Some(item.span()), msg);
            let mut c: Client = match deserialize_value(file, &text, item) {
                Ok(c) => c,
                Err(d) => {
                    errs.push(d);
                    continue;
                }
            };
            c.domains = c.domains.iter().map(|d| d.trim().to_ascii_lowercase()).collect();
            c.partners = c.partners.iter().map(|d| d.trim().to_ascii_lowercase()).collect();
            c.contacts = c.contacts.iter().map(|d| d.trim().to_ascii_lowercase()).collect();
            c.executive = c.executive.trim().to_ascii_lowercase();
            c.assistant = c.assistant.trim().to_ascii_lowercase();
            if c.id.trim().is_empty() {
                errs.push(at("client id is empty".into()));
            }
            if clients.iter().any(|o| o.id == c.id) {
                errs.push(at(format!("client id `{}` is used twice", c.id)));
            }
            if !crate::refs::ruc_valid(&c.ruc) {
                errs.push(at(format!(
                    "client {}: RUC `{}` is not valid (11 digits with a correct check digit)",
                    c.id, c.ruc
                )));
            }
            for d in &c.domains {
                if PUBLIC_DOMAINS.contains(&d.as_str()) {
                    errs.push(at(format!(
                        "client {}: `{d}` is a public webmail domain; list such people in `contacts` instead",
                        c.id
                    )));
                }
            }
            for a in c.contacts.iter().chain([&c.executive, &c.assistant]) {
                if !valid_address(a) {
                    errs.push(at(format!("client {}: `{a}` is not a mail address", c.id)));
                }
            }
            if let Some(s) = &c.status {
                if !matches!(s.frequency.as_str(), "daily" | "weekly") {
                    errs.push(at(format!(
                        "client {}: status frequency `{}` must be \"daily\" or \"weekly\"",
                        c.id, s.frequency
                    )));
                }
                if chrono::NaiveTime::parse_from_str(&s.time, "%H:%M").is_err() {
                    errs.push(at(format!("client {}: status time `{}` is not HH:MM", c.id, s.time)));
                }
                if !(1..=7).contains(&s.weekday) {
                    errs.push(at(format!("client {}: status weekday must be 1..7", c.id)));
                }
            }
            if let Some(stages) = stages
                && let Some(list) = item.get_ref().as_table().and_then(|t| t.get("notify"))
                && let Some(values) = list.get_ref().as_array()
            {
                for v in values.iter() {
                    let Some(name) = v.get_ref().as_str() else { continue };
                    if !stages.iter().any(|s| crate::text::fold(s) == crate::text::fold(name)) {
                        let names: Vec<&str> = stages.iter().map(String::as_str).collect();
                        let hint = crate::desk::suggest::did_you_mean(name, &names);
                        errs.push(Diagnostic::at(
                            file,
                            &text,
                            Some(v.span()),
                            format!(
                                "client {}: notify stage `{name}` is not a stage of rules/checklists.toml;{hint} use one of: {}",
                                c.id,
                                stages.join(", ")
                            ),
                        ));
                    }
                }
            }
            if let Some(dp) = &c.deposito {
                let span = item
                    .get_ref()
                    .as_table()
                    .and_then(|t| t.get("deposito"))
                    .map(|v| v.span())
                    .unwrap_or_else(|| item.span());
                depositos.push((c.id.clone(), span, dp.clone()));
            }
            for key in c.domains.iter().chain(&c.contacts) {
                if let Some(prev) = owner.insert(key.clone(), c.id.clone())
                    && prev != c.id
                {
                    errs.push(at(format!(
                        "`{key}` belongs to both {prev} and {}: mail from it could reach the wrong client",
                        c.id
                    )));
                }
            }
            clients.push(c);
        }
    }
    for (client, span, id) in depositos {
        if !counterparts.iter().any(|p| p.id == id && p.kind == CounterpartKind::Deposito) {
            let ids: Vec<&str> =
                counterparts.iter().filter(|p| p.kind == CounterpartKind::Deposito).map(|p| p.id.as_str()).collect();
            let hint = crate::desk::suggest::did_you_mean(&id, &ids);
            errs.push(Diagnostic::at(
                file,
                &text,
                Some(span),
                format!("client {client}: deposito `{id}` is not a [[counterpart]] of kind \"deposito\";{hint}"),
            ));
        }
    }
    for p in &counterparts {
        for a in &p.addresses {
            if let Some(c) = clients.iter().find(|c| c.contacts.contains(a)) {
                errs.push(Diagnostic::file(
                    file,
                    format!("counterpart {}: `{a}` is also a contact of client {}", p.id, c.id),
                ));
            }
        }
    }
    if errs.is_empty() { Ok((clients, counterparts)) } else { Err(Diagnostics(errs)) }
}

/// The `[[counterpart]]` entries: typed, each error at its line.
fn read_counterparts(
    file: &Path,
    text: &str,
    value: &toml::Spanned<toml::de::DeValue<'_>>,
    errs: &mut Vec<Diagnostic>,
) -> Vec<Counterpart> {
    let mut out: Vec<Counterpart> = Vec::new();
    let Some(items) = value.get_ref().as_array() else {
        errs.push(Diagnostic::at(file, text, Some(value.span()), "write each counterpart as [[counterpart]]"));
        return out;
    };
    for item in items.iter() {
        let at = |msg: String| Diagnostic::at(file, text, Some(item.span()), msg);
        let mut p: Counterpart = match deserialize_value(file, text, item) {
            Ok(p) => p,
            Err(d) => {
                errs.push(d);
                continue;
            }
        };
        p.id = p.id.trim().to_string();
        p.addresses = p.addresses.iter().map(|a| a.trim().to_ascii_lowercase()).collect();
        p.bl_prefixes = p.bl_prefixes.iter().map(|b| b.trim().to_ascii_uppercase()).collect();
        if p.id.is_empty() || p.id.contains(char::is_whitespace) {
            errs.push(at(format!("counterpart id `{}` must be one word", p.id)));
        }
        if out.iter().any(|o| o.id == p.id) {
            errs.push(at(format!("counterpart id `{}` is used twice", p.id)));
        }
        if p.addresses.is_empty() {
            errs.push(at(format!("counterpart {}: `addresses` needs at least one mail address", p.id)));
        }
        for a in &p.addresses {
            if !valid_address(a) {
                errs.push(at(format!("counterpart {}: `{a}` is not a mail address", p.id)));
            }
            if let Some(o) = out.iter().find(|o| o.addresses.contains(a)) {
                errs.push(at(format!("`{a}` belongs to both counterparts {} and {}", o.id, p.id)));
            }
        }
        for b in &p.bl_prefixes {
            if b.len() != 4 || !b.chars().all(|c| c.is_ascii_alphabetic()) {
                errs.push(at(format!("counterpart {}: BL prefix `{b}` must be four letters (MEDU, MAEU…)", p.id)));
            }
        }
        if !p.bl_prefixes.is_empty() && !p.kind.is_line() {
            errs.push(at(format!("counterpart {}: only a naviera, agente or aerolinea issues BLs", p.id)));
        }
        out.push(p);
    }
    out
}

/// The role of a sender and, for clients and partners, whose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sender {
    /// Our own shared mailbox (a loop if we answered).
    Ours,
    Staff,
    Client(String),
    /// A supplier or forwarder of these clients.
    Partner(Vec<String>),
    /// A registered counterpart (depósito, line, agent, transport), by id.
    Counterpart(String),
    Unknown,
}

impl Sender {
    pub fn role(&self) -> &'static str {
        match self {
            Sender::Ours => "ours",
            Sender::Staff => "staff",
            Sender::Client(_) => "client",
            Sender::Partner(_) => "partner",
            Sender::Counterpart(_) => "counterpart",
            Sender::Unknown => "unknown",
        }
    }
}

/// Who is who: the desk's addresses, staff domains and clients.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    pub desk_address: String,
    pub staff_domains: Vec<String>,
    pub clients: Vec<Client>,
    /// The `[[counterpart]]` entries.
    pub counterparts: Vec<Counterpart>,
}

impl Directory {
    pub fn new(config: &Config, clients: Vec<Client>) -> Self {
        Directory {
            desk_address: config.desk.address.clone(),
            staff_domains: config.staff_domains.clone(),
            clients,
            counterparts: Vec::new(),
        }
    }

    /// The same, with the clients file's counterparts.
    pub fn with_counterparts(mut self, counterparts: Vec<Counterpart>) -> Self {
        self.counterparts = counterparts;
        self
    }

    pub fn counterpart(&self, id: &str) -> Option<&Counterpart> {
        self.counterparts.iter().find(|p| p.id == id)
    }

    /// Who is `address`?
    pub fn sender(&self, address: &str) -> Sender {
        let a = address.trim().to_ascii_lowercase();
        if a.is_empty() {
            return Sender::Unknown;
        }
        if a == self.desk_address {
            return Sender::Ours;
        }
        // A counterpart only from an address registered as its own (never a domain).
        if let Some(p) = self.counterparts.iter().find(|p| p.addresses.contains(&a)) {
            return Sender::Counterpart(p.id.clone());
        }
        let domain = a.rsplit_once('@').map(|(_, d)| d).unwrap_or("");
        if let Some(c) = self.clients.iter().find(|c| c.contacts.contains(&a) || c.domains.iter().any(|d| d == domain))
        {
            return Sender::Client(c.id.clone());
        }
        if self.staff_domains.iter().any(|d| d == domain) {
            return Sender::Staff;
        }
        let partners: Vec<String> =
            self.clients.iter().filter(|c| c.partners.iter().any(|d| d == domain)).map(|c| c.id.clone()).collect();
        if !partners.is_empty() {
            return Sender::Partner(partners);
        }
        Sender::Unknown
    }

    pub fn client(&self, id: &str) -> Option<&Client> {
        self.clients.iter().find(|c| c.id == id)
    }

    /// Is `address` registered for client `id` (a contact or in its domains)?
    pub fn belongs_to(&self, address: &str, id: &str) -> bool {
        matches!(self.sender(address), Sender::Client(c) if c == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let file = dir.path().join("clients.toml");
        std::fs::write(&file, text).unwrap_or_else(|e| panic!("{e}"));
        (dir, file)
    }

    const CLIENT: &str = "[[client]]\nid = \"costaverde\"\nname = \"Costa Verde\"\nruc = \"20100070970\"\ndomains = [\"costaverde.test\"]\nexecutive = \"jrojas@cli.test\"\nassistant = \"asistente2@cli.test\"\n";

    #[test]
    fn an_unknown_notify_stage_is_an_error_at_its_line_and_credit_defaults_to_none() {
        let stages: Vec<String> = ["abierta", "numerada", "canal asignado", "levante"].map(String::from).to_vec();
        let (_d, file) = write(&format!("{CLIENT}notify = [\"numerada\",\n  \"canal asignad\"]\n"));
        let errs = load_with(&file, Some(&stages)).err().unwrap_or_else(|| panic!("accepted an unknown stage"));
        let shown = errs.to_string();
        assert!(shown.contains("clients.toml:9:"), "{shown}");
        assert!(shown.contains("canal asignad") && shown.contains("¿Quiso decir «canal asignado»?"), "{shown}");
        let (_d, file) = write(&format!("{CLIENT}notify = [\"Numerada\", \"levante\"]\n"));
        let ok = load_with(&file, Some(&stages)).unwrap_or_else(|e| panic!("{e}"));
        assert!(ok[0].notified_of("numerada") && !ok[0].notified_of("abierta"));
        assert!(!ok[0].credito, "an absent credito is no credit");
        let (_d, file) = write(&format!("{CLIENT}credito = true\n"));
        assert!(load_with(&file, Some(&stages)).unwrap_or_else(|e| panic!("{e}"))[0].credito);
    }

    const COUNTERPART: &str = "[[counterpart]]\nid = \"dp-callao-1\"\nkind = \"deposito\"\nname = \"Depósito Temporal Callao 1\"\naddresses = [\"Operaciones@DTCallao1.test\"]\n";

    #[test]
    fn counterparts_are_typed_at_load_and_a_clients_unknown_deposito_is_an_error_at_its_line() {
        let (_d, file) = write(&format!("{CLIENT}deposito = \"dp-callao-1\"\n{COUNTERPART}"));
        let (clients, counterparts) = load_all(&file, None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(clients[0].deposito.as_deref(), Some("dp-callao-1"));
        assert_eq!(counterparts[0].kind, CounterpartKind::Deposito);
        assert_eq!(counterparts[0].addresses, vec!["operaciones@dtcallao1.test".to_string()]);
        let dir =
            Directory { desk_address: "ops@cli.test".into(), ..Default::default() }.with_counterparts(counterparts);
        assert_eq!(dir.sender("operaciones@dtcallao1.test"), Sender::Counterpart("dp-callao-1".into()));
        assert_eq!(dir.sender("otro@dtcallao1.test"), Sender::Unknown, "an address, never the whole domain");
        // A typo in the client's depósito: its line, and the id meant.
        let (_d, file) = write(&format!("{CLIENT}deposito = \"dp-calao-1\"\n{COUNTERPART}"));
        let shown = load_all(&file, None).err().unwrap_or_else(|| panic!("accepted")).to_string();
        assert!(shown.contains("clients.toml:8:") && shown.contains("¿Quiso decir «dp-callao-1»?"), "{shown}");
        // An unknown kind and a bad BL prefix, each at its entry.
        let bad = "[[counterpart]]\nid = \"x\"\nkind = \"almacen\"\nname = \"X\"\naddresses = [\"a@x.test\"]\n\n[[counterpart]]\nid = \"msc\"\nkind = \"agente\"\nname = \"MSC\"\naddresses = [\"b@msc.test\"]\nbl_prefixes = [\"MED\"]\n";
        let (_d, file) = write(&format!("{CLIENT}{bad}"));
        let shown = load_all(&file, None).err().unwrap_or_else(|| panic!("accepted")).to_string();
        assert!(shown.contains("clients.toml:10:") && shown.contains("almacen"), "{shown}");
        assert!(shown.contains("BL prefix `MED`"), "{shown}");
    }
}
