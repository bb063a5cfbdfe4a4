//! Budgets in the call flow: the worst-case cost a call reserves before it is sent, and the
//! spend read back from the receipt store after it (see [`crate::budget`]).

use std::sync::Mutex;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::Inner;
use crate::budget::{Budget, CallScope, Ledger, Reservation, Warning};
use crate::chat::ChatRequest;
use crate::cost::{self, Usage};
use crate::error::{Error, ErrorKind, Result};
use crate::lockfile::{Lockfile, ModelRef, Resolution};
use crate::store::Store;

/// The client's budgets, how far into the store their spend has been read, and the host's
/// warning callback.
#[derive(Default)]
pub struct Budgets {
    pub ledger: Ledger,
    position: Mutex<u64>,
    pub on_warning: Mutex<Option<WarningCallback>>,
}

/// Called with each budget past its soft threshold after a call.
pub type WarningCallback = Box<dyn Fn(&Warning) + Send + Sync>;

impl Budgets {
    /// The budgets of the configuration and of every lockfile profile, with the spend already
    /// in `store`.
    pub fn load(
        config_budgets: Option<&serde_json::Value>,
        lockfile: &Lockfile,
        store: &Store,
    ) -> Result<Budgets> {
        let mut budgets: Vec<Budget> = match config_budgets {
            Some(v) => Budget::list_from_value(v, None)?,
            None => Vec::new(),
        };
        for profile in lockfile.profiles.values() {
            budgets.extend(profile.budgets.iter().cloned());
        }
        let loaded = Budgets {
            ledger: Ledger::new(budgets),
            ..Budgets::default()
        };
        loaded.sync(store)?;
        Ok(loaded)
    }

    /// Reads the receipts appended to the store since the last read (by this process or any
    /// other) into the ledger.
    pub fn sync(&self, store: &Store) -> Result<()> {
        if self.ledger.is_empty() {
            return Ok(());
        }
        let mut position = self.position.lock().unwrap_or_else(|p| p.into_inner());
        let (records, end) = store.iter_from(*position)?;
        for record in records {
            let r = record?.view;
            let call = CallScope {
                profile: &r.profile,
                alias: &r.alias,
                provider: &r.provider,
                model: &r.model,
            };
            self.ledger.record(
                &call,
                r.time.unwrap_or(DateTime::<Utc>::UNIX_EPOCH),
                r.total_cost,
            );
        }
        *position = end;
        Ok(())
    }
}

fn scope<'a>(resolution: &'a Resolution, model: &'a ModelRef) -> CallScope<'a> {
    CallScope {
        profile: &resolution.profile,
        alias: &resolution.alias,
        provider: &model.provider,
        model: &model.model,
    }
}

/// Reserves the worst-case cost of sending `request` to `candidate` on every budget that
/// applies; `None` when none does.
pub(crate) fn reserve(
    inner: &Inner,
    request: &ChatRequest,
    resolution: &Resolution,
    candidate: &ModelRef,
) -> Result<Option<Reservation>> {
    let call = scope(resolution, candidate);
    if !inner.budgets.ledger.applies(&call) {
        return Ok(None);
    }
    inner.budgets.sync(&inner.store)?;
    let worst = worst_case(inner, request, candidate)?;
    inner
        .budgets
        .ledger
        .reserve(&call, worst, Utc::now())
        .map(Some)
}

/// After the receipt is stored: reads it back into the spend, releases the reservation, and
/// returns (and passes to the host's callback) the budgets past their soft threshold.
pub(crate) fn settle(
    inner: &Inner,
    hold: Option<Reservation>,
    resolution: &Resolution,
    model: &ModelRef,
) -> Vec<Warning> {
    let Some(hold) = hold else {
        return Vec::new();
    };
    // A store that cannot be read back keeps the reservation: the budget errs on the safe side.
    if inner.budgets.sync(&inner.store).is_err() {
        return Vec::new();
    }
    inner.budgets.ledger.release(hold);
    let warnings = inner
        .budgets
        .ledger
        .warnings(&scope(resolution, model), Utc::now());
    if let Some(callback) = inner
        .budgets
        .on_warning
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .as_ref()
    {
        for w in &warnings {
            callback(w);
        }
    }
    warnings
}

/// Releases a reservation of a call that failed.
pub(crate) fn release(inner: &Inner, hold: Option<Reservation>) {
    if let Some(hold) = hold {
        inner.budgets.ledger.release(hold);
    }
}

/// The most the call can cost: an upper bound of its prompt (one token per byte of its
/// messages, system prompt and tools, plus 16 per message) and `max_tokens` of output (else
/// the model's maximum), priced from the registry; a mock call costs exactly its known usage.
/// A model the registry cannot price is refused unless `budget_allow_unpriced`.
fn worst_case(inner: &Inner, request: &ChatRequest, model: &ModelRef) -> Result<Decimal> {
    let info = inner.registry.model(model);
    let usage = match &request.mock_response {
        // The mock's usage is known before the call: it is exactly what will be billed.
        Some(_) => crate::providers::mock::reply(request)?
            .usage
            .map(|raw| cost::normalize_usage("openai", &raw))
            .transpose()?
            .flatten()
            .unwrap_or_else(|| Usage::new(0, 0)),
        None => {
            let text = serde_json::to_vec(&(&request.messages, &request.system, &request.tools))
                .map_err(|e| Error::internal(e.to_string()))?;
            let prompt = text.len() as u64 + 16 * (request.messages.len() as u64 + 1);
            let output = request
                .max_tokens
                .map(u64::from)
                .or_else(|| info.and_then(|i| i.limits.max_output_tokens))
                .unwrap_or(0);
            if request.max_tokens.is_none() && output == 0 && !inner.config.budget_allow_unpriced {
                return Err(unknowable(
                    model,
                    "its maximum output is unknown: set max_tokens",
                ));
            }
            Usage::new(prompt, output)
        }
    };
    let priced = cost::calculate_cost(&inner.registry, model, Some(&usage));
    if priced.status.is_priced() {
        Ok(priced.total_cost)
    } else if inner.config.budget_allow_unpriced {
        Ok(Decimal::ZERO)
    } else {
        Err(unknowable(
            model,
            &format!("it cannot be priced ({})", priced.status),
        ))
    }
}

fn unknowable(model: &ModelRef, why: &str) -> Error {
    Error::new(
        ErrorKind::CostUnknown,
        format!(
            "a budget applies to {model} but the call's cost cannot be known in advance: {why} \
             (set budget_allow_unpriced to allow it)"
        ),
    )
    .with("provider", model.provider.clone())
    .with("model", model.model.clone())
}
