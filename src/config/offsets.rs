//! Reminder offsets (`[calendar.offsets]`): how long before each kind of item to remind,
//! written as `"14d"`, `"1h"`, `"1d12h"`. Parsed here, at the bottom, so the configuration
//! imports no domain module; the calendar reads the parsed values.

use std::fmt::Write as _;

use anyhow::{Result, bail};
use chrono::TimeDelta;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// How long before each kind of item to remind. In config: `meeting = ["14d", "7d", "1d", "1h"]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Offsets {
    #[serde(with = "offset_list")]
    pub meeting: Vec<TimeDelta>,
    #[serde(with = "offset_list")]
    pub call_close: Vec<TimeDelta>,
    #[serde(with = "offset_list")]
    pub deadline: Vec<TimeDelta>,
}

impl Default for Offsets {
    fn default() -> Self {
        let d = TimeDelta::days;
        Offsets {
            meeting: vec![d(14), d(7), d(1), TimeDelta::hours(1)],
            call_close: vec![d(7), d(1)],
            deadline: vec![d(7), d(1)],
        }
    }
}

/// Reads `"14d"`, `"1h"`, `"30m"`, `"2w"`, `"1d12h"`, `"90s"`.
pub fn parse_offset(text: &str) -> Result<TimeDelta> {
    let mut total = TimeDelta::zero();
    let mut digits = String::new();
    for c in text.trim().chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let n: i64 = digits
            .parse()
            .map_err(|_| anyhow::anyhow!("offset {text:?}: a number must come before {c:?}"))?;
        total += match c {
            'w' => TimeDelta::weeks(n),
            'd' => TimeDelta::days(n),
            'h' => TimeDelta::hours(n),
            'm' => TimeDelta::minutes(n),
            's' => TimeDelta::seconds(n),
            _ => bail!("offset {text:?}: unknown unit {c:?} (use w, d, h, m or s)"),
        };
        digits.clear();
    }
    if !digits.is_empty() || text.trim().is_empty() {
        bail!("offset {text:?}: give a unit, as in \"7d\" or \"1h\"");
    }
    Ok(total)
}

/// The inverse of [`parse_offset`]: `"14d"`, `"1h"`, `"1d12h"`.
pub fn format_offset(offset: TimeDelta) -> String {
    let mut secs = offset.num_seconds();
    let mut out = String::new();
    for (unit, size) in [('d', 86_400), ('h', 3_600), ('m', 60), ('s', 1)] {
        if secs >= size {
            write!(out, "{}{unit}", secs / size).unwrap();
            secs %= size;
        }
    }
    if out.is_empty() { "0s".to_owned() } else { out }
}

mod offset_list {
    use super::*;

    pub fn serialize<S: Serializer>(list: &[TimeDelta], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(list.iter().map(|o| format_offset(*o)))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<TimeDelta>, D::Error> {
        let texts = Vec::<String>::deserialize(d)?;
        texts
            .iter()
            .map(|t| parse_offset(t).map_err(serde::de::Error::custom))
            .collect()
    }
}
