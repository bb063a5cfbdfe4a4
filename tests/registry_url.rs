//! The registry URL source: fetched over HTTP from a stub on 127.0.0.1, cached on disk, used
//! fresh without fetching, refetched when stale, and the stale copy used when the server is
//! gone.

use std::path::Path;
use std::time::{Duration, SystemTime};

use llmring::client::Client;
use llmring::lockfile::ModelRef;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const OPENAI: &str = include_str!("fixtures/registry/basic/openai/models.json");

fn config(url: &str, cache: &Path, max_age_hours: u64) -> String {
    serde_json::json!({
        "registry": {"url": url, "cache_dir": cache, "max_age_hours": max_age_hours},
        "store": ":memory:"
    })
    .to_string()
}

fn input_price(client: &Client) -> String {
    let model = ModelRef::parse("openai:gpt-test").unwrap();
    let info = client
        .registry()
        .model(&model)
        .expect("model from the URL registry");
    info.pricing.input.unwrap().to_string()
}

#[test]
fn fetches_caches_and_falls_back_to_the_cache() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(MockServer::start());
    runtime.block_on(
        Mock::given(method("GET"))
            .and(path("/registry/openai/models.json"))
            .respond_with(ResponseTemplate::new(200).set_body_string(OPENAI))
            .mount(&server),
    );
    // Other providers: 404, so they have no models (wiremock's default answer).
    let url = format!("{}/registry/", server.uri());
    let cache = tempfile::tempdir().unwrap();

    // 1. Fetched and written to the cache.
    let client = Client::new(Some(&config(&url, cache.path(), 24))).unwrap();
    assert_eq!(input_price(&client), "0.15");
    let cached = cache.path().join("openai/models.json");
    assert_eq!(std::fs::read_to_string(&cached).unwrap(), OPENAI);
    let fetched = runtime.block_on(server.received_requests()).unwrap().len();
    assert_eq!(fetched, 4, "one request per provider");

    // 2. Fresh cache: no request at all.
    let client = Client::new(Some(&config(&url, cache.path(), 24))).unwrap();
    assert_eq!(input_price(&client), "0.15");
    assert_eq!(
        runtime.block_on(server.received_requests()).unwrap().len(),
        fetched
    );

    // 3. Stale cache and the server gone: the stale copy is used.
    let old = SystemTime::now() - Duration::from_secs(48 * 3600);
    std::fs::File::options()
        .write(true)
        .open(&cached)
        .unwrap()
        .set_modified(old)
        .unwrap();
    // wiremock pools its servers, so "gone" is a port nothing listens on.
    let dead_url = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/registry/", listener.local_addr().unwrap())
    };
    let client = Client::new(Some(&config(&dead_url, cache.path(), 24))).unwrap();
    assert_eq!(input_price(&client), "0.15");

    // 4. No cache and no server: a clear configuration error.
    let empty = tempfile::tempdir().unwrap();
    let err = Client::new(Some(&config(&dead_url, empty.path(), 24)))
        .err()
        .unwrap();
    assert_eq!(err.kind, llmring::ErrorKind::Config);
    assert!(err.message.contains("registry"), "{err}");
}

#[test]
fn stale_cache_is_refetched() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(MockServer::start());
    let newer = OPENAI.replace(
        "\"dollars_per_million_tokens_input\": 0.15",
        "\"dollars_per_million_tokens_input\": 0.2",
    );
    assert_ne!(newer, OPENAI);
    runtime.block_on(
        Mock::given(method("GET"))
            .and(path("/openai/models.json"))
            .respond_with(ResponseTemplate::new(200).set_body_string(newer))
            .mount(&server),
    );
    let cache = tempfile::tempdir().unwrap();
    let cached = cache.path().join("openai/models.json");
    std::fs::create_dir_all(cached.parent().unwrap()).unwrap();
    std::fs::write(&cached, OPENAI).unwrap();
    let old = SystemTime::now() - Duration::from_secs(2 * 3600);
    std::fs::File::options()
        .write(true)
        .open(&cached)
        .unwrap()
        .set_modified(old)
        .unwrap();

    // One hour of maximum age: the two-hour-old copy is refetched.
    let client = Client::new(Some(&config(&server.uri(), cache.path(), 1))).unwrap();
    assert_eq!(input_price(&client), "0.2");
    // 24 hours: the copy just written is fresh.
    let client = Client::new(Some(&config(&server.uri(), cache.path(), 24))).unwrap();
    assert_eq!(input_price(&client), "0.2");
}
