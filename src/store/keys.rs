//! The only definition of tree names and key encodings (the attachments'
//! layout is in `attachments.rs`). Encodings are the bytes on disk: they
//! never change without a layout version and a migration.

use chrono::{DateTime, Utc};

use crate::desk::effect::{JobKey, ReplyCounter, ReplyHour, Sequence, Step, Subject};

/// Layout version of the database; bump with a migration in `migrate.rs`.
/// v2: the scheduler's index; v3: the write-only `client_orders` index dropped;
/// v4: undo records, kept originals of mail-born tasks, reprocess requests,
/// and the new record states (held/cancelled mail, discarded reclamos…) that
/// an older buzon could not read.
pub const LAYOUT_VERSION: u64 = 4;

/// Every tree, by name. The order is the order of [`Tree::ALL`], which is
/// the order the store opens them and hands them to a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tree {
    /// Sequences, the layout version, cursors, signatures.
    Meta,
    /// Processed marks: `<sha256>|<message-id>` → record.
    Processed,
    Orders,
    Reclamos,
    Tasks,
    /// Outbox entries: id → metadata.
    Outbox,
    /// Outbox entries: id → the formatted bytes.
    OutboxRaw,
    /// Message-ID → what it belongs to.
    Threads,
    /// Automatic replies per address and hour: `<address>|<YYYYMMDDHH>` → count.
    Replies,
    /// Index: `kind|value|order id` → "" (references of orders).
    OrderRefs,
    /// Index: `client|order id` → "" for open orders only.
    ClientOpen,
    /// Index: outbox id → "" while the mail is pending.
    OutboxPending,
    /// Scheduled jobs done: job key → RFC 3339 instant.
    Jobs,
    /// Messages that could not be processed: `<RFC 3339 instant>|<name>` → record.
    Quarantine,
    /// Index: outbox id → "" for a mail refused by the SMTP server (for
    /// some or all recipients) that no task tells a person about yet.
    OutboxFailed,
    /// The scheduler's index: `<instant>|<subject>` → "" (instant: 8 bytes,
    /// big-endian, order-preserving). The first key is the next instant
    /// something falls due.
    Schedule,
    /// Reverse of `Schedule`: subject → its instant (to move or drop its entry).
    ScheduleBy,
    /// What staff commands changed: confirmation outbox id → undo record.
    Undo,
    /// Raw bytes of mails that tasks came from: `<sha256>` → bytes.
    Originals,
    /// `buzon reprocess` requests waiting for the daemon: target → request.
    Requests,
}

impl Tree {
    pub const ALL: [Tree; 20] = [
        Tree::Meta,
        Tree::Processed,
        Tree::Orders,
        Tree::Reclamos,
        Tree::Tasks,
        Tree::Outbox,
        Tree::OutboxRaw,
        Tree::Threads,
        Tree::Replies,
        Tree::OrderRefs,
        Tree::ClientOpen,
        Tree::OutboxPending,
        Tree::Jobs,
        Tree::Quarantine,
        Tree::OutboxFailed,
        Tree::Schedule,
        Tree::ScheduleBy,
        Tree::Undo,
        Tree::Originals,
        Tree::Requests,
    ];

    /// The sled tree name (the stored name: never changed).
    pub fn name(self) -> &'static str {
        match self {
            Tree::Meta => "meta",
            Tree::Processed => "processed",
            Tree::Orders => "orders",
            Tree::Reclamos => "reclamos",
            Tree::Tasks => "tasks",
            Tree::Outbox => "outbox",
            Tree::OutboxRaw => "outbox_raw",
            Tree::Threads => "threads",
            Tree::Replies => "replies",
            Tree::OrderRefs => "order_refs",
            Tree::ClientOpen => "client_open",
            Tree::OutboxPending => "outbox_pending",
            Tree::Jobs => "jobs",
            Tree::Quarantine => "quarantine",
            Tree::OutboxFailed => "outbox_failed",
            Tree::Schedule => "schedule",
            Tree::ScheduleBy => "schedule_by",
            Tree::Undo => "undo",
            Tree::Originals => "originals",
            Tree::Requests => "requests",
        }
    }

    /// Its position in [`Tree::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

/// A tree of layout v1/v2 that v3 drops (it was written, never read).
pub const DROPPED_CLIENT_ORDERS: &str = "client_orders";

pub const LAYOUT_KEY: &[u8] = b"layout_version";
/// How many processed marks were ever committed (8 bytes, big-endian):
/// compared with the high-water mark beside the store at open.
pub const PROCESSED_TOTAL_KEY: &[u8] = b"processed_total";
/// What the schedule index was computed with (see `desk::deadlines::signature`).
pub const SCHEDULE_SIGNATURE_KEY: &[u8] = b"schedule_signature";

/// An instant as 8 order-preserving bytes (milliseconds since the epoch,
/// sign bit flipped so that earlier instants sort first).
pub fn instant_bytes(at: DateTime<Utc>) -> [u8; 8] {
    ((at.timestamp_millis() as u64) ^ (1 << 63)).to_be_bytes()
}

pub fn instant_from_bytes(b: &[u8]) -> Option<DateTime<Utc>> {
    let bytes: [u8; 8] = b.get(..8)?.try_into().ok()?;
    DateTime::from_timestamp_millis((u64::from_be_bytes(bytes) ^ (1 << 63)) as i64)
}

pub fn schedule_key(at: &[u8], subject: &[u8]) -> Vec<u8> {
    let mut k = at.to_vec();
    k.extend_from_slice(subject);
    k
}

/// `reclamo:R-000001`, `review:OC-2026-000001`, `task:T-000001`.
pub fn subject(s: &Subject) -> Vec<u8> {
    match s {
        Subject::Reclamo(id) => format!("reclamo:{id}"),
        Subject::Review(id) => format!("review:{id}"),
        Subject::Task(id) => format!("task:{id}"),
    }
    .into_bytes()
}

pub fn subject_from(b: &[u8]) -> Option<Subject> {
    let s = std::str::from_utf8(b).ok()?;
    match s.split_once(':')? {
        ("reclamo", id) => Some(Subject::Reclamo(id.to_string())),
        ("review", id) => Some(Subject::Review(id.to_string())),
        ("task", id) => Some(Subject::Task(id.to_string())),
        _ => None,
    }
}

/// The key of a job done (`reclamo:R-000001:aviso50`, `digest:a@b:2026-12-01:08:30`…).
pub fn job(k: &JobKey) -> Vec<u8> {
    match k {
        JobKey::Reclamo { id, step: Step::Aviso(p) } => format!("reclamo:{id}:aviso{p}"),
        JobKey::Reclamo { id, step: Step::Vencido } => format!("reclamo:{id}:vencido"),
        JobKey::Review { order, due, overdue } => {
            format!("review:{order}:{}:{}", due.format("%Y%m%dT%H%M"), if *overdue { "vencida" } else { "aviso" })
        }
        JobKey::TaskReminder { id, days_before: Some(d) } => format!("task:{id}:recordatorio{d}"),
        JobKey::TaskReminder { id, days_before: None } => format!("task:{id}:vencida"),
        JobKey::Digest { assistant, date, slot } => format!("digest:{assistant}:{date}:{}", slot.format("%H:%M")),
        JobKey::DigestLast { assistant } => format!("digest_last:{assistant}"),
        JobKey::Status { client, slot } => format!("status:{client}:{slot}"),
        JobKey::SourceStopped { date } => format!("source_stopped:{date}"),
        JobKey::SupervisorDigest { date, slot } => format!("supervisor_digest:{date}:{}", slot.format("%H:%M")),
        JobKey::ClosingList { assistant, week } => format!("closing_list:{assistant}:{week}"),
        JobKey::ExtrasReport { executive, month } => format!("extras_report:{executive}:{month}"),
    }
    .into_bytes()
}

/// A message's identity: SHA-256 of its bytes plus its Message-ID.
pub fn processed(sha256: &str, message_id: Option<&str>) -> Vec<u8> {
    format!("{sha256}|{}", message_id.unwrap_or("")).into_bytes()
}

pub fn sequence(s: &Sequence) -> Vec<u8> {
    match s {
        Sequence::Orders(year) => format!("seq:order:{year}"),
        Sequence::Reclamos => "seq:reclamo".to_string(),
        Sequence::Tasks => "seq:task".to_string(),
    }
    .into_bytes()
}

/// Whose replies a counter counts: a verified address as such (the bytes of
/// layouts ≤ 3), an unverified one behind `?`, the strangers' cap as `*`
/// (neither can start a mail address).
fn reply_counter(c: &ReplyCounter) -> String {
    match c {
        ReplyCounter::Verified(a) => a.clone(),
        ReplyCounter::Unverified(a) => format!("?{a}"),
        ReplyCounter::Strangers => "*strangers".to_string(),
    }
}

/// Automatic replies on `counter` within one hour.
pub fn reply(counter: &ReplyCounter, h: ReplyHour) -> Vec<u8> {
    format!("{}|{}{:02}", reply_counter(counter), h.date.format("%Y%m%d"), h.hour).into_bytes()
}

/// Every hour of the day of `h`.
pub fn reply_day(counter: &ReplyCounter, h: ReplyHour) -> Vec<u8> {
    format!("{}|{}", reply_counter(counter), h.date.format("%Y%m%d")).into_bytes()
}

pub fn order_ref(kind: &str, value: &str, order: &str) -> Vec<u8> {
    format!("{kind}|{value}|{order}").into_bytes()
}

pub fn order_ref_prefix(kind: &str, value: &str) -> Vec<u8> {
    format!("{kind}|{value}|").into_bytes()
}

pub fn client_order(client: &str, order: &str) -> Vec<u8> {
    format!("{client}|{order}").into_bytes()
}

pub fn client_prefix(client: &str) -> Vec<u8> {
    format!("{client}|").into_bytes()
}

/// The IMAP cursor of one folder (in the meta tree).
pub fn cursor(source: &str) -> Vec<u8> {
    format!("cursor:{source}").into_bytes()
}

/// The high-water mark beside the store: `<store>.hwm`, the processed total
/// last made durable (never ahead of the store: written after each flush).
pub fn high_water_path(store: &std::path::Path) -> std::path::PathBuf {
    let mut p = store.as_os_str().to_owned();
    p.push(".hwm");
    std::path::PathBuf::from(p)
}

/// The mail being read now, beside the store: `<store>.reading` (see
/// `daemon::poison`). Written without fsync: it must outlive the process,
/// not the machine.
pub fn reading_path(store: &std::path::Path) -> std::path::PathBuf {
    let mut p = store.as_os_str().to_owned();
    p.push(".reading");
    std::path::PathBuf::from(p)
}

/// Marked by the binary's SIGABRT handler: `<store>.aborted` (see
/// `daemon::poison`).
pub fn aborted_path(store: &std::path::Path) -> std::path::PathBuf {
    let mut p = store.as_os_str().to_owned();
    p.push(".aborted");
    std::path::PathBuf::from(p)
}

/// The saved OAuth2 refresh token of one client (in the meta tree).
pub fn refresh_token(client: &str) -> Vec<u8> {
    format!("oauth2_refresh:{client}").into_bytes()
}

/// A quarantine record's key: oldest first.
pub fn quarantine(at: DateTime<Utc>, name: &str) -> Vec<u8> {
    format!("{}|{name}", at.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)).into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_and_subject_keys_are_the_bytes_earlier_layouts_wrote() {
        let at = |s: &str| DateTime::parse_from_rfc3339(s).map(|d| d.with_timezone(&Utc)).unwrap_or_default();
        let date = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap_or_default();
        let slot = chrono::NaiveTime::from_hms_opt(8, 30, 0).unwrap_or_default();
        let cases: Vec<(JobKey, &str)> = vec![
            (JobKey::Reclamo { id: "R-000001".into(), step: Step::Aviso(50) }, "reclamo:R-000001:aviso50"),
            (JobKey::Reclamo { id: "R-000001".into(), step: Step::Vencido }, "reclamo:R-000001:vencido"),
            (
                JobKey::Review { order: "OC-2026-000001".into(), due: at("2026-12-03T20:00:00Z"), overdue: false },
                "review:OC-2026-000001:20261203T2000:aviso",
            ),
            (JobKey::TaskReminder { id: "T-000004".into(), days_before: Some(5) }, "task:T-000004:recordatorio5"),
            (JobKey::TaskReminder { id: "T-000004".into(), days_before: None }, "task:T-000004:vencida"),
            (JobKey::Digest { assistant: "a@cli.test".into(), date, slot }, "digest:a@cli.test:2026-12-01:08:30"),
            (JobKey::DigestLast { assistant: "a@cli.test".into() }, "digest_last:a@cli.test"),
            (JobKey::Status { client: "andes".into(), slot: "2026-W49".into() }, "status:andes:2026-W49"),
            (JobKey::SupervisorDigest { date, slot }, "supervisor_digest:2026-12-01:08:30"),
            (
                JobKey::ClosingList { assistant: "a@cli.test".into(), week: "2026-W49".into() },
                "closing_list:a@cli.test:2026-W49",
            ),
            (
                JobKey::ExtrasReport { executive: "e@cli.test".into(), month: "2026-11".into() },
                "extras_report:e@cli.test:2026-11",
            ),
        ];
        for (k, bytes) in cases {
            assert_eq!(String::from_utf8_lossy(&job(&k)), bytes);
        }
        for s in [Subject::Reclamo("R-1".into()), Subject::Review("OC-1".into()), Subject::Task("T-1".into())] {
            assert_eq!(subject_from(&subject(&s)), Some(s));
        }
        assert_eq!(sequence(&Sequence::Orders(2026)), b"seq:order:2026");
        assert_eq!(
            reply(&ReplyCounter::Verified("a@b.test".into()), ReplyHour { date, hour: 9 }),
            b"a@b.test|2026120109"
        );
    }
}
