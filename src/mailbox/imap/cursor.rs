//! Where to start reading a folder: a pure decision from the stored cursor
//! and what SELECT says (chatmail's `select_folder.rs`), tested without a
//! server.

use crate::store::Cursor;

/// What SELECT reported about the folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Selected {
    pub uid_validity: u32,
    pub uid_next: u32,
    pub exists: u32,
}

/// What the decision means, for the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// First start: the mail already there is left alone.
    FirstStartNewOnly,
    /// First start: the mail already there is recorded silently.
    FirstStartImport,
    /// The server renumbered the folder (UIDVALIDITY changed): read it all
    /// again; what was processed is recognised by its identity and only moved.
    Rescan { old_validity: u32 },
    /// UIDNEXT went below what we read (a restored or rebuilt folder with the
    /// same UIDVALIDITY): read it all again, likewise.
    Resync { last_uid: u32 },
    /// Go on from the stored cursor.
    Keep,
}

/// The cursor to read from, and why.
pub fn decide(stored: Option<Cursor>, sel: Selected, import_existing: bool) -> (Cursor, Start) {
    let from_scratch = Cursor { uid_validity: sel.uid_validity, last_uid: 0, import_below: 0 };
    match stored {
        None if import_existing => (
            Cursor { uid_validity: sel.uid_validity, last_uid: 0, import_below: sel.uid_next },
            Start::FirstStartImport,
        ),
        None => (
            Cursor { uid_validity: sel.uid_validity, last_uid: sel.uid_next.saturating_sub(1), import_below: 0 },
            Start::FirstStartNewOnly,
        ),
        Some(c) if c.uid_validity != sel.uid_validity => (from_scratch, Start::Rescan { old_validity: c.uid_validity }),
        Some(c) if sel.uid_next > 0 && sel.uid_next <= c.last_uid => {
            (from_scratch, Start::Resync { last_uid: c.last_uid })
        }
        Some(c) => (c, Start::Keep),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sel(uid_validity: u32, uid_next: u32) -> Selected {
        Selected { uid_validity, uid_next, exists: 3 }
    }

    fn cur(uid_validity: u32, last_uid: u32, import_below: u32) -> Cursor {
        Cursor { uid_validity, last_uid, import_below }
    }

    #[test]
    fn the_cursor_decision_table() {
        let cases: Vec<(Option<Cursor>, Selected, bool, Cursor, Start)> = vec![
            (None, sel(7, 11), false, cur(7, 10, 0), Start::FirstStartNewOnly),
            (None, sel(7, 11), true, cur(7, 0, 11), Start::FirstStartImport),
            (None, sel(7, 1), false, cur(7, 0, 0), Start::FirstStartNewOnly),
            (Some(cur(7, 10, 0)), sel(7, 15), false, cur(7, 10, 0), Start::Keep),
            (Some(cur(7, 0, 11)), sel(7, 15), true, cur(7, 0, 11), Start::Keep),
            (Some(cur(7, 10, 0)), sel(8, 4), false, cur(8, 0, 0), Start::Rescan { old_validity: 7 }),
            (Some(cur(7, 10, 0)), sel(7, 5), false, cur(7, 0, 0), Start::Resync { last_uid: 10 }),
            (Some(cur(7, 10, 0)), sel(7, 11), false, cur(7, 10, 0), Start::Keep),
            (Some(cur(7, 10, 0)), sel(7, 10), false, cur(7, 0, 0), Start::Resync { last_uid: 10 }),
        ];
        for (stored, s, import, want, why) in cases {
            assert_eq!(decide(stored, s, import), (want, why), "{stored:?} {s:?} import={import}");
        }
    }
}
