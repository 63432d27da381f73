//! Reply and forward shapes of the mail clients the desk receives, in
//! Spanish and English, plain text and HTML-only. In every mail the quoted
//! or forwarded part holds a client's `#cerrar OC-2026-000001` and
//! `#resuelto R-000001 …`; the staff member's own text holds a command or
//! not. `command_text` must hold exactly the staff's own commands, the
//! history must land in `quoted_text` (a reply) or `forwarded_text` (a
//! forward, with its sender in `forwarded_from`), and `new_text` must keep
//! what the staff member wrote.
//!
//! The markup follows what each client writes (Outlook's Word HTML and
//! `divRplyFwdMsg`, Gmail's `gmail_quote`, Apple's `blockquote type=cite`,
//! Thunderbird's `moz-cite-prefix` and header table, Notes' grey header
//! fonts, Zimbra's `zwchr` divider, Yahoo's `yahoo_quoted`).

use buzon::mail::{Mail, ParseOptions, parse};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Client {
    OutlookDesktop,
    OutlookWeb,
    OutlookMobile,
    Gmail,
    AppleMail,
    Thunderbird,
    LotusNotes,
    Zimbra,
    Yahoo,
}

const CLIENTS: [Client; 9] = [
    Client::OutlookDesktop,
    Client::OutlookWeb,
    Client::OutlookMobile,
    Client::Gmail,
    Client::AppleMail,
    Client::Thunderbird,
    Client::LotusNotes,
    Client::Zimbra,
    Client::Yahoo,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lang {
    Es,
    En,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fmt {
    Text,
    Html,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Reply,
    Forward,
}

const CLIENT_ADDR: &str = "aquispe@andestextil.test";
const QUOTED_COMMANDS: [&str; 2] = ["#cerrar OC-2026-000001", "#resuelto R-000001 cliente conforme con la entrega"];

/// The client's mail that is quoted or forwarded.
fn original(lang: Lang) -> Vec<&'static str> {
    match lang {
        Lang::Es => vec![
            "Buenos días,",
            "Ya recibimos toda la mercadería en almacén, pueden cerrar la orden.",
            QUOTED_COMMANDS[0],
            QUOTED_COMMANDS[1],
            "",
            "Saludos,",
            "Ana Quispe",
            "Andes Textil S.A.C.",
        ],
        Lang::En => vec![
            "Good morning,",
            "All the goods are in our warehouse now, you can close the order.",
            QUOTED_COMMANDS[0],
            QUOTED_COMMANDS[1],
            "",
            "Best regards,",
            "Ana Quispe",
            "Andes Textil S.A.C.",
        ],
    }
}

/// What the staff member writes: sentences and maybe a command.
fn own(lang: Lang, shape: Shape, command: Option<&'static str>) -> Vec<&'static str> {
    let first = match (lang, shape) {
        (Lang::Es, Shape::Reply) => "Listo, ya lo coordiné con almacén.",
        (Lang::Es, Shape::Forward) => "Les reenvío la conformidad de Andes Textil para su revisión.",
        (Lang::En, Shape::Reply) => "Done, the warehouse has been told.",
        (Lang::En, Shape::Forward) => "Forwarding the client's confirmation for your review.",
    };
    let mut v = vec![first];
    v.extend(command);
    v
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

struct Hdr {
    from: &'static str,
    to: &'static str,
    date: &'static str,
    subject: &'static str,
}

fn hdr(lang: Lang) -> Hdr {
    match lang {
        Lang::Es => Hdr {
            from: "Ana Quispe <aquispe@andestextil.test>",
            to: "Operaciones CLI <ops@cli.test>",
            date: "martes, 1 de diciembre de 2026 09:22",
            subject: "Cierre de orden OC-2026-000001",
        },
        Lang::En => Hdr {
            from: "Ana Quispe <aquispe@andestextil.test>",
            to: "Operaciones CLI <ops@cli.test>",
            date: "Tuesday, December 1, 2026 9:22 AM",
            subject: "Closing order OC-2026-000001",
        },
    }
}

/// Header block keys in the client's language: (from, sent, to, subject).
fn keys(client: Client, lang: Lang) -> [&'static str; 4] {
    match (client, lang) {
        (Client::OutlookDesktop, Lang::Es) => ["De", "Enviado el", "Para", "Asunto"],
        (Client::LotusNotes | Client::AppleMail, Lang::Es) => ["De", "Fecha", "Para", "Asunto"],
        (Client::Zimbra, Lang::Es) => ["De", "Enviados", "Para", "Asunto"],
        (_, Lang::Es) => ["De", "Enviado", "Para", "Asunto"],
        (Client::LotusNotes | Client::AppleMail, Lang::En) => ["From", "Date", "To", "Subject"],
        (_, Lang::En) => ["From", "Sent", "To", "Subject"],
    }
}

/// (plain body, HTML body) of one mail.
fn bodies(client: Client, lang: Lang, shape: Shape, mine: &[&str]) -> (String, String) {
    let h = hdr(lang);
    let orig = original(lang);
    let [kf, ks, kt, ksub] = keys(client, lang);
    let es = lang == Lang::Es;
    let fwd = shape == Shape::Forward;
    let orig_txt = orig.join("\n");
    let quoted_gt: String =
        orig.iter().map(|l| if l.is_empty() { ">\n".to_string() } else { format!("> {l}\n") }).collect();
    let mine_txt = mine.join("\n");
    let orig_html_divs: String = orig
        .iter()
        .map(|l| if l.is_empty() { "<div><br></div>".into() } else { format!("<div>{}</div>", esc(l)) })
        .collect();
    let orig_html_brs: String = orig.iter().map(|l| format!("{}<br>", esc(l))).collect();
    let from_html = esc(h.from);
    let to_html = esc(h.to);
    match client {
        Client::OutlookDesktop => {
            let sep = if es { "-----Mensaje original-----" } else { "-----Original Message-----" };
            let sig_txt = if es {
                "Saludos,\nCarla Ríos\nEjecutiva de Operaciones | CLI Aduanas\nT. (01) 615-8800 anexo 214"
            } else {
                "Best regards,\nCarla Ríos\nOperations Executive | CLI Aduanas\nT. +51 1 615-8800 ext. 214"
            };
            let plain = format!(
                "{mine_txt}\n\n{sig_txt}\n\n{sep}\n{kf}: {}\n{ks}: {}\n{kt}: {}\n{ksub}: {}\n\n{orig_txt}\n",
                h.from, h.date, h.to, h.subject
            );
            let p = |l: &str| {
                if l.is_empty() {
                    "<p class=\"MsoNormal\"><o:p>&nbsp;</o:p></p>".to_string()
                } else {
                    format!("<p class=\"MsoNormal\">{}<o:p></o:p></p>", esc(l))
                }
            };
            let mine_html: String = mine.iter().map(|l| p(l)).collect();
            let orig_p: String = orig.iter().map(|l| p(l)).collect();
            let (closing, title) = if es {
                ("Saludos,", "Ejecutiva de Operaciones | CLI Aduanas")
            } else {
                ("Best regards,", "Operations Executive | CLI Aduanas")
            };
            let html = format!(
                "<html xmlns:v=\"urn:schemas-microsoft-com:vml\" xmlns:o=\"urn:schemas-microsoft-com:office:office\" xmlns:w=\"urn:schemas-microsoft-com:office:word\" xmlns=\"http://www.w3.org/TR/REC-html40\"><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\"><meta name=\"Generator\" content=\"Microsoft Word 15 (filtered medium)\"><style><!--\n/* Style Definitions */\np.MsoNormal, li.MsoNormal, div.MsoNormal\n\t{{margin:0cm;font-size:11.0pt;font-family:\"Calibri\",sans-serif;mso-fareast-language:EN-US;}}\n--></style><!--[if gte mso 9]><xml>\n<o:shapedefaults v:ext=\"edit\" spidmax=\"1026\" />\n</xml><![endif]--></head><body lang=\"ES-PE\" link=\"#0563C1\" vlink=\"#954F72\" style=\"word-wrap:break-word\"><div class=\"WordSection1\">{mine_html}<p class=\"MsoNormal\"><o:p>&nbsp;</o:p></p><p class=\"MsoNormal\"><span style=\"mso-fareast-language:ES-PE\">{closing}<o:p></o:p></span></p><p class=\"MsoNormal\"><b><span style=\"color:#1F3864;mso-fareast-language:ES-PE\">Carla Ríos</span></b><span style=\"mso-fareast-language:ES-PE\"><o:p></o:p></span></p><p class=\"MsoNormal\"><span style=\"font-size:9.0pt;color:#595959;mso-fareast-language:ES-PE\">{}<o:p></o:p></span></p><p class=\"MsoNormal\"><span style=\"font-size:9.0pt;color:#595959\">T. (01) 615-8800 anexo 214<o:p></o:p></span></p><p class=\"MsoNormal\"><o:p>&nbsp;</o:p></p><div><div style=\"border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm\"><p class=\"MsoNormal\"><b><span lang=\"ES\">{kf}:</span></b><span lang=\"ES\"> {from_html} <br><b>{ks}:</b> {}<br><b>{kt}:</b> {to_html}<br><b>{ksub}:</b> {}<o:p></o:p></span></p></div></div><p class=\"MsoNormal\"><o:p>&nbsp;</o:p></p>{orig_p}</div></body></html>",
                esc(title),
                h.date,
                esc(h.subject)
            );
            (plain, html)
        }
        Client::OutlookWeb => {
            let sig = if es {
                ["Saludos,", "Carla Ríos", "CLI Aduanas"]
            } else {
                ["Kind regards,", "Carla Ríos", "CLI Aduanas"]
            };
            let plain = format!(
                "{mine_txt}\n\n{}\n________________________________\n{kf}: {}\n{ks}: {}\n{kt}: {}\n{ksub}: {}\n\n{orig_txt}\n",
                sig.join("\n"),
                h.from,
                h.date,
                h.to,
                h.subject
            );
            let div = |l: &str| {
                format!(
                    "<div class=\"elementToProof\" style=\"font-family: Aptos, Aptos_EmbeddedFont, Aptos_MSFontService, Calibri, Helvetica, sans-serif; font-size: 12pt; color: rgb(0, 0, 0);\">{}</div>",
                    esc(l)
                )
            };
            let mine_html: String = mine.iter().map(|l| div(l)).collect();
            let sig_html: String = sig.iter().map(|l| format!("<div>{}</div>", esc(l))).collect();
            let html = format!(
                "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\"><style type=\"text/css\" style=\"display:none;\"> P {{margin-top:0;margin-bottom:0;}} </style></head><body dir=\"ltr\">{mine_html}<div class=\"elementToProof\"><br></div><div id=\"Signature\" class=\"elementToProof\">{sig_html}</div><div id=\"appendonsend\"></div><hr style=\"display:inline-block;width:98%\" tabindex=\"-1\"><div id=\"divRplyFwdMsg\" dir=\"ltr\"><font face=\"Calibri, sans-serif\" style=\"font-size:11pt\" color=\"#000000\"><b>{kf}:</b> {from_html}<br><b>{ks}:</b> {}<br><b>{kt}:</b> {to_html}<br><b>{ksub}:</b> {}</font><div>&nbsp;</div></div><div class=\"BodyFragment\"><font size=\"2\"><span style=\"font-size:11pt;\"><div class=\"PlainText\">{orig_html_brs}</div></span></font></div></body></html>",
                h.date,
                esc(h.subject)
            );
            (plain, html)
        }
        Client::OutlookMobile => {
            let (get, sent) = if es {
                ("Obtener Outlook para Android", "martes, 1 de diciembre de 2026 9:22:11 a. m.")
            } else {
                ("Get Outlook for Android", "Tuesday, December 1, 2026 9:22:11 AM")
            };
            let plain = format!(
                "{mine_txt}\n\n{get}<https://aka.ms/AAb9ysg>\n________________________________\n{kf}: {}\n{ks}: {sent}\n{kt}: ops@cli.test <ops@cli.test>\n{ksub}: {}\n\n{orig_txt}\n",
                h.from, h.subject
            );
            let mine_html: String = mine.iter().map(|l| format!("<div dir=\"auto\">{}</div>", esc(l))).collect();
            let (get1, get2) = get.rsplit_once(" para ").or(get.rsplit_once(" for ")).unwrap_or((get, ""));
            let link_word = if es { "para" } else { "for" };
            let html = format!(
                "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\"></head><body><div dir=\"auto\">{mine_html}</div><div id=\"ms-outlook-mobile-body-separator-line\" dir=\"auto\"><br></div><div id=\"ms-outlook-mobile-signature\" dir=\"auto\">{get1} <a href=\"https://aka.ms/AAb9ysg\">Outlook {link_word} {get2}</a></div><div id=\"mail-editor-reference-message-container\" dir=\"auto\"><br><hr style=\"display:inline-block;width:98%\" tabindex=\"-1\"><div id=\"divRplyFwdMsg\" dir=\"ltr\"><font face=\"Calibri, sans-serif\" color=\"#000000\" style=\"font-size:11pt\"><b>{kf}:</b> {from_html}<br><b>{ks}:</b> {sent}<br><b>{kt}:</b> ops@cli.test &lt;ops@cli.test&gt;<br><b>{ksub}:</b> {}</font><div>&nbsp;</div></div>{orig_html_divs}</div></body></html>",
                esc(h.subject)
            );
            let _ = get1;
            (plain, html)
        }
        Client::Gmail => {
            let sig = "Carla Ríos\nCLI Aduanas | Operaciones";
            let (attr_plain, attr_html, fsep, date) = if es {
                (
                    "El mar, 1 dic 2026 a las 9:22, Ana Quispe (<aquispe@andestextil.test>)\nescribió:",
                    "El mar, 1 dic 2026 a las 9:22, Ana Quispe (&lt;<a href=\"mailto:aquispe@andestextil.test\">aquispe@andestextil.test</a>&gt;) escribió:<br>",
                    "---------- Mensaje reenviado ---------",
                    "mar, 1 dic 2026 a las 9:22",
                )
            } else {
                (
                    "On Tue, Dec 1, 2026 at 9:22 AM Ana Quispe <aquispe@andestextil.test>\nwrote:",
                    "On Tue, Dec 1, 2026 at 9:22 AM Ana Quispe &lt;<a href=\"mailto:aquispe@andestextil.test\">aquispe@andestextil.test</a>&gt; wrote:<br>",
                    "---------- Forwarded message ---------",
                    "Tue, Dec 1, 2026 at 9:22 AM",
                )
            };
            let kfrom = if es { "De" } else { "From" };
            let plain = if fwd {
                format!(
                    "{mine_txt}\n\n-- \n{sig}\n\n{fsep}\n{kfrom}: {}\nDate: {date}\nSubject: {}\nTo: {}\n\n\n{orig_txt}\n",
                    h.from, h.subject, h.to
                )
            } else {
                format!("{mine_txt}\n\n-- \n{sig}\n\n{attr_plain}\n\n{quoted_gt}")
            };
            let mut mine_html = String::new();
            for (i, l) in mine.iter().enumerate() {
                if i == 0 {
                    mine_html.push_str(&esc(l));
                } else {
                    mine_html.push_str(&format!("<div>{}</div>", esc(l)));
                }
            }
            let sig_html = "<span class=\"gmail_signature_prefix\">-- </span><br><div dir=\"ltr\" class=\"gmail_signature\" data-smartmail=\"gmail_signature\"><div dir=\"ltr\">Carla Ríos<div>CLI Aduanas | Operaciones</div></div></div>";
            let html = if fwd {
                format!(
                    "<div dir=\"ltr\">{mine_html}<br clear=\"all\"><div><br></div>{sig_html}<br><div class=\"gmail_quote gmail_quote_container\"><div dir=\"ltr\" class=\"gmail_attr\">{fsep}<br>{kfrom}: <strong class=\"gmail_sendername\" dir=\"auto\">Ana Quispe</strong> <span dir=\"auto\">&lt;<a href=\"mailto:aquispe@andestextil.test\">aquispe@andestextil.test</a>&gt;</span><br>Date: {date}<br>Subject: {}<br>To: Operaciones CLI &lt;<a href=\"mailto:ops@cli.test\">ops@cli.test</a>&gt;<br></div><br><br><div dir=\"ltr\">{orig_html_divs}</div></div></div>",
                    esc(h.subject)
                )
            } else {
                format!(
                    "<div dir=\"ltr\">{mine_html}<br clear=\"all\"><div><br></div>{sig_html}</div><br><div class=\"gmail_quote gmail_quote_container\"><div dir=\"ltr\" class=\"gmail_attr\">{attr_html}</div><blockquote class=\"gmail_quote\" style=\"margin:0px 0px 0px 0.8ex;border-left:1px solid rgb(204,204,204);padding-left:1ex\"><div dir=\"ltr\">{orig_html_divs}</div></blockquote></div>"
                )
            };
            (plain, html)
        }
        Client::AppleMail => {
            let closing = if es { "Saludos,\nCarla" } else { "Regards,\nCarla" };
            let (attr, fsep, fdate) = if es {
                (
                    "El 1 dic 2026, a las 9:22, Ana Quispe <aquispe@andestextil.test> escribió:",
                    "Inicio del mensaje reenviado:",
                    "1 de diciembre de 2026, 9:22:11 GMT-5",
                )
            } else {
                (
                    "On Dec 1, 2026, at 9:22 AM, Ana Quispe <aquispe@andestextil.test> wrote:",
                    "Begin forwarded message:",
                    "December 1, 2026 at 9:22:11 AM GMT-5",
                )
            };
            let plain = if fwd {
                format!(
                    "{mine_txt}\n\n{closing}\n\n{fsep}\n\n{kf}: {}\n{ksub}: {}\n{ks}: {fdate}\n{kt}: {}\n\n{orig_txt}\n",
                    h.from, h.subject, h.to
                )
            } else {
                format!("{mine_txt}\n\n{closing}\n\n{attr}\n\n{quoted_gt}")
            };
            let mut mine_html = String::new();
            for (i, l) in mine.iter().enumerate() {
                if i == 0 {
                    mine_html.push_str(&esc(l));
                } else {
                    mine_html.push_str(&format!("<div>{}</div>", esc(l)));
                }
            }
            let closing_html: String = closing.lines().map(|l| format!("<div>{}</div>", esc(l))).collect();
            let span = "font-family: -webkit-system-font, Helvetica Neue, Helvetica, sans-serif;";
            let row = |k: &str, v: &str| {
                format!(
                    "<div style=\"margin-top: 0px; margin-right: 0px; margin-bottom: 0px; margin-left: 0px;\"><span style=\"{span} color:rgba(0, 0, 0, 1.0);\"><b>{k}: </b></span><span style=\"{span}\">{v}<br></span></div>"
                )
            };
            let html_body = if fwd {
                format!(
                    "<div><br><blockquote type=\"cite\"><div>{fsep}</div><br class=\"Apple-interchange-newline\">{}{}{}{}<br><div><div>{orig_html_divs}</div></div></blockquote></div>",
                    row(
                        kf,
                        "Ana Quispe &lt;<a href=\"mailto:aquispe@andestextil.test\">aquispe@andestextil.test</a>&gt;"
                    ),
                    row(ksub, &format!("<b>{}</b>", esc(h.subject))),
                    row(ks, fdate),
                    row(kt, &to_html),
                )
            } else {
                format!(
                    "<div><br><blockquote type=\"cite\"><div>{}</div><br class=\"Apple-interchange-newline\"><div><div>{orig_html_divs}</div></div></blockquote></div><br>",
                    esc(attr)
                )
            };
            let html = format!(
                "<html aria-label=\"message body\"><head><meta http-equiv=\"content-type\" content=\"text/html; charset=utf-8\"></head><body style=\"overflow-wrap: break-word; -webkit-nbsp-mode: space; line-break: after-white-space;\">{mine_html}<div><br></div>{closing_html}<div><br id=\"lineBreakAtBeginningOfMessage\">{html_body}</div></body></html>"
            );
            (plain, html)
        }
        Client::Thunderbird => {
            let (attr, fsep) = if es {
                ("El 1/12/26 a las 09:22, Ana Quispe escribió:", "-------- Mensaje reenviado --------")
            } else {
                ("On 12/1/26 9:22 AM, Ana Quispe wrote:", "-------- Forwarded Message --------")
            };
            let tb = match lang {
                Lang::Es => ["Asunto", "Fecha", "De", "Para"],
                Lang::En => ["Subject", "Date", "From", "To"],
            };
            let plain = if fwd {
                format!(
                    "{mine_txt}\n\n-- \nCarla Ríos\nCLI Aduanas\n\n\n-------- {} --------\n{}: \t{}\n{}: \tTue, 1 Dec 2026 09:22:11 -0500\n{}: \t{}\n{}: \t{}\n\n\n\n{orig_txt}\n",
                    fsep.trim_matches(|c| c == '-' || c == ' '),
                    tb[0],
                    h.subject,
                    tb[1],
                    tb[2],
                    h.from,
                    tb[3],
                    h.to
                )
            } else {
                format!("{mine_txt}\n\n-- \nCarla Ríos\nCLI Aduanas\n\n{attr}\n{quoted_gt}")
            };
            let mine_html = mine.iter().map(|l| esc(l)).collect::<Vec<_>>().join("<br>\n");
            let orig_p = orig.iter().map(|l| esc(l)).collect::<Vec<_>>().join("<br>\n");
            let th = "<th valign=\"BASELINE\" nowrap=\"nowrap\" align=\"RIGHT\">";
            let html = if fwd {
                format!(
                    "<!DOCTYPE html>\n<html>\n  <head>\n    <meta http-equiv=\"content-type\" content=\"text/html; charset=UTF-8\">\n  </head>\n  <body>\n    <p>{mine_html}</p>\n    <div class=\"moz-signature\">-- <br>\n      Carla Ríos<br>\n      CLI Aduanas</div>\n    <div class=\"moz-forward-container\"><br>\n      <br>\n      {fsep}\n      <table class=\"moz-email-headers-table\" cellspacing=\"0\" cellpadding=\"0\" border=\"0\">\n        <tbody>\n          <tr>\n            {th}{}: </th>\n            <td>{}</td>\n          </tr>\n          <tr>\n            {th}{}: </th>\n            <td>Tue, 1 Dec 2026 09:22:11 -0500</td>\n          </tr>\n          <tr>\n            {th}{}: </th>\n            <td>Ana Quispe <a class=\"moz-txt-link-rfc2396E\" href=\"mailto:aquispe@andestextil.test\">&lt;aquispe@andestextil.test&gt;</a></td>\n          </tr>\n          <tr>\n            {th}{}: </th>\n            <td>Operaciones CLI <a class=\"moz-txt-link-rfc2396E\" href=\"mailto:ops@cli.test\">&lt;ops@cli.test&gt;</a></td>\n          </tr>\n        </tbody>\n      </table>\n      <br>\n      <br>\n      <p>{orig_p}</p>\n    </div>\n  </body>\n</html>\n",
                    tb[0],
                    esc(h.subject),
                    tb[1],
                    tb[2],
                    tb[3]
                )
            } else {
                format!(
                    "<!DOCTYPE html>\n<html>\n  <head>\n    <meta http-equiv=\"Content-Type\" content=\"text/html; charset=UTF-8\">\n  </head>\n  <body>\n    <p>{mine_html}</p>\n    <div class=\"moz-signature\">-- <br>\n      Carla Ríos<br>\n      CLI Aduanas</div>\n    <div class=\"moz-cite-prefix\">{}<br>\n    </div>\n    <blockquote type=\"cite\" cite=\"mid:a1b2c3@andestextil.test\">\n      <p>{orig_p}</p>\n    </blockquote>\n    <br>\n  </body>\n</html>\n",
                    esc(attr)
                )
            };
            (plain, html)
        }
        Client::LotusNotes => {
            let fsep = if es {
                "----- Reenviado por Carla Rios/CLI el 01/12/2026 09:40 -----"
            } else {
                "----- Forwarded by Carla Rios/CLI on 12/01/2026 09:40 AM -----"
            };
            let date = if es { "01/12/2026 09:22" } else { "12/01/2026 09:22 AM" };
            let closing = if es { "Saludos,\nCarla Ríos\nCLI Aduanas" } else { "Regards,\nCarla Ríos\nCLI Aduanas" };
            let block = format!(
                "{kf}:        \"Ana Quispe\" <aquispe@andestextil.test>\n{kt}:        \"Operaciones CLI\" <ops@cli.test>\n{ks}:        {date}\n{ksub}:        {}\n",
                h.subject
            );
            let plain = if fwd {
                format!("{mine_txt}\n\n{closing}\n{fsep}\n\n{block}\n\n\n{orig_txt}\n")
            } else {
                format!("{mine_txt}\n\n{closing}\n\n\n\n{block}\n\n\n{orig_txt}\n")
            };
            let font = |l: &str| format!("<font size=2 face=\"sans-serif\">{}</font><br>", esc(l));
            let mine_html: String = mine.iter().map(|l| font(l)).collect();
            let closing_html: String = format!(
                "<br><font size=2 face=\"sans-serif\">{}</font><br>",
                closing.lines().map(esc).collect::<Vec<_>>().join("<br>")
            );
            let grey = |k: &str, v: &str| {
                format!(
                    "<font size=1 color=#5f5f5f face=\"sans-serif\">{k}:        </font><font size=1 face=\"sans-serif\">{v}</font><br>"
                )
            };
            let header_html = if fwd && lang == Lang::En {
                // Notes' older forward layout: a header table.
                format!(
                    "<font size=2 color=#5f5f5f face=\"sans-serif\">{fsep}</font><br><br><table width=100%><tr valign=top><td width=40%><font size=1 face=\"sans-serif\"><b>Ana Quispe &lt;aquispe@andestextil.test&gt;</b> </font><p><font size=1 face=\"sans-serif\">{date}</font></td><td width=59%><table width=100%><tr valign=top><td><div align=right><font size=1 face=\"sans-serif\">To</font></div></td><td><font size=1 face=\"sans-serif\">ops@cli.test</font></td></tr><tr valign=top><td><div align=right><font size=1 face=\"sans-serif\">cc</font></div></td><td></td></tr><tr valign=top><td><div align=right><font size=1 face=\"sans-serif\">Subject</font></div></td><td><font size=1 face=\"sans-serif\">{}</font></td></tr></table><br><table><tr valign=top><td></td><td></td></tr></table><br></td></tr></table><br><br>",
                    esc(h.subject)
                )
            } else {
                let rows = format!(
                    "{}{}{}{}",
                    grey(kf, "\"Ana Quispe\" &lt;aquispe@andestextil.test&gt;"),
                    grey(kt, "\"Operaciones CLI\" &lt;ops@cli.test&gt;"),
                    grey(ks, date),
                    grey(ksub, &esc(h.subject))
                );
                if fwd {
                    format!("<font size=2 color=#5f5f5f face=\"sans-serif\">{fsep}</font><br><br>{rows}<br><br><br>")
                } else {
                    format!("<br><br><br><br>{rows}<hr noshade><br><br><br>")
                }
            };
            let html = format!(
                "<html><body>{mine_html}{closing_html}<br><br>{header_html}<tt><font size=2>{orig_html_brs}</font></tt><br><BR></body></html>"
            );
            (plain, html)
        }
        Client::Zimbra => {
            let (osep, fsep) = if es {
                ("----- Mensaje original -----", "----- Mensaje reenviado -----")
            } else {
                ("----- Original Message -----", "----- Forwarded Message -----")
            };
            let sent = if es { "Martes, 1 de Diciembre 2026 9:22:11" } else { "Tuesday, December 1, 2026 9:22:11 AM" };
            let closing = if es { "Saludos,\nCarla Ríos\nCLI Aduanas" } else { "Regards,\nCarla Ríos\nCLI Aduanas" };
            let sep = if fwd { fsep } else { osep };
            let plain = format!(
                "{mine_txt}\n\n{closing}\n\n{sep}\n{kf}: \"Ana Quispe\" <aquispe@andestextil.test>\n{kt}: \"Operaciones CLI\" <ops@cli.test>\n{ks}: {sent}\n{ksub}: {}\n\n{orig_txt}\n",
                h.subject
            );
            let mine_html: String = mine.iter().map(|l| format!("<div>{}</div>", esc(l))).collect();
            let html = format!(
                "<html><body><div style=\"font-family: arial, helvetica, sans-serif; font-size: 12pt; color: #000000\"><div>{mine_html}</div><div><br></div><div data-marker=\"__SIG_PRE__\">{}</div><div data-marker=\"__SIG_POST__\"></div><hr id=\"zwchr\" data-marker=\"__DIVIDER__\"><div data-marker=\"__HEADERS__\"><b>{kf}: </b>\"Ana Quispe\" &lt;aquispe@andestextil.test&gt;<br><b>{kt}: </b>\"Operaciones CLI\" &lt;ops@cli.test&gt;<br><b>{ks}: </b>{sent}<br><b>{ksub}: </b>{}<br></div><br><div data-marker=\"__QUOTED_TEXT__\">{orig_html_divs}</div></div></body></html>",
                closing.lines().map(esc).collect::<Vec<_>>().join("<br>"),
                esc(h.subject)
            );
            (plain, html)
        }
        Client::Yahoo => {
            let (attr, fsep, sent) = if es {
                (
                    "El martes, 1 de diciembre de 2026, 09:22:11 GMT-5, Ana Quispe <aquispe@andestextil.test> escribió:",
                    "----- Mensaje reenviado -----",
                    "martes, 1 de diciembre de 2026, 09:22:11 GMT-5",
                )
            } else {
                (
                    "On Tuesday, December 1, 2026, 09:22:11 AM GMT-5, Ana Quispe <aquispe@andestextil.test> wrote:",
                    "----- Forwarded Message -----",
                    "Tuesday, December 1, 2026, 09:22:11 AM GMT-5",
                )
            };
            let closing = if es { ["Saludos,", "Carla Ríos"] } else { ["Thanks & regards,", "Carla Ríos"] };
            let plain = if fwd {
                // Yahoo glues the forward header onto one line.
                format!(
                    "{mine_txt}\n\n{}\n\n   {fsep} {kf}: {}{kt}: {}{ks}: {sent}{ksub}: {}\n \n{orig_txt}\n",
                    closing.join("\n"),
                    h.from,
                    h.to,
                    h.subject
                )
            } else {
                format!("{mine_txt}\n\n{}\n\n    {attr}  \n \n {}\n", closing.join("\n"), orig.join("\n "))
            };
            let mine_html: String = mine
                .iter()
                .chain([""].iter())
                .chain(closing.iter())
                .map(|l| {
                    if l.is_empty() {
                        "<div dir=\"ltr\" data-setdir=\"false\"><br></div>".to_string()
                    } else {
                        format!("<div dir=\"ltr\" data-setdir=\"false\">{}</div>", esc(l))
                    }
                })
                .collect();
            let inner = if fwd {
                format!(
                    "<div>{fsep}</div><div><b>{kf}:</b> {from_html}</div><div><b>{kt}:</b> {to_html}</div><div><b>{ks}:</b> {sent}</div><div><b>{ksub}:</b> {}</div><div><br></div>",
                    esc(h.subject)
                )
            } else {
                format!("<div>{}</div><div><br></div><div><br></div>", esc(attr))
            };
            let html = format!(
                "<html><head></head><body><div class=\"ydp3e1a5b2cyahoo-style-wrap\" style=\"font-family:Helvetica Neue, Helvetica, Arial, sans-serif;font-size:13px;\"><div></div>{mine_html}<div dir=\"ltr\" data-setdir=\"false\"><br></div></div><div id=\"yahoo_quoted_8765432109\" class=\"yahoo_quoted\"><div style=\"font-family:'Helvetica Neue', Helvetica, Arial, sans-serif;font-size:13px;color:#26282a;\">{inner}<div><div dir=\"ltr\">{orig_html_divs}</div></div></div></div></body></html>"
            );
            (plain, html)
        }
    }
}

/// Quoted-printable, as the clients send HTML.
fn qp(s: &str) -> String {
    let mut out = String::new();
    for line in s.split('\n') {
        let mut cur = String::new();
        for b in line.bytes() {
            let enc = if (b == b' ' || b == b'\t' || (33..=126).contains(&b)) && b != b'=' {
                (b as char).to_string()
            } else {
                format!("={b:02X}")
            };
            if cur.len() + enc.len() > 75 {
                out.push_str(&cur);
                out.push_str("=\r\n");
                cur.clear();
            }
            cur.push_str(&enc);
        }
        if cur.ends_with(' ') || cur.ends_with('\t') {
            let last = cur.pop().map(|c| format!("={:02X}", c as u8)).unwrap_or_default();
            cur.push_str(&last);
        }
        out.push_str(&cur);
        out.push_str("\r\n");
    }
    out
}

fn raw_mail(client: Client, lang: Lang, fmt: Fmt, shape: Shape, mine: &[&str]) -> Vec<u8> {
    let (plain, html) = bodies(client, lang, shape, mine);
    let h = hdr(lang);
    let prefix = match (shape, lang, client) {
        (Shape::Reply, Lang::Es, Client::LotusNotes) => "Respuesta: ",
        (Shape::Reply, _, _) => "RE: ",
        (Shape::Forward, Lang::Es, Client::Gmail | Client::AppleMail | Client::Thunderbird) => "Fwd: ",
        (Shape::Forward, Lang::Es, _) => "RV: ",
        (Shape::Forward, Lang::En, Client::OutlookDesktop | Client::OutlookWeb | Client::OutlookMobile) => "FW: ",
        (Shape::Forward, Lang::En, _) => "Fwd: ",
    };
    let mailer = match client {
        Client::OutlookDesktop => {
            "X-Mailer: Microsoft Outlook 16.0\r\nThread-Index: AQHbQ2xkZ3Y1c2RmZ2hqa2w=\r\nContent-Language: es-pe\r\n"
        }
        Client::OutlookWeb => "x-ms-has-attach: \r\nx-ms-exchange-organization-scl: -1\r\nContent-Language: es-PE\r\n",
        Client::OutlookMobile => "X-Mailer: Outlook for Android\r\n",
        Client::Gmail => "",
        Client::AppleMail => "X-Mailer: Apple Mail (2.3774.600.62)\r\n",
        Client::Thunderbird => "User-Agent: Mozilla Thunderbird\r\nContent-Language: es-ES\r\n",
        Client::LotusNotes => {
            "X-Mailer: HCL Notes Release 12.0.2 FP1 January 27, 2023\r\nX-MIMETrack: Serialize by Router on CLIMAIL01/CLI at 01/12/2026 09:40:00\r\n"
        }
        Client::Zimbra => {
            "X-Mailer: Zimbra 9.0.0_GA_4546 (ZimbraWebClient - GC119 (Win)/9.0.0_GA_4546)\r\nThread-Topic: Cierre de orden\r\n"
        }
        Client::Yahoo => "X-Mailer: WebService/1.1.22876 YMailNorrin\r\n",
    };
    let threading = if shape == Shape::Reply {
        "In-Reply-To: <a1b2c3@andestextil.test>\r\nReferences: <a1b2c3@andestextil.test>\r\n"
    } else {
        ""
    };
    let body = match fmt {
        Fmt::Text => format!(
            "Content-Type: text/plain; charset=\"utf-8\"; format=flowed\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{}",
            plain.replace('\n', "\r\n")
        ),
        Fmt::Html => {
            format!(
                "Content-Type: text/html; charset=\"utf-8\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n{}",
                qp(&html)
            )
        }
    };
    format!(
        "From: =?utf-8?q?Carla_R=C3=ADos?= <crios@cli.test>\r\nTo: Operaciones CLI <ops@cli.test>\r\nSubject: {prefix}{}\r\nDate: Tue, 01 Dec 2026 09:40:00 -0500\r\nMessage-ID: <{:?}{:?}{:?}{:?}.x@cli.test>\r\n{threading}MIME-Version: 1.0\r\n{mailer}{body}",
        h.subject, client, lang, fmt, shape
    )
    .into_bytes()
}

fn command_lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| l.strip_prefix('#').is_some_and(|r| r.starts_with(|c: char| c.is_ascii_alphabetic())))
        .map(str::to_string)
        .collect()
}

fn check(name: &str, m: &Mail, shape: Shape, mine: &[&str], command: Option<&str>) -> Vec<String> {
    let mut bad = Vec::new();
    let mut expect = |ok: bool, what: String| {
        if !ok {
            bad.push(format!("{name}: {what}"));
        }
    };
    let want: Vec<String> = command.iter().map(|c| c.to_string()).collect();
    expect(command_lines(&m.command_text) == want, format!("command_text {:?}, want {want:?}", m.command_text));
    for q in QUOTED_COMMANDS {
        expect(!m.command_text.contains(q), format!("command_text holds the quoted {q:?}"));
        expect(!m.new_text.contains(q), format!("new_text holds the quoted {q:?}: {:?}", m.new_text));
    }
    expect(m.new_text.contains(mine[0]), format!("new_text lost the sender's text: {:?}", m.new_text));
    if let Some(c) = command {
        expect(m.new_text.contains(c), format!("new_text lost the command: {:?}", m.new_text));
    }
    for own_word in ["Buenos días", "Good morning", "mercadería", "All the goods"] {
        expect(!m.new_text.contains(own_word), format!("new_text holds the original's {own_word:?}"));
    }
    match shape {
        Shape::Reply => {
            expect(
                m.quoted_text.contains(QUOTED_COMMANDS[0]),
                format!("quoted_text lacks the history: {:?}", m.quoted_text),
            );
            expect(m.forwarded_text.is_empty(), format!("a reply has forwarded_text {:?}", m.forwarded_text));
            expect(m.forwarded_from.is_empty(), "a reply has forwarded_from".into());
        }
        Shape::Forward => {
            expect(
                m.forwarded_text.contains(QUOTED_COMMANDS[0]) && m.forwarded_text.contains(QUOTED_COMMANDS[1]),
                format!("forwarded_text lacks the forwarded body: {:?}", m.forwarded_text),
            );
            let first = m.forwarded_text.lines().next().unwrap_or("");
            expect(
                first.starts_with("Buenos días") || first.starts_with("Good morning"),
                format!("forwarded_text keeps the header block: starts with {first:?}"),
            );
            expect(
                !m.quoted_text.contains(QUOTED_COMMANDS[0]),
                format!("a forward has quoted_text {:?}", m.quoted_text),
            );
            let from: Vec<&str> = m.forwarded_from.iter().map(|a| a.address.as_str()).collect();
            expect(from == [CLIENT_ADDR], format!("forwarded_from {from:?}"));
        }
    }
    bad
}

/// 9 clients × 2 languages × text/HTML × reply/forward = 72 mails; half the
/// staff texts carry a command of their own.
#[test]
fn reply_and_forward_shapes_of_every_client() {
    let mut failures = Vec::new();
    let mut rows = 0;
    let opts = ParseOptions { skip_extraction: true, ..ParseOptions::default() };
    for (ci, client) in CLIENTS.iter().enumerate() {
        for lang in [Lang::Es, Lang::En] {
            for fmt in [Fmt::Text, Fmt::Html] {
                for shape in [Shape::Reply, Shape::Forward] {
                    let command = match (ci + rows) % 3 {
                        0 => None,
                        1 => Some("#hecho T-000101"),
                        _ => Some("#revisado OC-2026-000777"),
                    };
                    let mine = own(lang, shape, command);
                    let raw = raw_mail(*client, lang, fmt, shape, &mine);
                    let m = parse(&raw, &opts);
                    let name = format!("{client:?}/{lang:?}/{fmt:?}/{shape:?}");
                    assert_eq!(m.from_html, fmt == Fmt::Html, "{name}");
                    failures.extend(check(&name, &m, shape, &mine, command));
                    rows += 1;
                }
            }
        }
    }
    assert!(rows >= 36, "{rows} rows");
    assert!(failures.is_empty(), "{} of {rows} shapes wrong:\n{}", failures.len(), failures.join("\n"));
}

/// The staff's signature never reaches new_text or command_text.
#[test]
fn the_staff_signature_is_its_own_field() {
    let opts = ParseOptions { skip_extraction: true, ..ParseOptions::default() };
    for client in CLIENTS {
        for fmt in [Fmt::Text, Fmt::Html] {
            let mine = own(Lang::Es, Shape::Reply, Some("#hecho T-000101"));
            let m = parse(&raw_mail(client, Lang::Es, fmt, Shape::Reply, &mine), &opts);
            let name = format!("{client:?}/{fmt:?}");
            if client == Client::OutlookMobile {
                assert!(m.signature.contains("Outlook para Android"), "{name}: {:?}", m.signature);
            } else {
                assert!(m.signature.contains("Carla"), "{name}: signature {:?} new {:?}", m.signature, m.new_text);
            }
            assert!(!m.new_text.contains("Carla") && !m.command_text.contains("Carla"), "{name}: {:?}", m.new_text);
            assert_eq!(m.command_text, "Listo, ya lo coordiné con almacén.\n#hecho T-000101", "{name}");
        }
    }
}

/// A client's complaint inside a quote is not what the staff member wrote;
/// the same words forwarded by the client are.
#[test]
fn a_forwarded_complaint_is_forwarded_text_not_new_text() {
    let raw = "From: Ana Quispe <aquispe@andestextil.test>\r\nTo: ops@cli.test\r\nSubject: RV: Reclamo por demora\r\nMessage-ID: <f1@andestextil.test>\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
<div>Les reenvío el reclamo de nuestro gerente.</div><div id=\"appendonsend\"></div><hr><div id=\"divRplyFwdMsg\"><b>De:</b> Luis Torres &lt;ltorres@andestextil.test&gt;<br><b>Enviado:</b> lunes, 30 de noviembre de 2026 18:00<br><b>Para:</b> Ana Quispe &lt;aquispe@andestextil.test&gt;<br><b>Asunto:</b> Reclamo por demora</div><div>&nbsp;</div><div>Es inaceptable la demora en el levante.</div>";
    let m = parse(raw.as_bytes(), &ParseOptions::default());
    assert_eq!(m.new_text, "Les reenvío el reclamo de nuestro gerente.");
    assert_eq!(m.forwarded_text, "Es inaceptable la demora en el levante.");
    assert_eq!(m.forwarded_from[0].address, "ltorres@andestextil.test");
    assert_eq!(m.forwarded_from[0].name, "Luis Torres");
    assert_eq!(m.quoted_text, "");
}

// ---------------------------------------------------------------------------
// HTML tables → text and fields.

fn html_mail(subject: &str, html: &str) -> Vec<u8> {
    format!(
        "From: Ana Quispe <aquispe@andestextil.test>\r\nTo: ops@cli.test\r\nSubject: {subject}\r\nMessage-ID: <t@andestextil.test>\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n{}",
        qp(html)
    )
    .into_bytes()
}

fn rules() -> buzon::rules::RuleSet {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    buzon::rules::RuleSet::load(&dir).unwrap_or_else(|e| panic!("{e}"))
}

fn refs_of(rules: &buzon::rules::RuleSet, m: &Mail) -> Vec<String> {
    let c = buzon::rules::classify(rules, m, buzon::rules::Facts::of(m, "client", &|_| "unknown"));
    c.references.iter().flat_map(|(k, vs)| vs.iter().map(move |v| format!("{k}={v}"))).collect()
}

struct TableCase {
    name: &'static str,
    subject: &'static str,
    html: &'static str,
    /// Lines that must be in new_text (or forwarded_text for a forward).
    lines: &'static [&'static str],
    fields: &'static [(&'static str, &'static str)],
    refs: &'static [&'static str],
}

#[test]
fn html_tables_keep_cells_apart_and_give_fields() {
    let cases = [
        TableCase {
            name: "carrier notice: container in a cell, no glued BL",
            subject: "Arrival notice",
            html: "<p>Dear customer,</p><table border=1><tr><td><b>B/L No.</b></td><td>MAEU261104512</td></tr><tr><td><b>Container</b></td><td>MSKU1234565</td><td>40HC</td></tr><tr><td>Vessel</td><td>MAERSK LIMA 611W</td></tr></table>",
            lines: &["B/L No.\tMAEU261104512", "Container\tMSKU1234565\t40HC", "Vessel\tMAERSK LIMA 611W"],
            fields: &[("b/l no.", "MAEU261104512"), ("vessel", "MAERSK LIMA 611W")],
            refs: &["bl=MAEU261104512", "container=MSKU1234565"],
        },
        TableCase {
            name: "internal alert as a key/value table",
            subject: "ALERTA CLI",
            html: "<table><tr><th>DAM</th><td>118-2026-10-012345</td></tr><tr><th>Cliente</th><td>Andes Textil</td></tr><tr><th>Fecha límite</th><td>04/12/2026</td></tr></table>",
            lines: &["DAM\t118-2026-10-012345", "Cliente\tAndes Textil", "Fecha límite\t04/12/2026"],
            fields: &[("dam", "118-2026-10-012345"), ("cliente", "Andes Textil"), ("fecha limite", "04/12/2026")],
            refs: &["dam=118-2026-10-012345"],
        },
        TableCase {
            name: "a three-column list is text, not fields",
            subject: "Contenedores",
            html: "<table><tr><th>Contenedor</th><th>Tipo</th><th>Peso</th></tr><tr><td>MSKU1234565</td><td>40HC</td><td>21,300 kg</td></tr><tr><td>TCLU8022339</td><td>20DV</td><td>18,050 kg</td></tr></table>",
            lines: &["Contenedor\tTipo\tPeso", "MSKU1234565\t40HC\t21,300 kg", "TCLU8022339\t20DV\t18,050 kg"],
            fields: &[],
            refs: &["container=MSKU1234565", "container=TCLU8022339"],
        },
        TableCase {
            name: "layout table around a key/value table",
            subject: "Proforma",
            html: "<table width=600><tr><td><p>Estimados:</p><table><tr><td>N° de DAM:</td><td><b>235-2026-10-031877</b></td></tr><tr><td><b>Canal</b></td><td>Rojo</td></tr></table></td><td width=20></td></tr></table>",
            lines: &["Estimados:", "N° de DAM:\t235-2026-10-031877", "Canal\tRojo"],
            fields: &[("no de dam", "235-2026-10-031877"), ("canal", "Rojo")],
            refs: &["dam=235-2026-10-031877"],
        },
        TableCase {
            name: "empty cells are skipped, a lone cell is no field",
            subject: "Datos",
            html: "<table><tr><td></td><td>Orden</td><td>OC-2026-000123</td></tr><tr><td colspan=2>Observaciones generales</td></tr><tr><td>&nbsp;</td><td>&nbsp;</td></tr></table>",
            lines: &["Orden\tOC-2026-000123", "Observaciones generales"],
            fields: &[("orden", "OC-2026-000123")],
            refs: &[],
        },
        TableCase {
            name: "a table in the signature is not a field",
            subject: "Consulta",
            html: "<p>¿Ya llegó la nave?</p><p>Saludos,</p><table><tr><td>Tel.</td><td>(01) 615-8800</td></tr><tr><td>Web</td><td>www.andestextil.test</td></tr></table>",
            lines: &["¿Ya llegó la nave?"],
            fields: &[],
            refs: &[],
        },
        TableCase {
            name: "a table in a reply's quote is not a field",
            subject: "RE: Estado",
            html: "<div>Gracias.</div><div class=\"gmail_quote\"><div class=\"gmail_attr\">El lun, 30 nov 2026 a las 18:00, CLI &lt;ops@cli.test&gt; escribió:</div><blockquote class=\"gmail_quote\"><table><tr><td>Estado</td><td>Numerada</td></tr></table></blockquote></div>",
            lines: &["Gracias."],
            fields: &[],
            refs: &[],
        },
        TableCase {
            name: "a forwarded table gives fields and references",
            subject: "RV: Arrival notice",
            html: "<div>Para su gestión.</div><div id=\"appendonsend\"></div><hr><div id=\"divRplyFwdMsg\"><b>De:</b> Maersk &lt;noreply@maersk.test&gt;<br><b>Enviado:</b> martes<br><b>Asunto:</b> Arrival notice</div><div><table><tr><td>Container</td><td>MRKU7612341</td></tr><tr><td>ETA</td><td>04/12/2026</td></tr></table></div>",
            lines: &["Container\tMRKU7612341", "ETA\t04/12/2026"],
            fields: &[("container", "MRKU7612341"), ("eta", "04/12/2026")],
            refs: &["container=MRKU7612341"],
        },
        TableCase {
            name: "Key: value lines of the new text",
            subject: "Datos de embarque",
            html: "<div>Buenos días, van los datos:</div><div>Nave: MSC LORETO 611W</div><div>Fecha de arribo: 04/12/2026</div><div>Llegamos a las 9:30 al terminal.</div>",
            lines: &["Nave: MSC LORETO 611W"],
            fields: &[("nave", "MSC LORETO 611W"), ("fecha de arribo", "04/12/2026")],
            refs: &[],
        },
    ];
    let rules = rules();
    let mut failures = Vec::new();
    for c in &cases {
        let m = parse(&html_mail(c.subject, c.html), &ParseOptions::default());
        let text = format!("{}\n{}", m.new_text, m.forwarded_text);
        for l in c.lines {
            if !text.lines().any(|t| t == *l) {
                failures.push(format!("{}: line {l:?} missing in {text:?}", c.name));
            }
        }
        let want: Vec<(String, String)> = c.fields.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        if m.fields != want {
            failures.push(format!("{}: fields {:?}, want {want:?}", c.name, m.fields));
        }
        let refs = refs_of(&rules, &m);
        let want_refs: Vec<String> = c.refs.iter().map(|r| r.to_string()).collect();
        if refs != want_refs {
            failures.push(format!("{}: references {refs:?}, want {want_refs:?}", c.name));
        }
    }
    assert!(cases.len() >= 8);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn fixture(name: &str) -> Mail {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/replies").join(name);
    let raw = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    parse(&raw, &ParseOptions::default())
}

#[test]
fn a_carrier_notice_keeps_its_container_and_no_bogus_bl() {
    let m = fixture("aviso-llegada-naviera.eml");
    assert!(m.new_text.contains("Container\tMSKU1234565"), "{}", m.new_text);
    assert!(!m.new_text.contains("Your cargo is arriving"), "hidden preheader: {}", m.new_text);
    assert_eq!(m.field("Container"), Some("MSKU1234565"));
    assert_eq!(m.field("ETA Callao"), Some("04/12/2026"));
    assert!(m.signature.contains("confidential"), "{:?}", m.signature);
    let refs = refs_of(&rules(), &m);
    assert_eq!(refs, ["bl=MAEU261104512", "container=MSKU1234565"]);
}

#[test]
fn an_html_alert_table_gives_its_fields() {
    let m = fixture("alerta-cli-tabla.eml");
    let get = |k: &str| m.field(k).map(str::to_string);
    assert_eq!(get("dam").as_deref(), Some("118-2026-10-012345"));
    assert_eq!(get("Cliente").as_deref(), Some("Andes Textil S.A.C."));
    assert_eq!(get("tipo").as_deref(), Some("Regularización de exportación"));
    assert_eq!(get("FECHA LÍMITE").as_deref(), Some("04/12/2026"));
    let c = buzon::rules::classify(&rules(), &m, buzon::rules::Facts::of(&m, "ours", &|_| "unknown"));
    assert!(c.has("alerta_cli"), "{:?}", c.labels);
}

#[test]
fn a_client_forward_of_a_carrier_notice() {
    let m = fixture("rv-aviso-naviera-outlook.eml");
    assert_eq!(m.new_text, "Buenos días, les reenvío el aviso de la naviera para que coordinen el despacho.");
    assert!(
        m.signature.starts_with("Ana Quispe") && m.signature.contains("Libro de Reclamaciones"),
        "{:?}",
        m.signature
    );
    assert_eq!(
        m.forwarded_from.iter().map(|a| a.address.as_str()).collect::<Vec<_>>(),
        ["noreply@notifications.maersk.test"]
    );
    assert!(m.forwarded_text.starts_with("B/L No.\tMAEU261104512"), "{:?}", m.forwarded_text);
    assert_eq!(m.field("container"), Some("MSKU1234565"));
    assert_eq!(m.quoted_text, "");
    let c = buzon::rules::classify(&rules(), &m, buzon::rules::Facts::of(&m, "client", &|_| "unknown"));
    assert!(!c.has("reclamo"), "the signature's reclamos words opened a reclamo: {:?}", c.rules);
    let refs = refs_of(&rules(), &m);
    assert!(refs.contains(&"container=MSKU1234565".to_string()), "{refs:?}");
}

#[test]
fn a_peruvian_company_signature_is_not_a_reclamo() {
    let m = fixture("firma-empresa-peruana.eml");
    assert_eq!(m.new_text, "Buenos días,\n\n¿Me indican el estado del despacho de la DAM 235-2026-10-031877?");
    for part in [
        "Saludos cordiales,",
        "Luis Torres Mendoza",
        "Libro de Reclamaciones",
        "consultas, sugerencias o reclamos",
        "medio ambiente",
    ] {
        assert!(m.signature.contains(part), "{part:?} not in the signature: {:?}", m.signature);
    }
    let c = buzon::rules::classify(&rules(), &m, buzon::rules::Facts::of(&m, "client", &|_| "unknown"));
    assert!(!c.has("reclamo"), "{:?} {:?}", c.labels, c.rules);
    assert!(c.has("estado"), "{:?}", c.labels);
}

/// Names and subjects shown to people lose bidi and zero-width controls;
/// echoed headers are capped.
#[test]
fn display_hygiene_and_caps() {
    let refs: String = (0..300).map(|i| format!("<r{i}@x.test> ")).collect();
    let long_subject = "Á".repeat(700);
    let raw = format!(
        "From: =?utf-8?q?Ana=E2=80=AE_Quispe?= <aquispe@andestextil.test>\r\nTo: ops@cli.test\r\nSubject: {long_subject}\u{200b}\r\nReferences: {refs}\r\nMessage-ID: <m@x.test>\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhola\r\n--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"factura\u{202e}fdp.exe\"\r\n\r\n%PDF-1.4\r\n--b--\r\n"
    );
    let m = parse(raw.as_bytes(), &ParseOptions { skip_extraction: true, ..ParseOptions::default() });
    assert_eq!(m.from.as_ref().map(|a| a.name.as_str()), Some("Ana Quispe"));
    assert!(m.subject.len() <= 998 && !m.subject.contains('\u{200b}'), "{}", m.subject.len());
    assert_eq!(m.subject_shown().chars().count(), 300);
    assert_eq!(m.references.len(), 100);
    assert_eq!(m.references[0], "r0@x.test");
    assert_eq!(m.references[99], "r299@x.test");
    assert_eq!(m.attachments.first().map(|a| a.name.as_str()), Some("facturafdp.exe"));
    // An absurd Message-ID is dropped (and said), never echoed.
    let raw =
        format!("From: a@andestextil.test\r\nMessage-ID: <{}@x.test>\r\nSubject: x\r\n\r\nhola\r\n", "a".repeat(1200));
    let m = parse(raw.as_bytes(), &ParseOptions::default());
    assert_eq!(m.message_id, None);
    assert!(m.problems.iter().any(|p| p.code == "long_message_id"), "{:?}", m.problems);
}

// ---------------------------------------------------------------------------
// Whatever the bytes, the splitter and the HTML reader never panic.

mod never_panics {
    use buzon::mail::html::{Kind, to_doc};
    use buzon::mail::quote::{Context, parts, parts_of_text};
    use proptest::prelude::*;

    /// Fragments real mail is made of, in any order.
    fn fragment() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("<div>".to_string()),
            Just("</div>".to_string()),
            Just("<blockquote type=\"cite\">".to_string()),
            Just("</blockquote>".to_string()),
            Just("<div id=\"divRplyFwdMsg\">".to_string()),
            Just("<div class=\"gmail_signature\">".to_string()),
            Just("<table><tr><td>".to_string()),
            Just("</td><td>".to_string()),
            Just("</tr></table>".to_string()),
            Just("<span style=\"font-size:7pt;color:#888\">".to_string()),
            Just("<br>".to_string()),
            Just("<p>".to_string()),
            Just("<!--".to_string()),
            Just("<style>".to_string()),
            Just("&nbsp;&aacute;&#x202e;".to_string()),
            Just("\nDe: Ana <a@b.pe>\nEnviado: martes\n".to_string()),
            Just("\n---------- Forwarded message ---------\n".to_string()),
            Just("\n----- Forwarded Message ----- From: x@y.zz".to_string()),
            Just("\nSaludos,\n".to_string()),
            Just("\n-- \n".to_string()),
            Just("\n> ".to_string()),
            Just("Clave: valor\n".to_string()),
            Just("AVISO DE CONFIDENCIALIDAD ".to_string()),
            "[ -~áéíóúñ¿¡\u{200b}\u{feff}\n\t<>&;:#/\"'=]{0,40}",
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]
        #[test]
        fn html_and_text_bodies(frags in proptest::collection::vec(fragment(), 0..40), rv in any::<bool>()) {
            let body: String = frags.concat();
            let ctx = Context { subject: if rv { "RV: x" } else { "RE: x" }, reply: !rv };
            let doc = to_doc(&body);
            let lines: Vec<(&str, Kind)> = doc.lines();
            let p = parts(&lines, &doc.rows, ctx);
            prop_assert!(p.fields.len() <= 100);
            let t = parts_of_text(&body, ctx);
            // Nothing the sender wrote is also counted as history.
            prop_assert!(t.command.len() <= t.new.len() + 1);
        }
    }
}

/// An HTML alternative much poorer than the plain one is not the mail's text.
#[test]
fn a_poor_html_alternative_loses_to_the_plain_one() {
    let raw = "From: Ana <aquispe@andestextil.test>\r\nTo: ops@cli.test\r\nSubject: Datos\r\nMessage-ID: <p@x>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nAdjunto la factura comercial y el packing list del embarque de Guangzhou.\r\n--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body>...</body></html>\r\n--b--\r\n";
    let m = parse(raw.as_bytes(), &ParseOptions::default());
    assert!(!m.from_html);
    assert_eq!(m.new_text, "Adjunto la factura comercial y el packing list del embarque de Guangzhou.");
}
