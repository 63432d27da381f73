//! How much work extraction may spend: per file, per archive, per mail, and
//! what the extractor process itself may use. Every limit that is reached is
//! reported as a [`Problem`](crate::mail::Problem) on the attachment.

use std::time::Duration;

use serde::{Deserialize, Serialize};

const MIB: u64 = 1024 * 1024;

/// Limits on the work spent extracting text from one mail's attachments.
///
/// The defaults fit a customs desk: a 5 MB invoice PDF of 30 pages and a ZIP
/// of 20 scanned PDFs are read whole, while a crafted file stops at a limit
/// within a second or two and a few tens of MiB. The lead wires these to
/// config keys; each field says its unit and the problem code it reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Limits {
    /// PDFs larger than this (bytes) are kept but not read: `pdf_too_large`.
    /// Default 20 MiB.
    pub max_pdf_bytes: usize,
    /// Only the first pages of a PDF are read; the rest is reported as
    /// `extract_limit`. Default 50.
    pub max_pdf_pages: u32,
    /// Decompressed bytes of one page's content streams; a page over it is
    /// skipped (`extract_limit`). Default 16 MiB (real pages: KiB to a few MiB).
    pub max_pdf_page_content: usize,
    /// Decompressed bytes of all pages' content in one PDF; reading stops
    /// there (`extract_limit`). Default 64 MiB.
    pub max_pdf_content: usize,
    /// Bytes any single stream may decompress to while the PDF is loaded
    /// (object and cross-reference streams); over it the PDF is not read
    /// (`extract_limit`). Default 32 MiB.
    pub max_pdf_stream: usize,
    /// Content-stream operators interpreted in one PDF (`Tj`, `Td`, `re`…);
    /// reading stops there (`extract_limit`). This bounds the CPU a page of
    /// millions of tiny operators costs. Default 2,000,000 (a dense real page
    /// has some 10,000–50,000).
    pub max_pdf_operators: u64,
    /// Wall time for one PDF attachment; past it the extractor is killed and
    /// replaced (`pdf_timeout`). Default 5 s.
    pub pdf_timeout: Duration,
    /// Wall time for one ZIP attachment with everything inside it; past it
    /// the extractor is killed and replaced (`zip_timeout`). Default 15 s.
    pub zip_timeout: Duration,
    /// Extracted text kept per attachment (bytes); the rest is cut
    /// (`extract_limit`). Default 256 KiB.
    pub max_text_bytes: usize,
    /// Members of one ZIP archive looked at; the rest are not
    /// (`zip_limit`). Default 64.
    pub max_zip_members: usize,
    /// Decompressed bytes of one ZIP member; a larger member is listed but
    /// not kept (`zip_limit`). Default 20 MiB.
    pub max_zip_member_bytes: u64,
    /// ZIP-in-ZIP levels opened: 1 opens only the attached archive, 2 also
    /// the archives inside it. Deeper ones are kept unopened (`zip_nesting`).
    /// Default 2.
    pub max_zip_depth: u32,
    /// Per mail: decompressed bytes of all ZIP members together. Past it no
    /// more members are kept (`budget`). Default 64 MiB.
    pub max_mail_inflated: u64,
    /// Per mail: ZIP members kept as attachments (documents). Past it no
    /// more are kept (`budget`). Default 100.
    pub max_mail_members: usize,
    /// Per mail: wall time of all extraction. Past it the remaining PDFs and
    /// ZIPs are kept but not read (`budget`). Default 30 s.
    pub mail_timeout: Duration,
    /// Address space of the extractor process (`RLIMIT_AS`, bytes): a file
    /// that makes the PDF reader allocate past it kills the extractor, not
    /// buzon (`extractor_died` when it happens twice). Default 512 MiB: the
    /// idle extractor maps some 90 MiB, so files get ~400 MiB (a 20 MiB PDF
    /// needs well under 100).
    pub worker_address_space: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_pdf_bytes: 20 * MIB as usize,
            max_pdf_pages: 50,
            max_pdf_page_content: 16 * MIB as usize,
            max_pdf_content: 64 * MIB as usize,
            max_pdf_stream: 32 * MIB as usize,
            max_pdf_operators: 2_000_000,
            pdf_timeout: Duration::from_secs(5),
            zip_timeout: Duration::from_secs(15),
            max_text_bytes: 256 * 1024,
            max_zip_members: 64,
            max_zip_member_bytes: 20 * MIB,
            max_zip_depth: 2,
            max_mail_inflated: 64 * MIB,
            max_mail_members: 100,
            mail_timeout: Duration::from_secs(30),
            worker_address_space: 512 * MIB,
        }
    }
}

/// What is left of one mail's budget. Created per mail from its [`Limits`];
/// every job takes its share and gives back what it used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Budget {
    /// Decompressed ZIP-member bytes still allowed.
    pub inflated: u64,
    /// ZIP members that may still be kept.
    pub members: usize,
}

impl Budget {
    pub const ZERO: Budget = Budget { inflated: 0, members: 0 };

    pub fn new(limits: &Limits) -> Budget {
        Budget { inflated: limits.max_mail_inflated, members: limits.max_mail_members }
    }

    /// Subtract what a job used (saturating: a job never gives back more
    /// than it was given, but a confused one must not wrap the budget).
    pub fn spend(&mut self, used: Budget) {
        self.inflated = self.inflated.saturating_sub(used.inflated);
        self.members = self.members.saturating_sub(used.members);
    }
}
