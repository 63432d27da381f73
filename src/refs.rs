//! Reference extraction: AWB, container, BL, DAM, RUC, IMO and invoice
//! numbers, validated by their check digits (where they have one) and returned
//! in the normalised forms of DESIGN.md. Pure: no I/O, no clock.
//!
//! The regular expressions work on bytes with ASCII semantics so that the lazy
//! DFA is used whatever the text contains; every hit is then validated.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use regex::bytes::Regex;

/// Reference kind → normalised values, in a stable order.
pub type References = BTreeMap<String, BTreeSet<String>>;

/// Every reference kind, in the order they are documented.
pub const KINDS: &[&str] = &["awb", "container", "bl", "dam", "ruc", "imo", "invoice"];

/// Customs offices (first three digits of a DAM number).
const ADUANAS: &[&str] = &[
    "000", "019", "028", "046", "055", "082", "091", "118", "127", "145", "154", "163", "172", "181", "190", "217",
    "226", "235", "244", "262", "271", "280", "299", "848", "983", "992",
];

/// Customs regime codes (the two digits inside a DAM number).
const REGIMES: &[&str] =
    &["10", "18", "20", "21", "28", "30", "36", "40", "41", "48", "51", "52", "70", "71", "72", "80", "81", "89", "99"];

/// Compile a pattern known at build time. The patterns below are constants
/// exercised by the unit tests, so a failure here is a programming error.
fn re(pattern: &str) -> Regex {
    match Regex::new(pattern) {
        Ok(r) => r,
        Err(e) => panic!("built-in reference pattern does not compile: {e}"),
    }
}

static AWB: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i-u)(?:\b(?:awb|mawb|hawb|gu[i\xc3\xad]+a(?:\s+a[e\xc3\xa9]+rea)?|air\s*waybill)\W{0,12}(\d{11})\b)|(?:\b(\d{3})[-\s](\d{4})\s?(\d{4})\b)",
    )
});
static CONTAINER: LazyLock<Regex> = LazyLock::new(|| re(r"(?i-u)\b([a-z]{3}[ujz])\s?(\d{6})\s?-?\s?(\d)\b"));
static RUC: LazyLock<Regex> = LazyLock::new(|| re(r"(?-u)\b((?:10|15|16|17|20)\d{9})\b"));
static IMO: LazyLock<Regex> = LazyLock::new(|| re(r"(?i-u)\bIMO[\s:#.-]*(?:N(?:o|\xc2\xb0|\xc2\xba)\.?\s*)?(\d{7})\b"));
static DAM_SEP: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?-u)\b(\d{3})([-/ ])((?:19|20)\d{2})[-/ ](\d{2})[-/ ](\d{6})\b"));
static DAM_PLAIN: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?i-u)\b(?:DAM|DUA)\s*(?:N(?:o|\xc2\xb0|\xc2\xba)?\.?)?[\s:#]{0,4}(\d{3})((?:19|20)\d{2})(\d{2})(\d{6})\b")
});
static BL_CARRIER: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i-u)\b(MAEU\d{9}|MEDU[A-Z0-9]{2}\d{6}|CMDU[A-Z]{3}[A-Z0-9]\d{6}|HLCU[A-Z]{2}[A-Z0-9]{10}|COSU\d{10}|EGLV\d{12}|ONEY[A-Z0-9]{12}|OOLU\d{10}|ZIMU[A-Z]{3}\d{4,8}|YMLU[EBTW]\d{9}|HDMU[A-Z]{4}\d{7,8})\b",
    )
});
static BL_KEYWORD: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i-u)\b(?:B/L|BL|HBL|MBL|bill\s+of\s+lading|conocimiento\s+de\s+embarque)\s*(?:N(?:o|\xc2\xb0|\xc2\xba)?\.?|nro\.?|number|#)?\s*[:.]?\s*([A-Z0-9][A-Z0-9-]{6,22}[A-Z0-9])\b",
    )
});
static INVOICE_KEYWORD: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i-u)\b(?:factura|invoice|inv|fact)(?:\s+comercial|\s+commercial)?\.?\s*(?:N(?:o|\xc2\xb0|\xc2\xba)?\.?|nro\.?|number|#)?\s*[:.]?\s*([A-Z0-9]{1,8}(?:-[A-Z0-9]{1,12}){1,3})\b",
    )
});
static INVOICE_SUNAT: LazyLock<Regex> = LazyLock::new(|| re(r"(?i-u)\b([FEB]\d{3}-\d{1,8})\b"));

/// One pass that tells which of the extractors below can match at all, so
/// that most texts cost a single scan. Index order: AWB, container, RUC,
/// IMO, DAM, BL, invoice.
static ANY: LazyLock<regex::bytes::RegexSet> = LazyLock::new(|| {
    let set = regex::bytes::RegexSet::new([
        r"(?-u)\d{3}[-\s]\d{4}|\d{11}",
        r"(?i-u)[a-z]{3}[ujz]\s?\d{6}",
        r"(?-u)\d{11}",
        r"(?i-u)\bIMO",
        r"(?i-u)\d{3}[-/ ]\d{4}[-/ ]\d{2}|\bDAM|\bDUA",
        r"(?i-u)\b(MAEU|MEDU|CMDU|HLCU|COSU|EGLV|ONEY|OOLU|ZIMU|YMLU|HDMU|B/L|BL|HBL|MBL|bill\s+of|conocimiento)",
        r"(?i-u)\b(factura|invoice|inv|fact|[FEB]\d{3}-)",
    ]);
    match set {
        Ok(s) => s,
        Err(e) => panic!("built-in reference pre-filter does not compile: {e}"),
    }
});

/// Extract every valid reference from `text` into `out`.
pub fn extract_into(text: &str, out: &mut References) {
    let b = text.as_bytes();
    let any = ANY.matches(b);
    if !any.matched_any() {
        return;
    }
    let mut add = |kind: &str, value: String| {
        out.entry(kind.to_string()).or_default().insert(value);
    };
    for c in gate(any.matched(0), AWB.captures_iter(b)) {
        let digits: String = if let Some(m) = c.get(1) {
            ascii(m.as_bytes())
        } else {
            [c.get(2), c.get(3), c.get(4)].iter().flatten().map(|m| ascii(m.as_bytes())).collect()
        };
        if let Some(v) = normalise_awb(&digits) {
            add("awb", v);
        }
    }
    for c in gate(any.matched(1), CONTAINER.captures_iter(b)) {
        let s: String = (1..=3).filter_map(|i| c.get(i)).map(|m| ascii(m.as_bytes())).collect();
        let s = s.to_ascii_uppercase();
        if container_valid(&s) {
            add("container", s);
        }
    }
    for c in gate(any.matched(2), RUC.captures_iter(b)) {
        if let Some(m) = c.get(1) {
            let s = ascii(m.as_bytes());
            if ruc_valid(&s) {
                add("ruc", s);
            }
        }
    }
    for c in gate(any.matched(3), IMO.captures_iter(b)) {
        if let Some(m) = c.get(1) {
            let s = ascii(m.as_bytes());
            if imo_valid(&s) {
                add("imo", s);
            }
        }
    }
    for c in gate(any.matched(4), DAM_SEP.captures_iter(b).chain(DAM_PLAIN.captures_iter(b))) {
        let groups: Vec<String> = c
            .iter()
            .skip(1)
            .flatten()
            .map(|m| ascii(m.as_bytes()))
            .filter(|g| !matches!(g.as_str(), "-" | "/" | " "))
            .collect();
        if let [aduana, year, regime, number] = groups.as_slice()
            && dam_valid(aduana, year, regime)
        {
            add("dam", format!("{aduana}-{year}-{regime}-{number}"));
        }
    }
    for c in gate(any.matched(5), BL_CARRIER.captures_iter(b)) {
        if let Some(m) = c.get(1) {
            add("bl", ascii(m.as_bytes()).to_ascii_uppercase());
        }
    }
    for c in gate(any.matched(5), BL_KEYWORD.captures_iter(b)) {
        if let Some(m) = c.get(1) {
            let s = ascii(m.as_bytes()).to_ascii_uppercase().replace('-', "");
            if plausible_code(&s, 5) && !container_valid(&s) {
                add("bl", s);
            }
        }
    }
    for c in gate(any.matched(6), INVOICE_KEYWORD.captures_iter(b).chain(INVOICE_SUNAT.captures_iter(b))) {
        if let Some(m) = c.get(1) {
            let s = ascii(m.as_bytes()).to_ascii_uppercase();
            if plausible_code(&s, 2) && !looks_like_other_reference(&s) {
                add("invoice", s);
            }
        }
    }
}

/// Extract every valid reference from `text`.
pub fn extract(text: &str) -> References {
    let mut out = References::new();
    extract_into(text, &mut out);
    out
}

/// `it` when `on`, else nothing (iterators are lazy: no search happens).
fn gate<I: Iterator>(on: bool, it: I) -> impl Iterator<Item = I::Item> {
    on.then_some(it).into_iter().flatten()
}

fn ascii(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// At least `min_digits` digits and not only digits-and-dashes of a date.
fn plausible_code(s: &str, min_digits: usize) -> bool {
    s.bytes().filter(u8::is_ascii_digit).count() >= min_digits
}

fn looks_like_other_reference(s: &str) -> bool {
    let compact: String = s.chars().filter(|c| *c != '-').collect();
    DAM_SEP.is_match(s.as_bytes()) || (compact.len() == 11 && compact.bytes().all(|b| b.is_ascii_digit()))
}

/// `PPPSSSSSSSC` (11 digits) → `PPP-SSSSSSSC` when the serial's check digit holds.
pub fn normalise_awb(digits: &str) -> Option<String> {
    if digits.len() != 11 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    awb_valid(&digits[3..]).then(|| format!("{}-{}", &digits[..3], &digits[3..]))
}

/// AWB serial (7 digits + check digit): check = serial mod 7.
pub fn awb_valid(serial8: &str) -> bool {
    if serial8.len() != 8 || !serial8.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let serial: u64 = serial8[..7].parse().unwrap_or(u64::MAX);
    let check = u64::from(serial8.as_bytes()[7] - b'0');
    serial != u64::MAX && serial % 7 == check
}

fn iso6346_value(c: u8) -> Option<u32> {
    match c {
        b'0'..=b'9' => Some(u32::from(c - b'0')),
        b'A'..=b'Z' => {
            // A=10, skipping multiples of 11 (11, 22, 33).
            let mut v = 10 + u32::from(c - b'A');
            v += (v - 1) / 10; // 10→10, 11→12 (B), ..., 21→23 (L), 31→34 (V)
            Some(v)
        }
        _ => None,
    }
}

/// ISO 6346 container number, 11 characters, upper case.
pub fn container_valid(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 11
        || !b[..4].iter().all(u8::is_ascii_uppercase)
        || !matches!(b[3], b'U' | b'J' | b'Z')
        || !b[4..].iter().all(u8::is_ascii_digit)
    {
        return false;
    }
    let mut sum = 0u32;
    for (i, c) in b[..10].iter().enumerate() {
        match iso6346_value(*c) {
            Some(v) => sum += v << i,
            None => return false,
        }
    }
    (sum % 11) % 10 == u32::from(b[10] - b'0')
}

/// Peru RUC: 11 digits, prefix 10/15/16/17/20, weighted mod 11.
pub fn ruc_valid(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 11 || !b.iter().all(u8::is_ascii_digit) || !matches!(&s[..2], "10" | "15" | "16" | "17" | "20") {
        return false;
    }
    const W: [u32; 10] = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2];
    let sum: u32 = b[..10].iter().zip(W).map(|(d, w)| u32::from(d - b'0') * w).sum();
    (11 - sum % 11) % 10 == u32::from(b[10] - b'0')
}

/// IMO number: 7 digits, digits 1–6 weighted 7..2, sum mod 10.
pub fn imo_valid(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 7 || !b.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let sum: u32 = b[..6].iter().zip((2..=7).rev()).map(|(d, w)| u32::from(d - b'0') * w).sum();
    sum % 10 == u32::from(b[6] - b'0')
}

/// DAM parts: known customs office, known regime, plausible year.
pub fn dam_valid(aduana: &str, year: &str, regime: &str) -> bool {
    ADUANAS.contains(&aduana) && REGIMES.contains(&regime) && matches!(year.parse::<u32>(), Ok(1990..=2099))
}

/// The regime code inside a normalised DAM number (`118-2026-10-012345` → `10`).
pub fn dam_regime(dam: &str) -> Option<&str> {
    dam.split('-').nth(2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn refs(text: &str, kind: &str) -> Vec<String> {
        extract(text).get(kind).map(|s| s.iter().cloned().collect()).unwrap_or_default()
    }

    #[test]
    fn worked_examples_of_the_domain_file() {
        let table: &[(&str, &str, &[&str])] = &[
            ("AWB 176-12345675", "awb", &["176-12345675"]),
            ("guía aérea 020-8114 0743", "awb", &["020-81140743"]),
            ("awb 04523456786", "awb", &["045-23456786"]),
            ("AWB 045-23456787", "awb", &[]),
            ("contenedor CSQU 305438 3", "container", &["CSQU3054383"]),
            ("MEDU8290254 y TASU1170000", "container", &["MEDU8290254", "TASU1170000"]),
            ("cntr hlxu 123456-1", "container", &["HLXU1234561"]),
            ("MSCU6639871", "container", &[]),
            ("RUC 20512333797", "ruc", &["20512333797"]),
            ("RUC: 10054148289 / 20131312955 / 20131380951", "ruc", &["10054148289", "20131312955", "20131380951"]),
            ("RUC 20512333798", "ruc", &[]),
            ("IMO 9319466, IMO: 8814275, IMO 9074729", "imo", &["8814275", "9074729", "9319466"]),
            ("IMO 9319467", "imo", &[]),
            ("DAM 118-2024-10-012345", "dam", &["118-2024-10-012345"]),
            ("DAM N° 235202610031877", "dam", &["235-2026-10-031877"]),
            ("999-2024-10-012345", "dam", &[]),
            ("118-2024-55-012345", "dam", &[]),
            ("BL MEDUHG271461 / MAEU203176301", "bl", &["MAEU203176301", "MEDUHG271461"]),
            ("B/L N° SHA2611E0045", "bl", &["SHA2611E0045"]),
            ("Factura N° F001-00012345", "invoice", &["F001-00012345"]),
            ("invoice INV-2026-0042", "invoice", &["INV-2026-0042"]),
        ];
        for (text, kind, want) in table {
            assert_eq!(refs(text, kind), want.to_vec(), "{text:?} as {kind}");
        }
    }

    #[test]
    fn a_ruc_is_not_an_awb_and_a_dam_is_not_an_invoice() {
        let r = extract("RUC 20601234565, DAM 118-2026-10-012345, factura 118-2026-10-012345");
        assert!(!r.contains_key("awb"));
        assert!(!r.contains_key("invoice"), "{r:?}");
        assert_eq!(r["ruc"].len(), 1);
    }

    fn container_check(prefix: &str, serial: u32) -> u32 {
        let s = format!("{prefix}{serial:06}");
        let sum: u32 = s.bytes().enumerate().map(|(i, c)| iso6346_value(c).unwrap_or(0) << i).sum();
        (sum % 11) % 10
    }

    proptest! {
        #[test]
        fn awb_check_digit_roundtrip(serial in 0u32..10_000_000, wrong in 0u32..10) {
            let good = format!("{serial:07}{}", serial % 7);
            prop_assert!(awb_valid(&good));
            if wrong != serial % 7 {
                let bad = format!("{serial:07}{wrong}");
                prop_assert!(!awb_valid(&bad));
            }
        }

        #[test]
        fn container_single_digit_errors_are_caught(owner in "[A-Z]{3}", serial in 0u32..1_000_000, pos in 4usize..10, delta in 1u8..10) {
            let prefix = format!("{owner}U");
            let cd = container_check(&prefix, serial);
            let good = format!("{prefix}{serial:06}{cd}");
            prop_assert!(container_valid(&good));
            let mut bytes = good.clone().into_bytes();
            bytes[pos] = b'0' + (bytes[pos] - b'0' + delta) % 10;
            let bad = String::from_utf8(bytes).unwrap_or_default();
            // Remainder 10 folds onto 0, so one substitution can collide only then.
            let sum: u32 = bad.bytes().take(10).enumerate().map(|(i, c)| iso6346_value(c).unwrap_or(0) << i).sum();
            if sum % 11 != 10 && cd != 0 {
                prop_assert!(!container_valid(&bad));
            }
        }

        #[test]
        fn ruc_accepts_exactly_one_check_digit(body in 0u64..100_000_000, prefix in prop::sample::select(vec!["10", "20", "15", "17"])) {
            let base = format!("{prefix}{body:08}");
            let valid: Vec<u32> = (0..10).filter(|d| ruc_valid(&format!("{base}{d}"))).collect();
            prop_assert_eq!(valid.len(), 1);
        }

        #[test]
        fn imo_accepts_exactly_one_check_digit(body in 0u32..1_000_000) {
            let base = format!("{body:06}");
            let valid: Vec<u32> = (0..10).filter(|d| imo_valid(&format!("{base}{d}"))).collect();
            prop_assert_eq!(valid.len(), 1);
        }

        #[test]
        fn extraction_never_panics(s in "\\PC{0,200}") {
            let _ = extract(&s);
        }
    }
}
