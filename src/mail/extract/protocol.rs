//! What goes between buzon and its extractor process, over the child's
//! stdin and stdout.
//!
//! Every message is a *head* — a little-endian `u32` length and that many
//! bytes of postcard-encoded serde data — optionally followed by a *blob* of
//! raw bytes whose length the head gives. File contents travel as blobs, so
//! neither side holds an encoded copy of a 20 MiB PDF or of a member.
//!
//! ```text
//! buzon → child:  Job head, data blob                  (one per attachment)
//! child → buzon:  (Event::Member head, data blob)*, Event::Done head
//! ```
//!
//! The child streams each ZIP member as soon as it is read, so it holds one
//! member at a time; buzon holds what it keeps anyway. A child that dies
//! mid-reply leaves a short read, which the caller treats as a death.

use std::io::{self, Read, Write};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::limits::{Budget, Limits};
use crate::mail::Problem;

/// Largest head accepted (texts are capped far below it).
pub const MAX_HEAD: usize = 16 * 1024 * 1024;

/// What to extract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum What {
    Pdf,
    Zip,
}

/// One attachment to extract; its bytes follow as a blob.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub what: What,
    /// The attachment's (sanitised) name: the container of its members.
    pub name: String,
    pub limits: Limits,
    /// What is left of the mail's budget for this job.
    pub budget: Budget,
    /// CPU seconds the job may use (the child sets its own `RLIMIT_CPU`).
    pub cpu_seconds: u64,
    pub data_len: u64,
}

/// A ZIP member the extractor kept, as it reaches the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Sanitised file name (no path).
    pub name: String,
    pub content_type: String,
    /// Name of the archive it came from.
    pub container: String,
    pub text: String,
    pub problems: Vec<Problem>,
    pub data: Vec<u8>,
}

/// A member's head: everything but its bytes, which follow as a blob.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberHead {
    pub name: String,
    pub content_type: String,
    pub container: String,
    pub text: String,
    pub problems: Vec<Problem>,
    pub data_len: u64,
}

/// The end of a job: the attachment's own text and problems, and how much
/// of the mail's budget the job used.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Done {
    pub text: String,
    pub problems: Vec<Problem>,
    pub used: Budget,
}

/// What the child sends back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Event {
    Member(MemberHead),
    Done(Done),
}

fn invalid(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

/// Write one head.
pub fn write_head<W: Write, T: Serialize>(w: &mut W, value: &T) -> io::Result<()> {
    let bytes = postcard::to_stdvec(value).map_err(|e| invalid(format!("cannot encode: {e}")))?;
    let len = u32::try_from(bytes.len()).map_err(|_| invalid("head too large"))?;
    w.write_all(&len.to_le_bytes())?;
    w.write_all(&bytes)
}

/// Read one head. A clean end of input before its first byte is
/// `UnexpectedEof` (the other side is gone).
pub fn read_head<R: Read, T: DeserializeOwned>(r: &mut R) -> io::Result<T> {
    let mut len = [0u8; 4];
    r.read_exact(&mut len)?;
    let len = u32::from_le_bytes(len) as usize;
    if len > MAX_HEAD {
        return Err(invalid(format!("head of {len} bytes, over {MAX_HEAD}")));
    }
    let mut buf = vec![0u8; len];
    r.read_exact(&mut buf)?;
    postcard::from_bytes(&buf).map_err(|e| invalid(format!("cannot decode: {e}")))
}

/// Read a blob of `len` bytes, refusing more than `max`.
pub fn read_blob<R: Read>(r: &mut R, len: u64, max: u64) -> io::Result<Vec<u8>> {
    if len > max {
        return Err(invalid(format!("blob of {len} bytes, over {max}")));
    }
    let mut buf = Vec::new();
    let got = r.take(len).read_to_end(&mut buf)?;
    if (got as u64) < len {
        return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "short blob"));
    }
    Ok(buf)
}

/// Send a member: its head, then its bytes.
pub fn write_member<W: Write>(w: &mut W, m: Member) -> io::Result<()> {
    let head = MemberHead {
        name: m.name,
        content_type: m.content_type,
        container: m.container,
        text: m.text,
        problems: m.problems,
        data_len: m.data.len() as u64,
    };
    write_head(w, &Event::Member(head))?;
    w.write_all(&m.data)
}

impl MemberHead {
    pub fn with_data(self, data: Vec<u8>) -> Member {
        Member {
            name: self.name,
            content_type: self.content_type,
            container: self.container,
            text: self.text,
            problems: self.problems,
            data,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job() -> Job {
        Job {
            what: What::Zip,
            name: "documentos.zip".into(),
            limits: Limits::default(),
            budget: Budget { inflated: 1 << 20, members: 7 },
            cpu_seconds: 16,
            data_len: 3,
        }
    }

    #[test]
    fn a_job_and_a_reply_survive_the_round_trip() {
        let mut wire = Vec::new();
        write_head(&mut wire, &job()).unwrap_or_else(|e| panic!("{e}"));
        wire.extend_from_slice(b"PK!");
        let m = Member {
            name: "Factura 1.pdf".into(),
            content_type: "application/pdf".into(),
            container: "documentos.zip".into(),
            text: "COMMERCIAL INVOICE\n".into(),
            problems: vec![Problem::new("pdf_no_text", "x")],
            data: b"%PDF-1.4".to_vec(),
        };
        write_member(&mut wire, m.clone()).unwrap_or_else(|e| panic!("{e}"));
        let done = Done { text: "Factura 1.pdf\n".into(), problems: vec![], used: Budget { inflated: 8, members: 1 } };
        write_head(&mut wire, &Event::Done(done.clone())).unwrap_or_else(|e| panic!("{e}"));

        let mut r = wire.as_slice();
        let got: Job = read_head(&mut r).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(got, job());
        assert_eq!(read_blob(&mut r, got.data_len, 10).unwrap_or_default(), b"PK!");
        let Ok(Event::Member(head)) = read_head::<_, Event>(&mut r) else { panic!("a member first") };
        let len = head.data_len;
        assert_eq!(head.with_data(read_blob(&mut r, len, 100).unwrap_or_default()), m);
        assert_eq!(read_head::<_, Event>(&mut r).ok(), Some(Event::Done(done)));
        assert_eq!(read_head::<_, Event>(&mut r).map_err(|e| e.kind()).err(), Some(io::ErrorKind::UnexpectedEof));
    }

    #[test]
    fn short_or_oversized_input_is_an_error_not_a_hang_or_an_allocation() {
        let mut wire = Vec::new();
        write_head(&mut wire, &job()).unwrap_or_else(|e| panic!("{e}"));
        // Cut in the middle of the head: a child that died mid-write.
        let cut = &wire[..wire.len() / 2];
        assert!(read_head::<_, Job>(&mut &cut[..]).is_err());
        // A length prefix of 4 GiB is refused before anything is allocated.
        assert!(read_head::<_, Job>(&mut &[0xff, 0xff, 0xff, 0xff, 0][..]).is_err());
        assert!(read_blob(&mut &b"abc"[..], 3, 2).is_err(), "over the caller's maximum");
        assert_eq!(
            read_blob(&mut &b"ab"[..], 3, 10).map_err(|e| e.kind()).err(),
            Some(io::ErrorKind::UnexpectedEof),
            "short blob"
        );
    }
}
