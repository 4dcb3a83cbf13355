//! Timestamps as they travel through the gateway.
//!
//! * RFC 3339 `date-time` is what CPIM `DateTime` (RFC 3862 §4.4) and the
//!   IMDN `<datetime>` element (RFC 5438 §7.2.1.1) carry.
//! * RFC 5322 §3.3 `date-time` is what an e-mail `Date:` header carries.
//!
//! A [`Timestamp`] is the instant (`unix_seconds`, always UTC) plus the
//! offset the sender wrote (`offset_minutes`), so a date can be re-emitted in
//! the sender's own local time.
//!
//! The calendar (days of months, leap years, weekdays) is jiff's; the
//! grammars are ours, because they must be exactly the RFCs'. jiff's own
//! parsers were tried with the vectors of the tests below: its Temporal
//! parser also takes `2026-11-28 13:52:27Z` (a space for `T`) and reads the
//! leap second `23:59:60` as `23:59:59`; its RFC 2822 parser refuses a
//! comment inside the date and a day name that disagrees with the date,
//! both of which real mail carries and RFC 5322 §3.3/§4.3 allow.
//!
//! Leap seconds (`:60`, allowed by RFC 3339 §5.7 and RFC 5322 §3.3) are
//! accepted and counted as the first second of the next minute, because Unix
//! time has no slot for them.

use thiserror::Error;

/// An instant plus the UTC offset it was (or should be) written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Timestamp {
    /// Seconds since 1970-01-01T00:00:00Z, ignoring leap seconds.
    pub unix_seconds: i64,
    /// Local offset east of UTC in minutes (`+08:00` is `480`).
    pub offset_minutes: i16,
}

impl Timestamp {
    /// An instant written in UTC (offset zero).
    pub fn utc(unix_seconds: i64) -> Self {
        Self {
            unix_seconds,
            offset_minutes: 0,
        }
    }
}

/// Why a date could not be read or written.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum TimeError {
    /// The text is not an RFC 3339 `date-time`.
    #[error("malformed RFC 3339 date-time: {0}")]
    MalformedRfc3339(&'static str),
    /// The text is not an RFC 5322 `date-time`.
    #[error("malformed RFC 5322 date: {0}")]
    MalformedRfc5322(&'static str),
    /// A field is syntactically fine but names no real date or time.
    #[error("{field} out of range: {value}")]
    OutOfRange {
        /// Which field (`month`, `day`, `hour`, ...).
        field: &'static str,
        /// The value that was found.
        value: i64,
    },
    /// The year cannot be written with the digits the format allows.
    #[error("year {year} cannot be written in {format} (allowed {min}..={max})")]
    YearNotRepresentable {
        /// The year of the local date.
        year: i64,
        /// Which format was asked for.
        format: &'static str,
        /// Smallest year the format allows.
        min: i64,
        /// Largest year the format allows.
        max: i64,
    },
    /// The offset does not fit `±hh:mm` with `hh` at most 23.
    #[error("UTC offset of {0} minutes cannot be written (must be within ±23:59)")]
    OffsetNotRepresentable(i16),
    /// Adding the offset to the instant overflows.
    #[error("timestamp overflows when its UTC offset is applied")]
    Overflow,
}

const SECONDS_PER_DAY: i64 = 86_400;
const MAX_OFFSET_MINUTES: i16 = 23 * 60 + 59;
const DAY_NAMES: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTH_NAMES: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A broken-down local date and time, already range-checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct CivilDateTime {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
}

impl CivilDateTime {
    fn checked(
        year: i64,
        month: u32,
        day: u32,
        hour: u32,
        minute: u32,
        second: u32,
    ) -> Result<Self, TimeError> {
        if !(1..=12).contains(&month) {
            return Err(out_of_range("month", month));
        }
        if day == 0 || day > days_in_month(year, month) {
            return Err(out_of_range("day", day));
        }
        if hour > 23 {
            return Err(out_of_range("hour", hour));
        }
        if minute > 59 {
            return Err(out_of_range("minute", minute));
        }
        // 60 is a leap second (RFC 3339 §5.7, RFC 5322 §3.3).
        if second > 60 {
            return Err(out_of_range("second", second));
        }
        Ok(Self {
            year,
            month,
            day,
            hour,
            minute,
            second,
        })
    }

    fn local_seconds(self) -> i64 {
        days_from_civil(self.year, self.month, self.day) * SECONDS_PER_DAY
            + i64::from(self.hour) * 3600
            + i64::from(self.minute) * 60
            + i64::from(self.second)
    }

    fn from_local_seconds(local: i64) -> Self {
        let days = local.div_euclid(SECONDS_PER_DAY);
        // rem_euclid keeps the time of day in 0..86400 even before 1970.
        let second_of_day = local.rem_euclid(SECONDS_PER_DAY);
        let (year, month, day) = civil_from_days(days);
        Self {
            year,
            month,
            day,
            hour: (second_of_day / 3600) as u32,
            minute: (second_of_day % 3600 / 60) as u32,
            second: (second_of_day % 60) as u32,
        }
    }
}

fn out_of_range(field: &'static str, value: u32) -> TimeError {
    TimeError::OutOfRange {
        field,
        value: i64::from(value),
    }
}

/// 400 Gregorian years are exactly this many days, weekdays included: the
/// calendar repeats, so any date is computed 400·k years away, inside the
/// range jiff represents (years -9999..=9999), and shifted back.
const DAYS_PER_400_YEARS: i64 = 146_097;

/// A date of the 400 years starting 1970-01-01, by its day number.
fn date_of_cycle_day(day: i64) -> jiff::civil::Date {
    let second = day * SECONDS_PER_DAY;
    let timestamp = jiff::Timestamp::from_second(second).expect("1970..2370 is in jiff's range");
    jiff::tz::Offset::UTC.to_datetime(timestamp).date()
}

fn days_in_month(year: i64, month: u32) -> u32 {
    // Same leap years as `year`, inside jiff's range.
    let same = 2000 + year.rem_euclid(400);
    jiff::civil::Date::new(same as i16, month as i8, 1)
        .map_or(0, |first| first.days_in_month() as u32)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (RFC 3339 §5.7
/// and RFC 5322 §3.3 use that calendar). `month` and `day` are valid.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let cycles = (year - 1970).div_euclid(400);
    let same = year - cycles * 400;
    let date = jiff::civil::Date::new(same as i16, month as i8, day as i8)
        .expect("a checked date, 1970..2370");
    let midnight = jiff::tz::Offset::UTC
        .to_timestamp(date.to_datetime(jiff::civil::Time::midnight()))
        .expect("1970..2370 is in jiff's range");
    midnight.as_second().div_euclid(SECONDS_PER_DAY) + cycles * DAYS_PER_400_YEARS
}

/// Inverse of [`days_from_civil`]: (year, month, day) of a day count.
fn civil_from_days(days_since_epoch: i64) -> (i64, u32, u32) {
    let cycles = days_since_epoch.div_euclid(DAYS_PER_400_YEARS);
    let date = date_of_cycle_day(days_since_epoch.rem_euclid(DAYS_PER_400_YEARS));
    (
        i64::from(date.year()) + cycles * 400,
        date.month() as u32,
        date.day() as u32,
    )
}

/// Day of week, 0 = Sunday.
fn weekday(days_since_epoch: i64) -> usize {
    date_of_cycle_day(days_since_epoch.rem_euclid(DAYS_PER_400_YEARS))
        .weekday()
        .to_sunday_zero_offset() as usize
}

fn local_time_of(timestamp: &Timestamp) -> Result<CivilDateTime, TimeError> {
    if timestamp.offset_minutes.unsigned_abs() > MAX_OFFSET_MINUTES.unsigned_abs() {
        return Err(TimeError::OffsetNotRepresentable(timestamp.offset_minutes));
    }
    let local = timestamp
        .unix_seconds
        .checked_add(i64::from(timestamp.offset_minutes) * 60)
        .ok_or(TimeError::Overflow)?;
    Ok(CivilDateTime::from_local_seconds(local))
}

fn instant(civil: CivilDateTime, offset_minutes: i16) -> Timestamp {
    Timestamp {
        unix_seconds: civil.local_seconds() - i64::from(offset_minutes) * 60,
        offset_minutes,
    }
}

fn offset_parts(offset_minutes: i16) -> (char, u16, u16) {
    let sign = if offset_minutes < 0 { '-' } else { '+' };
    let magnitude = offset_minutes.unsigned_abs();
    (sign, magnitude / 60, magnitude % 60)
}

// ---------------------------------------------------------------- RFC 3339

/// Reads an RFC 3339 §5.6 `date-time`, e.g. `2026-11-28T13:52:27Z` or
/// `2026-11-28T21:52:27.250+08:00`.
///
/// Lower-case `t` and `z` are accepted (RFC 3339 §5.6 NOTE). Fractional
/// seconds are dropped: CPIM and IMDN only need second precision. `-00:00`
/// ("offset unknown", RFC 3339 §4.3) reads as UTC.
pub fn parse_rfc3339(text: &str) -> Result<Timestamp, TimeError> {
    let bytes = text.as_bytes();
    let malformed = TimeError::MalformedRfc3339;
    let year = fixed_digits(bytes, 0, 4).ok_or(malformed("expected a 4-digit year"))?;
    expect_byte(bytes, 4, b'-').ok_or(malformed("expected '-' after the year"))?;
    let month = fixed_digits(bytes, 5, 2).ok_or(malformed("expected a 2-digit month"))?;
    expect_byte(bytes, 7, b'-').ok_or(malformed("expected '-' after the month"))?;
    let day = fixed_digits(bytes, 8, 2).ok_or(malformed("expected a 2-digit day"))?;
    if !matches!(bytes.get(10), Some(b'T' | b't')) {
        return Err(malformed("date and time must be separated by 'T'"));
    }
    let hour = fixed_digits(bytes, 11, 2).ok_or(malformed("expected a 2-digit hour"))?;
    expect_byte(bytes, 13, b':').ok_or(malformed("expected ':' after the hour"))?;
    let minute = fixed_digits(bytes, 14, 2).ok_or(malformed("expected 2-digit minutes"))?;
    expect_byte(bytes, 16, b':').ok_or(malformed("expected ':' after the minutes"))?;
    let second = fixed_digits(bytes, 17, 2).ok_or(malformed("expected 2-digit seconds"))?;

    let mut position = 19;
    if bytes.get(position) == Some(&b'.') {
        position += 1;
        let fraction_start = position;
        while bytes.get(position).is_some_and(u8::is_ascii_digit) {
            position += 1;
        }
        if position == fraction_start {
            return Err(malformed("'.' must be followed by fraction digits"));
        }
    }

    let offset_minutes = match bytes.get(position) {
        Some(b'Z' | b'z') => {
            position += 1;
            0
        }
        Some(&sign @ (b'+' | b'-')) => {
            let hours =
                fixed_digits(bytes, position + 1, 2).ok_or(malformed("expected offset hours"))?;
            expect_byte(bytes, position + 3, b':')
                .ok_or(malformed("expected ':' inside the offset"))?;
            let minutes =
                fixed_digits(bytes, position + 4, 2).ok_or(malformed("expected offset minutes"))?;
            position += 6;
            signed_offset(sign, hours, minutes)?
        }
        _ => return Err(malformed("missing time zone offset ('Z' or ±hh:mm)")),
    };
    if position != bytes.len() {
        return Err(malformed("unexpected characters after the offset"));
    }
    let civil = CivilDateTime::checked(i64::from(year), month, day, hour, minute, second)?;
    Ok(instant(civil, offset_minutes))
}

/// Writes an RFC 3339 `date-time` in the timestamp's own offset, `Z` for UTC.
///
/// Fails if the local year falls outside 0000..=9999 or the offset is not
/// within ±23:59, because RFC 3339 has no syntax for those.
pub fn format_rfc3339(timestamp: &Timestamp) -> Result<String, TimeError> {
    let local = local_time_of(timestamp)?;
    check_year(local.year, "RFC 3339", 0)?;
    let offset = if timestamp.offset_minutes == 0 {
        "Z".to_owned()
    } else {
        let (sign, hours, minutes) = offset_parts(timestamp.offset_minutes);
        format!("{sign}{hours:02}:{minutes:02}")
    };
    Ok(format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{offset}",
        local.year, local.month, local.day, local.hour, local.minute, local.second
    ))
}

// ---------------------------------------------------------------- RFC 5322

/// Writes an RFC 5322 §3.3 date, e.g. `Sat, 28 Nov 2026 21:52:27 +0800`,
/// in the timestamp's own offset, with the day of week computed.
///
/// Fails for local years before 1900 (RFC 5322 §3.3 forbids them) or after
/// 9999, and for offsets outside ±23:59.
pub fn format_rfc5322(timestamp: &Timestamp) -> Result<String, TimeError> {
    let local = local_time_of(timestamp)?;
    check_year(local.year, "RFC 5322", 1900)?;
    let days = days_from_civil(local.year, local.month, local.day);
    let (sign, hours, minutes) = offset_parts(timestamp.offset_minutes);
    Ok(format!(
        "{}, {} {} {:04} {:02}:{:02}:{:02} {sign}{hours:02}{minutes:02}",
        DAY_NAMES[weekday(days)],
        local.day,
        MONTH_NAMES[(local.month - 1) as usize],
        local.year,
        local.hour,
        local.minute,
        local.second
    ))
}

/// Reads an RFC 5322 §3.3 date, with or without the day name, including
/// the obsolete forms of RFC 5322 §4.3: comments, two- and three-digit
/// years, and the zone names `UT`, `GMT`, the US zones and military letters.
///
/// A day name that disagrees with the date is tolerated: mailers get it
/// wrong often enough, and the numeric date is the authoritative part.
pub fn parse_rfc5322(text: &str) -> Result<Timestamp, TimeError> {
    let malformed = TimeError::MalformedRfc5322;
    let without_comments = strip_comments(text)?;
    // RFC 5322 §3.3: date-time = [ day-of-week "," ] date time [CFWS]
    let date_and_time = match without_comments.split_once(',') {
        Some((day_name, rest)) => {
            let day_name = day_name.trim();
            if !DAY_NAMES.iter().any(|n| n.eq_ignore_ascii_case(day_name)) {
                return Err(malformed("unknown day-of-week before ','"));
            }
            rest
        }
        None => without_comments.as_str(),
    };
    let mut fields = date_and_time.split_whitespace();
    let mut next = |what: &'static str| fields.next().ok_or(malformed(what));
    let day =
        short_number(next("missing day")?, 2).ok_or(malformed("day must be 1 or 2 digits"))?;
    let month = month_number(next("missing month")?).ok_or(malformed("unknown month name"))?;
    let year = rfc5322_year(next("missing year")?)?;
    let (hour, minute, second) = rfc5322_time(next("missing time of day")?)?;
    let offset_minutes = rfc5322_zone(next("missing time zone")?)?;
    if fields.next().is_some() {
        return Err(malformed("unexpected text after the time zone"));
    }
    let civil = CivilDateTime::checked(year, month, day, hour, minute, second)?;
    Ok(instant(civil, offset_minutes))
}

/// Replaces RFC 5322 §3.2.2 comments (nestable, with quoted-pairs) by a space.
fn strip_comments(text: &str) -> Result<String, TimeError> {
    let mut kept = String::with_capacity(text.len());
    let mut depth = 0usize;
    let mut characters = text.chars();
    while let Some(character) = characters.next() {
        match character {
            '(' => {
                depth += 1;
                kept.push(' ');
            }
            ')' if depth == 0 => {
                return Err(TimeError::MalformedRfc5322("')' without '('"));
            }
            ')' => depth -= 1,
            '\\' if depth > 0 => {
                characters.next();
            }
            _ if depth > 0 => {}
            _ => kept.push(character),
        }
    }
    if depth != 0 {
        return Err(TimeError::MalformedRfc5322("unclosed comment"));
    }
    Ok(kept)
}

/// RFC 5322 §3.3 `year`, or §4.3 `obs-year` with its 2/3-digit rules.
fn rfc5322_year(field: &str) -> Result<i64, TimeError> {
    if field.is_empty() || field.len() > 4 || !field.bytes().all(|b| b.is_ascii_digit()) {
        return Err(TimeError::MalformedRfc5322("year must be 2 to 4 digits"));
    }
    let value: i64 = field
        .parse()
        .map_err(|_| TimeError::MalformedRfc5322("year must be 2 to 4 digits"))?;
    match field.len() {
        // RFC 5322 §4.3: 00-49 are 2000-2049, 50-99 are 1950-1999.
        2 if value < 50 => Ok(2000 + value),
        // RFC 5322 §4.3: 50-99 and any three-digit year get 1900 added.
        2 | 3 => Ok(1900 + value),
        4 => Ok(value),
        _ => Err(TimeError::MalformedRfc5322("year must be 2 to 4 digits")),
    }
}

/// RFC 5322 §3.3 `time-of-day`: hour ":" minute [ ":" second ].
fn rfc5322_time(field: &str) -> Result<(u32, u32, u32), TimeError> {
    let malformed = TimeError::MalformedRfc5322("time must be hh:mm or hh:mm:ss");
    let mut parts = field.split(':');
    let hour = parts
        .next()
        .and_then(|p| short_number(p, 2))
        .ok_or(malformed.clone())?;
    let minute = parts
        .next()
        .and_then(|p| exact_number(p, 2))
        .ok_or(malformed.clone())?;
    let second = match parts.next() {
        Some(part) => exact_number(part, 2).ok_or(malformed.clone())?,
        None => 0,
    };
    if parts.next().is_some() {
        return Err(malformed);
    }
    Ok((hour, minute, second))
}

/// RFC 5322 §3.3 `zone`, or one of the §4.3 `obs-zone` names.
fn rfc5322_zone(field: &str) -> Result<i16, TimeError> {
    let bytes = field.as_bytes();
    if let Some(&sign @ (b'+' | b'-')) = bytes.first() {
        if bytes.len() != 5 {
            return Err(TimeError::MalformedRfc5322("zone must be +hhmm or -hhmm"));
        }
        let hours = fixed_digits(bytes, 1, 2)
            .ok_or(TimeError::MalformedRfc5322("zone must be +hhmm or -hhmm"))?;
        let minutes = fixed_digits(bytes, 3, 2)
            .ok_or(TimeError::MalformedRfc5322("zone must be +hhmm or -hhmm"))?;
        return signed_offset(sign, hours, minutes);
    }
    let hours: i16 = match field.to_ascii_uppercase().as_str() {
        "UT" | "GMT" => 0,
        "EDT" => -4,
        "EST" | "CDT" => -5,
        "CST" | "MDT" => -6,
        "MST" | "PDT" => -7,
        "PST" => -8,
        // RFC 5322 §4.3: military zones were specified wrongly in RFC 822
        // and SHOULD be read as "-0000" (no offset information).
        letter
            if letter.len() == 1
                && letter != "J"
                && letter.bytes().all(|b| b.is_ascii_alphabetic()) =>
        {
            0
        }
        _ => return Err(TimeError::MalformedRfc5322("unknown time zone")),
    };
    Ok(hours * 60)
}

fn month_number(field: &str) -> Option<u32> {
    MONTH_NAMES
        .iter()
        .position(|name| name.eq_ignore_ascii_case(field))
        .map(|index| index as u32 + 1)
}

// ---------------------------------------------------------------- helpers

fn signed_offset(sign: u8, hours: u32, minutes: u32) -> Result<i16, TimeError> {
    if hours > 23 {
        return Err(out_of_range("offset hours", hours));
    }
    if minutes > 59 {
        return Err(out_of_range("offset minutes", minutes));
    }
    let magnitude = (hours * 60 + minutes) as i16;
    Ok(if sign == b'-' { -magnitude } else { magnitude })
}

fn check_year(year: i64, format: &'static str, min: i64) -> Result<(), TimeError> {
    const MAX: i64 = 9999;
    if (min..=MAX).contains(&year) {
        Ok(())
    } else {
        Err(TimeError::YearNotRepresentable {
            year,
            format,
            min,
            max: MAX,
        })
    }
}

/// Exactly `count` ASCII digits starting at `start`.
fn fixed_digits(bytes: &[u8], start: usize, count: usize) -> Option<u32> {
    let digits = bytes.get(start..start.checked_add(count)?)?;
    digits.iter().try_fold(0u32, |value, byte| {
        byte.is_ascii_digit()
            .then(|| value * 10 + u32::from(byte - b'0'))
    })
}

fn expect_byte(bytes: &[u8], index: usize, wanted: u8) -> Option<()> {
    (bytes.get(index) == Some(&wanted)).then_some(())
}

/// One to `max_len` ASCII digits.
fn short_number(field: &str, max_len: usize) -> Option<u32> {
    if field.is_empty() || field.len() > max_len {
        return None;
    }
    fixed_digits(field.as_bytes(), 0, field.len())
}

/// Exactly `len` ASCII digits.
fn exact_number(field: &str, len: usize) -> Option<u32> {
    (field.len() == len).then(|| fixed_digits(field.as_bytes(), 0, len))?
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE_UNIX: i64 = 1_795_873_947; // 2026-11-28T13:52:27Z

    #[test]
    fn parses_utc_rfc3339() {
        let parsed = parse_rfc3339("2026-11-28T13:52:27Z").unwrap();
        assert_eq!(parsed, Timestamp::utc(EXAMPLE_UNIX));
    }

    #[test]
    fn parses_offset_lowercase_and_fraction() {
        let parsed = parse_rfc3339("2026-11-28t21:52:27.123456+08:00").unwrap();
        assert_eq!(parsed.unix_seconds, EXAMPLE_UNIX);
        assert_eq!(parsed.offset_minutes, 480);
        let lower_z = parse_rfc3339("2026-11-28t13:52:27.9z").unwrap();
        assert_eq!(lower_z, Timestamp::utc(EXAMPLE_UNIX));
        let unknown_offset = parse_rfc3339("2026-11-28T13:52:27-00:00").unwrap();
        assert_eq!(unknown_offset, Timestamp::utc(EXAMPLE_UNIX));
    }

    #[test]
    fn parses_rfc_examples() {
        // RFC 3862 §6 and RFC 5438 §7.1.1 DateTime values.
        let cpim = parse_rfc3339("2000-12-13T13:40:00-08:00").unwrap();
        assert_eq!(cpim.unix_seconds, 976_743_600);
        assert_eq!(cpim.offset_minutes, -480);
        let imdn = parse_rfc3339("2006-04-04T12:16:49-05:00").unwrap();
        assert_eq!(imdn.unix_seconds, 1_144_171_009);
    }

    #[test]
    fn formats_rfc3339_keeping_the_offset() {
        let timestamp = Timestamp {
            unix_seconds: EXAMPLE_UNIX,
            offset_minutes: 480,
        };
        assert_eq!(
            format_rfc3339(&timestamp).unwrap(),
            "2026-11-28T21:52:27+08:00"
        );
        assert_eq!(
            format_rfc3339(&Timestamp::utc(EXAMPLE_UNIX)).unwrap(),
            "2026-11-28T13:52:27Z"
        );
        let negative = Timestamp {
            unix_seconds: 1_144_171_009,
            offset_minutes: -300,
        };
        assert_eq!(
            format_rfc3339(&negative).unwrap(),
            "2006-04-04T12:16:49-05:00"
        );
        let half_hour = Timestamp {
            unix_seconds: 0,
            offset_minutes: -570,
        };
        assert_eq!(
            format_rfc3339(&half_hour).unwrap(),
            "1969-12-31T14:30:00-09:30"
        );
    }

    #[test]
    fn rfc3339_round_trips() {
        for text in [
            "1970-01-01T00:00:00Z",
            "1969-12-31T23:59:59Z",
            "2000-02-29T12:00:00+05:45",
            "0000-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
            "2024-02-29T23:59:59-23:59",
        ] {
            let parsed = parse_rfc3339(text).unwrap();
            assert_eq!(format_rfc3339(&parsed).unwrap(), text);
            assert_eq!(
                parse_rfc3339(&format_rfc3339(&parsed).unwrap()).unwrap(),
                parsed
            );
        }
    }

    #[test]
    fn rejects_bad_rfc3339() {
        for text in [
            "",
            "2026-11-28",
            "2026-11-28T13:52:27",
            "2026-11-28 13:52:27Z",
            "2026-13-28T13:52:27Z",
            "2026-02-29T13:52:27Z",
            "1900-02-29T00:00:00Z",
            "2026-11-28T24:00:00Z",
            "2026-11-28T13:60:00Z",
            "2026-11-28T13:52:61Z",
            "2026-11-28T13:52:27.Z",
            "2026-11-28T13:52:27+8:00",
            "2026-11-28T13:52:27+24:00",
            "2026-11-28T13:52:27+08:60",
            "2026-11-28T13:52:27Zjunk",
            "2026-11-28T13:52:27Z ",
            "２026-11-28T13:52:27Z",
            "+2026-11-28T13:52:27Z",
        ] {
            assert!(parse_rfc3339(text).is_err(), "accepted {text:?}");
        }
    }

    #[test]
    fn leap_second_counts_as_next_minute() {
        let leap = parse_rfc3339("2016-12-31T23:59:60Z").unwrap();
        let next = parse_rfc3339("2017-01-01T00:00:00Z").unwrap();
        assert_eq!(leap, next);
    }

    #[test]
    fn formats_rfc5322_with_day_of_week() {
        let timestamp = Timestamp {
            unix_seconds: EXAMPLE_UNIX,
            offset_minutes: 480,
        };
        assert_eq!(
            format_rfc5322(&timestamp).unwrap(),
            "Sat, 28 Nov 2026 21:52:27 +0800"
        );
        let single_digit_day = parse_rfc3339("2026-12-01T08:05:09-03:30").unwrap();
        assert_eq!(
            format_rfc5322(&single_digit_day).unwrap(),
            "Tue, 1 Dec 2026 08:05:09 -0330"
        );
        assert_eq!(
            format_rfc5322(&Timestamp::utc(0)).unwrap(),
            "Thu, 1 Jan 1970 00:00:00 +0000"
        );
    }

    #[test]
    fn parses_rfc5322_forms() {
        let expected = Timestamp {
            unix_seconds: EXAMPLE_UNIX,
            offset_minutes: 480,
        };
        for text in [
            "Sat, 28 Nov 2026 21:52:27 +0800",
            "28 Nov 2026 21:52:27 +0800",
            "sat,28 nov 2026 21:52:27 +0800",
            "  Sat ,  28   Nov 2026   21:52:27   +0800  ",
            "Sat, 28 Nov 2026 21:52:27 +0800 (CST)",
            "Sat, 28 (the (nested) comment) Nov 2026 21:52:27 +0800",
            "Mon, 28 Nov 2026 21:52:27 +0800",
        ] {
            assert_eq!(parse_rfc5322(text).unwrap(), expected, "{text:?}");
        }
        let without_seconds = parse_rfc5322("28 Nov 2026 21:52 +0800").unwrap();
        assert_eq!(without_seconds.unix_seconds, EXAMPLE_UNIX - 27);
    }

    #[test]
    fn parses_rfc5322_obsolete_zones() {
        let utc = Timestamp::utc(EXAMPLE_UNIX);
        assert_eq!(parse_rfc5322("Sat, 28 Nov 2026 13:52:27 GMT").unwrap(), utc);
        assert_eq!(parse_rfc5322("Sat, 28 Nov 2026 13:52:27 UT").unwrap(), utc);
        assert_eq!(parse_rfc5322("Sat, 28 Nov 2026 13:52:27 Z").unwrap(), utc);
        let eastern = parse_rfc5322("Sat, 28 Nov 2026 08:52:27 EST").unwrap();
        assert_eq!(eastern.unix_seconds, EXAMPLE_UNIX);
        assert_eq!(eastern.offset_minutes, -300);
        let pacific = parse_rfc5322("Sat, 28 Nov 2026 06:52:27 pdt").unwrap();
        assert_eq!(pacific.unix_seconds, EXAMPLE_UNIX);
        assert_eq!(pacific.offset_minutes, -420);
        assert_eq!(
            parse_rfc5322("Sat, 28 Nov 2026 13:52:27 -0000").unwrap(),
            utc
        );
    }

    #[test]
    fn parses_rfc5322_obsolete_years() {
        let year_of = |text: &str| {
            let parsed = parse_rfc5322(text).unwrap();
            CivilDateTime::from_local_seconds(parsed.unix_seconds).year
        };
        assert_eq!(year_of("1 Jan 49 00:00:00 GMT"), 2049);
        assert_eq!(year_of("1 Jan 50 00:00:00 GMT"), 1950);
        assert_eq!(year_of("1 Jan 00 00:00:00 GMT"), 2000);
        assert_eq!(year_of("1 Jan 99 00:00:00 GMT"), 1999);
        assert_eq!(year_of("1 Jan 126 00:00:00 GMT"), 2026);
    }

    #[test]
    fn rejects_bad_rfc5322() {
        for text in [
            "",
            "Sat,",
            "Sat, 28 Nov 2026",
            "Sat, 28 Nov 2026 21:52:27",
            "Sat, 28 Foo 2026 21:52:27 +0800",
            "Sat, 31 Nov 2026 21:52:27 +0800",
            "Sat, 28 Nov 2026 25:52:27 +0800",
            "Sat, 28 Nov 2026 21:52:27 +080",
            "Sat, 28 Nov 2026 21:52:27 +0860",
            "Sat, 28 Nov 2026 21:52:27 XYZ",
            "Sat, 28 Nov 2026 21:52:27 J",
            "Sat, 28 Nov 2026 21:52:27 +0800 extra",
            "Sat, 28 Nov 20266 21:52:27 +0800",
            "Sat, 28 Nov 2026 21:5:27 +0800",
            "Sat, 28 Nov 2026 21:52:27:00 +0800",
            "Xyz, 28 Nov 2026 21:52:27 +0800",
            "Sat, 28 Nov 2026 21:52:27 +0800 (unclosed",
            "Sat, 28 Nov 2026 21:52:27 +0800)",
            "Sat, 123 Nov 2026 21:52:27 +0800",
        ] {
            assert!(parse_rfc5322(text).is_err(), "accepted {text:?}");
        }
    }

    #[test]
    fn rfc5322_round_trips() {
        for (unix_seconds, offset_minutes) in [(EXAMPLE_UNIX, 480), (0, 0), (951_782_400, -150)] {
            let timestamp = Timestamp {
                unix_seconds,
                offset_minutes,
            };
            let text = format_rfc5322(&timestamp).unwrap();
            assert_eq!(parse_rfc5322(&text).unwrap(), timestamp, "{text}");
        }
    }

    #[test]
    fn refuses_unrepresentable_timestamps() {
        assert!(matches!(
            format_rfc3339(&Timestamp::utc(253_402_300_800)),
            Err(TimeError::YearNotRepresentable { year: 10000, .. })
        ));
        assert!(format_rfc5322(&parse_rfc3339("1899-12-31T23:59:59Z").unwrap()).is_err());
        assert!(matches!(
            format_rfc3339(&Timestamp {
                unix_seconds: 0,
                offset_minutes: 24 * 60
            }),
            Err(TimeError::OffsetNotRepresentable(_))
        ));
        assert_eq!(
            format_rfc3339(&Timestamp {
                unix_seconds: i64::MAX,
                offset_minutes: 60
            }),
            Err(TimeError::Overflow)
        );
        assert!(format_rfc3339(&Timestamp::utc(i64::MIN)).is_err());
        assert!(format_rfc5322(&Timestamp::utc(i64::MAX)).is_err());
    }

    #[test]
    fn calendar_arithmetic_matches_known_days() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(1969, 12, 31), -1);
        assert_eq!(civil_from_days(-719_468), (0, 3, 1));
        for days in (-800_000..800_000).step_by(997) {
            let (year, month, day) = civil_from_days(days);
            assert_eq!(days_from_civil(year, month, day), days);
            assert!(day >= 1 && day <= days_in_month(year, month));
        }
        assert_eq!(DAY_NAMES[weekday(days_from_civil(2026, 11, 28))], "Sat");
        assert_eq!(DAY_NAMES[weekday(days_from_civil(1969, 12, 31))], "Wed");
    }

    #[test]
    fn never_panics_on_truncated_or_odd_input() {
        let samples = [
            "2026-11-28T21:52:27.123+08:00",
            "Sat, 28 Nov 2026 21:52:27 +0800 (comment \\) here)",
        ];
        for sample in samples {
            for end in 0..=sample.len() {
                if let Some(prefix) = sample.get(..end) {
                    let _ = parse_rfc3339(prefix);
                    let _ = parse_rfc5322(prefix);
                }
            }
        }
        for odd in [
            "é",
            "2026-11-28T21:52:27+08:0é",
            "(((",
            "\\",
            "28 Nov 2026 99:99 +9999",
        ] {
            let _ = parse_rfc3339(odd);
            let _ = parse_rfc5322(odd);
        }
    }
}
