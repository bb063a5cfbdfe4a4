//! One chat call: resolution, the attempt on each candidate model, pricing, the receipt.

use serde_json::{Map, Value, json};

use super::Inner;
use super::budget;
use super::transport::{self, RetryPolicy};
use crate::chat::{ChatRequest, ChatResponse};
use crate::cost::{self, Cost, CostStatus, Usage};
use crate::error::{Error, ErrorKind, Result};
use crate::lockfile::{ModelRef, Resolution};
use crate::providers::{Endpoint, Provider, mock};
use crate::receipt::{self, ReceiptInput};

/// What a successful attempt produced (whole or streamed).
pub(super) struct Answer {
    pub model: ModelRef,
    pub reply: ChatResponse,
    /// The provider whose usage shape `reply.usage` has.
    pub usage_shape: &'static str,
    pub mock: bool,
    /// Usage already normalized, used instead of `reply.usage` (an estimate).
    pub usage_override: Option<Usage>,
    /// The usage is an estimate ([`CostStatus::Estimated`](crate::cost::CostStatus)): the
    /// host stopped a stream before the provider reported its final usage.
    pub estimated: bool,
    /// The host stopped the stream before the provider's terminal event.
    pub stopped_early: bool,
    /// The call's hold on its budgets, settled once the receipt is stored.
    pub hold: Option<crate::budget::Reservation>,
}

impl Answer {
    /// A complete answer from `model`, with the provider's own usage.
    pub fn complete(model: ModelRef, reply: ChatResponse, usage_shape: &'static str) -> Answer {
        Answer {
            model,
            reply,
            usage_shape,
            mock: false,
            usage_override: None,
            estimated: false,
            stopped_early: false,
            hold: None,
        }
    }
}

/// [`chat`], with the response as canonical JSON text: costs print as their exact decimals
/// (0.0000051, not 5.1e-6), and the embedded receipt is byte for byte the stored one.
pub async fn chat_json(inner: &Inner, request: ChatRequest) -> Result<String> {
    receipt::to_json(&chat(inner, request).await?)
}

pub async fn chat(inner: &Inner, request: ChatRequest) -> Result<Value> {
    let started = std::time::Instant::now();
    let resolution = resolve(inner, &request)?;
    let answer = if request.mock_response.is_some() {
        mock_answer(inner, &request, &resolution)?
    } else {
        provider_answer(inner, &request, &resolution).await?
    };
    let response = finish(inner, &resolution, answer)?;
    Ok(match &inner.server {
        Some(server) => server.after_call(&request, response, started),
        None => response,
    })
}

/// The request's alias (or `provider:model`) resolved in the profile in force.
pub(super) fn resolve(inner: &Inner, request: &ChatRequest) -> Result<Resolution> {
    let profile = inner
        .lockfile
        .select_profile(
            request.profile.as_deref(),
            inner.config.profile.as_deref(),
            &inner.lock_env,
        )
        .to_owned();
    inner.lockfile.resolve(&request.model, &profile)
}

/// The offline mock: no network; priced as the first candidate model.
pub(super) fn mock_answer(
    inner: &Inner,
    request: &ChatRequest,
    resolution: &Resolution,
) -> Result<Answer> {
    let model = resolution.candidates[0].clone();
    let hold = budget::reserve(inner, request, resolution, &model)?;
    match mock::reply(request) {
        Ok(reply) => Ok(Answer {
            mock: true,
            hold,
            ..Answer::complete(model, reply, "openai")
        }),
        Err(e) => {
            budget::release(inner, hold);
            Err(e)
        }
    }
}

/// Tries each candidate in order (each with its retries); the first success wins.
async fn provider_answer(
    inner: &Inner,
    request: &ChatRequest,
    resolution: &Resolution,
) -> Result<Answer> {
    let mut failures = Vec::new();
    for candidate in &resolution.candidates {
        // Reserved before any network traffic; a budget that does not fit moves on to the
        // next model, which may be cheaper.
        let hold = match budget::reserve(inner, request, resolution, candidate) {
            Ok(hold) => hold,
            Err(e) => {
                failures.push(e);
                continue;
            }
        };
        match attempt(inner, request, candidate).await {
            Ok(answer) => return Ok(Answer { hold, ..answer }),
            Err(e) => {
                budget::release(inner, hold);
                failures.push(e);
            }
        }
    }
    Err(all_failed(resolution, failures))
}

/// The error of a call whose every candidate failed (`failures`, one per candidate, in
/// order): the last failure, naming the alias and listing every attempt in `tried`.
pub(super) fn all_failed(resolution: &Resolution, mut failures: Vec<Error>) -> Error {
    let attempts: Vec<Value> = failures
        .iter()
        .map(|e| {
            let mut a = e.details.clone();
            a.insert("code".into(), e.kind.name().into());
            Value::Object(a)
        })
        .collect();
    let last = failures
        .pop()
        .expect("a resolution has at least one candidate");
    Error {
        message: format!(
            "{} (alias {:?}, {} model(s) tried)",
            last.message,
            resolution.alias,
            attempts.len()
        ),
        ..last
    }
    .with("alias", resolution.alias.clone())
    .with("tried", attempts)
}

/// The provider, endpoint and retry policy for a call to `candidate`, after the checks made
/// before any request: strict cost mode refuses a model that cannot be priced, and a
/// provider's official endpoint needs an API key. Errors name the provider and model.
pub(super) fn prepare(
    inner: &Inner,
    candidate: &ModelRef,
) -> Result<(Provider, Endpoint, RetryPolicy)> {
    let provider = Provider::from_name(&candidate.provider)
        .map_err(|e| named(candidate, Error::config(e.message)))?;
    if inner.config.strict_cost {
        // Refuse before spending money when the price cannot be known.
        let status =
            cost::calculate_cost(&inner.registry, candidate, Some(&Usage::new(1, 1))).status;
        if !status.is_priced() {
            return Err(named(
                candidate,
                Error::new(
                    ErrorKind::CostUnknown,
                    format!("{candidate} cannot be priced ({status}) and strict_cost is on"),
                ),
            ));
        }
    }
    let endpoint = inner.config.endpoint(provider, &inner.env);
    if provider.requires_api_key()
        && endpoint.api_key.is_none()
        && endpoint.base_url.trim_end_matches('/') == provider.default_base_url()
    {
        return Err(named(
            candidate,
            Error::new(
                ErrorKind::Auth,
                format!(
                    "no API key for {provider}: set {} or providers.{provider}.api_key",
                    provider.api_key_env().join(" or ")
                ),
            ),
        ));
    }
    let policy = RetryPolicy {
        max_retries: inner.config.max_retries(),
        backoff: inner.config.retry_backoff(),
        max_body_bytes: inner.config.max_response_bytes(),
    };
    Ok((provider, endpoint, policy))
}

/// `e` with the candidate's provider and model as details.
pub(super) fn named(candidate: &ModelRef, e: Error) -> Error {
    e.with("provider", candidate.provider.clone())
        .with("model", candidate.model.clone())
}

async fn attempt(inner: &Inner, request: &ChatRequest, candidate: &ModelRef) -> Result<Answer> {
    let (provider, endpoint, policy) = prepare(inner, candidate)?;
    let http_request = provider
        .build_request(request, &candidate.model, &endpoint)
        .map_err(|e| named(candidate, e))?;
    let body = transport::send_with_retries(
        &inner.http,
        provider,
        &candidate.model,
        &http_request,
        endpoint.api_key.as_ref(),
        policy,
    )
    .await?;
    let reply = provider
        .parse_response(&body)
        .map_err(|e| named(candidate, e))?;
    Ok(Answer::complete(
        candidate.clone(),
        reply.response,
        provider.name(),
    ))
}

/// Prices the answer, issues and stores the receipt, and builds the response JSON. Shared by
/// plain and streamed calls, so that the same answer gets the same receipt either way.
pub(super) fn finish(inner: &Inner, resolution: &Resolution, answer: Answer) -> Result<Value> {
    let Answer {
        model,
        reply,
        usage_shape,
        mock,
        usage_override,
        estimated,
        stopped_early,
        hold,
    } = answer;
    let usage = match (usage_override, &reply.usage) {
        (Some(usage), _) => Some(usage),
        (None, Some(raw)) => cost::normalize_usage(usage_shape, raw)?,
        (None, None) => None,
    };
    let mut cost = cost::calculate_cost(&inner.registry, &model, usage.as_ref());
    if estimated && cost.status.is_priced() {
        cost.status = CostStatus::Estimated;
    }
    if inner.config.strict_cost && !cost.status.is_priced() {
        budget::release(inner, hold);
        return Err(Error::new(
            ErrorKind::CostUnknown,
            format!(
                "the call to {model} could not be priced ({}) and strict_cost is on",
                cost.status
            ),
        )
        .with("provider", model.provider.clone())
        .with("model", model.model.clone())
        .with("cost_status", cost.status.as_str()));
    }
    let mut issued = receipt::generate(receipt_input(
        inner,
        resolution,
        &model,
        usage.as_ref(),
        &cost,
        mock,
    )?)?;
    let signed = issued.issue(inner.signing_key.as_ref())?;
    // On failure the reservation is kept: the money was spent and the store cannot show it.
    inner.store.append(signed.json.clone()).map_err(|e| {
        // The provider was paid: hand the receipt to the host rather than lose it.
        let receipt: Value = serde_json::from_str(&signed.json).unwrap_or_default();
        e.with("receipt", receipt)
    })?;
    let warnings = budget::settle(inner, hold, resolution, &model);
    let receipt: Value = serde_json::from_str(&signed.json)
        .map_err(|e| Error::internal(format!("receipt JSON: {e}")))?;
    let mut usage_obj = cost::usage_json(usage.as_ref(), &cost);
    usage_obj.insert("receipt_digest".into(), signed.digest.into());
    let mut response = json!({
        "content": reply.content,
        "model": model.to_string(),
        "alias": resolution.alias,
        "profile": resolution.profile,
        "finish_reason": reply.finish_reason,
        "tool_calls": reply.tool_calls,
        "usage": Value::Object(usage_obj),
        "receipt": receipt,
    });
    if stopped_early {
        response["stopped_early"] = true.into();
    }
    if !warnings.is_empty() {
        response["budget_warnings"] = warnings.iter().map(|w| w.to_json()).collect();
    }
    Ok(response)
}

fn receipt_input(
    inner: &Inner,
    resolution: &Resolution,
    model: &ModelRef,
    usage: Option<&Usage>,
    cost: &Cost,
    mock: bool,
) -> Result<ReceiptInput> {
    let mut extra = Map::new();
    if let Some(u) = usage {
        for (key, n) in [
            ("cached_tokens", u.cached_read_tokens),
            ("cache_write_5m_tokens", u.cache_write_5m_tokens),
            ("cache_write_1h_tokens", u.cache_write_1h_tokens),
            ("reasoning_tokens", u.reasoning_tokens),
        ] {
            if n > 0 {
                extra.insert(key.into(), n.into());
            }
        }
    }
    if !cost.status.is_priced() || usage.is_some_and(|u| u.prompt_tokens.is_none()) {
        extra.insert("cost_status".into(), cost.status.as_str().into());
    }
    if mock {
        // The receipt says plainly that no provider was called.
        extra.insert("mock".into(), true.into());
    }
    let prompt = usage.and_then(|u| u.prompt_tokens).unwrap_or(0);
    let completion = usage.map_or(0, |u| u.completion_tokens);
    ReceiptInput::from_value(json!({
        "alias": resolution.alias,
        "profile": resolution.profile,
        "lock_digest": inner.lockfile.digest,
        "provider": model.provider,
        "model": model.model,
        "usage": {"prompt_tokens": prompt, "completion_tokens": completion},
        "costs": {
            "input_cost": cost.input_cost.normalize().to_string(),
            "output_cost": cost.output_cost.normalize().to_string(),
        },
        "extra": extra,
    }))
}
