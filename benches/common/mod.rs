//! What the latency benches share: a local stub answering one POST route, and percentiles.

use std::time::Duration;

use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The `p` quantile (0.0 to 1.0) of durations sorted in ascending order.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// A stub on 127.0.0.1 answering every `POST route` with `answer`.
pub fn post_stub(
    runtime: &tokio::runtime::Runtime,
    route: &str,
    answer: ResponseTemplate,
) -> MockServer {
    runtime.block_on(async {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path(route))
            .respond_with(answer)
            .mount(&server)
            .await;
        server
    })
}
