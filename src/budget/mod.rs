//! Budgets: spending limits in USD over a UTC window (day, month or total), scoped to the
//! whole client, a profile, an alias, a provider or a model. Several budgets may apply to a
//! call; all must hold.
//!
//! A call reserves its worst-case cost on every budget that applies *before* it is sent
//! ([`Ledger::reserve`]); a reservation that does not fit fails with `BudgetExceeded` and no
//! network traffic. After the call, the reservation is replaced by the exact cost from the
//! receipt ([`Ledger::settle`]), or released when the call failed ([`Ledger::release`]).
//! Spend is derived from the receipt store ([`Ledger::record`] for each stored receipt), so it
//! survives restarts and is shared by processes using the same store.
//!
//! Configuration (client JSON `"budgets": [...]`, or `[[profiles.NAME.budgets]]` in the
//! lockfile, where the profile scope is implied):
//!
//! ```json
//! {"name": "daily-openai", "limit_usd": "5.00", "window": "day",
//!  "profile": "prod", "alias": "fast", "provider": "openai", "model": "openai:gpt-4o-mini",
//!  "soft_threshold": 0.8}
//! ```
//!
//! Every scope key is optional (none: the whole client). `limit_usd` is a number or a decimal
//! string; `window` is `day`, `month` or `total` (default `total`); `soft_threshold` (a
//! fraction, default 0.8) reports a warning once spent + reserved crosses it.

mod ledger;

pub use ledger::{Ledger, Reservation, Warning};

use chrono::{DateTime, Datelike, TimeZone, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::Value;

use crate::error::{Error, Result};

/// The period a budget's spend is counted over (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Window {
    Day,
    Month,
    Total,
}

impl Window {
    /// The start of the window holding `t` (the epoch for `Total`).
    pub fn start(self, t: DateTime<Utc>) -> DateTime<Utc> {
        let ymd = |y, m, d| {
            Utc.with_ymd_and_hms(y, m, d, 0, 0, 0)
                .single()
                .expect("a valid date")
        };
        match self {
            Window::Day => ymd(t.year(), t.month(), t.day()),
            Window::Month => ymd(t.year(), t.month(), 1),
            Window::Total => DateTime::<Utc>::UNIX_EPOCH,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Window::Day => "day",
            Window::Month => "month",
            Window::Total => "total",
        }
    }
}

/// One budget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Budget {
    pub name: String,
    pub limit: Decimal,
    pub window: Window,
    pub scope: Scope,
    /// Fraction of the limit at which a warning is reported.
    pub soft_threshold: Decimal,
}

/// What a budget applies to; `None` matches anything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    pub profile: Option<String>,
    pub alias: Option<String>,
    pub provider: Option<String>,
    /// `provider:model`.
    pub model: Option<String>,
}

/// The call (or receipt) a budget is matched against.
#[derive(Debug, Clone, Copy)]
pub struct CallScope<'a> {
    pub profile: &'a str,
    pub alias: &'a str,
    pub provider: &'a str,
    pub model: &'a str,
}

impl Scope {
    pub fn matches(&self, call: &CallScope<'_>) -> bool {
        let eq = |want: &Option<String>, have: &str| want.as_deref().is_none_or(|w| w == have);
        let model_matches = self.model.as_deref().is_none_or(|m| {
            m.split_once(':')
                .is_some_and(|(p, name)| p == call.provider && name == call.model)
        });
        eq(&self.profile, call.profile)
            && eq(&self.alias, call.alias)
            && eq(&self.provider, call.provider)
            && model_matches
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BudgetJson {
    name: Option<String>,
    limit_usd: Value,
    #[serde(default = "total")]
    window: Window,
    profile: Option<String>,
    alias: Option<String>,
    provider: Option<String>,
    model: Option<String>,
    soft_threshold: Option<Value>,
}

fn total() -> Window {
    Window::Total
}

impl Budget {
    /// Reads one budget from its JSON (see the module documentation). `profile` is the scope
    /// implied by where it was written (a lockfile profile), if any.
    pub fn from_value(value: Value, implied_profile: Option<&str>, index: usize) -> Result<Budget> {
        let bad = |msg: String| Error::config(format!("budget {index}: {msg}"));
        let raw: BudgetJson = serde_json::from_value(value).map_err(|e| bad(e.to_string()))?;
        let limit = crate::cost::json::decimal_from_json(&raw.limit_usd, "limit_usd")
            .map_err(|e| bad(e.message))?;
        if limit.is_sign_negative() {
            return Err(bad("limit_usd must not be negative".into()));
        }
        let soft_threshold = match &raw.soft_threshold {
            None => Decimal::new(8, 1),
            Some(v) => crate::cost::json::decimal_from_json(v, "soft_threshold")
                .map_err(|e| bad(e.message))?,
        };
        if soft_threshold <= Decimal::ZERO || soft_threshold > Decimal::ONE {
            return Err(bad("soft_threshold must be in (0, 1]".into()));
        }
        if let Some(m) = &raw.model {
            crate::lockfile::ModelRef::parse(m).map_err(|e| bad(e.message))?;
        }
        let profile = match (implied_profile, raw.profile) {
            (Some(p), Some(q)) if p != q => {
                return Err(bad(format!("profile {q:?} inside profile {p:?}")));
            }
            (Some(p), _) => Some(p.to_owned()),
            (None, q) => q,
        };
        let scope = Scope {
            profile,
            alias: raw.alias,
            provider: raw.provider,
            model: raw.model,
        };
        let name = raw
            .name
            .unwrap_or_else(|| default_name(&scope, raw.window, index));
        Ok(Budget {
            name,
            limit,
            window: raw.window,
            scope,
            soft_threshold,
        })
    }

    /// Reads a list of budgets.
    pub fn list_from_value(value: &Value, implied_profile: Option<&str>) -> Result<Vec<Budget>> {
        let items = value
            .as_array()
            .ok_or_else(|| Error::config("budgets must be a list"))?;
        items
            .iter()
            .enumerate()
            .map(|(i, v)| Budget::from_value(v.clone(), implied_profile, i))
            .collect()
    }
}

fn default_name(scope: &Scope, window: Window, index: usize) -> String {
    let parts: Vec<&str> = [&scope.profile, &scope.alias, &scope.provider, &scope.model]
        .into_iter()
        .filter_map(|p| p.as_deref())
        .collect();
    let what = if parts.is_empty() {
        "all".to_owned()
    } else {
        parts.join("/")
    };
    format!("{what} per {} #{index}", window.name())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn windows_start_in_utc() {
        let t = Utc.with_ymd_and_hms(2026, 12, 31, 23, 59, 59).unwrap();
        assert_eq!(
            Window::Day.start(t),
            Utc.with_ymd_and_hms(2026, 12, 31, 0, 0, 0).unwrap()
        );
        assert_eq!(
            Window::Month.start(t),
            Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap()
        );
        assert_eq!(Window::Total.start(t), DateTime::<Utc>::UNIX_EPOCH);
    }

    #[test]
    fn parses_and_matches() {
        let b = Budget::from_value(
            json!({"limit_usd": "5.00", "window": "day", "model": "openai:gpt-4o-mini"}),
            Some("prod"),
            0,
        )
        .unwrap();
        assert_eq!(b.limit.to_string(), "5.00");
        let call = CallScope {
            profile: "prod",
            alias: "fast",
            provider: "openai",
            model: "gpt-4o-mini",
        };
        assert!(b.scope.matches(&call));
        assert!(!b.scope.matches(&CallScope {
            profile: "dev",
            ..call
        }));
        assert!(!b.scope.matches(&CallScope {
            model: "gpt-4o",
            ..call
        }));
        assert!(Budget::from_value(json!({"limit_usd": 1, "window": "week"}), None, 0).is_err());
        assert!(Budget::from_value(json!({"limit_usd": -1}), None, 0).is_err());
        assert!(Budget::from_value(json!({"limit_usd": 1, "colour": "red"}), None, 0).is_err());
        assert!(Budget::from_value(json!({"limit_usd": 1, "soft_threshold": 2}), None, 0).is_err());
    }
}
