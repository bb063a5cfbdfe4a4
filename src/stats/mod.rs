//! Usage statistics over stored receipts: request count, tokens and cost, in total and
//! grouped by provider, alias, model (`provider:model`), profile and UTC day, over whatever
//! the record stream holds (filter it with a [`Filter`] for a date range). Sums are exact
//! ([`Decimal`] for money, 128-bit integers for tokens); memory grows with the number of
//! distinct groups, not with the number of receipts.
//!
//! # JSON shape ([`Stats::to_json`])
//!
//! ```text
//! {"filter": {...the filter...},
//!  "total": TOTALS,
//!  "by_provider": {"openai": TOTALS, ...}, "by_alias": {...}, "by_model": {"openai:gpt-4o": TOTALS},
//!  "by_profile": {...}, "by_day": {"2025-01-31": TOTALS, ...},
//!  "most_expensive_alias": {"alias": "fast", "total_cost": 1.25, "requests": 3} | null,
//!  "first_timestamp": "..." | null, "last_timestamp": "..." | null}
//! TOTALS = {"requests", "prompt_tokens", "completion_tokens", "total_tokens",
//!           "input_cost", "output_cost", "total_cost"}
//! ```
//!
//! Groups appear in key order; only the groups asked for in [`Query::by`] (all by default).
//! Amounts are JSON numbers whose shortest form is exactly the decimal sum
//! ([`crate::cost::json::decimal_to_json`]); a sum with more than 15 significant digits,
//! which no JSON number holds exactly, is written as a decimal string instead (likewise a
//! token sum beyond 2^64-1). Receipts whose timestamp is not RFC 3339 count under the day
//! `"unknown"`. The most expensive alias is the one with the highest total cost (ties: the
//! first in key order).

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Utc};
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use crate::error::{Error, Result};
use crate::store::{Filter, ReceiptView, Record, Store};

/// Sums over a set of receipts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Totals {
    pub requests: u64,
    pub prompt_tokens: u128,
    pub completion_tokens: u128,
    pub total_tokens: u128,
    pub input_cost: Decimal,
    pub output_cost: Decimal,
    pub total_cost: Decimal,
}

impl Totals {
    /// Adds one receipt. Fails (kind `Internal`) only if a cost sum leaves Decimal's range
    /// (about 7.9e28).
    pub fn add(&mut self, r: &ReceiptView) -> Result<()> {
        let sum = |a: Decimal, b: Decimal| {
            a.checked_add(b)
                .ok_or_else(|| Error::internal("a cost sum is beyond the decimal range"))
        };
        self.input_cost = sum(self.input_cost, r.input_cost)?;
        self.output_cost = sum(self.output_cost, r.output_cost)?;
        self.total_cost = sum(self.total_cost, r.total_cost)?;
        self.requests += 1;
        self.prompt_tokens += u128::from(r.prompt_tokens);
        self.completion_tokens += u128::from(r.completion_tokens);
        self.total_tokens += u128::from(r.total_tokens);
        Ok(())
    }

    pub fn to_json(&self) -> Value {
        json!({
            "requests": self.requests,
            "prompt_tokens": count_json(self.prompt_tokens),
            "completion_tokens": count_json(self.completion_tokens),
            "total_tokens": count_json(self.total_tokens),
            "input_cost": amount_json(self.input_cost),
            "output_cost": amount_json(self.output_cost),
            "total_cost": amount_json(self.total_cost),
        })
    }
}

/// An amount as an exact JSON number, or a decimal string when no JSON number holds it
/// exactly.
pub fn amount_json(amount: Decimal) -> Value {
    crate::cost::json::decimal_to_json(amount, "amount")
        .unwrap_or_else(|_| Value::String(amount.normalize().to_string()))
}

/// A count as a JSON number, or a string beyond 2^64-1.
pub fn count_json(n: u128) -> Value {
    u64::try_from(n).map_or_else(|_| Value::String(n.to_string()), Value::from)
}

/// A grouping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum GroupBy {
    Provider,
    Alias,
    /// `provider:model`.
    Model,
    Profile,
    /// UTC day of the timestamp, `YYYY-MM-DD`.
    Day,
}

impl GroupBy {
    pub const ALL: [GroupBy; 5] = [
        GroupBy::Provider,
        GroupBy::Alias,
        GroupBy::Model,
        GroupBy::Profile,
        GroupBy::Day,
    ];

    /// `provider`, `alias`, `model`, `profile` or `day`.
    pub fn parse(name: &str) -> Result<GroupBy> {
        match name {
            "provider" => Ok(GroupBy::Provider),
            "alias" => Ok(GroupBy::Alias),
            "model" => Ok(GroupBy::Model),
            "profile" => Ok(GroupBy::Profile),
            "day" => Ok(GroupBy::Day),
            other => Err(Error::invalid_argument(format!(
                "unknown grouping {other:?} (expected provider, alias, model, profile or day)"
            ))),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            GroupBy::Provider => "provider",
            GroupBy::Alias => "alias",
            GroupBy::Model => "model",
            GroupBy::Profile => "profile",
            GroupBy::Day => "day",
        }
    }

    /// The group a receipt falls in.
    pub fn key(self, r: &ReceiptView) -> String {
        let mut key = String::new();
        self.write_key(r, &mut key);
        key
    }

    /// [`GroupBy::key`] written into `out` (cleared first).
    pub fn write_key(self, r: &ReceiptView, out: &mut String) {
        use std::fmt::Write;
        out.clear();
        match self {
            GroupBy::Provider => out.push_str(&r.provider),
            GroupBy::Alias => out.push_str(&r.alias),
            GroupBy::Model => {
                out.push_str(&r.provider);
                out.push(':');
                out.push_str(&r.model);
            }
            GroupBy::Profile => out.push_str(&r.profile),
            // RFC 3339 years have four digits.
            GroupBy::Day => match r.time {
                Some(t) => {
                    let _ = write!(out, "{:04}-{:02}-{:02}", t.year(), t.month(), t.day());
                }
                None => out.push_str("unknown"),
            },
        }
    }
}

/// What to compute: which receipts (a filter) and which groups to report.
#[derive(Debug, Clone)]
pub struct Query {
    pub filter: Filter,
    pub by: Vec<GroupBy>,
}

impl Default for Query {
    fn default() -> Self {
        Query {
            filter: Filter::default(),
            by: GroupBy::ALL.to_vec(),
        }
    }
}

impl Query {
    /// Reads `{"since","until","alias","provider","model","profile","by"}`, every key
    /// optional: the filter keys as in [`Filter::from_json`], `by` a grouping name or a list
    /// of them (default: all). `None`, empty text and `{}` mean everything.
    pub fn from_json(text: Option<&str>) -> Result<Query> {
        let Some(text) = text.filter(|t| !t.trim().is_empty()) else {
            return Ok(Query::default());
        };
        let mut value = crate::receipt::json::parse_strict(text)?;
        let obj = value
            .as_object_mut()
            .ok_or_else(|| Error::invalid_argument("stats query: a JSON object is expected"))?;
        let by = match obj.remove("by") {
            None | Some(Value::Null) => GroupBy::ALL.to_vec(),
            Some(Value::String(s)) => vec![GroupBy::parse(&s)?],
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| {
                    v.as_str()
                        .ok_or_else(|| {
                            Error::invalid_argument("stats query: by holds grouping names")
                        })
                        .and_then(GroupBy::parse)
                })
                .collect::<Result<Vec<_>>>()?,
            Some(_) => {
                return Err(Error::invalid_argument(
                    "stats query: by is a grouping name or a list of them",
                ));
            }
        };
        let filter = Filter::from_json(Some(&value.to_string()))?;
        Ok(Query { filter, by })
    }
}

/// Statistics being accumulated.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub total: Totals,
    groups: BTreeMap<GroupBy, BTreeMap<String, Totals>>,
    pub first_timestamp: Option<String>,
    pub last_timestamp: Option<String>,
    by: Vec<GroupBy>,
    /// `first_timestamp` and `last_timestamp` parsed (when RFC 3339), so each receipt is
    /// compared without parsing them again.
    first_time: Option<DateTime<Utc>>,
    last_time: Option<DateTime<Utc>>,
    /// A buffer for group keys (no allocation for a group already seen).
    key: String,
}

impl Stats {
    /// Empty statistics grouping by every [`GroupBy`].
    pub fn new() -> Stats {
        Stats::grouped_by(&GroupBy::ALL)
    }

    /// Empty statistics with only these groupings.
    pub fn grouped_by(by: &[GroupBy]) -> Stats {
        let mut by = by.to_vec();
        by.sort();
        by.dedup();
        Stats {
            by,
            ..Stats::default()
        }
    }

    /// Adds one receipt.
    pub fn add(&mut self, r: &ReceiptView) -> Result<()> {
        self.total.add(r)?;
        for &g in &self.by {
            g.write_key(r, &mut self.key);
            let groups = self.groups.entry(g).or_default();
            match groups.get_mut(self.key.as_str()) {
                Some(t) => t.add(r)?,
                None => {
                    let mut t = Totals::default();
                    t.add(r)?;
                    groups.insert(self.key.clone(), t);
                }
            }
        }
        // Earlier: by time when both are RFC 3339, else by text.
        let earlier =
            |a: &str, ta: Option<DateTime<Utc>>, b: &str, tb: Option<DateTime<Utc>>| match (ta, tb)
            {
                (Some(ta), Some(tb)) => ta < tb,
                _ => a < b,
            };
        if self
            .first_timestamp
            .as_deref()
            .is_none_or(|f| earlier(&r.timestamp, r.time, f, self.first_time))
        {
            self.first_timestamp = Some(r.timestamp.clone());
            self.first_time = r.time;
        }
        if self
            .last_timestamp
            .as_deref()
            .is_none_or(|l| earlier(l, self.last_time, &r.timestamp, r.time))
        {
            self.last_timestamp = Some(r.timestamp.clone());
            self.last_time = r.time;
        }
        Ok(())
    }

    /// The totals per group of a grouping (empty when not grouped by it).
    pub fn group(&self, by: GroupBy) -> &BTreeMap<String, Totals> {
        static EMPTY: BTreeMap<String, Totals> = BTreeMap::new();
        self.groups.get(&by).unwrap_or(&EMPTY)
    }

    /// The alias with the highest total cost (ties: the first in key order); `None` when
    /// there are no receipts or aliases are not grouped.
    pub fn most_expensive_alias(&self) -> Option<(&str, &Totals)> {
        let mut best: Option<(&str, &Totals)> = None;
        for (k, t) in self.group(GroupBy::Alias) {
            if best.is_none_or(|(_, b)| t.total_cost > b.total_cost) {
                best = Some((k, t));
            }
        }
        best
    }

    /// The statistics as JSON (see the module documentation), with `filter` echoed.
    pub fn to_json(&self, filter: &Filter) -> Value {
        let mut m = Map::new();
        m.insert("filter".into(), filter.to_json());
        m.insert("total".into(), self.total.to_json());
        for &g in &self.by {
            let groups: Map<String, Value> = self
                .group(g)
                .iter()
                .map(|(k, t)| (k.clone(), t.to_json()))
                .collect();
            m.insert(format!("by_{}", g.name()), Value::Object(groups));
        }
        m.insert(
            "most_expensive_alias".into(),
            self.most_expensive_alias().map_or(Value::Null, |(a, t)| {
                json!({"alias": a, "total_cost": amount_json(t.total_cost), "requests": t.requests})
            }),
        );
        m.insert(
            "first_timestamp".into(),
            self.first_timestamp.clone().into(),
        );
        m.insert("last_timestamp".into(), self.last_timestamp.clone().into());
        Value::Object(m)
    }
}

/// Statistics over a stream of records (stops at the first error: a bad record is never
/// skipped).
pub fn compute(records: impl IntoIterator<Item = Result<Record>>, by: &[GroupBy]) -> Result<Stats> {
    let mut stats = Stats::grouped_by(by);
    for r in records {
        stats.add(&r?.view)?;
    }
    Ok(stats)
}

/// Runs a query on a store and returns the JSON (what `llmring_stats` answers).
pub fn run(store: &Store, query: &Query) -> Result<Value> {
    let stats = compute(store.iter(query.filter.clone())?, &query.by)?;
    Ok(stats.to_json(&query.filter))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_key_is_the_utc_date() {
        for ts in [
            "2025-01-15T10:30:00.000Z",
            "0001-03-01T00:00:00Z",
            "9999-12-31T23:59:59+01:00",
        ] {
            let t = DateTime::parse_from_rfc3339(ts)
                .unwrap()
                .with_timezone(&Utc);
            let mut key = String::from("junk");
            let view = ReceiptView {
                time: Some(t),
                ..crate::store::ReceiptView::parse(
                    &crate::receipt::api::generate(
                        r#"{"alias":"a","profile":"p","lock_digest":"d","provider":"x","model":"m",
                        "usage":{"prompt_tokens":1,"completion_tokens":1},
                        "costs":{"input_cost":"0","output_cost":"0"}}"#,
                        None,
                    )
                    .unwrap(),
                )
                .unwrap()
            };
            GroupBy::Day.write_key(&view, &mut key);
            assert_eq!(key, t.format("%Y-%m-%d").to_string());
        }
    }
}
