//! Receipt filters: `{"since","until","alias","provider","model","profile"}`, every key
//! optional; `since`/`until` are RFC 3339 times (since inclusive, until exclusive).

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::receipt::Receipt;

/// The fields of a receipt a filter looks at.
#[derive(Debug, Clone)]
pub struct Fields {
    pub timestamp: Option<DateTime<Utc>>,
    pub alias: String,
    pub provider: String,
    pub model: String,
    pub profile: String,
}

impl Filter {
    /// The fields of `receipt` that filters look at.
    pub fn fields_of(receipt: &Receipt) -> Fields {
        Fields {
            timestamp: DateTime::parse_from_rfc3339(&receipt.timestamp)
                .ok()
                .map(|t| t.with_timezone(&Utc)),
            alias: receipt.alias.clone(),
            provider: receipt.provider.clone(),
            model: receipt.model.clone(),
            profile: receipt.profile.clone(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FilterJson {
    since: Option<String>,
    until: Option<String>,
    alias: Option<String>,
    provider: Option<String>,
    model: Option<String>,
    profile: Option<String>,
}

/// A parsed filter.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
    alias: Option<String>,
    provider: Option<String>,
    model: Option<String>,
    profile: Option<String>,
}

impl Filter {
    /// Reads a filter; `None`, empty text and `{}` match everything.
    pub fn from_json(text: Option<&str>) -> Result<Filter> {
        let Some(text) = text.filter(|t| !t.trim().is_empty()) else {
            return Ok(Filter::default());
        };
        let value = crate::receipt::json::parse_strict(text)?;
        let f: FilterJson = serde_json::from_value(value)
            .map_err(|e| Error::invalid_argument(format!("receipt filter: {e}")))?;
        let time = |name: &str, v: Option<String>| -> Result<Option<DateTime<Utc>>> {
            v.map(|s| {
                DateTime::parse_from_rfc3339(&s)
                    .map(|t| t.with_timezone(&Utc))
                    .map_err(|e| {
                        Error::invalid_argument(format!("receipt filter: {name} {s:?}: {e}"))
                    })
            })
            .transpose()
        };
        Ok(Filter {
            since: time("since", f.since)?,
            until: time("until", f.until)?,
            alias: f.alias,
            provider: f.provider,
            model: f.model,
            profile: f.profile,
        })
    }

    pub fn matches(&self, r: &Fields) -> bool {
        let eq = |want: &Option<String>, have: &str| want.as_deref().is_none_or(|w| w == have);
        let after = self
            .since
            .is_none_or(|s| r.timestamp.is_some_and(|t| t >= s));
        let before = self
            .until
            .is_none_or(|u| r.timestamp.is_some_and(|t| t < u));
        after
            && before
            && eq(&self.alias, &r.alias)
            && eq(&self.provider, &r.provider)
            && eq(&self.model, &r.model)
            && eq(&self.profile, &r.profile)
    }
}
