//! `config.toml`: schema, defaults and validation. Loading happens in two
//! stages: the serde mirror (unknown keys refused, with their position), then
//! validation that collects every problem as `file:line:col: why`.
//! Relative paths are resolved against the config file's folder.

use std::path::{Path, PathBuf};

use chrono::NaiveTime;
use serde::Deserialize;
use toml::Spanned;

use crate::diag::{Diagnostic, Diagnostics};

/// Where mail comes from.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailboxConfig {
    /// `maildir` (the embedded default) or `imap`.
    pub kind: Spanned<String>,
    /// Maildir folder (with `new/`, `cur/`, `tmp/`), for `kind = "maildir"`.
    pub path: Option<PathBuf>,
    /// IMAP server host.
    pub host: Option<String>,
    pub port: Option<u16>,
    /// `none` | `starttls` | `implicit`
    pub tls: Option<Spanned<String>>,
    pub user: Option<String>,
    pub password: Option<String>,
    /// Name of an environment variable holding the password.
    pub password_env: Option<String>,
    /// A file holding the password (first line).
    pub password_file: Option<PathBuf>,
    /// PEM file of the CA that signed the server's certificate (a private
    /// CA); the public web roots are used when absent.
    pub ca_file: Option<PathBuf>,
    /// The folder watched (default `INBOX`).
    #[serde(default = "default_folder")]
    pub folder: String,
    /// Where processed messages are moved (created if needed).
    #[serde(default = "default_processed_folder")]
    pub processed_folder: String,
    /// Where messages that cannot be processed are moved, with the reason
    /// recorded in the store (created if needed).
    #[serde(default = "default_quarantine_folder")]
    pub quarantine_folder: String,
    /// Leave processed messages where they are (trial/"shadow" mode next to
    /// people who still work the mailbox by hand); the cursor alone says
    /// what was processed.
    #[serde(default)]
    pub keep_in_folder: bool,
    /// On the first start on a folder that already holds mail: record that
    /// mail silently (orders, reclamos, tasks; no replies sent). Otherwise
    /// only mail arriving from then on is taken.
    #[serde(default)]
    pub import_existing: bool,
    /// Append a copy of each sent mail to this folder (e.g. `Sent`), so
    /// staff see it in their mail program.
    pub sent_folder: Option<String>,
    /// IDLE is re-issued and the folder re-checked with `UID FETCH` at
    /// least this often (seconds), since IDLE is only an optimisation.
    #[serde(default = "default_recheck_seconds")]
    pub recheck_seconds: u64,
    /// How often the Maildir is scanned, or an IMAP server without IDLE
    /// polled, when nothing signals new mail (ms).
    #[serde(default = "default_poll_ms")]
    pub poll_ms: u64,
    // TEMPORARY (oauth branch, until the lead wires issue 13 in config.rs):
    /// `password` (default) or `oauth2`.
    pub auth: Option<Spanned<String>>,
    /// The OAuth2 client, for `auth = "oauth2"` (see `crate::oauth2::OAuth2Config`).
    pub oauth2: Option<crate::oauth2::OAuth2Config>,
}

fn default_folder() -> String {
    "INBOX".into()
}
fn default_processed_folder() -> String {
    "Procesados".into()
}
fn default_quarantine_folder() -> String {
    "Cuarentena".into()
}
fn default_recheck_seconds() -> u64 {
    120
}

fn default_poll_ms() -> u64 {
    500
}

/// Where outgoing mail goes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboxConfig {
    /// `files` (the embedded default: one `.eml` per mail) or `smtp`.
    pub kind: Spanned<String>,
    pub path: Option<PathBuf>,
    pub host: Option<String>,
    pub port: Option<u16>,
    pub tls: Option<Spanned<String>>,
    pub user: Option<String>,
    pub password: Option<String>,
    pub password_env: Option<String>,
    pub password_file: Option<PathBuf>,
    /// PEM file of a private CA for the server's certificate.
    pub ca_file: Option<PathBuf>,
    /// Seconds to wait for the SMTP server on each step (default 30).
    #[serde(default = "default_smtp_timeout")]
    pub timeout_seconds: u64,
    // TEMPORARY (oauth branch, until the lead wires issue 13 in config.rs):
    /// `password` (default) or `oauth2`.
    pub auth: Option<Spanned<String>>,
    /// The OAuth2 client, for `auth = "oauth2"` (see `crate::oauth2::OAuth2Config`).
    pub oauth2: Option<crate::oauth2::OAuth2Config>,
}

fn default_smtp_timeout() -> u64 {
    30
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// The sled database folder.
    pub path: PathBuf,
    /// Where attachments are kept, by SHA-256 (default: `<store path>-files`).
    pub attachments_path: Option<PathBuf>,
    /// Attachments larger than this are recorded but not kept (bytes; default 40 MiB).
    #[serde(default = "default_max_attachment")]
    pub max_attachment_bytes: u64,
}

fn default_max_attachment() -> u64 {
    40 * 1024 * 1024
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PathConfig {
    pub path: PathBuf,
}

/// The desk: who is who, business hours, numbering.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeskConfig {
    /// The shared mailbox address; replies come from it.
    pub address: Spanned<String>,
    /// Display name of the desk in the From header.
    #[serde(default = "default_desk_name")]
    pub name: String,
    /// Mail domains of the company's staff.
    #[serde(default)]
    pub staff_domains: Vec<Spanned<String>>,
    #[serde(default)]
    pub supervisors: Vec<Spanned<String>>,
    /// Second-level escalation.
    #[serde(default)]
    pub managers: Vec<Spanned<String>>,
    #[serde(default)]
    pub assistants: Vec<Spanned<String>>,
    /// Receives payment notices.
    #[serde(default)]
    pub administracion: Vec<Spanned<String>>,
    /// Gets the tasks of mail with no client.
    pub default_assistant: Spanned<String>,
    /// Local times (`HH:MM`) of the assistants' digests, on business days.
    #[serde(default = "default_digest_times")]
    pub digest_times: Vec<Spanned<String>>,
    /// Send a digest even when there is nothing in it.
    #[serde(default)]
    pub digest_when_empty: bool,
    /// Order numbers are `<order_prefix>-<YYYY>-<NNNNNN>`.
    #[serde(default = "default_prefix")]
    pub order_prefix: Spanned<String>,
    /// IANA time zone of the desk.
    #[serde(default = "default_tz")]
    pub timezone: Spanned<String>,
    /// Start of the business day, `HH:MM`.
    #[serde(default = "default_day_start")]
    pub day_start: Spanned<String>,
    /// End of the business day, `HH:MM`.
    #[serde(default = "default_day_end")]
    pub day_end: Spanned<String>,
    /// Working weekdays, 1 = Monday … 7 = Sunday.
    #[serde(default = "default_work_days")]
    pub work_days: Vec<u8>,
    /// Extra non-working days (`YYYY-MM-DD`), beside Peru's national holidays.
    #[serde(default)]
    pub extra_holidays: Vec<Spanned<String>>,
    /// Our MTA's authserv-id in Authentication-Results ("" = ignore them all).
    #[serde(default)]
    pub authserv_id: String,
    /// Business hours within which a reclamo must be escalated/answered.
    #[serde(default = "default_reclamo_hours")]
    pub reclamo_hours: u32,
    /// Warnings to the supervisors when this share (%) of a reclamo's
    /// business hours has passed and it is still open.
    #[serde(default = "default_reclamo_warnings")]
    pub reclamo_warnings: Vec<u32>,
    /// Business hours within which documents must be reviewed.
    #[serde(default = "default_review_hours")]
    pub review_hours: u32,
    /// Automatic replies to one sender per hour, and per day, at most.
    #[serde(default = "default_per_hour")]
    pub replies_per_sender_hour: u32,
    #[serde(default = "default_per_day")]
    pub replies_per_sender_day: u32,
}

fn default_desk_name() -> String {
    "Operaciones".into()
}
fn default_prefix() -> Spanned<String> {
    Spanned::new(0..0, "OC".into())
}
fn default_tz() -> Spanned<String> {
    Spanned::new(0..0, "America/Lima".into())
}
fn default_day_start() -> Spanned<String> {
    Spanned::new(0..0, "09:00".into())
}
fn default_day_end() -> Spanned<String> {
    Spanned::new(0..0, "18:00".into())
}
fn default_work_days() -> Vec<u8> {
    vec![1, 2, 3, 4, 5]
}
fn default_reclamo_hours() -> u32 {
    24
}
fn default_digest_times() -> Vec<Spanned<String>> {
    vec![Spanned::new(0..0, "08:30".into()), Spanned::new(0..0, "15:00".into())]
}
fn default_reclamo_warnings() -> Vec<u32> {
    vec![50, 90]
}
fn default_review_hours() -> u32 {
    48
}
fn default_per_hour() -> u32 {
    5
}
fn default_per_day() -> u32 {
    20
}

/// The serde mirror of `config.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    pub mailbox: MailboxConfig,
    pub outbox: OutboxConfig,
    pub store: StoreConfig,
    pub rules: PathConfig,
    pub clients: PathConfig,
    pub desk: DeskConfig,
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The config file.
    pub file: PathBuf,
    pub raw: RawConfig,
    pub mailbox_path: Option<PathBuf>,
    pub outbox_path: Option<PathBuf>,
    pub store_path: PathBuf,
    pub attachments_path: PathBuf,
    pub rules_path: PathBuf,
    pub clients_path: PathBuf,
    pub timezone: chrono_tz::Tz,
    pub day_start: NaiveTime,
    pub day_end: NaiveTime,
    pub extra_holidays: Vec<chrono::NaiveDate>,
}

/// Public webmail domains: never a client's own domain.
pub const PUBLIC_DOMAINS: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "hotmail.com",
    "hotmail.es",
    "outlook.com",
    "outlook.es",
    "live.com",
    "msn.com",
    "yahoo.com",
    "yahoo.es",
    "ymail.com",
    "icloud.com",
    "me.com",
    "aol.com",
    "proton.me",
    "protonmail.com",
    "gmx.com",
    "zoho.com",
    "mail.com",
];

/// A plausible mail address (one `@`, a dot in the domain, no spaces).
pub fn valid_address(a: &str) -> bool {
    let Some((local, domain)) = a.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.contains('@')
        && !a.contains(char::is_whitespace)
        && !domain.starts_with('.')
        && !domain.ends_with('.')
}

impl Config {
    /// Read and validate a config file.
    pub fn load(file: &Path) -> Result<Config, Diagnostics> {
        let text = std::fs::read_to_string(file)
            .map_err(|e| Diagnostics(vec![Diagnostic::file(file, format!("cannot read the config: {e}"))]))?;
        let mut raw: RawConfig =
            toml::from_str(&text).map_err(|e| Diagnostics(vec![crate::diag::from_toml(file, &text, &e)]))?;
        let base = file.parent().map(Path::to_path_buf).unwrap_or_default();
        let base = if base.as_os_str().is_empty() { PathBuf::from(".") } else { base };
        let resolve = |p: &Path| {
            if p.is_absolute() || base == Path::new(".") { p.to_path_buf() } else { base.join(p) }
        };
        let mut errs = Vec::new();
        let mut err =
            |span: std::ops::Range<usize>, msg: String| errs.push(Diagnostic::at(file, &text, Some(span), msg));

        match raw.mailbox.kind.get_ref().as_str() {
            "maildir" => {
                if raw.mailbox.path.is_none() {
                    err(raw.mailbox.kind.span(), "mailbox kind \"maildir\" needs `path`".into());
                }
            }
            "imap" => {
                if raw.mailbox.host.is_none() || raw.mailbox.user.is_none() {
                    err(raw.mailbox.kind.span(), "mailbox kind \"imap\" needs `host` and `user`".into());
                }
            }
            other => {
                err(raw.mailbox.kind.span(), format!("unknown mailbox kind `{other}`; use \"maildir\" or \"imap\""))
            }
        }
        match raw.outbox.kind.get_ref().as_str() {
            "files" => {
                if raw.outbox.path.is_none() {
                    err(raw.outbox.kind.span(), "outbox kind \"files\" needs `path`".into());
                }
            }
            "smtp" => {
                if raw.outbox.host.is_none() {
                    err(raw.outbox.kind.span(), "outbox kind \"smtp\" needs `host`".into());
                }
            }
            other => err(raw.outbox.kind.span(), format!("unknown outbox kind `{other}`; use \"files\" or \"smtp\"")),
        }
        let secrets = [
            (raw.mailbox.kind.span(), &raw.mailbox.password, &raw.mailbox.password_env, &raw.mailbox.password_file),
            (raw.outbox.kind.span(), &raw.outbox.password, &raw.outbox.password_env, &raw.outbox.password_file),
        ];
        for (span, p, e, f) in secrets {
            if [p.is_some(), e.is_some(), f.is_some()].iter().filter(|x| **x).count() > 1 {
                err(span, "give one of `password`, `password_env` and `password_file`, not several".into());
            }
        }
        // TEMPORARY (oauth branch): `auth` and the `[… .oauth2]` tables.
        let auths = [
            ("mailbox", raw.mailbox.kind.span(), &raw.mailbox.auth, &raw.mailbox.oauth2),
            ("outbox", raw.outbox.kind.span(), &raw.outbox.auth, &raw.outbox.oauth2),
        ];
        for (name, kind_span, auth, table) in auths {
            let span = auth.as_ref().map(|a| a.span()).unwrap_or(kind_span);
            match (auth.as_ref().map(|a| a.get_ref().as_str()), table) {
                (None | Some("password"), None) => {}
                (None | Some("password"), Some(_)) => {
                    err(span, format!("[{name}.oauth2] is only read with auth = \"oauth2\" in [{name}]"))
                }
                (Some("oauth2"), None) => err(span, format!("auth = \"oauth2\" needs a [{name}.oauth2] table")),
                (Some("oauth2"), Some(t)) => {
                    if name == "outbox" && raw.outbox.user.is_none() {
                        err(span.clone(), "[outbox] auth = \"oauth2\" needs `user` (the mailbox it sends as)".into());
                    }
                    for p in t.problems() {
                        err(span.clone(), format!("[{name}.oauth2] {p}"));
                    }
                }
                (Some(other), _) => err(span, format!("unknown auth `{other}`; use \"password\" or \"oauth2\"")),
            }
        }
        if raw.mailbox.kind.get_ref() == "imap" && raw.mailbox.recheck_seconds == 0 {
            err(raw.mailbox.kind.span(), "recheck_seconds must be at least 1".into());
        }
        for tls in [&raw.mailbox.tls, &raw.outbox.tls].into_iter().flatten() {
            if !matches!(tls.get_ref().as_str(), "none" | "starttls" | "implicit") {
                err(tls.span(), format!("unknown tls `{}`; use \"none\", \"starttls\" or \"implicit\"", tls.get_ref()));
            }
        }
        let d = &raw.desk;
        let timezone = match d.timezone.get_ref().parse::<chrono_tz::Tz>() {
            Ok(tz) => tz,
            Err(_) => {
                err(d.timezone.span(), format!("unknown time zone `{}` (e.g. \"America/Lima\")", d.timezone.get_ref()));
                chrono_tz::America::Lima
            }
        };
        let time = |s: &Spanned<String>, errs: &mut dyn FnMut(std::ops::Range<usize>, String)| {
            NaiveTime::parse_from_str(s.get_ref(), "%H:%M").unwrap_or_else(|_| {
                errs(s.span(), format!("`{}` is not a time of day HH:MM", s.get_ref()));
                NaiveTime::MIN
            })
        };
        let day_start = time(&d.day_start, &mut err);
        let day_end = time(&d.day_end, &mut err);
        if day_end <= day_start {
            err(d.day_end.span(), "day_end must be after day_start".into());
        }
        if d.work_days.is_empty() || d.work_days.iter().any(|w| !(1..=7).contains(w)) {
            err(d.day_start.span(), "work_days must list weekdays 1 (Monday) to 7 (Sunday)".into());
        }
        let mut extra_holidays = Vec::new();
        for h in &d.extra_holidays {
            match chrono::NaiveDate::parse_from_str(h.get_ref(), "%Y-%m-%d") {
                Ok(day) => extra_holidays.push(day),
                Err(_) => err(h.span(), format!("`{}` is not a date YYYY-MM-DD", h.get_ref())),
            }
        }
        let prefix = d.order_prefix.get_ref();
        if prefix.is_empty() || !prefix.chars().all(|c| c.is_ascii_alphanumeric()) {
            err(d.order_prefix.span(), format!("order_prefix `{prefix}` must be letters and digits only"));
        }
        let addresses = std::iter::once(&d.address)
            .chain(&d.supervisors)
            .chain(&d.managers)
            .chain(&d.assistants)
            .chain(&d.administracion)
            .chain(std::iter::once(&d.default_assistant));
        for a in addresses {
            if !valid_address(a.get_ref()) {
                err(a.span(), format!("`{}` is not a mail address", a.get_ref()));
            }
        }
        for s in &d.staff_domains {
            if PUBLIC_DOMAINS.contains(&s.get_ref().to_ascii_lowercase().as_str()) {
                err(s.span(), format!("`{}` is a public webmail domain: it cannot be a staff domain", s.get_ref()));
            }
        }
        for t in &d.digest_times {
            if NaiveTime::parse_from_str(t.get_ref(), "%H:%M").is_err() {
                err(t.span(), format!("digest time `{}` is not HH:MM", t.get_ref()));
            }
        }
        if d.reclamo_warnings.iter().any(|p| !(1..=99).contains(p)) {
            err(d.address.span(), "reclamo_warnings are percentages between 1 and 99".into());
        }
        if d.supervisors.is_empty() {
            err(
                d.address.span(),
                "[desk] needs at least one address in `supervisors`: reclamos must reach someone".into(),
            );
        }
        if !errs.is_empty() {
            return Err(Diagnostics(errs));
        }
        for p in [
            &mut raw.mailbox.ca_file,
            &mut raw.mailbox.password_file,
            &mut raw.outbox.ca_file,
            &mut raw.outbox.password_file,
        ] {
            *p = p.as_deref().map(resolve);
        }
        for t in [raw.mailbox.oauth2.as_mut(), raw.outbox.oauth2.as_mut()].into_iter().flatten() {
            t.resolve_paths(resolve);
        }
        let store_path = resolve(&raw.store.path);
        let attachments_path = raw.store.attachments_path.as_deref().map(resolve).unwrap_or_else(|| {
            let mut p = store_path.clone().into_os_string();
            p.push("-files");
            PathBuf::from(p)
        });
        Ok(Config {
            file: file.to_path_buf(),
            mailbox_path: raw.mailbox.path.as_deref().map(resolve),
            outbox_path: raw.outbox.path.as_deref().map(resolve),
            store_path,
            attachments_path,
            rules_path: resolve(&raw.rules.path),
            clients_path: resolve(&raw.clients.path),
            timezone,
            day_start,
            day_end,
            extra_holidays,
            raw,
        })
    }

    pub fn desk(&self) -> &DeskConfig {
        &self.raw.desk
    }

    pub fn desk_address(&self) -> String {
        self.raw.desk.address.get_ref().to_ascii_lowercase()
    }

    pub fn is_staff_domain(&self, domain: &str) -> bool {
        self.raw.desk.staff_domains.iter().any(|d| d.get_ref().eq_ignore_ascii_case(domain))
    }
}

/// Values of a list of spanned strings, lower case.
pub fn addresses(list: &[Spanned<String>]) -> Vec<String> {
    list.iter().map(|s| s.get_ref().to_ascii_lowercase()).collect()
}

/// The password of a server: given in the config, in an environment
/// variable, or in a file (first line). `Ok(None)` when none is configured.
pub fn secret(
    password: &Option<String>,
    env: &Option<String>,
    file: &Option<PathBuf>,
) -> Result<Option<String>, String> {
    if let Some(p) = password {
        return Ok(Some(p.clone()));
    }
    if let Some(name) = env {
        return std::env::var(name)
            .map(Some)
            .map_err(|_| format!("the environment variable {name} (password_env) is not set"));
    }
    if let Some(path) = file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the password file {}: {e}", path.display()))?;
        return Ok(Some(text.lines().next().unwrap_or("").to_string()));
    }
    Ok(None)
}
