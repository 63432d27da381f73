//! The serde mirror of `config.toml` (stage one of loading): every key with
//! its default and documentation; unknown keys are refused with their
//! position. Nothing outside `config` sees these types.

use std::path::PathBuf;

use serde::Deserialize;
use toml::Spanned;

/// Where mail comes from.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailboxConfig {
    /// `maildir` (the embedded default) or `imap`.
    pub kind: Spanned<String>,
    /// Maildir folder (with `new/`, `cur/`, `tmp/`), for `kind = "maildir"`.
    pub path: Option<PathBuf>,
    /// Create the Maildir folder when it does not exist (else it is an
    /// error: a mistyped path must not be watched in silence).
    #[serde(default)]
    pub create: bool,
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
    /// `password` (default) or `oauth2`.
    pub auth: Option<Spanned<String>>,
    /// The OAuth2 client, for `auth = "oauth2"` (see `crate::oauth2::OAuth2Config`).
    pub oauth2: Option<crate::oauth2::OAuth2Config>,
    /// After the source stopped for good (a refused login), the daemon exits
    /// non-zero this many seconds later, so that a service manager restarts
    /// it or alerts (0: it stays up, the rest of the desk working).
    #[serde(default = "default_exit_after_fatal")]
    pub exit_after_fatal_seconds: u64,
}

fn default_exit_after_fatal() -> u64 {
    300
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
    /// `password` (default) or `oauth2`.
    pub auth: Option<Spanned<String>>,
    /// The OAuth2 client, for `auth = "oauth2"`.
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
    /// Mails larger than this are put aside (quarantined) unread (bytes;
    /// default 64 MiB): parsing a mail costs a few times its size in memory.
    #[serde(default = "default_max_message")]
    pub max_message_bytes: u64,
}

fn default_max_message() -> u64 {
    64 * 1024 * 1024
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
    /// Which Authentication-Results header is trusted: `authserv-id` (the
    /// default: the topmost one carrying `authserv_id`) or `topmost` (the
    /// topmost one, without an authserv-id check: Exchange Online writes its
    /// own without one, above anything the sender wrote).
    pub auth_results: Option<Spanned<String>>,
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
    /// Automatic answers to strangers (unknown or unverified senders), for
    /// the whole desk, per hour and per day at most; past it, a task.
    #[serde(default = "default_stranger_hour")]
    pub stranger_replies_per_hour: u32,
    #[serde(default = "default_stranger_day")]
    pub stranger_replies_per_day: u32,
    /// Local times (`HH:MM`) of the supervisors' digest, on business days.
    #[serde(default = "default_supervisor_digest_times")]
    pub supervisor_digest_times: Vec<Spanned<String>>,
    /// Task kinds notified to their assistant at once (`alerta_*` for a
    /// family); the others wait for the next digest.
    #[serde(default)]
    pub notify_at_once: Option<Vec<String>>,
    /// Imported mail (`import_existing`) older than this is history: its
    /// reclamos and tasks are recorded closed.
    #[serde(default = "default_import_closed_after_days")]
    pub import_closed_after_days: u32,
    /// A carrier's ETA change larger than this many hours is notified to
    /// the clients who asked for notices.
    #[serde(default = "default_eta_notice_hours")]
    pub eta_notice_hours: u32,
    /// The weekly list of incomplete files: weekday (`lunes` … `domingo`)
    /// and local time `HH:MM`.
    #[serde(default = "default_closing_list_day")]
    pub closing_list_day: Spanned<String>,
    #[serde(default = "default_closing_list_time")]
    pub closing_list_time: Spanned<String>,
    /// The executives' monthly report of extraordinary services: local
    /// time `HH:MM` of the month's first business day.
    #[serde(default = "default_extras_report_time")]
    pub extras_report_time: Spanned<String>,
    /// Business hours a counterpart has to answer each kind of request.
    #[serde(default)]
    pub request_hours: RequestHours,
    /// Hours after an order's ETA without an arrival notice before the
    /// desk asks the line itself.
    #[serde(default = "default_arrival_check_hours")]
    pub arrival_check_hours: u32,
    /// Business days after arrival without a volante before the desk asks
    /// the depósito for it.
    #[serde(default = "default_volante_days")]
    pub volante_days: u32,
}

/// `[desk.request_hours]`: business hours to answer, per request kind.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestHours {
    #[serde(default = "eight")]
    pub previo: u32,
    #[serde(default = "eight")]
    pub retiro: u32,
    #[serde(default = "eight")]
    pub llegada: u32,
    #[serde(default = "sixteen")]
    pub bl: u32,
    #[serde(default = "sixteen")]
    pub volante: u32,
}

impl Default for RequestHours {
    fn default() -> Self {
        RequestHours { previo: 8, retiro: 8, llegada: 8, bl: 16, volante: 16 }
    }
}

fn eight() -> u32 {
    8
}
fn sixteen() -> u32 {
    16
}
fn default_arrival_check_hours() -> u32 {
    12
}
fn default_volante_days() -> u32 {
    2
}

fn default_closing_list_day() -> Spanned<String> {
    Spanned::new(0..0, "lunes".into())
}
fn default_closing_list_time() -> Spanned<String> {
    Spanned::new(0..0, "08:30".into())
}
fn default_extras_report_time() -> Spanned<String> {
    Spanned::new(0..0, "09:00".into())
}

fn default_eta_notice_hours() -> u32 {
    12
}

fn default_supervisor_digest_times() -> Vec<Spanned<String>> {
    vec![Spanned::new(0..0, "08:00".into())]
}
fn default_import_closed_after_days() -> u32 {
    30
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
fn default_stranger_hour() -> u32 {
    10
}
fn default_stranger_day() -> u32 {
    50
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
    #[serde(default)]
    pub limits: LimitsConfig,
    #[serde(default)]
    pub log: LogConfig,
    #[serde(default)]
    pub http: HttpConfig,
}

/// How the daemon logs (to stderr: a terminal, a file, or journald).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    /// `text` (default) or `json` (JSON Lines with stable field names).
    pub format: Option<Spanned<String>>,
}

/// The metrics and health server (off unless `listen` is set).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    /// `127.0.0.1:9187`: serve `GET /metrics` and `GET /healthz` there.
    pub listen: Option<Spanned<String>>,
}

/// Bounds on reading attachments (every key optional; the defaults fit a
/// customs desk: a 5 MB, 30-page invoice and a ZIP of 20 scans are read whole).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsConfig {
    /// Pages of a PDF read (default 50).
    pub max_pdf_pages: Option<u32>,
    /// Content operators interpreted per PDF (default 2,000,000).
    pub max_pdf_operators: Option<u64>,
    /// Decompressed content of one PDF page / of a whole PDF (bytes; 16 / 64 MiB).
    pub max_pdf_page_content_bytes: Option<u64>,
    pub max_pdf_content_bytes: Option<u64>,
    /// Seconds for one PDF / one ZIP / all of one mail's attachments (5 / 15 / 30).
    pub pdf_timeout_seconds: Option<u64>,
    pub zip_timeout_seconds: Option<u64>,
    pub mail_timeout_seconds: Option<u64>,
    /// Members of one ZIP looked at (64); ZIP-in-ZIP levels opened (2).
    pub max_zip_members: Option<usize>,
    pub max_zip_depth: Option<u32>,
    /// Per mail: decompressed bytes of ZIP members (64 MiB) and members kept (100).
    pub max_mail_inflated_bytes: Option<u64>,
    pub max_mail_members: Option<usize>,
    /// Address space of the attachment reader process (MiB; 512).
    pub extractor_memory_mib: Option<u64>,
}
