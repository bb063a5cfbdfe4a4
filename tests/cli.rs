//! The `llmring` CLI: keygen, receipt sign/verify/canonical/digest, exit codes, and that the
//! CLI, the Rust API and the C API give the same canonical bytes.

mod support;

use std::ffi::{CStr, CString, c_char};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use llmring::ffi::llmring_string_free;
use llmring::ffi::receipt::{llmring_receipt_canonical_json, llmring_receipt_digest};
use llmring::ffi::status::llmring_status_t;
use llmring::receipt::api;
use serde_json::{Value, json};

fn llmring(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_llmring"))
        .args(args)
        // Never the user's own store.
        .env("LLMRING_STORE", ":memory:")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut pipe = child.stdin.take().unwrap();
    // The program may exit before reading its input (an error found first): ignore EPIPE.
    let _ = pipe.write_all(stdin.unwrap_or("").as_bytes());
    drop(pipe);
    child.wait_with_output().unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn receipt_input() -> String {
    json!({
        "alias": "r\u{e9}sum\u{e9}", "profile": "default",
        "lock_digest": format!("sha256:{}", "01".repeat(32)),
        "provider": "anthropic", "model": "claude-3-5-haiku-20241022",
        "usage": {"prompt_tokens": 1000, "completion_tokens": 10},
        "costs": {"input_cost": "0.0008", "output_cost": "0.00004"},
        "extra": {"cache_read_tokens": 0}
    })
    .to_string()
}

fn keygen(dir: &Path, format: &str) -> (String, String) {
    let key = dir.join(format!("key-{format}"));
    let out = llmring(
        &["keygen", "--out", key.to_str().unwrap(), "--format", format],
        None,
    );
    assert!(out.status.success(), "{out:?}");
    let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    (
        key.to_str().unwrap().to_owned(),
        stdout(&out).trim().to_owned(),
    )
}

#[test]
fn keygen_sign_verify_round_trip_with_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    for format in ["base64url", "hex", "pem"] {
        let (key, public) = keygen(dir.path(), format);
        let unsigned = api::generate(&receipt_input(), None).unwrap();
        let file = dir.path().join(format!("receipt-{format}.json"));
        std::fs::write(&file, &unsigned).unwrap();

        let signed = llmring(
            &["receipt", "sign", "--key", &key, file.to_str().unwrap()],
            None,
        );
        assert!(signed.status.success(), "{signed:?}");
        let signed = stdout(&signed);

        // Valid: exit 0, from stdin (`-` and no argument) and from a file, key as text and file.
        let out = llmring(
            &["receipt", "verify", "--public-key", &public, "-"],
            Some(&signed),
        );
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        assert_eq!(stdout(&out).trim(), "valid");
        let pubfile = dir.path().join(format!("pub-{format}"));
        std::fs::write(&pubfile, &public).unwrap();
        let out = llmring(
            &[
                "receipt",
                "verify",
                "--public-key",
                pubfile.to_str().unwrap(),
            ],
            Some(&signed),
        );
        assert_eq!(out.status.code(), Some(0), "{out:?}");

        // Invalid: exit 1.
        let tampered = signed.replace("\"completion_tokens\":10", "\"completion_tokens\":11");
        assert_ne!(tampered, signed);
        let out = llmring(
            &["receipt", "verify", "--public-key", &public],
            Some(&tampered),
        );
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        assert!(stdout(&out).starts_with("invalid"));
    }
}

#[test]
fn errors_exit_2_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let (_, public) = keygen(dir.path(), "base64url");
    for (args, stdin) in [
        (vec!["receipt", "verify", "--public-key", "not-a-key"], "{}"),
        (
            vec!["receipt", "verify", "--public-key", public.as_str()],
            "{broken",
        ),
        (vec!["receipt", "canonical"], "[1,2"),
        (vec!["receipt", "digest", "/nonexistent/file.json"], ""),
        (vec!["receipt", "sign", "--key", "/nonexistent/key"], "{}"),
    ] {
        let out = llmring(&args, Some(stdin));
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.starts_with("llmring: "), "{err}");
    }
}

#[test]
fn readable_private_key_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (key, _) = keygen(dir.path(), "base64url");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = llmring(&["receipt", "sign", "--key", &key], Some("{}"));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .contains("readable by group or others")
    );
}

fn c_api(
    f: unsafe extern "C" fn(*const c_char, *mut *mut c_char, *mut *mut c_char) -> llmring_status_t,
    input: &str,
) -> String {
    let input = CString::new(input).unwrap();
    let mut out: *mut c_char = std::ptr::null_mut();
    // SAFETY: valid C string, valid out-pointer; error output not requested.
    let status = unsafe { f(input.as_ptr(), &mut out, std::ptr::null_mut()) };
    assert_eq!(status, llmring_status_t::LLMRING_OK);
    // SAFETY: `out` was returned by llmring and is freed once below.
    let text = unsafe { CStr::from_ptr(out) }.to_str().unwrap().to_owned();
    unsafe { llmring_string_free(out) };
    text
}

#[test]
fn cli_rust_and_c_give_identical_bytes() {
    let key = llmring::receipt::keys::generate().unwrap();
    let receipt = api::generate(&receipt_input(), Some(&key)).unwrap();
    // Spell it differently: pretty-printed, members in another order.
    let value: Value = serde_json::from_str(&receipt).unwrap();
    let pretty = serde_json::to_string_pretty(&value).unwrap();

    let rust = api::canonical(&pretty).unwrap();
    let cli = stdout(&llmring(&["receipt", "canonical"], Some(&pretty)));
    let c = c_api(llmring_receipt_canonical_json, &pretty);
    assert_eq!(rust, cli);
    assert_eq!(rust, c);
    assert!(!rust.contains("signature"));
    assert!(rust.contains("r\u{e9}sum\u{e9}"));

    let digest = api::digest(&pretty).unwrap();
    assert_eq!(
        stdout(&llmring(&["receipt", "digest"], Some(&pretty))).trim(),
        digest
    );
    assert_eq!(c_api(llmring_receipt_digest, &pretty), digest);
    use sha2::Digest;
    assert_eq!(hex::encode(sha2::Sha256::digest(rust.as_bytes())), digest);
}

#[test]
fn chat_prints_the_response_json_of_llmring_chat() {
    let key = llmring::receipt::keys::generate().unwrap();
    let private =
        llmring::receipt::keys::encode_private(&key, llmring::receipt::keys::KeyFormat::Hex)
            .unwrap();
    // Base URLs on a closed port prove the mock calls no provider.
    let config = json!({
        "signing_key": private.as_str(),
        "providers": {"openai": {"base_url": "http://127.0.0.1:9/v1", "api_key": "sk-test"}},
    })
    .to_string();
    let out = llmring(
        &[
            "chat", "--config", &config, "--model", "fast", "--mock", "hi there", "--json", "Hello",
        ],
        None,
    );
    assert!(out.status.success(), "{out:?}");
    let response: Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(response["content"], "hi there");
    assert_eq!(response["model"], "openai:gpt-4o-mini");
    assert_eq!(response["receipt"]["mock"], true);
    assert!(!stdout(&out).contains("sk-test"));
    let receipt = response["receipt"].to_string();
    assert!(api::verify(&receipt, &key.verifying_key()).unwrap().valid);

    let plain = llmring(
        &["chat", "--config", &config, "--mock", "hi there", "Hello"],
        None,
    );
    assert!(plain.status.success(), "{plain:?}");
    let text = stdout(&plain);
    assert!(text.starts_with("hi there\n"), "{text}");
    assert!(text.contains("fast -> openai:gpt-4o-mini"), "{text}");
    assert!(text.contains("(priced)"), "{text}");
}

#[test]
fn info_shows_prices_and_refuses_unknown_models() {
    let out = llmring(&["info", "openai:gpt-4o-mini", "--json"], None);
    assert!(out.status.success(), "{out:?}");
    let info: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(info["dollars_per_million_tokens_input"].to_string(), "0.15");
    assert_eq!(info["dollars_per_million_tokens_output"].to_string(), "0.6");
    let out = llmring(&["info", "openai:no-such-model"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .contains("not in the registry")
    );
}

#[test]
fn store_commands_stats_export_report_verify() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("receipts.jsonl");
    let store = store.to_str().unwrap();
    let (key_file, public) = keygen(dir.path(), "base64url");
    let config = json!({"store": store, "signing_key_file": key_file}).to_string();
    for (alias, text) in [
        ("fast", "one"),
        ("fast", "two two"),
        ("deep", "three three three"),
    ] {
        let out = llmring(
            &[
                "chat", "--config", &config, "--model", alias, "--mock", text, "hello",
            ],
            None,
        );
        assert!(out.status.success(), "{out:?}");
    }
    // Sums computed here from the stored receipts, independently of the stats module.
    let receipts: Vec<Value> = std::fs::read_to_string(store)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["receipt"].clone())
        .collect();
    assert_eq!(receipts.len(), 3);
    let dec = |v: &Value| {
        rust_decimal::Decimal::from_str_exact(&v.as_f64().unwrap().to_string()).unwrap()
    };
    let total: rust_decimal::Decimal = receipts.iter().map(|r| dec(&r["total_cost"])).sum();
    let tokens: u64 = receipts
        .iter()
        .map(|r| r["total_tokens"].as_u64().unwrap())
        .sum();

    let out = llmring(&["stats", "--store", store, "--json"], None);
    assert!(out.status.success(), "{out:?}");
    let stats: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(stats["total"]["requests"], 3);
    assert_eq!(stats["total"]["total_tokens"], tokens);
    assert_eq!(dec(&stats["total"]["total_cost"]), total);
    assert_eq!(stats["by_alias"]["fast"]["requests"], 2);
    let table = stdout(&llmring(&["stats", "--store", store], None));
    assert!(table.contains("3 requests"), "{table}");
    assert!(table.contains("most expensive alias: deep"), "{table}");

    let csv_path = dir.path().join("out.csv");
    let out = llmring(
        &[
            "export",
            "--store",
            store,
            "--format",
            "csv",
            "--output",
            csv_path.to_str().unwrap(),
        ],
        None,
    );
    assert!(out.status.success(), "{out:?}");
    let mut reader = csv::Reader::from_path(&csv_path).unwrap();
    let ids: Vec<String> = reader.records().map(|r| r.unwrap()[0].to_owned()).collect();
    let expected: Vec<&str> = receipts
        .iter()
        .map(|r| r["receipt_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, expected);

    let report_path = dir.path().join("report.json");
    let out = llmring(
        &[
            "report",
            "--store",
            store,
            "--output",
            report_path.to_str().unwrap(),
            "--public-key",
            &public,
        ],
        None,
    );
    assert!(out.status.success(), "{out:?}");
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(&report_path).unwrap()).unwrap();
    assert_eq!(report["receipts"].as_array().unwrap().len(), 3);
    assert!(
        report["receipts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["signature_valid"] == true)
    );

    let out = llmring(&["verify", "--store", store, "--public-key", &public], None);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    // Tamper with the second record: exit 1, and the position is named.
    let text = std::fs::read_to_string(store).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    lines[1] = lines[1].replacen("\"alias\":\"fast\"", "\"alias\":\"fass\"", 1);
    std::fs::write(store, lines.join("\n") + "\n").unwrap();
    let out = llmring(&["verify", "--store", store, "--public-key", &public], None);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(String::from_utf8(out.stderr).unwrap().contains("line 2"));
}

#[test]
fn chat_stream_prints_the_answer_then_the_cost_line() {
    use wiremock::matchers::{body_partial_json, method, path};
    use wiremock::{Mock, ResponseTemplate};
    let sse = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/providers/stream/openai_text.sse"),
    )
    .unwrap();
    let stub = support::Stub::start();
    stub.mount(
        Mock::given(method("POST"))
            .and(path("/v1/chat/completions"))
            .and(body_partial_json(json!({"stream": true})))
            .respond_with(ResponseTemplate::new(200).set_body_raw(sse, "text/event-stream")),
    );
    let config = support::config(&stub.openai_base(), &stub.uri(), json!({}));
    let out = llmring(
        &[
            "chat", "--config", &config, "--stream", "--model", "fast", "Hello",
        ],
        None,
    );
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    assert!(
        text.starts_with("Hello! How can I assist you today?\n"),
        "{text}"
    );
    assert!(text.contains("fast -> openai:gpt-stub"), "{text}");
    assert!(text.contains("19 prompt + 10 completion tokens"), "{text}");
    assert!(text.contains("(priced)"), "{text}");
    assert_eq!(stub.requests().len(), 1);

    // The offline mock streams too.
    let mock = llmring(&["chat", "--stream", "--mock", "hi there", "Hello"], None);
    assert!(mock.status.success(), "{mock:?}");
    assert!(stdout(&mock).starts_with("hi there\n"), "{}", stdout(&mock));
}

#[test]
fn chat_stream_json_prints_json_lines_chunks_then_the_response() {
    let out = llmring(
        &[
            "chat",
            "--stream",
            "--json",
            "--mock",
            "one two three",
            "Hello",
        ],
        None,
    );
    assert!(out.status.success(), "{out:?}");
    let lines: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    assert!(lines.len() >= 2, "{lines:?}");
    let (last, chunks) = lines.split_last().unwrap();
    let text: String = chunks.iter().filter_map(|c| c["delta"].as_str()).collect();
    assert_eq!(text, "one two three");
    assert_eq!(last["content"], "one two three");
    assert!(last["receipt"]["receipt_id"].is_string(), "{last}");
}
