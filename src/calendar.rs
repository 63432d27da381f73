//! Business time: America/Lima (or the configured zone), business hours,
//! Peru's national holidays (computed per year, Easter included) and extra
//! non-working days from config. Pure: every function takes its instants.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;

/// The desk's working calendar.
#[derive(Debug, Clone)]
pub struct BusinessCalendar {
    pub tz: Tz,
    pub day_start: NaiveTime,
    pub day_end: NaiveTime,
    /// Working weekdays, 1 = Monday … 7 = Sunday.
    pub work_days: Vec<u8>,
    pub extra_holidays: Vec<NaiveDate>,
}

impl Default for BusinessCalendar {
    fn default() -> Self {
        BusinessCalendar {
            tz: chrono_tz::America::Lima,
            day_start: NaiveTime::from_hms_opt(9, 0, 0).unwrap_or(NaiveTime::MIN),
            day_end: NaiveTime::from_hms_opt(18, 0, 0).unwrap_or(NaiveTime::MIN),
            work_days: vec![1, 2, 3, 4, 5],
            extra_holidays: Vec::new(),
        }
    }
}

/// Easter Sunday (Gregorian), anonymous algorithm (Meeus/Jones/Butcher).
pub fn easter(year: i32) -> Option<NaiveDate> {
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    NaiveDate::from_ymd_opt(year, month as u32, day as u32)
}

/// Peru's national holidays of `year`, with the year each was introduced.
pub fn peru_holidays(year: i32) -> Vec<(NaiveDate, &'static str)> {
    // (month, day, name, in force since)
    const FIXED: &[(u32, u32, &str, i32)] = &[
        (1, 1, "Año Nuevo", 0),
        (5, 1, "Día del Trabajo", 0),
        (6, 7, "Batalla de Arica y Día de la Bandera", 2024),
        (6, 29, "San Pedro y San Pablo", 0),
        (7, 23, "Día de la Fuerza Aérea del Perú", 2023),
        (7, 28, "Día de la Independencia", 0),
        (7, 29, "Día de la Gran Parada Militar", 0),
        (8, 6, "Batalla de Junín", 2022),
        (8, 30, "Santa Rosa de Lima", 0),
        (10, 8, "Combate de Angamos", 0),
        (11, 1, "Todos los Santos", 0),
        (12, 8, "Inmaculada Concepción", 0),
        (12, 9, "Batalla de Ayacucho", 2022),
        (12, 25, "Navidad", 0),
    ];
    let mut out: Vec<(NaiveDate, &str)> = FIXED
        .iter()
        .filter(|(_, _, _, since)| year >= *since)
        .filter_map(|(m, d, name, _)| NaiveDate::from_ymd_opt(year, *m, *d).map(|day| (day, *name)))
        .collect();
    if let Some(e) = easter(year) {
        out.push((e - Duration::days(3), "Jueves Santo"));
        out.push((e - Duration::days(2), "Viernes Santo"));
    }
    out.sort();
    out
}

impl BusinessCalendar {
    pub fn is_holiday(&self, day: NaiveDate) -> bool {
        self.extra_holidays.contains(&day) || peru_holidays(day.year()).iter().any(|(d, _)| *d == day)
    }

    pub fn is_business_day(&self, day: NaiveDate) -> bool {
        let wd = day.weekday().number_from_monday() as u8;
        self.work_days.contains(&wd) && !self.is_holiday(day)
    }

    fn local(&self, day: NaiveDate, t: NaiveTime) -> DateTime<Utc> {
        // Lima has no DST; for other zones take the earliest valid instant.
        match self.tz.from_local_datetime(&day.and_time(t)).earliest() {
            Some(dt) => dt.with_timezone(&Utc),
            None => Utc.from_utc_datetime(&day.and_time(t)),
        }
    }

    /// The next business day strictly after `day`.
    pub fn next_business_day(&self, day: NaiveDate) -> NaiveDate {
        let mut d = day;
        for _ in 0..3660 {
            d = d.succ_opt().unwrap_or(d);
            if self.is_business_day(d) {
                return d;
            }
        }
        d
    }

    /// `at` if it falls in business hours, else the start of the next business period.
    pub fn next_open(&self, at: DateTime<Utc>) -> DateTime<Utc> {
        let local = at.with_timezone(&self.tz);
        let day = local.date_naive();
        let t = local.time();
        if self.is_business_day(day) {
            if t < self.day_start {
                return self.local(day, self.day_start);
            }
            if t < self.day_end {
                return at;
            }
        }
        self.local(self.next_business_day(day), self.day_start)
    }

    /// `start` plus `hours` business hours ("24 horas útiles").
    pub fn add_business_hours(&self, start: DateTime<Utc>, hours: f64) -> DateTime<Utc> {
        let mut remaining = Duration::seconds((hours * 3600.0).round() as i64);
        let mut at = self.next_open(start);
        for _ in 0..10_000 {
            let local = at.with_timezone(&self.tz);
            let close = self.local(local.date_naive(), self.day_end);
            let available = close - at;
            if remaining <= available {
                return at + remaining;
            }
            remaining -= available;
            at = self.next_open(close);
        }
        at
    }

    /// Business hours elapsed between `from` and `to` (0 when `to` ≤ `from`).
    pub fn business_hours_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
        let mut total = Duration::zero();
        let mut at = self.next_open(from);
        for _ in 0..10_000 {
            if at >= to {
                break;
            }
            let close = self.local(at.with_timezone(&self.tz).date_naive(), self.day_end);
            let end = if close < to { close } else { to };
            total += end - at;
            at = self.next_open(close);
        }
        total.num_seconds() as f64 / 3600.0
    }

    /// Local date of an instant.
    pub fn local_date(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.tz).date_naive()
    }

    /// The instant of local `day` at `time`.
    pub fn at_local(&self, day: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
        self.local(day, time)
    }

    pub fn weekday(&self, at: DateTime<Utc>) -> Weekday {
        at.with_timezone(&self.tz).weekday()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lima(s: &str) -> DateTime<Utc> {
        match DateTime::parse_from_rfc3339(s) {
            Ok(d) => d.with_timezone(&Utc),
            Err(e) => panic!("{s}: {e}"),
        }
    }

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or(NaiveDate::MIN)
    }

    #[test]
    fn holiday_vectors_of_the_domain_file() {
        let cal = BusinessCalendar::default();
        for (d, holiday) in [
            ("2025-04-18", true),
            ("2025-04-17", true),
            ("2026-04-02", true),
            ("2026-04-03", true),
            ("2027-03-25", true),
            ("2026-07-23", true),
            ("2023-06-07", false),
            ("2024-06-07", true),
            ("2021-12-09", false),
            ("2022-12-09", true),
            ("2026-07-28", true),
            ("2026-07-29", true),
            ("2026-12-08", true),
            ("2026-12-10", false),
        ] {
            assert_eq!(cal.is_holiday(day(d)), holiday, "{d}");
        }
        assert_eq!(peru_holidays(2026).len(), 16);
        assert_eq!(easter(2026), Some(day("2026-04-05")));
        assert_eq!(easter(2027), Some(day("2027-03-28")));
    }

    #[test]
    fn twenty_four_business_hours_table() {
        let cal = BusinessCalendar::default(); // 09:00–18:00, Mon–Fri, 9 h a day
        let table = [
            // Friday 17:00 → 1 h Fri + 9 Mon + 9 Tue + 5 Wed
            ("2026-11-27T17:00:00-05:00", "2026-12-02T14:00:00-05:00"),
            // Saturday: the clock starts Monday 09:00 → Wed 15:00... 9+9+6
            ("2026-11-28T10:00:00-05:00", "2026-12-02T15:00:00-05:00"),
            // Monday 08:00 before opening → starts 09:00
            ("2026-11-30T08:00:00-05:00", "2026-12-02T15:00:00-05:00"),
            // Across 8 and 9 December (holidays): Mon 7 Dec 12:00 → 6 Mon + 9 Thu 10 + 9 Fri 11 = 24 h at Fri 18:00
            ("2026-12-07T12:00:00-05:00", "2026-12-11T18:00:00-05:00"),
            // Across Fiestas Patrias: Mon 27 Jul 2026 10:00 → 8 Mon, (28, 29 holidays) 9 Thu 30, 7 Fri 31 → Fri 16:00
            ("2026-07-27T10:00:00-05:00", "2026-07-31T16:00:00-05:00"),
            // Across Semana Santa 2026: Wed 1 Apr 15:00 → 3 Wed, (2, 3 holidays, weekend) 9 Mon 6, 9 Tue 7, 3 Wed 8 → Wed 12:00
            ("2026-04-01T15:00:00-05:00", "2026-04-08T12:00:00-05:00"),
            // Friday 16:30 before a Monday holiday (29 June 2026): 1.5 Fri, 9 Tue, 9 Wed, 4.5 Thu → Thu 13:30
            ("2026-06-26T16:30:00-05:00", "2026-07-02T13:30:00-05:00"),
        ];
        for (start, due) in table {
            assert_eq!(cal.add_business_hours(lima(start), 24.0), lima(due), "from {start}");
        }
    }

    #[test]
    fn extra_non_working_days_count() {
        let mut cal = BusinessCalendar::default();
        cal.extra_holidays.push(day("2026-12-24"));
        // Wed 23 Dec 09:00 + 18 h: 9 Wed, (24 extra, 25 holiday, weekend), 9 Mon 28 → Mon 18:00
        assert_eq!(cal.add_business_hours(lima("2026-12-23T09:00:00-05:00"), 18.0), lima("2026-12-28T18:00:00-05:00"));
    }

    #[test]
    fn hours_between_is_the_inverse() {
        let cal = BusinessCalendar::default();
        let start = lima("2026-11-27T17:00:00-05:00");
        let due = cal.add_business_hours(start, 24.0);
        assert!((cal.business_hours_between(start, due) - 24.0).abs() < 1e-9);
    }
}
