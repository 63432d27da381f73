//! The only definition of tree names and key encodings.

/// Layout version of the database; bump with a migration in `migrate.rs`.
pub const LAYOUT_VERSION: u64 = 2;

pub const META: &str = "meta";
pub const PROCESSED: &str = "processed";
pub const ORDERS: &str = "orders";
pub const RECLAMOS: &str = "reclamos";
pub const TASKS: &str = "tasks";
pub const OUTBOX: &str = "outbox";
pub const OUTBOX_RAW: &str = "outbox_raw";
pub const THREADS: &str = "threads";
pub const REPLIES: &str = "replies";
/// Index: `kind|value|order id` → "" (references of orders).
pub const ORDER_REFS: &str = "order_refs";
/// Index: `client|order id` → "".
pub const CLIENT_ORDERS: &str = "client_orders";
/// Index: `client|order id` → "" for open orders only.
pub const CLIENT_OPEN: &str = "client_open";
/// Scheduled jobs done: `reclamo:R-000001:aviso50` → RFC 3339 instant.
pub const JOBS: &str = "jobs";
/// Index: outbox id → "" while the mail is pending.
pub const OUTBOX_PENDING: &str = "outbox_pending";

/// Messages that could not be processed: `<RFC 3339 instant>|<name>` → record.
pub const QUARANTINE: &str = "quarantine";

/// Index: outbox id → "" for a mail refused by the SMTP server (for some or
/// all recipients) that no task tells a person about yet.
pub const OUTBOX_FAILED: &str = "outbox_failed";

/// Index of the scheduler: `<instant>|<subject>` → "" (instant: 8 bytes,
/// big-endian, order-preserving; subject: `reclamo:R-000001`, `review:OC-…`,
/// `task:T-…`). The first key is the next instant something falls due.
pub const SCHEDULE: &str = "schedule";
/// Reverse of `schedule`: subject → its instant (to move or drop its entry).
pub const SCHEDULE_BY: &str = "schedule_by";

pub const LAYOUT_KEY: &[u8] = b"layout_version";
/// What the schedule index was computed with (see `scheduler::signature`).
pub const SCHEDULE_SIGNATURE_KEY: &[u8] = b"schedule_signature";

/// An instant as 8 order-preserving bytes (milliseconds since the epoch,
/// sign bit flipped so that earlier instants sort first).
pub fn instant_bytes(at: chrono::DateTime<chrono::Utc>) -> [u8; 8] {
    ((at.timestamp_millis() as u64) ^ (1 << 63)).to_be_bytes()
}

pub fn instant_from_bytes(b: &[u8]) -> Option<chrono::DateTime<chrono::Utc>> {
    let bytes: [u8; 8] = b.get(..8)?.try_into().ok()?;
    chrono::DateTime::from_timestamp_millis((u64::from_be_bytes(bytes) ^ (1 << 63)) as i64)
}

pub fn schedule_key(at: &[u8], subject: &str) -> Vec<u8> {
    let mut k = at.to_vec();
    k.extend_from_slice(subject.as_bytes());
    k
}

/// A message's identity: SHA-256 of its bytes plus its Message-ID.
pub fn processed_key(sha256: &str, message_id: Option<&str>) -> Vec<u8> {
    format!("{sha256}|{}", message_id.unwrap_or("")).into_bytes()
}

pub fn seq_key(name: &str) -> Vec<u8> {
    format!("seq:{name}").into_bytes()
}

/// Automatic replies to `address` within one hour (`YYYYMMDDHH`, UTC).
pub fn reply_key(address: &str, hour: &str) -> Vec<u8> {
    format!("{address}|{hour}").into_bytes()
}

pub fn order_ref_key(kind: &str, value: &str, order: &str) -> Vec<u8> {
    format!("{kind}|{value}|{order}").into_bytes()
}

pub fn order_ref_prefix(kind: &str, value: &str) -> Vec<u8> {
    format!("{kind}|{value}|").into_bytes()
}

pub fn client_order_key(client: &str, order: &str) -> Vec<u8> {
    format!("{client}|{order}").into_bytes()
}

/// The IMAP cursor of one folder (in the meta tree).
pub fn cursor_key(source: &str) -> Vec<u8> {
    format!("cursor:{source}").into_bytes()
}
