//! The only definition of tree names and key encodings.

/// Layout version of the database; bump with a migration in `migrate.rs`.
pub const LAYOUT_VERSION: u64 = 1;

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

pub const LAYOUT_KEY: &[u8] = b"layout_version";

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
