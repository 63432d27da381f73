//! Split the body of a mail into what the sender wrote now, the quoted
//! history, a forwarded message and the signature, so that a "gracias" above
//! a quoted complaint is not a complaint, a client's `#cerrar` inside a quote
//! is never a staff command, and a forwarded notice is what the client sends.
//!
//! The body arrives as lines, each marked with where it sat in the HTML
//! ([`Kind`]; plain text is all [`Kind::Body`]). History starts at the first
//! reply/forward header or attribution line (text patterns of the major
//! clients, see [`super::forward`]); before that, lines inside quote
//! containers and `>` lines are quoted, the rest is the sender's. A forward
//! (a forward separator, or a header block in a mail whose subject says
//! `RV:`/`FW:`) is the forwarded body; any other history is a reply's quote.

use super::html::{Kind, Row};
use super::{Addr, fields, forward, signature};
use crate::text::fold_into;

/// The new text and the quoted history of one mail body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Split {
    /// What the sender wrote in this mail (signature excluded).
    pub new: String,
    /// Quoted lines and everything from the first attribution line down.
    pub quoted: String,
}

/// Every part of one mail body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parts {
    /// What the sender wrote (answers between quoted lines included),
    /// signature excluded.
    pub new: String,
    /// What the sender wrote above the first quoted or forwarded line,
    /// signature excluded: the only place staff commands are read from.
    pub command: String,
    /// A reply's quoted history (and `>`/quote-container lines between answers).
    pub quoted: String,
    /// The forwarded message's body, without its header block.
    pub forwarded: String,
    /// The From address(es) of the forward header(s), outermost first.
    pub forwarded_from: Vec<Addr>,
    /// The sender's signature and disclaimer block.
    pub signature: String,
    /// Two-cell table rows (new and forwarded parts) and `Key: value` lines
    /// of the new text, keys folded.
    pub fields: Vec<(String, String)>,
}

/// What the splitter needs to know besides the body.
#[derive(Debug, Clone, Copy, Default)]
pub struct Context<'a> {
    /// The mail's subject: `RV:`/`FW:` make a header block a forward.
    pub subject: &'a str,
    /// The mail answers another (In-Reply-To or References present).
    pub reply: bool,
}

/// Split a plain-text `body` into new text and quoted history.
pub fn split(body: &str) -> Split {
    let p = parts_of_text(body, Context::default());
    Split { new: p.new, quoted: p.quoted }
}

/// Split a plain-text body.
pub fn parts_of_text(body: &str, ctx: Context<'_>) -> Parts {
    let lines: Vec<(&str, Kind)> = body.lines().map(|l| (l, Kind::Body)).collect();
    parts(&lines, &[], ctx)
}

/// Where each line went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Region {
    New,
    Signature,
    Quoted,
    Forwarded,
    ForwardHeader,
}

fn is_attribution(s: &str) -> bool {
    s.ends_with("escribio:")
        || s.ends_with("wrote:")
        || s.ends_with("a ecrit :")
        || s.ends_with("a ecrit:")
        || s.ends_with("schrieb:")
        || s.ends_with("escreveu:")
}

/// Does the quoted history begin at line `i` (`folded` lines)?
fn is_history_start(folded: &[&str], i: usize) -> bool {
    let l = folded[i];
    let Some(&first) = l.as_bytes().first() else {
        return false;
    };
    // Cheap test on the first byte and the last before anything else.
    let last = l.as_bytes().last().copied().unwrap_or(b' ');
    if !matches!(first, b'-' | b'_' | b'e' | b'o' | b'l' | b'a' | b'd' | b'f' | b'*' | b'b' | b'i' | b'c' | b'=')
        && last != b':'
    {
        return false;
    }
    match forward::separator(l) {
        Some(forward::Separator::Rule) => {
            // A rule starts the history only when a header block follows.
            return (i + 1..folded.len().min(i + 3))
                .find(|&j| !folded[j].is_empty())
                .is_some_and(|j| forward::header_start(folded, j));
        }
        Some(_) => return true,
        None => {}
    }
    if l.len() < 300 {
        // "El mar., 1 dic. 2026 a las 9:22, Ana <a@b> escribió:" (may wrap over two lines)
        if l.starts_with("el ") || l.starts_with("on ") || l.starts_with("le ") || l.starts_with("am ") {
            if is_attribution(l) {
                return true;
            }
            if let Some(next) = folded.get(i + 1)
                && is_attribution(next)
            {
                return true;
            }
        }
        // Lotus Notes: "Ana Quispe" <a@b> wrote on 01/12/2026 09:00:00 AM:
        if last == b':' && (l.contains(" wrote on ") || l.contains(" escribio el ")) {
            return true;
        }
    }
    forward::header_start(folded, i)
}

fn joined<'a>(lines: impl Iterator<Item = &'a str>) -> String {
    let mut out = String::new();
    let mut blank_run = 0;
    for l in lines {
        let l = l.trim_end();
        if l.trim().is_empty() {
            blank_run += 1;
            if blank_run > 1 || out.is_empty() {
                continue;
            }
        } else {
            blank_run = 0;
        }
        out.push_str(l);
        out.push('\n');
    }
    out.trim_end().to_string()
}

/// Split the lines of a body.
pub fn parts(lines: &[(&str, Kind)], rows: &[Row], ctx: Context<'_>) -> Parts {
    let n = lines.len();
    // All lines folded into one buffer (one allocation, not one per line).
    let mut buf = String::with_capacity(lines.iter().map(|(t, _)| t.len() + 1).sum());
    let mut ends = Vec::with_capacity(n);
    for (t, _) in lines {
        fold_into(t.trim(), &mut buf);
        ends.push(buf.len());
    }
    let mut folded: Vec<&str> = Vec::with_capacity(n);
    let mut at = 0;
    for &end in &ends {
        folded.push(buf.get(at..end).unwrap_or(""));
        at = end;
    }
    let is_gt = |i: usize| lines[i].0.trim_start().starts_with('>');
    let hard = (0..n).find(|&i| is_history_start(&folded, i)).unwrap_or(n);
    // Quote containers with nothing of the sender's before them, no reply
    // signal and no header or attribution: a client that put the whole mail
    // in a blockquote. Read it as the sender's.
    let first_struct = lines[..hard].iter().position(|(_, k)| *k == Kind::Quote);
    let trust_structure = match first_struct {
        Some(s) => ctx.reply || folded[..s].iter().any(|l| !l.is_empty()) || hard < n,
        None => true,
    };
    let quoted_line = |i: usize| is_gt(i) || (trust_structure && lines[i].1 == Kind::Quote);
    let mut region = vec![Region::New; n];
    for (i, r) in region.iter_mut().enumerate().take(hard) {
        if quoted_line(i) {
            *r = Region::Quoted;
        }
    }
    let first_quoted = (0..hard).find(|&i| region[i] == Region::Quoted).unwrap_or(hard);

    let mut out = Parts::default();
    // The history: a forward or a reply's quote.
    if hard < n {
        let head: Vec<usize> = (hard..n).filter(|&i| !folded[i].is_empty()).take(3).collect();
        let fwd_sep = head.iter().any(|&i| forward::separator(folded[i]) == Some(forward::Separator::Forward));
        let attribution = head
            .first()
            .is_some_and(|&i| forward::separator(folded[i]).is_none() && !forward::header_start(&folded, i));
        let forward = fwd_sep || (!attribution && forward::subject_forward(ctx.subject) == Some(true));
        if forward {
            let orig: Vec<&str> = lines.iter().map(|(t, _)| *t).collect();
            let (body, mut from) = match forward::header_block(&orig, &folded, hard) {
                Some((b, from)) => (b, from),
                None => (head.first().map_or(n, |&i| i + 1), Vec::new()),
            };
            if from.is_empty()
                && let Some(&sep) = head.first()
                && forward::separator(folded[sep]).is_some()
            {
                // Yahoo's glued header: the first address after the separator.
                from.extend(forward::addresses(lines[sep].0).into_iter().take(1));
            }
            let fwd_body = body.min(n);
            out.forwarded_from = from;
            for r in &mut region[hard..fwd_body] {
                *r = Region::ForwardHeader;
            }
            for r in &mut region[fwd_body..] {
                *r = Region::Forwarded;
            }
            // Forwards inside the forward name who wrote the original.
            let mut i = fwd_body;
            while i < n {
                if forward::separator(folded[i]) == Some(forward::Separator::Forward)
                    && let Some((next, from)) = forward::header_block(&orig, &folded, i)
                {
                    for a in from {
                        if !out.forwarded_from.iter().any(|b| b.address == a.address) {
                            out.forwarded_from.push(a);
                        }
                    }
                    i = next.max(i + 1);
                } else {
                    i += 1;
                }
            }
        } else {
            for r in &mut region[hard..] {
                *r = Region::Quoted;
            }
        }
    }

    // The signature, among the sender's own lines.
    let own: Vec<usize> = (0..hard).filter(|&i| region[i] == Region::New).collect();
    let own_lines: Vec<(&str, Kind)> = own.iter().map(|&i| lines[i]).collect();
    let own_folded: Vec<&str> = own.iter().map(|&i| folded[i]).collect();
    let history: std::collections::HashSet<&str> = (0..n)
        .filter(|&i| matches!(region[i], Region::Quoted | Region::Forwarded))
        .map(|i| signature::history_line(folded[i]))
        .filter(|l| !l.is_empty())
        .collect();
    let repeated = if history.is_empty() { None } else { signature::repeated(&own_folded, &history) };
    let shaped = signature::start(&own_lines, &own_folded);
    let sig = match (shaped, repeated) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    if let Some(s) = sig {
        for &i in &own[s..] {
            region[i] = Region::Signature;
        }
    }

    let pick = |want: Region, upto: usize| joined((0..upto.min(n)).filter(|&i| region[i] == want).map(|i| lines[i].0));
    out.new = pick(Region::New, n);
    // Usually nothing of the sender's follows the first quoted line.
    out.command = if (first_quoted..n).any(|i| region[i] == Region::New) {
        pick(Region::New, first_quoted)
    } else {
        out.new.clone()
    };
    out.signature = pick(Region::Signature, n);
    out.forwarded = pick(Region::Forwarded, n);
    for (i, (t, _)) in lines.iter().enumerate() {
        if region[i] == Region::Quoted {
            out.quoted.push_str(t);
            out.quoted.push('\n');
        }
    }
    for row in rows {
        if row.line < n && matches!(region[row.line], Region::New | Region::Forwarded) {
            fields::push(&mut out.fields, &row.key, &row.value);
        }
    }
    for i in 0..n {
        if region[i] == Region::New
            && lines[i].0.as_bytes().iter().take(48).any(|&b| b == b':')
            && let Some((k, v)) = fields::key_value(lines[i].0)
        {
            fields::push(&mut out.fields, k, v);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gmail_attribution_starts_the_history() {
        let s = split(
            "Gracias, recibido.\n\nEl mar., 1 dic. 2026 a las 09:22, Ana <a@b.pe>\nescribió:\n> es inaceptable la demora\n",
        );
        assert_eq!(s.new, "Gracias, recibido.");
        assert!(s.quoted.contains("inaceptable"));
    }

    #[test]
    fn outlook_header_block_starts_the_history() {
        let s = split(
            "Adjunto el BL.\n\nDe: Operaciones CLI <ops@cli.test>\nEnviado: martes, 1 de diciembre de 2026 10:00\nPara: Ana\nAsunto: reclamo\n\nTexto viejo",
        );
        assert_eq!(s.new, "Adjunto el BL.");
        assert!(s.quoted.starts_with("De: Operaciones"));
    }

    #[test]
    fn interleaved_quotes_are_quoted_and_answers_are_new() {
        let s = split("> ¿Ya llegó?\nSí, ayer.\n-----Mensaje original-----\nhola");
        assert_eq!(s.new, "Sí, ayer.");
        assert_eq!(s.quoted, "> ¿Ya llegó?\n-----Mensaje original-----\nhola\n");
    }

    #[test]
    fn a_plain_line_starting_with_de_is_not_history() {
        let s = split("De: nuestra parte, todo bien.\nSaludos");
        assert_eq!(s.quoted, "");
    }

    #[test]
    fn commands_stop_at_the_first_quoted_line() {
        let p =
            parts_of_text("#hecho T-000101\n> #cerrar OC-2026-000001\n#revisado OC-2026-000002\n", Context::default());
        assert_eq!(p.command, "#hecho T-000101");
        assert_eq!(p.new, "#hecho T-000101\n#revisado OC-2026-000002");
    }

    #[test]
    fn a_forward_is_not_history() {
        let p = parts_of_text(
            "Les reenvío el aviso.\n\n---------- Forwarded message ---------\nFrom: Maersk Peru <notices@maersk.test>\nDate: Tue, 1 Dec 2026\nSubject: Arrival notice\nTo: <ana@andestextil.test>\n\nContainer MSKU1234565 arrived.\n",
            Context { subject: "Fwd: Arrival notice", reply: false },
        );
        assert_eq!(p.new, "Les reenvío el aviso.");
        assert_eq!(p.forwarded, "Container MSKU1234565 arrived.");
        assert_eq!(p.quoted, "");
        assert_eq!(p.forwarded_from.iter().map(|a| a.address.as_str()).collect::<Vec<_>>(), ["notices@maersk.test"]);
    }

    #[test]
    fn an_outlook_header_block_is_a_forward_only_under_rv() {
        let body = "Ver abajo.\n\nDe: Ana <a@andes.test>\nEnviado: martes\nPara: ops@cli.test\nAsunto: Reclamo\n\nEs inaceptable.\n";
        let fwd = parts_of_text(body, Context { subject: "RV: Reclamo", reply: false });
        assert_eq!((fwd.forwarded.as_str(), fwd.quoted.as_str()), ("Es inaceptable.", ""));
        let re = parts_of_text(body, Context { subject: "RE: Reclamo", reply: true });
        assert_eq!(re.forwarded, "");
        assert!(re.quoted.contains("Es inaceptable."));
    }

    #[test]
    fn lotus_notes_attribution_and_yahoo_glued_forward() {
        let p = parts_of_text(
            "Visto.\n\n\"Ana Quispe\" <aquispe@andestextil.test> escribió el 01/12/2026 09:22:11 a.m.:\n\n#cerrar OC-2026-000001\n",
            Context { subject: "Respuesta: Cierre", reply: true },
        );
        assert_eq!((p.new.as_str(), p.command.as_str()), ("Visto.", "Visto."));
        assert!(p.quoted.contains("#cerrar"));
        let p = parts_of_text(
            "Va.\n\n   ----- Forwarded Message ----- From: Ana Quispe <aquispe@andestextil.test>To: ops@cli.testSent: Tuesday, December 1, 2026Subject: X\n \nBody here\n",
            Context { subject: "Fwd: X", reply: false },
        );
        assert_eq!(p.forwarded, "Body here");
        assert_eq!(p.forwarded_from.first().map(|a| a.address.as_str()), Some("aquispe@andestextil.test"));
    }

    #[test]
    fn a_whole_mail_in_a_blockquote_is_the_senders() {
        let lines = [("Es inaceptable la demora.", Kind::Quote)];
        let p = parts(&lines, &[], Context::default());
        assert_eq!(p.new, "Es inaceptable la demora.");
        let p = parts(&lines, &[], Context { subject: "RE: x", reply: true });
        assert_eq!(p.new, "");
    }
}
