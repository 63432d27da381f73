use super::*;

fn text(doc: &Doc) -> String {
    doc.lines().iter().map(|l| l.0).collect::<Vec<_>>().join("\n")
}

fn kinds(doc: &Doc) -> Vec<(String, Kind)> {
    doc.lines().iter().map(|l| (l.0.to_string(), l.1)).collect()
}

#[test]
fn blocks_breaks_entities_and_whitespace() {
    let d = to_doc(
        "<html><head><style>p{color:red}</style><title>x</title></head><body><div>Hola&nbsp;Ana,</div><div><br></div>\
         <p class=MsoNormal>Adjunto   la\n factura &amp; el <b>BL</b>.<o:p></o:p></p><p class=MsoNormal><o:p>&nbsp;</o:p></p>\
         <p>Saludos</p></body></html>",
    );
    assert_eq!(text(&d), "Hola Ana,\n\nAdjunto la factura & el BL.\n\nSaludos");
}

#[test]
fn hidden_and_comments_are_not_text() {
    let d = to_doc(
        "<span style=\"display: none !important\">preheader</span><!--[if mso]>x<![endif]--><div>visible</div><script>var a='<div>';</script>",
    );
    assert_eq!(text(&d), "visible");
}

#[test]
fn table_cells_stay_apart() {
    let d = to_doc(
        "<table><tr><td>Contenedor</td><td>MSKU1234565</td></tr><tr><th>B/L</th><td>MAEU123456789</td></tr>\
         <tr><td>Nave<td>MSC LORETO</tr></table>",
    );
    assert_eq!(text(&d), "Contenedor\tMSKU1234565\nB/L\tMAEU123456789\nNave\tMSC LORETO");
    let rows: Vec<(&str, &str)> = d.rows.iter().map(|r| (r.key.as_str(), r.value.as_str())).collect();
    assert_eq!(rows, vec![("Contenedor", "MSKU1234565"), ("B/L", "MAEU123456789"), ("Nave", "MSC LORETO")]);
}

#[test]
fn quote_containers_and_outlook_cut() {
    let d = to_doc(
        "<div>Listo.</div><div class=\"gmail_quote\"><div class=\"gmail_attr\">El mar, 1 dic 2026, Ana escribió:<br></div>\
         <blockquote class=\"gmail_quote\">#cerrar OC-2026-000001</blockquote></div><div>after</div>",
    );
    assert_eq!(
        kinds(&d),
        vec![
            ("Listo.".into(), Kind::Body),
            ("El mar, 1 dic 2026, Ana escribió:".into(), Kind::Quote),
            ("#cerrar OC-2026-000001".into(), Kind::Quote),
            ("after".into(), Kind::Body),
        ]
    );
    let o = to_doc(
        "<div>Hecho.</div><div id=\"appendonsend\"></div><hr style=\"display:inline-block;width:98%\"><div id=\"divRplyFwdMsg\">\
         <b>De:</b> Ana</div><div>viejo</div>",
    );
    assert_eq!(kinds(&o)[0], ("Hecho.".into(), Kind::Body));
    assert!(o.lines()[1..].iter().all(|l| l.1 == Kind::Quote), "{:?}", kinds(&o));
}

#[test]
fn gmail_indent_is_not_a_quote_and_signatures_are_marked() {
    let d = to_doc(
        "<blockquote style=\"margin:0 0 0 40px;border:none;padding:0px\">sangría</blockquote>\
         <div class=\"gmail_signature\" data-smartmail=\"gmail_signature\">Ana Quispe</div>\
         <p><span style=\"font-size:7.0pt;color:#7F7F7F\">AVISO DE CONFIDENCIALIDAD</span></p>\
         <p>mixed <span style=\"font-size:7pt\">small</span></p>",
    );
    assert_eq!(
        kinds(&d),
        vec![
            ("sangría".into(), Kind::Body),
            ("Ana Quispe".into(), Kind::Sig),
            ("AVISO DE CONFIDENCIALIDAD".into(), Kind::Small),
            ("mixed small".into(), Kind::Body),
        ]
    );
}

#[test]
fn greys_and_sizes() {
    assert!(is_grey("#888888") && is_grey("#7f7f7f") && is_grey("gray") && is_grey("rgb(150, 150, 150)"));
    assert!(!is_grey("#1f497d") && !is_grey("#000000") && !is_grey("#ffffff") && !is_grey("red"));
    assert!(small_font_size("font-family:arial;font-size:7.5pt") && small_font_size("font-size:9px"));
    assert!(!small_font_size("font-size:11pt") && !small_font_size("font-size:14px"));
}

#[test]
fn nested_tables_are_not_key_value_rows() {
    let d = to_doc(
        "<table><tr><td><table><tr><td>DAM</td><td>118-2026-10-012345</td></tr></table></td><td>x</td></tr></table>",
    );
    let rows: Vec<(&str, &str)> = d.rows.iter().map(|r| (r.key.as_str(), r.value.as_str())).collect();
    assert_eq!(rows, vec![("DAM", "118-2026-10-012345")]);
}

#[test]
fn pre_keeps_lines() {
    let d = to_doc("<pre>a  b\nc</pre>");
    assert_eq!(text(&d), "a  b\nc");
}
