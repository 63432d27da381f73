//! Text extraction from attachments: the text layer of PDFs and the members
//! of ZIP archives, each bounded in size and time. Extraction never panics
//! the caller: PDF parsing runs on its own thread under `catch_unwind` and a
//! deadline, and what could not be read becomes a problem.

use std::io::Read;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;
use std::time::Duration;

use super::Problem;

/// Limits on the work spent extracting text from one mail's attachments.
#[derive(Debug, Clone)]
pub struct Limits {
    /// PDFs larger than this are kept but not read (bytes).
    pub max_pdf_bytes: usize,
    /// Only the first pages of a PDF are read.
    pub max_pdf_pages: u32,
    /// Time allowed for one PDF.
    pub pdf_timeout: Duration,
    /// Extracted text kept per attachment (bytes).
    pub max_text_bytes: usize,
    /// ZIP members looked at.
    pub max_zip_members: usize,
    /// Decompressed bytes read from one ZIP member.
    pub max_zip_member_bytes: u64,
    /// Decompressed bytes read from all the ZIP archives of one mail
    /// (archives inside archives included): 64 members of 20 MiB would
    /// otherwise inflate a 1.3 MB attachment to 1.3 GB.
    pub max_zip_total_bytes: u64,
    /// ZIP members read from one mail, all archives together.
    pub max_zip_total_members: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_pdf_bytes: 20 * 1024 * 1024,
            max_pdf_pages: 30,
            pdf_timeout: Duration::from_secs(5),
            max_text_bytes: 256 * 1024,
            max_zip_members: 64,
            max_zip_member_bytes: 20 * 1024 * 1024,
            max_zip_total_bytes: 64 * 1024 * 1024,
            max_zip_total_members: 256,
        }
    }
}

/// What kind of content a file is, from its magic bytes, type and name.
pub fn is_pdf(name: &str, content_type: &str, data: &[u8]) -> bool {
    data.starts_with(b"%PDF") || content_type.ends_with("/pdf") || name.to_ascii_lowercase().ends_with(".pdf")
}

pub fn is_zip(name: &str, content_type: &str, data: &[u8]) -> bool {
    data.starts_with(b"PK\x03\x04")
        && (content_type.contains("zip")
            || name.to_ascii_lowercase().ends_with(".zip")
            || content_type == "application/octet-stream")
}

/// Extract the text layer of a PDF. `Ok("")` means a PDF without text (a scan).
pub fn pdf_text(data: &[u8], limits: &Limits) -> Result<String, Problem> {
    if data.len() > limits.max_pdf_bytes {
        return Err(Problem::new("pdf_too_large", format!("{} bytes, limit {}", data.len(), limits.max_pdf_bytes)));
    }
    if !data.starts_with(b"%PDF") && !data.get(..1024).is_some_and(|h| h.windows(4).any(|w| w == b"%PDF")) {
        return Err(Problem::new("pdf_unreadable", "no PDF header"));
    }
    PDF_WORKER.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            *slot = PdfWorker::start().ok();
        }
        let Some(worker) = slot.as_ref() else {
            return Err(Problem::new("pdf_unreadable", "cannot start the PDF reader thread"));
        };
        if worker.jobs.send((data.to_vec(), limits.max_pdf_pages)).is_err() {
            *slot = None;
            return Err(Problem::new("pdf_unreadable", "the PDF reader thread is gone"));
        }
        match worker.results.recv_timeout(limits.pdf_timeout) {
            Ok(Ok(r)) => r,
            Ok(Err(())) => Err(Problem::new("pdf_unreadable", "the PDF reader failed on this file")),
            Err(_) => {
                // Abandon the stuck reader (it ends when its file does); the
                // next PDF gets a fresh one.
                *slot = None;
                Err(Problem::new("pdf_timeout", format!("text extraction took over {:?}", limits.pdf_timeout)))
            }
        }
    })
}

type PdfJob = (Vec<u8>, u32);
type PdfResult = Result<Result<String, Problem>, ()>;

/// A long-lived PDF reader thread per calling thread: extraction runs off the
/// caller's stack, under `catch_unwind` and a deadline, without a thread
/// spawn per file.
struct PdfWorker {
    jobs: mpsc::Sender<PdfJob>,
    results: mpsc::Receiver<PdfResult>,
}

impl PdfWorker {
    fn start() -> std::io::Result<PdfWorker> {
        let (jobs, job_rx) = mpsc::channel::<PdfJob>();
        let (res_tx, results) = mpsc::channel::<PdfResult>();
        std::thread::Builder::new().name("pdf-text".into()).spawn(move || {
            for (bytes, pages) in job_rx {
                let result = catch_unwind(AssertUnwindSafe(|| pdf_text_inner(&bytes, pages))).map_err(|_| ());
                if res_tx.send(result).is_err() {
                    break;
                }
            }
        })?;
        Ok(PdfWorker { jobs, results })
    }
}

thread_local! {
    static PDF_WORKER: std::cell::RefCell<Option<PdfWorker>> = const { std::cell::RefCell::new(None) };
}

fn pdf_text_inner(data: &[u8], max_pages: u32) -> Result<String, Problem> {
    let doc = lopdf::Document::load_mem(data).map_err(|e| {
        let msg = e.to_string();
        if msg.to_ascii_lowercase().contains("encrypt") || msg.to_ascii_lowercase().contains("password") {
            Problem::new("pdf_encrypted", "password-protected PDF")
        } else {
            Problem::new("pdf_unreadable", msg)
        }
    })?;
    if doc.is_encrypted() {
        return Err(Problem::new("pdf_encrypted", "password-protected PDF"));
    }
    let pages: Vec<u32> = doc.get_pages().keys().copied().take(max_pages as usize).collect();
    let mut text = String::new();
    for p in pages {
        if let Ok(t) = doc.extract_text(&[p]) {
            text.push_str(&t);
            text.push('\n');
        }
    }
    Ok(text)
}

/// One member of a ZIP archive.
pub struct ZipMember {
    pub name: String,
    pub size: u64,
    pub data: Vec<u8>,
}

/// Read the members of a ZIP archive within limits.
pub fn zip_members(data: &[u8], limits: &Limits, problems: &mut Vec<Problem>) -> Vec<ZipMember> {
    let mut out = Vec::new();
    let mut archive = match zip::ZipArchive::new(std::io::Cursor::new(data)) {
        Ok(a) => a,
        Err(e) => {
            problems.push(Problem::new("zip_unreadable", e.to_string()));
            return out;
        }
    };
    let n = archive.len();
    if n > limits.max_zip_members {
        problems
            .push(Problem::new("zip_limit", format!("{n} members, only the first {} read", limits.max_zip_members)));
    }
    let mut total: u64 = 0;
    for i in 0..n.min(limits.max_zip_members) {
        let cap = limits.max_zip_member_bytes.min(limits.max_zip_total_bytes.saturating_sub(total));
        if cap == 0 {
            problems
                .push(Problem::new("zip_limit", format!("size budget used up: members from {} on not read", i + 1)));
            break;
        }
        let mut file = match archive.by_index(i) {
            Ok(f) => f,
            Err(e) => {
                problems.push(Problem::new("zip_unreadable", format!("member {i}: {e}")));
                continue;
            }
        };
        if file.is_dir() {
            continue;
        }
        let name = file.name().map(|n| n.to_string()).unwrap_or_else(|_| format!("member-{i}"));
        let size = file.size();
        let mut buf = Vec::new();
        let read = (&mut file).take(cap).read_to_end(&mut buf);
        total += buf.len() as u64;
        if let Err(e) = read {
            problems.push(Problem::new("zip_unreadable", format!("{name}: {e}")));
            continue;
        }
        if size > cap {
            problems.push(Problem::new("zip_limit", format!("{name}: {size} bytes, truncated")));
        }
        out.push(ZipMember { name, size, data: buf });
    }
    out
}

/// Cut `s` to at most `max` bytes on a character boundary.
pub fn truncate(s: &mut String, max: usize) {
    if s.len() > max {
        let mut cut = max;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
}
