//! Receipt filters: `{"since","until","alias","provider","model","profile"}`, every key
//! optional; `since`/`until` are RFC 3339 times (since inclusive, until exclusive).

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::error::{Error, Result};

/// The fields of a receipt a filter looks at.
#[derive(Debug, Clone)]
pub struct Fields {
    pub timestamp: Option<DateTime<Utc>>,
    pub alias: String,
    pub provider: String,
    pub model: String,
    pub profile: String,
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

    /// A filter on a time range only: `since` inclusive, `until` exclusive.
    pub fn range(since: Option<DateTime<Utc>>, until: Option<DateTime<Utc>>) -> Filter {
        Filter {
            since,
            until,
            ..Filter::default()
        }
    }

    /// The start of the range (inclusive), if any.
    pub fn since(&self) -> Option<DateTime<Utc>> {
        self.since
    }

    /// The end of the range (exclusive), if any.
    pub fn until(&self) -> Option<DateTime<Utc>> {
        self.until
    }

    /// The filter as JSON (the form [`Filter::from_json`] reads), only the keys set.
    pub fn to_json(&self) -> serde_json::Value {
        let mut m = serde_json::Map::new();
        let time = |t: &DateTime<Utc>| {
            serde_json::Value::String(t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
        };
        if let Some(t) = &self.since {
            m.insert("since".into(), time(t));
        }
        if let Some(t) = &self.until {
            m.insert("until".into(), time(t));
        }
        for (k, v) in [
            ("alias", &self.alias),
            ("provider", &self.provider),
            ("model", &self.model),
            ("profile", &self.profile),
        ] {
            if let Some(v) = v {
                m.insert(k.into(), v.clone().into());
            }
        }
        serde_json::Value::Object(m)
    }

    /// [`Filter::matches`] on a [`crate::store::ReceiptView`], without copying its fields.
    pub fn matches_view(&self, r: &crate::store::ReceiptView) -> bool {
        let eq = |want: &Option<String>, have: &str| want.as_deref().is_none_or(|w| w == have);
        let after = self.since.is_none_or(|s| r.time.is_some_and(|t| t >= s));
        let before = self.until.is_none_or(|u| r.time.is_some_and(|t| t < u));
        after
            && before
            && eq(&self.alias, &r.alias)
            && eq(&self.provider, &r.provider)
            && eq(&self.model, &r.model)
            && eq(&self.profile, &r.profile)
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
