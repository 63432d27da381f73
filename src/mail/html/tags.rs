//! What a tag is (block, void, skipped) and what a style says (tiny or
//! grey print), read once per tag; capped copies of attribute values.

pub(super) const T_BLOCK: u8 = 1;
pub(super) const T_VOID: u8 = 2;
pub(super) const T_SKIP: u8 = 4;

/// What a tag name is (block, void, skipped), read once per tag.
pub(super) fn tag_info(n: &[u8]) -> u8 {
    let mut t = 0;
    if is_block(n) {
        t |= T_BLOCK;
    }
    if is_void(n) {
        t |= T_VOID;
    }
    if is_skipped(n) {
        t |= T_SKIP;
    }
    t
}

pub(super) fn is_void(n: &[u8]) -> bool {
    matches!(
        n,
        b"area"
            | b"base"
            | b"br"
            | b"col"
            | b"embed"
            | b"hr"
            | b"img"
            | b"input"
            | b"link"
            | b"meta"
            | b"param"
            | b"source"
            | b"track"
            | b"wbr"
            | b"basefont"
            | b"bgsound"
            | b"frame"
            | b"keygen"
    )
}

pub(super) fn is_block(n: &[u8]) -> bool {
    matches!(
        n,
        b"address"
            | b"article"
            | b"aside"
            | b"blockquote"
            | b"center"
            | b"dd"
            | b"details"
            | b"dialog"
            | b"dir"
            | b"div"
            | b"dl"
            | b"dt"
            | b"fieldset"
            | b"figcaption"
            | b"figure"
            | b"footer"
            | b"form"
            | b"h1"
            | b"h2"
            | b"h3"
            | b"h4"
            | b"h5"
            | b"h6"
            | b"header"
            | b"hgroup"
            | b"li"
            | b"main"
            | b"nav"
            | b"ol"
            | b"p"
            | b"pre"
            | b"section"
            | b"summary"
            | b"table"
            | b"tbody"
            | b"thead"
            | b"tfoot"
            | b"tr"
            | b"caption"
            | b"ul"
            | b"legend"
            | b"body"
            | b"html"
    )
}

pub(super) fn is_skipped(n: &[u8]) -> bool {
    matches!(n, b"head" | b"style" | b"script" | b"title" | b"template" | b"xml" | b"noscript" | b"object" | b"svg")
}

/// `font-size` in a style small enough to be the fine print of a signature.
pub(super) fn small_font_size(style: &str) -> bool {
    let Some(pos) = style.find("font-size:") else {
        return false;
    };
    let v = &style[pos + 10..];
    let v = v.split(';').next().unwrap_or("");
    if v.starts_with("xx-small") || v.starts_with("x-small") {
        return true;
    }
    let num_end = v.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(v.len());
    let Ok(n) = v[..num_end].parse::<f32>() else {
        return false;
    };
    let unit = &v[num_end..];
    if unit.starts_with("pt") {
        n <= 8.0
    } else if unit.starts_with("px") {
        n <= 10.5
    } else if unit.starts_with("em") || unit.starts_with("rem") {
        n <= 0.7
    } else {
        false
    }
}

/// A light or middle grey (`gray`, `#888`, `#7f7f7f`, `rgb(150,150,150)`).
pub(super) fn is_grey(color: &str) -> bool {
    let c = color.trim().trim_end_matches("!important").trim();
    if matches!(c, "gray" | "grey" | "silver" | "darkgray" | "darkgrey" | "lightgray" | "lightgrey" | "dimgray") {
        return true;
    }
    let rgb: Option<(u32, u32, u32)> = if let Some(hex) = c.strip_prefix('#') {
        let hex: String = hex.chars().take_while(char::is_ascii_hexdigit).collect();
        let d = |s: &str| u32::from_str_radix(s, 16).ok();
        match hex.len() {
            3 => {
                let v: Vec<u32> = hex.chars().filter_map(|ch| ch.to_digit(16)).map(|x| x * 17).collect();
                (v.len() == 3).then(|| (v[0], v[1], v[2]))
            }
            6 => match (d(&hex[0..2]), d(&hex[2..4]), d(&hex[4..6])) {
                (Some(r), Some(g), Some(b)) => Some((r, g, b)),
                _ => None,
            },
            _ => None,
        }
    } else if let Some(inner) = c.strip_prefix("rgb(") {
        let v: Vec<u32> = inner.trim_end_matches(')').split(',').filter_map(|p| p.trim().parse().ok()).collect();
        (v.len() == 3).then(|| (v[0], v[1], v[2]))
    } else {
        None
    };
    let Some((r, g, b)) = rgb else {
        return false;
    };
    let (max, min) = (r.max(g).max(b), r.min(g).min(b));
    max - min <= 12 && (0x70..=0xd0).contains(&max)
}

pub(super) fn push_capped(buf: &mut String, v: &[u8], cap: usize) {
    if v.is_ascii() {
        // Styles are matched without spaces: "font-size: 8pt" = "font-size:8pt".
        for &b in v {
            if buf.len() >= cap {
                break;
            }
            if !b.is_ascii_whitespace() {
                buf.push(char::from(b.to_ascii_lowercase()));
            }
        }
        return;
    }
    if buf.len() < cap {
        let s = String::from_utf8_lossy(v);
        for ch in s.chars() {
            if buf.len() >= cap {
                break;
            }
            // Styles are matched without spaces: "font-size: 8pt" = "font-size:8pt".
            if !ch.is_whitespace() {
                buf.push(ch.to_ascii_lowercase());
            }
        }
    }
}
