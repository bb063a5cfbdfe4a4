//! Statistics: exact sums, groupings, date ranges, the most expensive alias.

#[path = "fixtures/store/common.rs"]
mod common;

use std::collections::BTreeMap;
use std::str::FromStr;

use common::{Spec, key, receipt};
use llmring::stats::{self, GroupBy, Query};
use llmring::store::{Filter, Store};
use rust_decimal::Decimal;
use serde_json::{Value, json};

struct Row {
    alias: String,
    provider: &'static str,
    model: &'static str,
    profile: &'static str,
    day: String,
    prompt: u64,
    completion: u64,
    input: String,
    output: String,
}

/// A deterministic mix of receipts over 5 days.
fn rows() -> Vec<Row> {
    let mut seed: u64 = 42;
    let mut next = |m: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % m
    };
    let models = [
        ("openai", "gpt-4o-mini"),
        ("openai", "gpt-4o"),
        ("anthropic", "claude-3-5-haiku"),
        ("google", "gemini-1.5-flash"),
    ];
    (0..60)
        .map(|_| {
            let (provider, model) = models[next(4) as usize];
            Row {
                alias: ["fast", "deep", "=cheap", "summarize"][next(4) as usize].to_owned(),
                provider,
                model,
                profile: ["default", "prod"][next(2) as usize],
                day: format!("2025-03-{:02}", 10 + next(5)),
                prompt: next(5000),
                completion: next(3000),
                // Amounts whose float sums would not be exact.
                input: format!("0.{:07}", next(10_000_000)),
                output: format!("0.1{:05}", next(100_000)),
            }
        })
        .collect()
}

fn store(rows: &[Row]) -> Store {
    let store = Store::memory();
    for (i, r) in rows.iter().enumerate() {
        let ts = format!("{}T{:02}:00:00.000Z", r.day, i % 24);
        store
            .append(receipt(
                &Spec {
                    alias: &r.alias,
                    profile: r.profile,
                    provider: r.provider,
                    model: r.model,
                    timestamp: &ts,
                    prompt: r.prompt,
                    completion: r.completion,
                    input_cost: &r.input,
                    output_cost: &r.output,
                },
                Some(&key()),
            ))
            .unwrap();
    }
    store
}

#[derive(Default, Debug, PartialEq)]
struct Expect {
    requests: u64,
    prompt: u64,
    completion: u64,
    cost: Decimal,
    input: Decimal,
}

fn add(e: &mut Expect, r: &Row) {
    e.requests += 1;
    e.prompt += r.prompt;
    e.completion += r.completion;
    let i = Decimal::from_str(&r.input).unwrap();
    let o = Decimal::from_str(&r.output).unwrap();
    e.input += i;
    e.cost += i + o;
}

fn dec(v: &Value) -> Decimal {
    match v {
        Value::Number(n) => Decimal::from_str(&n.to_string()).unwrap(),
        Value::String(s) => Decimal::from_str(s).unwrap(),
        other => panic!("not an amount: {other}"),
    }
}

fn check(totals: &Value, e: &Expect) {
    assert_eq!(totals["requests"], e.requests);
    assert_eq!(totals["prompt_tokens"], e.prompt);
    assert_eq!(totals["completion_tokens"], e.completion);
    assert_eq!(totals["total_tokens"], e.prompt + e.completion);
    assert_eq!(dec(&totals["total_cost"]), e.cost, "{totals}");
    assert_eq!(dec(&totals["input_cost"]), e.input);
}

#[test]
fn sums_equal_independent_sums_in_total_and_per_group() {
    let rows = rows();
    let store = store(&rows);
    let out = stats::run(&store, &Query::default()).unwrap();

    let mut total = Expect::default();
    let mut groups: BTreeMap<(&str, String), Expect> = BTreeMap::new();
    for r in &rows {
        add(&mut total, r);
        for (g, k) in [
            ("by_provider", r.provider.to_owned()),
            ("by_alias", r.alias.clone()),
            ("by_model", format!("{}:{}", r.provider, r.model)),
            ("by_profile", r.profile.to_owned()),
            ("by_day", r.day.clone()),
        ] {
            add(groups.entry((g, k)).or_default(), r);
        }
    }
    check(&out["total"], &total);
    for ((g, k), e) in &groups {
        check(&out[*g][k], e);
    }
    for g in [
        "by_provider",
        "by_alias",
        "by_model",
        "by_profile",
        "by_day",
    ] {
        let n = groups.keys().filter(|(name, _)| *name == g).count();
        assert_eq!(out[g].as_object().unwrap().len(), n, "{g}");
    }
    // The most expensive alias, computed here.
    let (alias, e) = groups
        .iter()
        .filter(|((g, _), _)| *g == "by_alias")
        .max_by(|a, b| a.1.cost.cmp(&b.1.cost))
        .map(|((_, k), e)| (k.clone(), e))
        .unwrap();
    assert_eq!(out["most_expensive_alias"]["alias"], alias.as_str());
    assert_eq!(dec(&out["most_expensive_alias"]["total_cost"]), e.cost);
    assert_eq!(
        out["first_timestamp"].as_str().unwrap()[..10],
        *"2025-03-10"
    );
}

#[test]
fn decimal_sums_are_exact() {
    let store = Store::memory();
    for _ in 0..10 {
        store
            .append(receipt(
                &Spec {
                    input_cost: "0.1",
                    output_cost: "0.2",
                    ..Spec::default()
                },
                None,
            ))
            .unwrap();
    }
    let out = stats::run(&store, &Query::default()).unwrap();
    assert_eq!(out["total"]["total_cost"], json!(3.0));
    assert_eq!(out["total"]["input_cost"], json!(1.0));
    // 0.1 + 0.2 summed in doubles would not give these.
    assert_eq!(
        stats::amount_json(Decimal::from_str("0.3").unwrap()),
        json!(0.3)
    );
    // More digits than a JSON number holds exactly: a string.
    let long = Decimal::from_str("1234567890.123456789").unwrap();
    assert_eq!(stats::amount_json(long), json!("1234567890.123456789"));
}

#[test]
fn date_range_and_groupings_from_a_query() {
    let rows = rows();
    let store = store(&rows);
    let q = Query::from_json(Some(
        r#"{"since":"2025-03-11T00:00:00Z","until":"2025-03-13T00:00:00Z","by":["day","provider"]}"#,
    ))
    .unwrap();
    let out = stats::run(&store, &q).unwrap();
    let mut e = Expect::default();
    for r in rows
        .iter()
        .filter(|r| r.day.as_str() >= "2025-03-11" && r.day.as_str() < "2025-03-13")
    {
        add(&mut e, r);
    }
    assert!(e.requests > 0);
    check(&out["total"], &e);
    let days: Vec<&String> = out["by_day"].as_object().unwrap().keys().collect();
    assert_eq!(days, ["2025-03-11", "2025-03-12"]);
    assert!(out.get("by_alias").is_none());
    assert_eq!(out["filter"]["since"], "2025-03-11T00:00:00Z");
    // No alias grouping: no most expensive alias.
    assert_eq!(out["most_expensive_alias"], Value::Null);

    let q = Query::from_json(Some(r#"{"by":"alias","profile":"prod"}"#)).unwrap();
    assert_eq!(q.by, [GroupBy::Alias]);
    let out = stats::run(&store, &q).unwrap();
    let n = rows.iter().filter(|r| r.profile == "prod").count();
    assert_eq!(out["total"]["requests"], n as u64);
    assert!(Query::from_json(Some(r#"{"by":"week"}"#)).is_err());
    assert!(Query::from_json(Some(r#"{"color":"red"}"#)).is_err());
}

#[test]
fn empty_store() {
    let out = stats::run(&Store::memory(), &Query::default()).unwrap();
    assert_eq!(out["total"]["requests"], 0);
    assert_eq!(out["total"]["total_cost"], json!(0.0));
    assert_eq!(out["most_expensive_alias"], Value::Null);
    let s = stats::compute(
        Store::memory().iter(Filter::default()).unwrap(),
        &GroupBy::ALL,
    )
    .unwrap();
    assert!(s.group(GroupBy::Day).is_empty());
}

#[test]
fn stats_over_a_file_store_stop_at_a_bad_record() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.jsonl");
    let (store, _) = Store::open(&path).unwrap();
    for _ in 0..3 {
        store.append(receipt(&Spec::default(), None)).unwrap();
    }
    let out = stats::run(&store, &Query::default()).unwrap();
    assert_eq!(out["total"]["requests"], 3);
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines[1] = "{\"seq\":2,oops";
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let e = stats::run(&store, &Query::default()).unwrap_err();
    assert!(e.message.contains("line 2"), "{e}");
}
