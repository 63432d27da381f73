//! What the source does in the selected folder: hand out the messages above
//! the cursor, move (or quarantine) what the pipeline acknowledged, append
//! sent copies, and advance the cursor past everything acknowledged.

use std::collections::BTreeSet;

use futures_util::TryStreamExt;
use tokio::sync::mpsc;

use super::connect::{ImapError, Session, within};
use crate::config::ImapConfig;
use crate::mailbox::{Body, Meta, RawMessage, SourceEvent, Token};
use crate::store::{Cursor, Store};

/// Messages handed out and not yet acknowledged, at most.
pub const MAX_IN_FLIGHT: usize = 1024;
/// UIDs per FETCH.
const FETCH_CHUNK: usize = 64;

/// What the pipeline asks of the IMAP task.
pub enum Request {
    Ack(Vec<(u32, u32)>),
    Quarantine(u32, u32),
    Append(Vec<u8>),
    Close(tokio::sync::oneshot::Sender<()>),
}

/// What the server offers.
pub struct Caps {
    pub idle: bool,
    pub mv: bool,
    pub uidplus: bool,
}

/// What survives a reconnect.
#[derive(Default)]
pub struct State {
    pub uid_validity: Option<u32>,
    pub cursor: Option<Cursor>,
    pub next_uid: u32,
    pub in_flight: BTreeSet<u32>,
    pub queued: Vec<Request>,
    pub closing: Option<tokio::sync::oneshot::Sender<()>>,
}

/// `1:3,7,9:10`
pub fn uid_set(uids: &[u32]) -> String {
    let mut v = uids.to_vec();
    v.sort_unstable();
    v.dedup();
    let mut out = String::new();
    let mut i = 0;
    while i < v.len() {
        let start = v[i];
        let mut end = start;
        while i + 1 < v.len() && v[i + 1] == end + 1 {
            i += 1;
            end = v[i];
        }
        if !out.is_empty() {
            out.push(',');
        }
        if start == end {
            out.push_str(&start.to_string());
        } else {
            out.push_str(&format!("{start}:{end}"));
        }
        i += 1;
    }
    out
}

/// Move, quarantine and append what the pipeline asked for; advance the cursor.
pub async fn apply(
    session: &mut Session,
    s: &ImapConfig,
    caps: &Caps,
    store: &Store,
    state: &mut State,
) -> Result<(), ImapError> {
    if state.queued.is_empty() {
        return Ok(());
    }
    let validity = state.uid_validity.unwrap_or(0);
    let mut done = Vec::new();
    let mut quarantine = Vec::new();
    let mut appends = Vec::new();
    for r in std::mem::take(&mut state.queued) {
        match r {
            Request::Ack(v) => done.extend(v.into_iter().filter(|(val, _)| *val == validity).map(|(_, u)| u)),
            Request::Quarantine(val, u) if val == validity => quarantine.push(u),
            Request::Quarantine(..) => {}
            Request::Append(b) => appends.push(b),
            Request::Close(tx) => state.closing = Some(tx),
        }
    }
    // On failure the requests go back in the queue for the next session.
    let requeue = |state: &mut State, done: &[u32], quarantine: &[u32], appends: Vec<Vec<u8>>| {
        if !done.is_empty() {
            state.queued.push(Request::Ack(done.iter().map(|u| (validity, *u)).collect()));
        }
        for u in quarantine {
            state.queued.push(Request::Quarantine(validity, *u));
        }
        for a in appends {
            state.queued.push(Request::Append(a));
        }
    };
    if !s.keep_in_folder
        && !done.is_empty()
        && let Err(e) = move_uids(session, caps, &done, &s.processed_folder).await
    {
        requeue(state, &done, &quarantine, appends);
        return Err(e);
    }
    if !s.keep_in_folder
        && !quarantine.is_empty()
        && let Err(e) = move_uids(session, caps, &quarantine, &s.quarantine_folder).await
    {
        requeue(state, &[], &quarantine, appends);
        return Err(e);
    }
    for u in done.iter().chain(&quarantine) {
        state.in_flight.remove(u);
    }
    if let Some(sent) = &s.sent_folder {
        for (i, bytes) in appends.iter().enumerate() {
            if let Err(e) = within("APPEND", session.append(sent, Some("(\\Seen)"), None, bytes)).await {
                requeue(state, &[], &[], appends[i..].to_vec());
                return Err(e);
            }
        }
    }
    // Advance the cursor past everything acknowledged.
    let last = match state.in_flight.first() {
        Some(first) => first.saturating_sub(1),
        None => state.next_uid.saturating_sub(1),
    };
    if let Some(c) = state.cursor.as_mut()
        && last > c.last_uid
    {
        c.last_uid = last;
        store.set_cursor(&s.cursor_name(), c)?;
    }
    Ok(())
}

async fn move_uids(session: &mut Session, caps: &Caps, uids: &[u32], to: &str) -> Result<(), ImapError> {
    for chunk in uids.chunks(500) {
        let set = uid_set(chunk);
        if caps.mv {
            within("UID MOVE", session.uid_mv(&set, to)).await?;
        } else {
            within("UID COPY", session.uid_copy(&set, to)).await?;
            {
                let stream = within("UID STORE", session.uid_store(&set, "+FLAGS.SILENT (\\Deleted)")).await?;
                within("UID STORE", stream.try_collect::<Vec<_>>()).await?;
            }
            if caps.uidplus {
                let stream = within("UID EXPUNGE", session.uid_expunge(&set)).await?;
                within("UID EXPUNGE", stream.try_collect::<Vec<_>>()).await?;
            } else {
                let stream = within("EXPUNGE", session.expunge()).await?;
                within("EXPUNGE", stream.try_collect::<Vec<_>>()).await?;
            }
        }
    }
    Ok(())
}

/// Fetch what is above the cursor and not yet handed out. Returns how many,
/// or `None` when the pipeline is gone.
pub async fn fetch_new(
    session: &mut Session,
    s: &ImapConfig,
    state: &mut State,
    events: &mpsc::Sender<SourceEvent>,
    validity: u32,
) -> Result<Option<usize>, ImapError> {
    let room = MAX_IN_FLIGHT.saturating_sub(state.in_flight.len());
    if room == 0 {
        return Ok(Some(0));
    }
    let from = state.next_uid.max(1);
    let found = within("UID SEARCH", session.uid_search(format!("UID {from}:*"))).await?;
    // `n:*` also matches the last message when its UID is below n.
    let mut uids: Vec<u32> = found.into_iter().filter(|u| *u >= from && !state.in_flight.contains(u)).collect();
    uids.sort_unstable();
    uids.truncate(room);
    let import_below = state.cursor.map(|c| c.import_below).unwrap_or(0);
    let mut sent = 0;
    for chunk in uids.chunks(FETCH_CHUNK) {
        let set = uid_set(chunk);
        let mut got: Vec<(u32, Vec<u8>)> = {
            let stream = within("UID FETCH", session.uid_fetch(&set, "(UID BODY.PEEK[])")).await?;
            let fetches: Vec<async_imap::types::Fetch> = within("UID FETCH", stream.try_collect()).await?;
            fetches.iter().filter_map(|f| Some((f.uid?, f.body()?.to_vec()))).collect()
        };
        got.sort_by_key(|(u, _)| *u);
        for (uid, raw) in got {
            if uid < from {
                continue;
            }
            let meta = Meta {
                name: format!("{} UID {uid}", s.folder),
                token: Token::Imap { uid_validity: validity, uid },
                silent: uid < import_below,
            };
            if events.send(SourceEvent::Message(RawMessage { meta, body: Body::Bytes(raw) })).await.is_err() {
                return Ok(None);
            }
            state.in_flight.insert(uid);
            state.next_uid = state.next_uid.max(uid + 1);
            sent += 1;
        }
        // A UID that vanished between SEARCH and FETCH (expunged by a person) is skipped.
        if let Some(last) = chunk.last() {
            state.next_uid = state.next_uid.max(last + 1);
        }
    }
    Ok(Some(sent))
}

#[cfg(test)]
mod tests {
    use super::uid_set;

    #[test]
    fn uid_sets_are_compact_ranges() {
        assert_eq!(uid_set(&[1, 2, 3, 7, 9, 10]), "1:3,7,9:10");
        assert_eq!(uid_set(&[5]), "5");
        assert_eq!(uid_set(&[3, 1, 2, 2]), "1:3");
        assert_eq!(uid_set(&[]), "");
    }
}
