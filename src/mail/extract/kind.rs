//! What a file is, from its magic bytes, MIME type and name: which
//! attachments are read (PDF, ZIP) and which ZIP members become documents.

/// Is this attachment a PDF?
pub fn is_pdf(name: &str, content_type: &str, data: &[u8]) -> bool {
    data.starts_with(b"%PDF") || content_type.ends_with("/pdf") || name.to_ascii_lowercase().ends_with(".pdf")
}

/// Is this attachment a ZIP archive to open? Office documents are ZIPs too
/// (and often sent as `application/octet-stream`): a generic type opens only
/// a file named `.zip` or one without an extension.
pub fn is_zip(name: &str, content_type: &str, data: &[u8]) -> bool {
    let lower = name.to_ascii_lowercase();
    let ext = lower.rsplit_once('.').map(|(_, e)| e);
    data.starts_with(b"PK\x03\x04")
        && (content_type.contains("zip")
            || ext == Some("zip")
            || (content_type == "application/octet-stream" && ext.is_none()))
}

/// What a ZIP member is, and so what becomes of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Member {
    /// A PDF: kept, its text read.
    Pdf,
    /// A ZIP archive: kept, opened within the nesting limit.
    Zip,
    /// Text (TXT, CSV, XML): kept, its text read.
    Text(&'static str),
    /// A document that is kept but not read (images, office files, mails).
    Document(&'static str),
    /// Anything else (executables, unknown octet-streams): listed by name
    /// in the archive's text, not kept.
    Other,
}

impl Member {
    /// The MIME type the kept attachment gets.
    pub fn content_type(self) -> &'static str {
        match self {
            Member::Pdf => "application/pdf",
            Member::Zip => "application/zip",
            Member::Text(t) | Member::Document(t) => t,
            Member::Other => "application/octet-stream",
        }
    }
}

/// By extension (lower case), the documents a desk receives.
const BY_EXTENSION: &[(&str, Member)] = &[
    ("pdf", Member::Pdf),
    ("zip", Member::Zip),
    ("txt", Member::Text("text/plain")),
    ("csv", Member::Text("text/csv")),
    ("xml", Member::Text("application/xml")),
    ("jpg", Member::Document("image/jpeg")),
    ("jpeg", Member::Document("image/jpeg")),
    ("png", Member::Document("image/png")),
    ("tif", Member::Document("image/tiff")),
    ("tiff", Member::Document("image/tiff")),
    ("gif", Member::Document("image/gif")),
    ("bmp", Member::Document("image/bmp")),
    ("heic", Member::Document("image/heic")),
    ("webp", Member::Document("image/webp")),
    ("doc", Member::Document("application/msword")),
    ("docx", Member::Document("application/vnd.openxmlformats-officedocument.wordprocessingml.document")),
    ("xls", Member::Document("application/vnd.ms-excel")),
    ("xlsx", Member::Document("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")),
    ("ppt", Member::Document("application/vnd.ms-powerpoint")),
    ("pptx", Member::Document("application/vnd.openxmlformats-officedocument.presentationml.presentation")),
    ("odt", Member::Document("application/vnd.oasis.opendocument.text")),
    ("ods", Member::Document("application/vnd.oasis.opendocument.spreadsheet")),
    ("rtf", Member::Document("application/rtf")),
    ("eml", Member::Document("message/rfc822")),
    ("msg", Member::Document("application/vnd.ms-outlook")),
    ("rar", Member::Document("application/x-rar")),
    ("7z", Member::Document("application/x-7z-compressed")),
];

/// What a ZIP member is: by its name's extension, else by its first bytes
/// (`head`, what the archive declares or the first bytes read).
pub fn member(name: &str, head: &[u8]) -> Member {
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    if let Some((_, m)) = BY_EXTENSION.iter().find(|(e, _)| *e == ext) {
        return *m;
    }
    if head.starts_with(b"%PDF") {
        Member::Pdf
    } else if head.starts_with(b"PK\x03\x04") {
        Member::Zip
    } else if head.starts_with(b"\xff\xd8\xff") {
        Member::Document("image/jpeg")
    } else if head.starts_with(b"\x89PNG") {
        Member::Document("image/png")
    } else if head.starts_with(b"II*\0") || head.starts_with(b"MM\0*") {
        Member::Document("image/tiff")
    } else {
        Member::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_are_documents_by_name_or_magic_and_nothing_else_is() {
        let cases: &[(&str, &[u8], Member)] = &[
            ("Factura 001.PDF", b"", Member::Pdf),
            ("scan0001", b"%PDF-1.7", Member::Pdf),
            ("docs/anexos.zip", b"", Member::Zip),
            ("sin-nombre", b"PK\x03\x04rest", Member::Zip),
            (
                "packing list.xlsx",
                b"PK\x03\x04",
                Member::Document("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            ),
            ("DAM 118-2026.xml", b"<?xml", Member::Text("application/xml")),
            ("contenedores.csv", b"a;b", Member::Text("text/csv")),
            ("foto carga.JPG", b"", Member::Document("image/jpeg")),
            ("IMG_2231", b"\xff\xd8\xff\xe0", Member::Document("image/jpeg")),
            ("escaneo", b"II*\0", Member::Document("image/tiff")),
            ("setup.exe", b"MZ", Member::Other),
            ("datos.bin", b"\0\0\0", Member::Other),
            ("README", b"hello", Member::Other),
            ("", b"", Member::Other),
        ];
        for (name, head, want) in cases {
            assert_eq!(member(name, head), *want, "{name}");
        }
    }

    #[test]
    fn attachments_are_read_as_pdf_or_zip_by_magic_type_or_name() {
        assert!(is_pdf("x.bin", "application/octet-stream", b"%PDF-1.4"));
        assert!(is_pdf("factura.pdf", "application/octet-stream", b""));
        assert!(is_pdf("", "application/pdf", b""));
        assert!(!is_pdf("foto.jpg", "image/jpeg", b"\xff\xd8"));
        assert!(is_zip("docs.zip", "application/x-zip-compressed", b"PK\x03\x04"));
        assert!(is_zip("adjunto", "application/octet-stream", b"PK\x03\x04"));
        // An office document is a ZIP too, but not one to open.
        assert!(!is_zip("lista.xlsx", "application/vnd.ms-excel", b"PK\x03\x04"));
        assert!(!is_zip("Packing list.xlsm", "application/octet-stream", b"PK\x03\x04"));
        assert!(is_zip("ANEXOS.ZIP", "application/octet-stream", b"PK\x03\x04"));
        assert!(!is_zip("docs.zip", "application/zip", b"not a zip"));
    }
}
