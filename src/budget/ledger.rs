//! The budget ledger: spend per budget and window (derived from the receipt store), and the
//! reservations of calls in flight. One mutex guards both, so a reservation sees every cost
//! either as spent or as reserved, never as neither.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::{Budget, CallScope};
use crate::cost::json::decimal_to_json;
use crate::error::{Error, ErrorKind, Result};

/// The budgets of a client and what has been spent and reserved against them.
#[derive(Debug, Default)]
pub struct Ledger {
    budgets: Vec<Budget>,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Spent per (budget, window start).
    spent: HashMap<(usize, DateTime<Utc>), Decimal>,
    /// Reserved per (budget, window start).
    reserved: HashMap<(usize, DateTime<Utc>), Decimal>,
}

/// A call's hold on its budgets: the worst-case cost on each budget that applies.
#[derive(Debug)]
#[must_use = "a reservation is settled or released"]
pub struct Reservation {
    holds: Vec<(usize, DateTime<Utc>)>,
    amount: Decimal,
}

/// A budget past its soft threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct Warning {
    pub budget: String,
    pub window: &'static str,
    pub spent: Decimal,
    pub reserved: Decimal,
    pub limit: Decimal,
    pub threshold: Decimal,
}

impl Warning {
    pub fn to_json(&self) -> Value {
        json!({
            "budget": self.budget,
            "window": self.window,
            "spent": money(self.spent),
            "reserved": money(self.reserved),
            "limit": money(self.limit),
            "threshold": money(self.threshold),
        })
    }
}

fn money(d: Decimal) -> Value {
    decimal_to_json(d, "amount").unwrap_or_else(|_| Value::String(d.normalize().to_string()))
}

impl Ledger {
    pub fn new(budgets: Vec<Budget>) -> Ledger {
        Ledger {
            budgets,
            state: Mutex::default(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.budgets.is_empty()
    }

    pub fn budgets(&self) -> &[Budget] {
        &self.budgets
    }

    /// Whether any budget applies to `call`.
    pub fn applies(&self, call: &CallScope<'_>) -> bool {
        self.budgets.iter().any(|b| b.scope.matches(call))
    }

    /// Counts a stored receipt's cost, in the window of its timestamp.
    pub fn record(&self, call: &CallScope<'_>, time: DateTime<Utc>, cost: Decimal) {
        let mut state = self.lock();
        for (i, b) in self.budgets.iter().enumerate() {
            if b.scope.matches(call) {
                *state.spent.entry((i, b.window.start(time))).or_default() += cost;
            }
        }
    }

    /// Reserves `worst_case` on every budget that applies at `now`, or fails with
    /// `BudgetExceeded` (naming the budget, its window, spent, reserved and limit) when one
    /// would go over its limit; nothing is reserved then.
    pub fn reserve(
        &self,
        call: &CallScope<'_>,
        worst_case: Decimal,
        now: DateTime<Utc>,
    ) -> Result<Reservation> {
        let mut state = self.lock();
        let mut holds = Vec::new();
        for (i, b) in self.budgets.iter().enumerate() {
            if !b.scope.matches(call) {
                continue;
            }
            let key = (i, b.window.start(now));
            let spent = state.spent.get(&key).copied().unwrap_or_default();
            let reserved = state.reserved.get(&key).copied().unwrap_or_default();
            if spent + reserved + worst_case > b.limit {
                return Err(Error::new(
                    ErrorKind::BudgetExceeded,
                    format!(
                        "budget {:?} ({} window) would be exceeded: spent ${}, reserved ${}, \
                         this call up to ${}, limit ${}",
                        b.name,
                        b.window.name(),
                        spent.normalize(),
                        reserved.normalize(),
                        worst_case.normalize(),
                        b.limit.normalize()
                    ),
                )
                .with("budget", b.name.clone())
                .with("window", b.window.name())
                .with("spent", money(spent))
                .with("reserved", money(reserved))
                .with("requested", money(worst_case))
                .with("limit", money(b.limit)));
            }
            holds.push(key);
        }
        for key in &holds {
            *state.reserved.entry(*key).or_default() += worst_case;
        }
        Ok(Reservation {
            holds,
            amount: worst_case,
        })
    }

    /// Releases a reservation (the call failed, or its cost has been recorded from the store).
    pub fn release(&self, reservation: Reservation) {
        let mut state = self.lock();
        for key in reservation.holds {
            if let Some(r) = state.reserved.get_mut(&key) {
                *r -= reservation.amount;
                if r.is_zero() {
                    state.reserved.remove(&key);
                }
            }
        }
    }

    /// Records a finished call's exact cost and releases its reservation, in one step.
    pub fn settle(
        &self,
        reservation: Reservation,
        call: &CallScope<'_>,
        time: DateTime<Utc>,
        cost: Decimal,
    ) {
        // One lock for both would be tidier; two in this order never show the cost as
        // neither spent nor reserved (it is briefly both, which only errs on the safe side).
        self.record(call, time, cost);
        self.release(reservation);
    }

    /// Budgets that apply to `call` and are past their soft threshold at `now`.
    pub fn warnings(&self, call: &CallScope<'_>, now: DateTime<Utc>) -> Vec<Warning> {
        let state = self.lock();
        self.budgets
            .iter()
            .enumerate()
            .filter(|(_, b)| b.scope.matches(call))
            .filter_map(|(i, b)| {
                let key = (i, b.window.start(now));
                let spent = state.spent.get(&key).copied().unwrap_or_default();
                let reserved = state.reserved.get(&key).copied().unwrap_or_default();
                let threshold = b.limit * b.soft_threshold;
                (spent + reserved >= threshold && !b.limit.is_zero()).then(|| Warning {
                    budget: b.name.clone(),
                    window: b.window.name(),
                    spent,
                    reserved,
                    limit: b.limit,
                    threshold,
                })
            })
            .collect()
    }

    /// Every budget's window, spent, reserved, limit and remaining at `now`.
    pub fn status(&self, now: DateTime<Utc>) -> Value {
        let state = self.lock();
        let budgets: Vec<Value> = self
            .budgets
            .iter()
            .enumerate()
            .map(|(i, b)| {
                let start = b.window.start(now);
                let spent = state.spent.get(&(i, start)).copied().unwrap_or_default();
                let reserved = state.reserved.get(&(i, start)).copied().unwrap_or_default();
                let remaining = (b.limit - spent - reserved).max(Decimal::ZERO);
                json!({
                    "name": b.name,
                    "window": b.window.name(),
                    "window_start": start.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    "scope": {
                        "profile": b.scope.profile, "alias": b.scope.alias,
                        "provider": b.scope.provider, "model": b.scope.model,
                    },
                    "spent": money(spent),
                    "reserved": money(reserved),
                    "limit": money(b.limit),
                    "remaining": money(remaining),
                    "soft_threshold": money(b.soft_threshold),
                })
            })
            .collect();
        json!({"budgets": budgets})
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    fn ledger(spec: Value) -> Ledger {
        Ledger::new(Budget::list_from_value(&spec, None).unwrap())
    }

    const CALL: CallScope<'static> = CallScope {
        profile: "default",
        alias: "fast",
        provider: "openai",
        model: "gpt-4o-mini",
    };

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn reservations_never_exceed_the_limit() {
        let l = ledger(json!([{"limit_usd": "1.00", "window": "day"}]));
        let now = Utc.with_ymd_and_hms(2026, 12, 3, 12, 0, 0).unwrap();
        let a = l.reserve(&CALL, d("0.40"), now).unwrap();
        let b = l.reserve(&CALL, d("0.40"), now).unwrap();
        let err = l.reserve(&CALL, d("0.40"), now).unwrap_err();
        assert_eq!(err.kind, ErrorKind::BudgetExceeded);
        assert_eq!(err.details["reserved"], json!(0.8));
        assert_eq!(err.details["limit"], json!(1.0));
        // Settling replaces the worst case by the exact cost.
        l.settle(a, &CALL, now, d("0.05"));
        let c = l.reserve(&CALL, d("0.40"), now).unwrap();
        l.release(b);
        l.release(c);
        let status = l.status(now);
        assert_eq!(status["budgets"][0]["spent"], json!(0.05));
        assert_eq!(status["budgets"][0]["reserved"], json!(0.0));
        assert_eq!(status["budgets"][0]["remaining"], json!(0.95));
    }

    #[test]
    fn windows_roll_over_at_utc_midnight() {
        let l = ledger(
            json!([{"limit_usd": 1, "window": "day"}, {"limit_usd": 1.5, "window": "month"}]),
        );
        let late = Utc.with_ymd_and_hms(2026, 12, 3, 23, 59, 59).unwrap();
        let next = Utc.with_ymd_and_hms(2026, 12, 4, 0, 0, 0).unwrap();
        l.record(&CALL, late, d("0.9"));
        assert!(
            l.reserve(&CALL, d("0.2"), late).is_err(),
            "day budget is nearly spent"
        );
        let r = l.reserve(&CALL, d("0.2"), next).expect("a new day");
        l.release(r);
        // The month budget still counts yesterday.
        l.record(&CALL, next, d("0.5"));
        let err = l.reserve(&CALL, d("0.2"), next).unwrap_err();
        assert!(err.message.contains("month"), "{err}");
    }

    #[test]
    fn only_matching_budgets_count_and_warn() {
        let l = ledger(json!([
            {"limit_usd": 1, "provider": "anthropic"},
            {"limit_usd": 1, "alias": "fast", "soft_threshold": 0.5}
        ]));
        let now = Utc::now();
        l.record(&CALL, now, d("0.6"));
        let other = CallScope {
            provider: "anthropic",
            alias: "deep",
            ..CALL
        };
        assert!(
            l.reserve(&other, d("0.9"), now)
                .map(|r| l.release(r))
                .is_ok()
        );
        let warnings = l.warnings(&CALL, now);
        assert_eq!(warnings.len(), 1);
        assert_eq!(warnings[0].threshold, d("0.5"));
        assert!(l.warnings(&other, now).is_empty());
    }
}
