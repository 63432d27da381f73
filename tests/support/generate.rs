//! Realistic generated desk mails (Spanish), for the crash test and the
//! `run --once` benchmark. Deterministic: mail `i` is always the same bytes.
#![allow(dead_code)]

/// A minimal valid PDF whose text layer holds `lines`.
pub fn pdf(lines: &[&str]) -> Vec<u8> {
    let mut content = String::from("BT /F1 11 Tf 50 780 Td 14 TL\n");
    for l in lines {
        content.push_str(&format!("({}) Tj T*\n", l.replace('(', "\\(").replace(')', "\\)")));
    }
    content.push_str("ET\n");
    let objs = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>".to_string(),
        format!("<< /Length {} >>\nstream\n{content}endstream", content.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_string(),
    ];
    let mut out = String::from("%PDF-1.4\n");
    let mut offsets = Vec::new();
    for (i, o) in objs.iter().enumerate() {
        offsets.push(out.len());
        out.push_str(&format!("{} 0 obj\n{o}\nendobj\n", i + 1));
    }
    let xref = out.len();
    out.push_str(&format!("xref\n0 {}\n0000000000 65535 f \n", objs.len() + 1));
    for o in offsets {
        out.push_str(&format!("{o:010} 00000 n \n"));
    }
    out.push_str(&format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objs.len() + 1));
    out.into_bytes()
}

pub fn b64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for (n, c) in data.chunks(3).enumerate() {
        let b = [c[0], *c.get(1).unwrap_or(&0), *c.get(2).unwrap_or(&0)];
        let v = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for k in 0..4 {
            if k <= c.len() {
                s.push(T[((v >> (18 - 6 * k)) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
        if n % 19 == 18 {
            s.push_str("\r\n");
        }
    }
    s
}

/// A container number with a valid check digit, unique per `n`.
pub fn container(n: usize) -> String {
    let owner = "MSKU";
    let serial = format!("{:06}", n % 1_000_000);
    let s = format!("{owner}{serial}");
    let val = |c: u8| -> u32 {
        if c.is_ascii_digit() {
            u32::from(c - b'0')
        } else {
            let v = 10 + u32::from(c - b'A');
            v + (v - 1) / 10
        }
    };
    let sum: u32 = s.bytes().enumerate().map(|(i, c)| val(c) << i).sum();
    format!("{s}{}", (sum % 11) % 10)
}

/// What kind of mail `i` is.
pub fn kind(i: usize) -> &'static str {
    match i % 10 {
        0..=4 => "documentos",
        5 | 6 => "estado",
        7 => "reclamo",
        8 => "proforma",
        _ => "pago",
    }
}

/// Mail number `i`: (file name, bytes). Every sender is distinct, so the
/// per-sender reply limit never hides an acknowledgement.
pub fn mail(i: usize) -> (String, Vec<u8>) {
    let domain = if i.is_multiple_of(2) { "andestextil.test" } else { "pacificfoods.test" };
    let from = format!("Usuario {i} <usuario{i}@{domain}>");
    let mid = format!("<gen{i}.{}@{domain}>", i * 7919);
    let date = "Tue, 01 Dec 2026 09:00:00 -0500";
    let head = |subject: &str, ctype: &str| {
        format!(
            "From: {from}\r\nTo: Operaciones CLI <ops@cli.test>\r\nSubject: {subject}\r\nDate: {date}\r\nMessage-ID: {mid}\r\nMIME-Version: 1.0\r\nContent-Type: {ctype}\r\n"
        )
    };
    let body = match kind(i) {
        "documentos" => {
            let cont = container(i);
            let inv = format!("INV-2026-{i:05}");
            let factura = pdf(&["COMMERCIAL INVOICE", &format!("Invoice No. {inv}"), "Incoterm CFR Callao"]);
            let bl = pdf(&["BILL OF LADING", &format!("Container {cont}"), "Port of loading: Shanghai"]);
            let text = format!(
                "Buenos días,\r\nles hago llegar la factura comercial y el BL del embarque del contenedor {cont}.\r\nSaludos,\r\nUsuario {i}\r\n"
            );
            format!(
                "{}\r\n--b{i}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n--b{i}\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"Factura {inv}.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n--b{i}\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"BL {cont}.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n--b{i}--\r\n",
                head(&format!("Documentos embarque {cont}"), &format!("multipart/mixed; boundary=\"b{i}\"")),
                b64(&factura),
                b64(&bl)
            )
        }
        "estado" => format!(
            "{}\r\nBuenas tardes, ¿me confirman el status de mi carga? Quedo atento.\r\n",
            head("Consulta de estado", "text/plain; charset=utf-8")
        ),
        "reclamo" => format!(
            "{}\r\nEs inaceptable la demora en el despacho; nos están cobrando almacenaje y nadie nos da respuesta. Les hago responsables.\r\n",
            head("Reclamo por demora", "text/plain; charset=utf-8")
        ),
        "proforma" => format!(
            "{}\r\n¿Me pueden enviar una cotización para el desaduanaje de un contenedor de 40'?\r\n",
            head("Cotización", "text/plain; charset=utf-8")
        ),
        _ => format!(
            "{}\r\nYa realizamos la transferencia, adjuntamos el número de operación 00{i}.\r\n",
            head("Pago realizado", "text/plain; charset=utf-8")
        ),
    };
    (format!("{i:06}.gen.eml"), body.into_bytes())
}

/// Automatic replies the desk should queue for mail `i` (acks to the client).
pub fn replies_to_client(i: usize) -> usize {
    match kind(i) {
        "documentos" | "estado" | "reclamo" => 1,
        _ => 0,
    }
}
