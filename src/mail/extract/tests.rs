//! The bounds, one by one, on files made here (in-process: unit tests know
//! no buzon binary; tests/bombs.rs runs the real extractor child).

use std::io::Write;
use std::time::{Duration, Instant};

use lopdf::{Document, Object, Stream, dictionary};

use super::*;

/// A PDF with one page per entry of `pages`, each page's content stream
/// deflated. Pages hold their content as given (operators).
pub fn pdf_with_contents(pages: &[Vec<u8>]) -> Vec<u8> {
    pdf_saved(pages, false)
}

/// The same, its objects in a compressed object stream (PDF 1.5 style).
fn pdf_with_object_streams(pages: &[Vec<u8>]) -> Vec<u8> {
    pdf_saved(pages, true)
}

fn pdf_saved(pages: &[Vec<u8>], object_streams: bool) -> Vec<u8> {
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font_id = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica",
    });
    let resources_id = doc.add_object(dictionary! { "Font" => dictionary! { "F1" => font_id } });
    let mut kids = Vec::new();
    for content in pages {
        let mut stream = Stream::new(dictionary! {}, content.clone());
        let _ = stream.compress();
        let content_id = doc.add_object(stream);
        let page_id = doc.add_object(dictionary! {
            "Type" => "Page", "Parent" => pages_id, "Contents" => content_id,
            "Resources" => resources_id, "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        });
        kids.push(Object::Reference(page_id));
    }
    let count = kids.len() as i64;
    doc.objects
        .insert(pages_id, Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => kids, "Count" => count }));
    let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog_id);
    let mut out = Vec::new();
    let options =
        lopdf::SaveOptions::builder().use_object_streams(object_streams).use_xref_streams(object_streams).build();
    doc.save_with_options(&mut out, options).unwrap_or_else(|e| panic!("{e}"));
    out
}

/// A PDF whose pages show these lines of text.
pub fn pdf(pages: &[&[&str]]) -> Vec<u8> {
    let contents: Vec<Vec<u8>> = pages
        .iter()
        .map(|lines| {
            let mut c = String::from("BT /F1 11 Tf 50 780 Td 14 TL\n");
            for l in *lines {
                c.push_str(&format!("({l}) Tj T*\n"));
            }
            c.push_str("ET\n");
            c.into_bytes()
        })
        .collect();
    pdf_with_contents(&contents)
}

/// A ZIP of (name, bytes), deflated.
pub fn zip(members: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut w = ::zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = ::zip::write::SimpleFileOptions::default()
        .compression_method(::zip::CompressionMethod::Deflated)
        .large_file(true);
    for (name, data) in members {
        w.start_file(*name, opts).unwrap_or_else(|e| panic!("{e}"));
        w.write_all(data).unwrap_or_else(|e| panic!("{e}"));
    }
    w.finish().unwrap_or_else(|e| panic!("{e}")).into_inner()
}

fn codes(problems: &[Problem]) -> Vec<&str> {
    problems.iter().map(|p| p.code.as_str()).collect()
}

fn run(what: What, data: &[u8], limits: &Limits) -> Extracted {
    MailExtractor::new(limits).extract(what, "adjunto", data)
}

#[test]
fn an_ordinary_invoice_is_read_whole_without_problems() {
    let file = pdf(&[&["COMMERCIAL INVOICE", "Invoice No. INV-2026-0042"], &["Incoterm CFR Callao"]]);
    let x = run(What::Pdf, &file, &Limits::default());
    assert!(x.problems.is_empty(), "{:?}", x.problems);
    assert!(x.text.contains("COMMERCIAL INVOICE\nInvoice No. INV-2026-0042"), "{}", x.text);
    assert!(x.text.contains("Incoterm CFR Callao"), "page 2: {}", x.text);
}

#[test]
fn each_pdf_bound_stops_reading_and_says_which() {
    let tj = |n: usize| b"BT /F1 11 Tf 50 780 Td ".iter().copied().chain(b"(x) Tj ".repeat(n)).collect::<Vec<u8>>();
    let no_text_ops = |n: usize| b"q Q ".repeat(n);
    // (what, file, limits, expected problem detail fragment, text wanted)
    let base = Limits::default();
    let cases: Vec<(&str, Vec<u8>, Limits, &str, &str)> = vec![
        (
            "pages",
            pdf(&[&["FIRST"], &["SECOND"], &["THIRD"]]),
            Limits { max_pdf_pages: 2, ..base.clone() },
            "3 pages: only the first 2 read",
            "SECOND",
        ),
        (
            "operators",
            pdf_with_contents(&[no_text_ops(50_000)]),
            Limits { max_pdf_operators: 10_000, ..base.clone() },
            "over 10000 content operators",
            "",
        ),
        (
            "page content",
            pdf_with_contents(&[tj(10), no_text_ops(300_000)]),
            Limits { max_pdf_page_content: 1 << 20, ..base.clone() },
            "page 2: its content inflates past 1 MiB",
            "xxxxxxxxxx",
        ),
        (
            "all pages' content",
            pdf_with_contents(&[tj(10), no_text_ops(200_000), no_text_ops(200_000)]),
            Limits { max_pdf_content: 1 << 20, ..base.clone() },
            "stopped at page 3: the pages' content inflates past 1 MiB",
            "xxxxxxxxxx",
        ),
        (
            "text",
            pdf_with_contents(&[tj(5_000)]),
            Limits { max_text_bytes: 1000, ..base.clone() },
            "text cut at 1000",
            "",
        ),
        (
            "stream at load",
            pdf_with_object_streams(&[tj(10)]),
            Limits { max_pdf_stream: 10, ..base.clone() },
            "inflates past",
            "",
        ),
    ];
    for (what, file, limits, detail, text) in cases {
        let x = run(What::Pdf, &file, &limits);
        let p = x.problems.iter().find(|p| p.code == "extract_limit");
        assert!(p.is_some_and(|p| p.detail.contains(detail)), "{what}: {:?}", x.problems);
        assert!(x.text.contains(text), "{what}: text {:?}", x.text);
        assert!(x.text.len() <= limits.max_text_bytes, "{what}");
        assert!(!codes(&x.problems).contains(&"pdf_no_text"), "{what}: a limit is not a scan: {:?}", x.problems);
    }
}

#[test]
fn an_operator_bomb_costs_little_memory_and_stops_at_the_operator_bound() {
    // 2.3 million show-text operators without a font: no text, all CPU.
    // lopdf's own extract_text collects them into one Vec (~4 GB at 15
    // million); the bounded reader looks at them one at a time.
    let file = pdf_with_contents(&[b"(A) Tj ".repeat(2_300_000)]);
    assert!(file.len() < 200_000, "a small file: {} bytes", file.len());
    let started = Instant::now();
    // The operator bound is under test, not the deadline: a debug build on a
    // busy machine may need more than the default 5 s to reach it.
    let limits = Limits { pdf_timeout: Duration::from_secs(60), ..Limits::default() };
    let x = run(What::Pdf, &file, &limits);
    assert!(
        x.problems.iter().any(|p| p.code == "extract_limit" && p.detail.contains("over 2000000 content operators")),
        "{:?}",
        x.problems
    );
    assert!(started.elapsed() < Duration::from_secs(60), "{:?}", started.elapsed());
}

#[test]
fn unreadable_encrypted_oversized_and_scanned_pdfs_are_problems() {
    let limits = Limits::default();
    let scan = pdf_with_contents(&[b"q 100 0 0 100 0 0 cm Q".to_vec()]);
    let cases: Vec<(&str, Vec<u8>, Limits, &str)> = vec![
        ("no header", b"GIF89a".to_vec(), limits.clone(), "pdf_unreadable"),
        ("broken", b"%PDF-1.4\n2 0 obj\n<</Length 3 0 R>>\nstream\nbroken".to_vec(), limits.clone(), "pdf_unreadable"),
        ("too large", scan.clone(), Limits { max_pdf_bytes: 100, ..limits.clone() }, "pdf_too_large"),
        ("scan", scan, limits.clone(), "pdf_no_text"),
    ];
    for (what, file, limits, code) in cases {
        let x = run(What::Pdf, &file, &limits);
        assert_eq!(codes(&x.problems), vec![code], "{what}");
    }
}

#[test]
fn zip_members_become_documents_only_by_name_or_type() {
    let archive = zip(&[
        ("documentos/Factura 77.pdf", pdf(&[&["COMMERCIAL INVOICE 77"]])),
        ("documentos/packing.csv", b"bultos;peso\n12;340 kg\n".to_vec()),
        ("foto.jpg", b"\xff\xd8\xff\xe0jpeg".to_vec()),
        ("scan0001", b"%PDF-1.4 not really".to_vec()),
        ("setup.exe", b"MZ\x90\0".to_vec()),
        ("datos.bin", vec![0; 100]),
    ]);
    let x = run(What::Zip, &archive, &Limits::default());
    let kept: Vec<(&str, &str)> = x.members.iter().map(|m| (m.name.as_str(), m.content_type.as_str())).collect();
    assert_eq!(
        kept,
        vec![
            ("Factura 77.pdf", "application/pdf"),
            ("packing.csv", "text/csv"),
            ("foto.jpg", "image/jpeg"),
            ("scan0001", "application/pdf")
        ]
    );
    assert!(x.members.iter().all(|m| m.container == "adjunto"));
    assert!(x.members[0].text.contains("COMMERCIAL INVOICE 77"));
    assert!(x.members[1].text.contains("340 kg"));
    assert_eq!(codes(&x.members[3].problems), vec!["pdf_unreadable"]);
    // Every member is named in the archive's text, kept or not.
    for name in ["documentos/Factura 77.pdf", "setup.exe", "datos.bin", "COMMERCIAL INVOICE 77"] {
        assert!(x.text.contains(name), "{name} in {}", x.text);
    }
    let skipped = x.problems.iter().find(|p| p.code == "zip_skipped");
    assert!(
        skipped.is_some_and(|p| p.detail.contains("2 members") && p.detail.contains("setup.exe")),
        "{:?}",
        x.problems
    );
}

#[test]
fn nested_archives_open_two_levels_deep_and_no_deeper() {
    let level3 = zip(&[("muy-adentro.pdf", pdf(&[&["DEEP"]]))]);
    let level2 = zip(&[("nivel3.zip", level3), ("bl.pdf", pdf(&[&["BILL OF LADING"]]))]);
    let level1 = zip(&[("nivel2.zip", level2)]);
    let x = run(What::Zip, &level1, &Limits::default());
    let kept: Vec<(&str, &str)> = x.members.iter().map(|m| (m.name.as_str(), m.container.as_str())).collect();
    // Members of an inner archive come before it.
    assert_eq!(kept, vec![("nivel3.zip", "nivel2.zip"), ("bl.pdf", "nivel2.zip"), ("nivel2.zip", "adjunto")]);
    assert_eq!(codes(&x.members[0].problems), vec!["zip_nesting"], "level 3 is kept unopened");
    assert!(x.text.contains("BILL OF LADING"), "level 2 is read: {}", x.text);
    assert!(!x.text.contains("DEEP"));
}

#[test]
fn archive_and_mail_limits_are_reported_where_they_bite() {
    let many: Vec<(String, Vec<u8>)> = (0..300).map(|i| (format!("doc{i:03}.pdf"), b"%PDF-1.4".to_vec())).collect();
    let many: Vec<(&str, Vec<u8>)> = many.iter().map(|(n, d)| (n.as_str(), d.clone())).collect();
    let zeros = |mib: usize| vec![0u8; mib << 20];
    let base = Limits::default();
    // (case, archive, limits, members kept, code, detail fragment)
    type Case<'a> = (&'a str, Vec<u8>, Limits, usize, &'a str, &'a str);
    let cases: Vec<Case> = vec![
        ("members per archive", zip(&many), base.clone(), 64, "zip_limit", "300 members, only the first 64 looked at"),
        (
            "bytes per member",
            zip(&[("grande.pdf", zeros(3)), ("chico.pdf", b"%PDF".to_vec())]),
            Limits { max_zip_member_bytes: 2 << 20, ..base.clone() },
            1,
            "zip_limit",
            "grande.pdf: 3145728 bytes inflated, over the 2 MiB limit: not kept",
        ),
        (
            "members per mail",
            zip(&many[..20]),
            Limits { max_mail_members: 5, ..base.clone() },
            5,
            "budget",
            "15 members of adjunto not kept",
        ),
        (
            "inflated bytes per mail",
            zip(&[("a.pdf", zeros(3)), ("b.pdf", zeros(3)), ("c.pdf", zeros(3))]),
            Limits { max_mail_inflated: 7 << 20, ..base.clone() },
            2,
            "budget",
            "1 members of adjunto not kept: c.pdf",
        ),
    ];
    for (case, archive, limits, kept, code, detail) in cases {
        let x = run(What::Zip, &archive, &limits);
        assert_eq!(x.members.len(), kept, "{case}");
        let p = x.problems.iter().find(|p| p.code == code);
        assert!(p.is_some_and(|p| p.detail.contains(detail)), "{case}: {:?}", x.problems);
    }
}

#[test]
fn the_budget_is_per_mail_across_attachments() {
    let limits = Limits { max_mail_members: 3, ..Limits::default() };
    let archive = zip(&[("a.pdf", b"%PDF".to_vec()), ("b.pdf", b"%PDF".to_vec())]);
    let mut mail = MailExtractor::new(&limits);
    assert_eq!(mail.extract(What::Zip, "uno.zip", &archive).members.len(), 2);
    let second = mail.extract(What::Zip, "dos.zip", &archive);
    assert_eq!(second.members.len(), 1, "one member left in the mail's budget");
    assert!(codes(&second.problems).contains(&"budget"));
    // A new mail has its own.
    assert_eq!(MailExtractor::new(&limits).extract(What::Zip, "dos.zip", &archive).members.len(), 2);
}

#[test]
fn a_late_file_is_a_timeout_and_a_spent_mail_reads_no_more() {
    let slow = pdf_with_contents(&[b"q Q ".repeat(1_500_000)]);
    let limits = Limits { pdf_timeout: Duration::from_millis(1), ..Limits::default() };
    let x = run(What::Pdf, &slow, &limits);
    assert_eq!(codes(&x.problems), vec!["pdf_timeout"]);
    let limits = Limits { mail_timeout: Duration::ZERO, ..Limits::default() };
    let x = run(What::Pdf, &pdf(&[&["x"]]), &limits);
    assert_eq!(codes(&x.problems), vec!["budget"]);
    assert!(x.problems[0].detail.contains("extraction time"));
}

#[test]
fn cut_text_is_reported_once_and_on_a_character_boundary() {
    let mut problems = Vec::new();
    let mut s = "añoñoño".to_string();
    cap_text(&mut s, 4, &mut problems);
    assert_eq!(s, "año");
    cap_text(&mut s, 1, &mut problems);
    assert_eq!(s, "a");
    assert_eq!(codes(&problems), vec!["extract_limit"]);
    let mut short = "ok".to_string();
    cap_text(&mut short, 10, &mut problems);
    assert_eq!(problems.len(), 1, "nothing cut, nothing said");
}
