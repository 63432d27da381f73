//! Dates as people write them in desk mail, in Spanish and English:
//! `04/12/2026`, `4/12/26`, `4 de diciembre de 2026`, `viernes 18/12/2026`,
//! `2026-12-04`, `07-12-2026`, `29-Dec-2026`, `18 Dec 2026`, `Dec 18, 2026`,
//! `December 18th, 2026`, `18.12.2026`, `18-dic-2026`, `18 dic. 2026`,
//! `2026年12月18日`. Pure: no I/O, no clock (the reference date is an
//! argument).
//!
//! How an ambiguous value is read:
//!
//! - **Numbers are day first** (the Peruvian way): `04/12/2026` is 4 December.
//!   A value that can only be month first (`12/31/2026`) is read month first.
//!   When a weekday is written beside an ambiguous value (`Friday 12/04/2026`),
//!   the reading that falls on that weekday wins; otherwise day first.
//! - **Two-digit years** 00–69 are 20yy (`4/12/26` is 2026), 70–99 are 19yy.
//! - **A date without a year** (`4 de diciembre`, `Dec 18`, `15/12`) takes the
//!   first year in which it is no more than [`RECENT_DAYS`] days before the
//!   reference date: desk mail about deadlines and arrivals looks ahead
//!   (`hasta el 4 de enero`, written in December, is next January), while a
//!   date of the last three months is a recent one (`llegó el 4 de
//!   diciembre`, written on 5 December, is yesterday, not next year).
//!   [`Found::year_given`] tells the caller which it was.
//!
//! Never a date: references that contain one (`118-2026-10-012345` is a DAM,
//! `F001-00012345` an invoice, `OC-2026-000123` an order), phone numbers,
//! times (`10:30`), amounts, fractions (`3/4`), `24/7`, a month alone
//! (`diciembre de 2026`), impossible days (`31/11/2026`, `29/02/2026`).
//! A number that continues into another digit or separator-and-digit is part
//! of something else; a letter glued to a date (`Fecha límite:07/12/2026Mensaje`,
//! from HTML table cells) does not stop it.

use std::ops::Range;
use std::sync::LazyLock;

use chrono::{Datelike, Days, NaiveDate, Weekday};
use regex::{Captures, Regex};

/// A yearless date is never read more than this many days in the past.
pub const RECENT_DAYS: u64 = 92;

/// One date found in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub date: NaiveDate,
    /// Byte span of the matched text (a weekday written before the date is
    /// part of it).
    pub span: Range<usize>,
    /// The matched text, as written.
    pub text: String,
    /// The year was written (else it was inferred from the reference date).
    pub year_given: bool,
    /// The weekday written beside the date, if any. It may disagree with
    /// `date` when the writer made a mistake: the caller can check
    /// `found.weekday.is_some_and(|w| w != found.date.weekday())`.
    pub weekday: Option<Weekday>,
}

/// Every date in `text`, in order, not overlapping.
pub fn find_dates(text: &str, reference: NaiveDate) -> Vec<Found> {
    let mut all: Vec<Found> = Vec::new();
    for shape in SHAPES.iter() {
        let mut at = 0;
        while at <= text.len() {
            let Some(c) = shape.re.captures_at(text, at) else { break };
            let Some(m) = c.get(0) else { break };
            match read(shape.kind, &c, text, reference) {
                Some(found) => {
                    at = m.end().max(m.start() + 1);
                    all.push(found);
                }
                // A rejected candidate may hide a good one that starts inside it.
                None => at = next_char(text, m.start()),
            }
        }
    }
    // Longest first among those that start at the same place; then keep
    // what does not overlap what was kept.
    all.sort_by(|a, b| a.span.start.cmp(&b.span.start).then(b.span.end.cmp(&a.span.end)));
    let mut out: Vec<Found> = Vec::with_capacity(all.len());
    for f in all {
        if out.last().is_none_or(|last| f.span.start >= last.span.end) {
            out.push(f);
        }
    }
    out
}

/// One value that is a whole date with its year (`30/06/2027`,
/// `18 Dec 2026`, `2026-12-04`), as in a `#vence` or `#eta` command.
/// Surrounding spaces and a final period are allowed; anything else is not.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    // The reference only matters for yearless dates, which are refused here.
    let reference = NaiveDate::from_ymd_opt(2000, 1, 1)?;
    whole(s, reference).filter(|f| f.year_given).map(|f| f.date)
}

/// Like [`parse_date`], but a date without a year (`15/12`, `4 de enero`)
/// is accepted and placed relative to `reference` (see the module notes).
pub fn parse_date_on(s: &str, reference: NaiveDate) -> Option<NaiveDate> {
    whole(s, reference).map(|f| f.date)
}

fn whole(s: &str, reference: NaiveDate) -> Option<Found> {
    let t = s.trim().trim_end_matches('.').trim_end();
    match find_dates(t, reference).as_slice() {
        [f] if f.span == (0..t.len()) => Some(f.clone()),
        _ => None,
    }
}

fn next_char(text: &str, i: usize) -> usize {
    text[i..].chars().next().map_or(text.len() + 1, |c| i + c.len_utf8())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// d/m/y, d-m-y, d.m.y (day first unless only month first fits).
    Numeric,
    /// d/m without a year.
    NumericNoYear,
    /// y-m-d, y/m/d, y.m.d.
    Iso,
    /// 4 de diciembre de 2026, 18-Dec-2026, 18 dic. 2026, 18th of December.
    DayMonth,
    /// Dec 18, 2026 / December 18th / diciembre 4 de 2026.
    MonthDay,
    /// 2026年12月18日 / 12月20日.
    Chinese,
}

struct Shape {
    kind: Kind,
    re: Regex,
}

/// Built-in patterns: a compile failure is a bug found by every test.
fn re(p: &str) -> Regex {
    match Regex::new(p) {
        Ok(r) => r,
        Err(e) => panic!("built-in date pattern does not compile: {e}"),
    }
}

const WEEKDAY: &str = r"(?P<wd>lunes|martes|mi[eé]rcoles|jueves|viernes|s[aá]bado|domingo|monday|tuesday|wednesday|thursday|friday|saturday|sunday|lun|mar|mi[eé]|jue|vie|s[aá]b|dom|mon|tues|tue|wed|thurs|thur|thu|fri|sat|sun)";

/// Month names, then abbreviations (which may carry their dot: `dic.`);
/// longest first, as the regex takes the first alternative that matches.
const MONTH: &str = r"(?:enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|setiembre|octubre|noviembre|diciembre|january|february|march|april|june|july|august|september|october|november|december)\b|(?:sept|ene|feb|mar|abr|may|jun|jul|ago|sep|set|oct|nov|dic|jan|apr|aug|dec)\b\.?";

/// Months that may come before the day: English names and abbreviations and
/// Spanish full names (not `set` or `ago`, English words).
const MONTH_FIRST: &str = r"enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|setiembre|octubre|noviembre|diciembre|january|february|march|april|june|july|august|september|october|november|december|sept|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|ene|abr|dic";

static SHAPES: LazyLock<Vec<Shape>> = LazyLock::new(|| {
    let wd = format!(r"(?:\b{WEEKDAY}\.?,?\s+(?:el\s+|the\s+)?)?");
    let day = r"(?P<d>\d{1,2})(?:st|nd|rd|th|ro|ero|°|º)?";
    let mut v = Vec::new();
    let mut add = |kind, p: String| v.push(Shape { kind, re: re(&format!("(?i){p}")) });
    for sep in ["/", "-"] {
        add(Kind::Numeric, format!(r"{wd}(?P<a>\d{{1,2}}){sep}(?P<b>\d{{1,2}}){sep}(?P<y>\d{{4}}|\d{{2}})"));
    }
    // Dots only with a four-digit year: "1.2.26" is a version number.
    add(Kind::Numeric, format!(r"{wd}(?P<a>\d{{1,2}})\.(?P<b>\d{{1,2}})\.(?P<y>\d{{4}})"));
    add(Kind::NumericNoYear, format!(r"{wd}(?P<a>\d{{1,2}})/(?P<b>\d{{1,2}})"));
    for sep in ["-", "/", r"\."] {
        add(Kind::Iso, format!(r"(?P<y>\d{{4}}){sep}(?P<m>\d{{1,2}}){sep}(?P<d>\d{{1,2}})"));
    }
    add(
        Kind::DayMonth,
        format!(
            r"{wd}{day}(?P<sep1>\s*(?:de|of)\s+|\s+|\s*-\s*|/|\.\s*)(?P<mon>{MONTH})(?:(?:\s*,?\s*(?:de|del)\s+|\s*,\s*|\s+|\s*-\s*|/)(?P<y>\d{{4}})|[-/'](?P<y2>\d{{2}}))?"
        ),
    );
    add(
        Kind::MonthDay,
        format!(r"{wd}\b(?P<mon>{MONTH_FIRST})\b\.?\s+{day}\b(?:(?:\s*,\s*|\s+de\s+|\s+)(?P<y>\d{{4}}))?"),
    );
    add(Kind::Chinese, r"(?:(?P<y>\d{4})\s*年\s*)?(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[日号]".to_string());
    v
});

fn num(c: &Captures<'_>, name: &str) -> Option<u32> {
    c.name(name).and_then(|m| m.as_str().parse().ok())
}

fn month_number(name: &str) -> Option<u32> {
    let n = name.to_lowercase();
    let n = n.trim_end_matches('.');
    Some(match n {
        "enero" | "ene" | "january" | "jan" => 1,
        "febrero" | "feb" | "february" => 2,
        "marzo" | "mar" | "march" => 3,
        "abril" | "abr" | "april" | "apr" => 4,
        "mayo" | "may" => 5,
        "junio" | "jun" | "june" => 6,
        "julio" | "jul" | "july" => 7,
        "agosto" | "ago" | "august" | "aug" => 8,
        "septiembre" | "setiembre" | "sept" | "sep" | "set" | "september" => 9,
        "octubre" | "oct" | "october" => 10,
        "noviembre" | "nov" | "november" => 11,
        "diciembre" | "dic" | "december" | "dec" => 12,
        _ => return None,
    })
}

fn weekday_of(name: &str) -> Option<Weekday> {
    let n = name.to_lowercase().replace('é', "e").replace('á', "a");
    Some(match n.as_str() {
        "lunes" | "lun" | "monday" | "mon" => Weekday::Mon,
        "martes" | "mar" | "tuesday" | "tue" | "tues" => Weekday::Tue,
        "miercoles" | "mie" | "wednesday" | "wed" => Weekday::Wed,
        "jueves" | "jue" | "thursday" | "thu" | "thur" | "thurs" => Weekday::Thu,
        "viernes" | "vie" | "friday" | "fri" => Weekday::Fri,
        "sabado" | "sab" | "saturday" | "sat" => Weekday::Sat,
        "domingo" | "dom" | "sunday" | "sun" => Weekday::Sun,
        _ => return None,
    })
}

fn full_year(y: u32, digits: usize) -> Option<i32> {
    let y = i32::try_from(y).ok()?;
    // Two digits: 00–69 are this century, 70–99 the last one.
    let y = match (digits, y) {
        (2, 0..=69) => 2000 + y,
        (2, _) => 1900 + y,
        _ => y,
    };
    (1900..=2100).contains(&y).then_some(y)
}

/// The year of a yearless `month`/`day` (see the module notes).
fn infer(month: u32, day: u32, reference: NaiveDate) -> Option<NaiveDate> {
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let earliest = reference.checked_sub_days(Days::new(RECENT_DAYS))?;
    // Eight years reach the next 29 February.
    (reference.year() - 1..=reference.year() + 8)
        .filter_map(|y| NaiveDate::from_ymd_opt(y, month, day))
        .find(|d| *d >= earliest)
}

/// Is the text around `span` a number continuing (a digit, or a separator
/// and a digit)? Then the candidate is part of a reference, a phone number…
fn glued(text: &str, span: &Range<usize>) -> bool {
    let before = &text[..span.start];
    let after = &text[span.end..];
    let mut b = before.chars().rev();
    let b1 = b.next();
    let b2 = b.next();
    digit(b1) || (sep(b1) && digit(b2)) || continues(after)
}

fn sep(c: Option<char>) -> bool {
    matches!(c, Some('-' | '/' | '.'))
}

fn digit(c: Option<char>) -> bool {
    c.is_some_and(|c| c.is_ascii_digit())
}

/// Does `after` go on with a digit, or a separator and a digit?
fn continues(after: &str) -> bool {
    let mut a = after.chars();
    let a1 = a.next();
    digit(a1) || (sep(a1) && digit(a.next()))
}

fn read(kind: Kind, c: &Captures<'_>, text: &str, reference: NaiveDate) -> Option<Found> {
    let m = c.get(0)?;
    let span = m.start()..m.end();
    let weekday = c.name("wd").and_then(|w| weekday_of(w.as_str()));
    // Where the date itself starts (after a weekday).
    let core_start = [c.name("a"), c.name("y"), c.name("d"), c.name("mon")]
        .into_iter()
        .flatten()
        .map(|m| m.start())
        .min()
        .unwrap_or(span.start);
    let core = core_start..span.end;
    if matches!(kind, Kind::Numeric | Kind::NumericNoYear | Kind::Iso | Kind::DayMonth | Kind::Chinese)
        && glued(text, &core)
    {
        return None;
    }
    if kind == Kind::MonthDay && continues(&text[span.end..]) {
        return None;
    }
    let (date, year_given) = match kind {
        Kind::Numeric => {
            let (a, b) = (num(c, "a")?, num(c, "b")?);
            let ym = c.name("y")?;
            let y = full_year(ym.as_str().parse().ok()?, ym.as_str().len())?;
            let day_first = NaiveDate::from_ymd_opt(y, b, a);
            let month_first = NaiveDate::from_ymd_opt(y, a, b);
            let date = match (day_first, month_first) {
                (Some(d), Some(m)) if d != m => match weekday {
                    Some(w) if m.weekday() == w && d.weekday() != w => m,
                    _ => d,
                },
                (Some(d), _) => d,
                (None, Some(m)) => m,
                (None, None) => return None,
            };
            (date, true)
        }
        Kind::NumericNoYear => {
            let (ma, mb) = (c.name("a")?, c.name("b")?);
            // Fractions (3/4, 1/2) and "24/7" are no dates.
            if (ma.as_str().len() == 1 && mb.as_str().len() == 1) || (ma.as_str() == "24" && mb.as_str() == "7") {
                return None;
            }
            // No third part: "15/12/" or "15/12/abc" is something else.
            if text[span.end..].starts_with('/') {
                return None;
            }
            (infer(mb.as_str().parse().ok()?, ma.as_str().parse().ok()?, reference)?, false)
        }
        Kind::Iso => {
            let ym = c.name("y")?;
            let y = full_year(ym.as_str().parse().ok()?, 4)?;
            (NaiveDate::from_ymd_opt(y, num(c, "m")?, num(c, "d")?)?, true)
        }
        Kind::DayMonth | Kind::MonthDay => {
            let mon = c.name("mon")?;
            let month = month_number(mon.as_str())?;
            let d = num(c, "d")?;
            let year = match (c.name("y"), c.name("y2")) {
                (Some(y), _) => Some(full_year(y.as_str().parse().ok()?, 4)?),
                (None, Some(y)) => Some(full_year(y.as_str().parse().ok()?, 2)?),
                (None, None) => None,
            };
            match year {
                Some(y) => (NaiveDate::from_ymd_opt(y, month, d)?, true),
                None => {
                    // "2 set de repuestos", "por mar": the abbreviations that
                    // are also words need "de", a dot or a dash to be a month.
                    let word = mon.as_str().to_lowercase();
                    let word = word.trim_end_matches('.');
                    let sep = c.name("sep1").map(|s| s.as_str().trim().to_lowercase()).unwrap_or_default();
                    if kind == Kind::DayMonth
                        && matches!(word, "set" | "mar" | "may")
                        && !mon.as_str().ends_with('.')
                        && sep.is_empty()
                    {
                        return None;
                    }
                    (infer(month, d, reference)?, false)
                }
            }
        }
        Kind::Chinese => match c.name("y") {
            Some(y) => {
                let y = full_year(y.as_str().parse().ok()?, 4)?;
                (NaiveDate::from_ymd_opt(y, num(c, "m")?, num(c, "d")?)?, true)
            }
            None => (infer(num(c, "m")?, num(c, "d")?, reference)?, false),
        },
    };
    Some(Found { date, span: span.clone(), text: text[span].to_string(), year_given, weekday })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_else(|| panic!("bad test date {y}-{m}-{d}"))
    }

    /// The reference date of the corpus: mail of December 2026.
    fn dec1() -> NaiveDate {
        ymd(2026, 12, 1)
    }

    /// (text, the dates found in order as YYYY-MM-DD, with the reference 2026-12-01)
    const FIND: &[(&str, &[&str])] = &[
        // Numeric, day first.
        ("Fecha límite: 04/12/2026", &["2026-12-04"]),
        ("vence el 4/12/26", &["2026-12-04"]),
        ("ETA 18.12.2026", &["2026-12-18"]),
        ("arribó a Lima el 07-12-2026 09:15.", &["2026-12-07"]),
        ("04-12-26", &["2026-12-04"]),
        ("31/12/99", &["1999-12-31"]),
        ("04/12/2026,05/12/2026", &["2026-12-04", "2026-12-05"]),
        ("Vence: 30-11-2026 (lunes)", &["2026-11-30"]),
        ("31/12/2026", &["2026-12-31"]),
        // Unambiguous month first (an English writer).
        ("due 12/31/2026", &["2026-12-31"]),
        // Weekday: part of the match; it picks the reading of an ambiguous value.
        ("viernes 18/12/2026", &["2026-12-18"]),
        ("Friday 12/04/2026", &["2026-12-04"]),
        ("viernes 12/04/2026", &["2026-12-04"]),
        ("lunes 12/04/2026", &["2026-04-12"]), // neither 12 Apr (Sun) nor 4 Dec (Fri) is a Monday: day first
        // ISO and friends.
        ("2026-12-04", &["2026-12-04"]),
        ("2026/12/04", &["2026-12-04"]),
        ("Fecha: 2026.12.04.", &["2026-12-04"]),
        // Spanish words.
        ("4 de diciembre de 2026", &["2026-12-04"]),
        ("el 4 de diciembre del 2026", &["2026-12-04"]),
        ("4 diciembre 2026", &["2026-12-04"]),
        ("1ro de enero de 2027", &["2027-01-01"]),
        ("1° de diciembre de 2026", &["2026-12-01"]),
        ("miércoles, 2 de diciembre de 2026 16:05", &["2026-12-02"]),
        ("18-dic-2026", &["2026-12-18"]),
        ("18 dic. 2026", &["2026-12-18"]),
        ("18/dic/2026", &["2026-12-18"]),
        ("4-dic-26", &["2026-12-04"]),
        ("10 set. 2026", &["2026-09-10"]),
        ("10 de set 2026", &["2026-09-10"]),
        ("10 sept 2026", &["2026-09-10"]),
        ("10 setiembre 2026", &["2026-09-10"]),
        ("10 de septiembre de 2026", &["2026-09-10"]),
        ("15 ENE 2027", &["2027-01-15"]),
        ("18 de dic. de 2026", &["2026-12-18"]),
        ("2 mar. 2027", &["2027-03-02"]),
        ("vie 18/12", &["2026-12-18"]),
        ("El mar., 8 dic. 2026 a las 10:15, Carla Vega escribió:", &["2026-12-08"]),
        ("diciembre 4 de 2026", &["2026-12-04"]),
        // English words.
        ("29-Dec-2026", &["2026-12-29"]),
        ("18 Dec 2026", &["2026-12-18"]),
        ("18 December 2026", &["2026-12-18"]),
        ("the 18th of December, 2026", &["2026-12-18"]),
        ("Dec 18, 2026", &["2026-12-18"]),
        ("Dec. 18 2026", &["2026-12-18"]),
        ("December 18th, 2026", &["2026-12-18"]),
        ("Wednesday, December 9, 2026 1:00 AM", &["2026-12-09"]),
        ("Fri, 4 Dec 2026 14:31:00 +0000", &["2026-12-04"]),
        ("ETD MIA Dec 17, 2026  ETA LIM 18 Dec 2026", &["2026-12-17", "2026-12-18"]),
        ("ETA LIM Dec 5, 2026 06:40 local time", &["2026-12-05"]),
        // Chinese suppliers.
        ("2026年12月18日", &["2026-12-18"]),
        ("我目前不在办公室，将于12月20日返回", &["2026-12-20"]),
        // Without a year: the first not more than 92 days back (reference 1 Dec 2026).
        ("4 de diciembre", &["2026-12-04"]),
        ("hasta el 4 de enero", &["2027-01-04"]),
        ("el 28 de noviembre", &["2026-11-28"]),
        ("Dec 18", &["2026-12-18"]),
        ("18 dic.", &["2026-12-18"]),
        ("el martes 08/12 y el miércoles 09/12 son feriados", &["2026-12-08", "2026-12-09"]),
        ("15 de marzo", &["2027-03-15"]),
        // Several, and glued to letters (HTML table cells without spaces).
        ("del 07/12/2026 al 11/12/2026", &["2026-12-07", "2026-12-11"]),
        ("Fecha límite:07/12/2026Mensaje automático", &["2026-12-07"]),
        ("ETD Shenzhen:06-Dec-2026ETA Callao:29-Dec-2026Best regards", &["2026-12-06", "2026-12-29"]),
        ("MSC LORETO 611W15/12/2026MEDU8290254", &["2026-12-15"]),
        // Must not match: references, phones, times, amounts, fractions.
        ("DAM 118-2026-10-012345", &[]),
        ("factura F001-00012345", &[]),
        ("OC-2026-000123 numerada", &[]),
        ("INV-2026-0042 / GZF-2611-05", &[]),
        ("T: (01) 336-5120 anexo 214 | C: 987 654 321", &[]),
        ("Ph: +1 (305) 592-4400", &[]),
        ("Tel: +86-20-8888-6670", &[]),
        ("llegamos a las 10:30", &[]),
        ("USD 1,250.00 y S/ 4,580.00", &[]),
        ("tubo de 3/4 y válvula de 1/2", &[]),
        ("atención 24/7", &[]),
        ("versión 1.2.26", &[]),
        ("diciembre de 2026", &[]),
        ("Dec 2026", &[]),
        ("31/11/2026", &[]),
        ("29/02/2026", &[]),
        ("32/12/2026", &[]),
        ("13/13/2026", &[]),
        ("04/12/0026", &[]),
        ("enviamos 2 set de repuestos", &[]),
        ("la carga llegó por mar", &[]),
        ("Día 1-7 USD 35, día 8 en adelante", &[]),
        ("3 pcs / 412 kg", &[]),
        ("192.168.1.10", &[]),
        ("Ticket#2026120410000123", &[]),
        ("SUCE N° 2026123456", &[]),
        ("MAWB 045-23456786", &[]),
        ("HAWB MIA2611873", &[]),
        ("a decision 18 days ago", &[]),
        ("15/12/abc", &[]),
        ("2026-13-01", &[]),
        ("00/12/2026", &[]),
        ("nos vemos el 2 mar", &[]),
    ];

    #[test]
    fn finds_dates_as_people_write_them() {
        let mut failures = Vec::new();
        for (text, want) in FIND {
            let got: Vec<String> = find_dates(text, dec1()).iter().map(|f| f.date.to_string()).collect();
            if got != *want {
                failures.push(format!("{text:?}: want {want:?}, got {got:?}"));
            }
        }
        assert!(failures.is_empty(), "{} of {} rows differ:\n{}", failures.len(), FIND.len(), failures.join("\n"));
        assert!(FIND.len() >= 50);
    }

    #[test]
    fn spans_and_texts_are_what_was_written() {
        let text = "Carla: la nave llega el viernes 18/12/2026, no el 4 de diciembre.";
        let found = find_dates(text, dec1());
        let got: Vec<(&str, bool, Option<Weekday>)> =
            found.iter().map(|f| (&text[f.span.clone()], f.year_given, f.weekday)).collect();
        assert_eq!(got, [("viernes 18/12/2026", true, Some(Weekday::Fri)), ("4 de diciembre", false, None)]);
        for f in &found {
            assert_eq!(f.text, text[f.span.clone()]);
        }
        // An abbreviation keeps its dot; a sentence's period is not the date's.
        let text = "ETA 18 dic. y vence el 4 de diciembre.";
        let texts: Vec<String> = find_dates(text, dec1()).into_iter().map(|f| f.text).collect();
        assert_eq!(texts, ["18 dic.", "4 de diciembre"]);
        // Byte spans over multi-byte text.
        let text = "Señores: vence el 29-Dec-2026.";
        let f = &find_dates(text, dec1())[0];
        assert_eq!((f.span.start, &f.text[..]), (text.find("29").unwrap_or(usize::MAX), "29-Dec-2026"));
    }

    #[test]
    fn a_wrong_weekday_is_reported_not_hidden() {
        // 17 December 2026 is a Thursday.
        let f = &find_dates("viernes 17/12/2026", dec1())[0];
        assert_eq!(f.date, ymd(2026, 12, 17));
        assert_eq!(f.weekday, Some(Weekday::Fri));
        assert_ne!(f.weekday, Some(f.date.weekday()));
    }

    #[test]
    fn a_yearless_date_is_near_the_reference() {
        // (text, reference, expected)
        let rows = [
            ("4 de diciembre", ymd(2026, 12, 5), ymd(2026, 12, 4)), // yesterday, not next year
            ("4 de enero", ymd(2026, 12, 20), ymd(2027, 1, 4)),     // ahead, over new year
            ("28 de diciembre", ymd(2027, 1, 3), ymd(2026, 12, 28)), // last week, over new year
            ("10 de enero", ymd(2026, 6, 15), ymd(2027, 1, 10)),    // five months back is too far
            ("15 de marzo", ymd(2026, 6, 15), ymd(2026, 3, 15)),    // three months back is recent
            ("29/02", ymd(2026, 3, 1), ymd(2028, 2, 29)),           // the next 29 February
        ];
        for (text, reference, want) in rows {
            assert_eq!(parse_date_on(text, reference), Some(want), "{text} on {reference}");
        }
    }

    #[test]
    fn one_value() {
        let rows: &[(&str, Option<NaiveDate>)] = &[
            ("30/06/2027", Some(ymd(2027, 6, 30))),
            (" 18 Dec 2026. ", Some(ymd(2026, 12, 18))),
            ("2026-12-04", Some(ymd(2026, 12, 4))),
            ("December 18th, 2026", Some(ymd(2026, 12, 18))),
            ("viernes 18/12/2026", Some(ymd(2026, 12, 18))),
            ("15/12", None), // no year: parse_date_on
            ("18/12/2026 y 19/12/2026", None),
            ("ETA 18/12/2026", None),
            ("mañana", None),
            ("", None),
            ("31/11/2026", None),
        ];
        for (s, want) in rows {
            assert_eq!(parse_date(s), *want, "{s:?}");
        }
        assert_eq!(parse_date_on("15/12", dec1()), Some(ymd(2026, 12, 15)));
        assert_eq!(parse_date_on("15/12 hrs", dec1()), None);
    }

    #[test]
    fn never_panics_on_odd_text() {
        for text in
            ["", "/", "1/", "//2026", "9999-99-99", "1.1.", "年月日", "12月", "ñ/ñ/ñ", "31/12/99999", "Dec", "de de de"]
        {
            let _ = find_dates(text, dec1());
            let _ = parse_date(text);
        }
        // A long text with many candidates stays linear enough.
        let long = "Día 1-7, 04/12/2026, F001-00012345; ".repeat(2000);
        assert_eq!(find_dates(&long, dec1()).len(), 2000);
    }
}
