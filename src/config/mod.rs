//! `config.toml`: loaded in two stages (ripgrep's low/high args): the serde
//! mirror in `raw.rs` (unknown keys refused, with their position), then
//! validation into the typed [`Config`] that the rest of buzon uses —
//! every problem collected as `file:line:col: why`, nothing half-validated
//! downstream. Relative paths are resolved against the config file's folder.

mod desk_table;
mod raw;

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::NaiveTime;
use toml::Spanned;

use crate::calendar::BusinessCalendar;
use crate::diag::{Diagnostic, Diagnostics};
use crate::tls::Tls;

/// A password or secret: where to find it. Read when it is used (a
/// missing environment variable is an error naming the key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Secret {
    None,
    Value(String),
    /// An environment variable holding it.
    Env(String),
    /// A file holding it (its first line).
    File(PathBuf),
}

impl Secret {
    /// The secret's value (`None` when none is configured).
    pub fn read(&self) -> Result<Option<String>, String> {
        match self {
            Secret::None => Ok(None),
            Secret::Value(v) => Ok(Some(v.clone())),
            Secret::Env(name) => std::env::var(name)
                .map(Some)
                .map_err(|_| format!("the environment variable {name} (password_env) is not set")),
            Secret::File(path) => std::fs::read_to_string(path)
                .map(|t| Some(t.lines().next().unwrap_or("").to_string()))
                .map_err(|e| format!("cannot read the password file {}: {e}", path.display())),
        }
    }
}

/// How buzon logs in to a server.
#[derive(Debug, Clone, PartialEq)]
pub enum Auth {
    /// `LOGIN`/`AUTH PLAIN` with this password.
    Password(Secret),
    /// SASL XOAUTH2/OAUTHBEARER with tokens from this client.
    OAuth2(crate::oauth2::OAuth2Config),
}

/// An IMAP folder to watch.
#[derive(Debug, Clone)]
pub struct ImapConfig {
    pub host: String,
    pub port: u16,
    pub tls: Tls,
    /// PEM of a private CA; the public web roots when absent.
    pub ca_file: Option<PathBuf>,
    pub user: String,
    pub auth: Auth,
    pub folder: String,
    pub processed_folder: String,
    pub quarantine_folder: String,
    /// Move nothing (trial mode): the cursor alone says what was processed.
    pub keep_in_folder: bool,
    /// On the first start, record the mail already there silently.
    pub import_existing: bool,
    /// A copy of each sent mail goes there.
    pub sent_folder: Option<String>,
    /// IDLE re-issued and the folder re-checked at least this often.
    pub recheck: Duration,
    /// How often a server without IDLE is polled.
    pub poll: Duration,
    /// After the source stopped for good, exit non-zero this much later.
    pub exit_after_fatal: Option<Duration>,
}

impl ImapConfig {
    /// Where it reads, for people: `user@host:port/folder`.
    pub fn place(&self) -> String {
        format!("{}@{}:{}/{}", self.user, self.host, self.port, self.folder)
    }

    /// The cursor's name: one per server, user and folder.
    pub fn cursor_name(&self) -> String {
        format!("imap://{}@{}:{}/{}", self.user, self.host, self.port, self.folder)
    }
}

/// Where mail comes from.
#[derive(Debug, Clone)]
pub enum Mailbox {
    /// The embedded default: a Maildir scanned every `poll`; a missing
    /// folder is created only with `create`.
    Maildir {
        path: PathBuf,
        poll: Duration,
        create: bool,
    },
    Imap(Box<ImapConfig>),
}

/// An SMTP server to send through.
#[derive(Debug, Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub tls: Tls,
    pub ca_file: Option<PathBuf>,
    /// No user: no AUTH (a relay on loopback).
    pub user: Option<String>,
    pub auth: Auth,
    /// Per step (connect, greeting, each command).
    pub timeout: Duration,
}

/// Where outgoing mail goes.
#[derive(Debug, Clone)]
pub enum Outbox {
    /// The embedded default: one `.eml` file per mail.
    Files {
        path: PathBuf,
    },
    Smtp(Box<SmtpConfig>),
}

/// The store and where attachments are kept.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    pub path: PathBuf,
    pub attachments_path: PathBuf,
    /// Larger attachments are recorded but not kept.
    pub max_attachment_bytes: u64,
    /// Larger mails are quarantined unread.
    pub max_message_bytes: u64,
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The config file.
    pub file: PathBuf,
    pub mailbox: Mailbox,
    pub outbox: Outbox,
    pub store: StoreConfig,
    pub rules_path: PathBuf,
    pub clients_path: PathBuf,
    /// The desk's settings (people, business time, limits).
    pub desk: crate::desk::Settings,
    /// Mail domains of the company's staff (lower case).
    pub staff_domains: Vec<String>,
    /// Our MTA's authserv-id ("" = ignore every Authentication-Results).
    pub authserv_id: String,
    /// Which Authentication-Results header is trusted (`[desk] auth_results`).
    pub auth_results: crate::mail::AuthResults,
    /// Bounds on reading attachments.
    pub limits: crate::mail::Limits,
    /// `[log]`: how the daemon logs.
    pub log: LogSettings,
    /// `[http]`: where `/metrics` and `/healthz` are served (`None`: off).
    pub http_listen: Option<std::net::SocketAddr>,
}

/// `[log] format`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LogFormat {
    #[default]
    Text,
    /// JSON Lines: one object per line, stable field names.
    Json,
}

/// The validated `[log]` table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LogSettings {
    pub format: LogFormat,
}

/// `[log]` and `[http]`: checked like every other key (`file:line: why`).
fn ops_tables(
    c: &mut Check<'_>,
    log: &raw::LogConfig,
    http: &raw::HttpConfig,
) -> (LogSettings, Option<std::net::SocketAddr>) {
    let format = match &log.format {
        None => LogFormat::Text,
        Some(f) => match f.get_ref().as_str() {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => {
                c.at(f.span(), format!("[log] format must be \"text\" or \"json\", not \"{other}\""));
                LogFormat::Text
            }
        },
    };
    let listen = http.listen.as_ref().and_then(|l| match l.get_ref().parse::<std::net::SocketAddr>() {
        Ok(a) => Some(a),
        Err(_) => {
            c.at(
                l.span(),
                format!(
                    "[http] listen must be an address and port such as \"127.0.0.1:9187\", not \"{}\"",
                    l.get_ref()
                ),
            );
            None
        }
    });
    (LogSettings { format }, listen)
}

/// The attachment-reading bounds: the defaults, with what `[limits]` sets.
fn limits(l: &raw::LimitsConfig) -> crate::mail::Limits {
    let mut out = crate::mail::Limits::default();
    let secs = Duration::from_secs;
    if let Some(v) = l.max_pdf_pages {
        out.max_pdf_pages = v;
    }
    if let Some(v) = l.max_pdf_operators {
        out.max_pdf_operators = v;
    }
    if let Some(v) = l.max_pdf_page_content_bytes {
        out.max_pdf_page_content = usize::try_from(v).unwrap_or(usize::MAX);
    }
    if let Some(v) = l.max_pdf_content_bytes {
        out.max_pdf_content = usize::try_from(v).unwrap_or(usize::MAX);
    }
    if let Some(v) = l.pdf_timeout_seconds {
        out.pdf_timeout = secs(v.max(1));
    }
    if let Some(v) = l.zip_timeout_seconds {
        out.zip_timeout = secs(v.max(1));
    }
    if let Some(v) = l.mail_timeout_seconds {
        out.mail_timeout = secs(v.max(1));
    }
    if let Some(v) = l.max_zip_members {
        out.max_zip_members = v;
    }
    if let Some(v) = l.max_zip_depth {
        out.max_zip_depth = v;
    }
    if let Some(v) = l.max_mail_inflated_bytes {
        out.max_mail_inflated = v;
    }
    if let Some(v) = l.max_mail_members {
        out.max_mail_members = v;
    }
    if let Some(v) = l.extractor_memory_mib {
        out.worker_address_space = v.max(64).saturating_mul(1024 * 1024);
    }
    out
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

/// Values of a list of spanned strings, lower case.
fn addresses(list: &[Spanned<String>]) -> Vec<String> {
    list.iter().map(|s| s.get_ref().to_ascii_lowercase()).collect()
}

/// Collects the problems of one config file.
struct Check<'a> {
    file: &'a Path,
    text: &'a str,
    errors: Vec<Diagnostic>,
}

impl Check<'_> {
    fn at(&mut self, span: Range<usize>, msg: impl Into<String>) {
        self.errors.push(Diagnostic::at(self.file, self.text, Some(span), msg));
    }

    /// `HH:MM`; `why` says what else it is not (`is not a time of day HH:MM`).
    fn time(&mut self, s: &Spanned<String>, prefix: &str, why: &str) -> NaiveTime {
        NaiveTime::parse_from_str(s.get_ref(), "%H:%M").unwrap_or_else(|_| {
            self.at(s.span(), format!("{prefix}`{}` {why}", s.get_ref()));
            NaiveTime::MIN
        })
    }

    fn tls(&mut self, t: &Option<Spanned<String>>) -> Tls {
        match t {
            None => Tls::None,
            Some(t) => Tls::parse(t.get_ref()).unwrap_or_else(|| {
                self.at(t.span(), format!("unknown tls `{}`; use \"none\", \"starttls\" or \"implicit\"", t.get_ref()));
                Tls::None
            }),
        }
    }

    /// `auth` and the `[<name>.oauth2]` table, or the password keys.
    fn auth(
        &mut self,
        name: &str,
        kind: Range<usize>,
        auth: &Option<Spanned<String>>,
        table: &Option<crate::oauth2::OAuth2Config>,
        password: Secret,
        resolve: &dyn Fn(&Path) -> PathBuf,
    ) -> Auth {
        let span = auth.as_ref().map(|a| a.span()).unwrap_or(kind);
        match (auth.as_ref().map(|a| a.get_ref().as_str()), table) {
            (None | Some("password"), None) => Auth::Password(password),
            (None | Some("password"), Some(_)) => {
                self.at(span, format!("[{name}.oauth2] is only read with auth = \"oauth2\" in [{name}]"));
                Auth::Password(password)
            }
            (Some("oauth2"), None) => {
                self.at(span, format!("auth = \"oauth2\" needs a [{name}.oauth2] table"));
                Auth::Password(password)
            }
            (Some("oauth2"), Some(t)) => {
                for p in t.problems() {
                    self.at(span.clone(), format!("[{name}.oauth2] {p}"));
                }
                let mut t = t.clone();
                t.resolve_paths(resolve);
                Auth::OAuth2(t)
            }
            (Some(other), _) => {
                self.at(span, format!("unknown auth `{other}`; use \"password\" or \"oauth2\""));
                Auth::Password(password)
            }
        }
    }

    fn secret(
        &mut self,
        span: Range<usize>,
        password: &Option<String>,
        env: &Option<String>,
        file: &Option<PathBuf>,
        resolve: &dyn Fn(&Path) -> PathBuf,
    ) -> Secret {
        if [password.is_some(), env.is_some(), file.is_some()].iter().filter(|x| **x).count() > 1 {
            self.at(span, "give one of `password`, `password_env` and `password_file`, not several");
        }
        match (password, env, file) {
            (Some(p), _, _) => Secret::Value(p.clone()),
            (_, Some(e), _) => Secret::Env(e.clone()),
            (_, _, Some(f)) => Secret::File(resolve(f)),
            _ => Secret::None,
        }
    }
}

impl Config {
    /// Read and validate a config file.
    pub fn load(file: &Path) -> Result<Config, Diagnostics> {
        let text = std::fs::read_to_string(file)
            .map_err(|e| Diagnostics(vec![Diagnostic::file(file, format!("cannot read the config: {e}"))]))?;
        let raw: raw::RawConfig =
            toml::from_str(&text).map_err(|e| Diagnostics(vec![crate::diag::from_toml(file, &text, &e)]))?;
        let base = file.parent().map(Path::to_path_buf).unwrap_or_default();
        let base = if base.as_os_str().is_empty() { PathBuf::from(".") } else { base };
        let resolve = |p: &Path| {
            if p.is_absolute() || base == Path::new(".") { p.to_path_buf() } else { base.join(p) }
        };
        let mut c = Check { file, text: &text, errors: Vec::new() };
        let mailbox = mailbox(&mut c, &raw.mailbox, &resolve);
        let outbox = outbox(&mut c, &raw.outbox, &resolve);
        let mut desk = desk_table::desk(&mut c, &raw.desk);
        desk.max_attachment_bytes = raw.store.max_attachment_bytes;
        let (log, http_listen) = ops_tables(&mut c, &raw.log, &raw.http);
        let d = &raw.desk;
        for s in &d.staff_domains {
            if PUBLIC_DOMAINS.contains(&s.get_ref().to_ascii_lowercase().as_str()) {
                c.at(s.span(), format!("`{}` is a public webmail domain: it cannot be a staff domain", s.get_ref()));
            }
        }
        let auth_results = match &d.auth_results {
            None => crate::mail::AuthResults::default(),
            Some(v) => crate::mail::AuthResults::parse(v.get_ref()).unwrap_or_else(|| {
                c.at(
                    v.span(),
                    format!(
                        "unknown auth_results `{}`; use \"authserv-id\" (only our MTA's header, with `authserv_id`) or \"topmost\" (Exchange Online: its own header, on top, has no authserv-id)",
                        v.get_ref()
                    ),
                );
                crate::mail::AuthResults::default()
            }),
        };
        let (Some(mailbox), Some(outbox), true) = (mailbox, outbox, c.errors.is_empty()) else {
            return Err(Diagnostics(c.errors));
        };
        let store_path = resolve(&raw.store.path);
        let attachments_path = raw.store.attachments_path.as_deref().map(resolve).unwrap_or_else(|| {
            let mut p = store_path.clone().into_os_string();
            p.push("-files");
            PathBuf::from(p)
        });
        Ok(Config {
            file: file.to_path_buf(),
            mailbox,
            outbox,
            store: StoreConfig {
                path: store_path,
                attachments_path,
                max_attachment_bytes: raw.store.max_attachment_bytes,
                max_message_bytes: raw.store.max_message_bytes,
            },
            rules_path: resolve(&raw.rules.path),
            clients_path: resolve(&raw.clients.path),
            desk,
            staff_domains: addresses(&d.staff_domains),
            authserv_id: d.authserv_id.clone(),
            auth_results,
            limits: limits(&raw.limits),
            log,
            http_listen,
        })
    }

    /// The desk's time zone.
    pub fn timezone(&self) -> chrono_tz::Tz {
        self.desk.calendar.tz
    }
}

fn mailbox(c: &mut Check<'_>, m: &raw::MailboxConfig, resolve: &dyn Fn(&Path) -> PathBuf) -> Option<Mailbox> {
    let kind = &m.kind;
    match kind.get_ref().as_str() {
        "maildir" => {
            // Checked even where unused, so that a mistake is never silent.
            let _ = c.auth("mailbox", kind.span(), &m.auth, &m.oauth2, Secret::None, resolve);
            let Some(path) = &m.path else {
                c.at(kind.span(), "mailbox kind \"maildir\" needs `path`");
                return None;
            };
            Some(Mailbox::Maildir {
                path: resolve(path),
                poll: Duration::from_millis(m.poll_ms.max(10)),
                create: m.create,
            })
        }
        "imap" => {
            let tls = c.tls(&m.tls);
            let password = c.secret(kind.span(), &m.password, &m.password_env, &m.password_file, resolve);
            let auth = c.auth("mailbox", kind.span(), &m.auth, &m.oauth2, password, resolve);
            if m.recheck_seconds == 0 {
                c.at(kind.span(), "recheck_seconds must be at least 1");
            }
            let (Some(host), Some(user)) = (&m.host, &m.user) else {
                c.at(kind.span(), "mailbox kind \"imap\" needs `host` and `user`");
                return None;
            };
            Some(Mailbox::Imap(Box::new(ImapConfig {
                host: host.clone(),
                port: m.port.unwrap_or(if tls == Tls::Implicit { 993 } else { 143 }),
                tls,
                ca_file: m.ca_file.as_deref().map(resolve),
                user: user.clone(),
                auth,
                folder: m.folder.clone(),
                processed_folder: m.processed_folder.clone(),
                quarantine_folder: m.quarantine_folder.clone(),
                keep_in_folder: m.keep_in_folder,
                import_existing: m.import_existing,
                sent_folder: m.sent_folder.clone(),
                recheck: Duration::from_secs(m.recheck_seconds.max(1)),
                poll: Duration::from_millis(m.poll_ms.max(10)),
                exit_after_fatal: (m.exit_after_fatal_seconds > 0)
                    .then(|| Duration::from_secs(m.exit_after_fatal_seconds)),
            })))
        }
        other => {
            c.at(kind.span(), format!("unknown mailbox kind `{other}`; use \"maildir\" or \"imap\""));
            None
        }
    }
}

fn outbox(c: &mut Check<'_>, o: &raw::OutboxConfig, resolve: &dyn Fn(&Path) -> PathBuf) -> Option<Outbox> {
    let kind = &o.kind;
    match kind.get_ref().as_str() {
        "files" => {
            let _ = c.auth("outbox", kind.span(), &o.auth, &o.oauth2, Secret::None, resolve);
            let Some(path) = &o.path else {
                c.at(kind.span(), "outbox kind \"files\" needs `path`");
                return None;
            };
            Some(Outbox::Files { path: resolve(path) })
        }
        "smtp" => {
            let tls = c.tls(&o.tls);
            let password = c.secret(kind.span(), &o.password, &o.password_env, &o.password_file, resolve);
            let auth = c.auth("outbox", kind.span(), &o.auth, &o.oauth2, password, resolve);
            if matches!(auth, Auth::OAuth2(_)) && o.user.is_none() {
                let span = o.auth.as_ref().map(|a| a.span()).unwrap_or(kind.span());
                c.at(span, "[outbox] auth = \"oauth2\" needs `user` (the mailbox it sends as)");
            }
            let Some(host) = &o.host else {
                c.at(kind.span(), "outbox kind \"smtp\" needs `host`");
                return None;
            };
            Some(Outbox::Smtp(Box::new(SmtpConfig {
                host: host.clone(),
                port: o.port.unwrap_or(match tls {
                    Tls::Implicit => 465,
                    Tls::StartTls => 587,
                    Tls::None => 25,
                }),
                tls,
                ca_file: o.ca_file.as_deref().map(resolve),
                user: o.user.clone(),
                auth,
                timeout: Duration::from_secs(o.timeout_seconds.max(1)),
            })))
        }
        other => {
            c.at(kind.span(), format!("unknown outbox kind `{other}`; use \"files\" or \"smtp\""));
            None
        }
    }
}

#[cfg(test)]
mod tests;
