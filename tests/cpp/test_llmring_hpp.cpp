// test_llmring_hpp.cpp: the C++ wrapper (include/llmring.hpp) against the offline mock and
// against the stub OpenAI server that ctest starts:
//
//     stub_provider --expect 11 -- test_llmring_hpp FIXTURE_DIR
//
// (tests/support/stub_provider.rs; it passes its URL in LLMRING_STUB_URL and fails unless
// exactly 11 requests arrived: one chat, one failing chat retried once, one async chat; then
// streamed: one whole, one stopped, one stopped by an exception, one failing retried once,
// two held by the stub and cancelled from another thread, which the stub checks were closed.)
// Without LLMRING_STUB_URL only the offline parts run.
//
// Prints "N passed, M failed" and exits non-zero when anything failed.
#include "llmring.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <future>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

namespace {

int passed = 0;
int failed = 0;

bool check_at(bool ok, const char *what, int line) {
    if (ok) {
        passed++;
    } else {
        failed++;
        std::fprintf(stderr, "FAIL line %d: %s\n", line, what);
    }
    return ok;
}
#define CHECK(cond) check_at((cond), #cond, __LINE__)

bool contains(const std::string &haystack, const std::string &needle) {
    return haystack.find(needle) != std::string::npos;
}

const char API_KEY[] = "sk-c-test-KEY-0042";
const char CHAT[] = R"({"model":"fast","messages":[{"role":"user","content":"Hello from C++"}]})";
const char CHAT_FAIL[] = R"({"model":"fast","messages":[{"role":"user","content":"please fail"}]})";
const char CHAT_TRICKLE[] =
    R"({"model":"fast","messages":[{"role":"user","content":"please trickle"}]})";
const char CHAT_HOLD[] = R"({"model":"fast","messages":[{"role":"user","content":"please hold"}]})";
const char CHAT_HOLD_HELLO[] =
    R"({"model":"fast","messages":[{"role":"user","content":"please hold after hello"}]})";
const char CHAT_MOCK[] =
    R"({"model":"fast","messages":[{"role":"user","content":"Say hi"}],"mock_response":"Hello mock"})";

std::string json_escape(const std::string &text) {
    std::string out;
    for (char c : text) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out;
}

// Compile-time properties of the types.
static_assert(!std::is_copy_constructible_v<llmring::Client>);
static_assert(std::is_nothrow_move_constructible_v<llmring::Client>);
static_assert(std::is_nothrow_move_assignable_v<llmring::Client>);
static_assert(!std::is_copy_constructible_v<llmring::Receipts>);
static_assert(std::is_base_of_v<std::runtime_error, llmring::Error>);
static_assert(std::is_same_v<std::iterator_traits<llmring::Receipts::iterator>::iterator_category,
                             std::input_iterator_tag>);

// Waits for an asynchronous result.
struct Waiter {
    std::mutex mutex;
    std::condition_variable cv;
    std::optional<llmring::Result<std::string>> result;
    int calls = 0;

    llmring::ChatCallback callback() {
        return [this](llmring::Result<std::string> r) {
            std::lock_guard<std::mutex> lock(mutex);
            calls++;
            result.emplace(std::move(r));
            cv.notify_all();
        };
    }
    bool wait() {
        std::unique_lock<std::mutex> lock(mutex);
        return cv.wait_for(lock, std::chrono::seconds(60), [this] { return result.has_value(); });
    }
};

void test_keys_and_receipts() {
    CHECK(llmring::version() == LLMRING_VERSION);
    CHECK(std::string(llmring::status_name(LLMRING_RATE_LIMITED)) == "LLMRING_RATE_LIMITED");

    llmring::KeyPair pair = llmring::generate_keypair();
    CHECK(!pair.private_key.empty() && !pair.public_key.empty());
    CHECK(llmring::public_key_from_private(pair.private_key) == pair.public_key);
    llmring::KeyPair hex = llmring::generate_keypair("hex");
    CHECK(hex.public_key.size() == 64);

    const std::string input =
        R"({"alias":"fast","profile":"default","lock_digest":"sha256:00","provider":"openai",)"
        R"("model":"gpt-4o-mini","usage":{"prompt_tokens":10,"completion_tokens":5},)"
        R"("costs":{"input_cost":"0.0000015","output_cost":"0.000003"}})";
    std::string receipt = llmring::generate_receipt(input, pair.private_key);
    CHECK(contains(receipt, "\"signature\":\"ed25519:"));
    CHECK(llmring::verify_receipt(receipt, pair.public_key));
    CHECK(!llmring::verify_receipt(receipt, hex.public_key));

    std::string unsigned_receipt = llmring::generate_receipt(input);
    CHECK(!contains(unsigned_receipt, "\"signature\""));
    std::string signed_receipt = llmring::sign_receipt(unsigned_receipt, pair.private_key);
    CHECK(llmring::verify_receipt(signed_receipt, pair.public_key));

    CHECK(llmring::canonical_json(R"({"b":1,"a":2,"signature":"x"})") == R"({"a":2,"b":1})");
    std::string digest = llmring::digest(R"({"b":1,"a":2})");
    CHECK(digest.size() == 64);
    CHECK(digest == llmring::digest(R"({"a":2,"b":1,"signature":"ignored"})"));

    // Errors: exceptions and results.
    try {
        (void)llmring::canonical_json("{not json");
        CHECK(!"canonical_json accepted bad JSON");
    } catch (const llmring::Error &e) {
        CHECK(e.status() == LLMRING_INVALID_JSON);
        CHECK(std::string(e.code()) == "LLMRING_INVALID_JSON");
        CHECK(contains(e.json(), "\"code\":\"LLMRING_INVALID_JSON\""));
        CHECK(contains(e.what(), "LLMRING_INVALID_JSON"));
        CHECK(!e.message().empty());
    }
    llmring::Result<bool> bad_key = llmring::try_verify_receipt(receipt, "not a key");
    CHECK(!bad_key.ok());
    CHECK(!bad_key);
    CHECK(bad_key.error().status() == LLMRING_KEY);
    try {
        (void)bad_key.value();
        CHECK(!"value() of a failed result did not throw");
    } catch (const llmring::Error &e) {
        CHECK(e.status() == LLMRING_KEY);
    }
    llmring::Result<std::string> good = llmring::try_digest("{}");
    CHECK(good.ok() && good.value().size() == 64);
}

void test_client_errors() {
    // A bad configuration: exception, and Result from Client::open.
    try {
        llmring::Client client(R"({"no_such_key": 1})");
        CHECK(!"an unknown configuration key was accepted");
    } catch (const llmring::Error &e) {
        CHECK(e.status() == LLMRING_CONFIG);
    }
    llmring::Result<llmring::Client> opened = llmring::Client::open("{bad json");
    CHECK(!opened.ok());
    CHECK(opened.error().status() == LLMRING_INVALID_JSON);

    // Moving a client leaves an empty handle; using it is an error, not a crash.
    llmring::Client a(R"({"store":":memory:"})");
    llmring::Client b(std::move(a));
    CHECK(b.get() != nullptr);
    CHECK(a.get() == nullptr);  // NOLINT(bugprone-use-after-move): tested on purpose
    llmring::Result<std::string> r = a.try_chat(CHAT_MOCK);
    CHECK(!r.ok() && r.error().status() == LLMRING_INVALID_ARGUMENT);
    a = std::move(b);
    CHECK(a.get() != nullptr);
    CHECK(a.try_chat(CHAT_MOCK).ok());
}

void test_mock(const llmring::KeyPair &pair) {
    std::string config = R"({"store":":memory:","signing_key":")" + pair.private_key + "\"}";
    llmring::Client client(config);

    std::string response = client.chat(CHAT_MOCK);
    CHECK(contains(response, "\"content\":\"Hello mock\""));
    CHECK(contains(response, "\"mock\":true"));

    llmring::Result<std::string> bad = client.try_chat(R"({"model":"fast"})");
    CHECK(!bad.ok());
    CHECK(bad.error().status() == LLMRING_INVALID_ARGUMENT ||
          bad.error().status() == LLMRING_INVALID_JSON);

    // Asynchronous: the callback runs once, on another thread.
    Waiter waiter;
    std::uint64_t id = client.chat_async(CHAT_MOCK, waiter.callback());
    CHECK(id != 0);
    CHECK(waiter.wait());
    {
        std::lock_guard<std::mutex> lock(waiter.mutex);
        CHECK(waiter.calls == 1);
        CHECK(waiter.result->ok() && contains(waiter.result->value(), "Hello mock"));
    }

    // A request that cannot be read fails at once; the callback context is freed, not run.
    auto token = std::make_shared<int>(7);
    std::weak_ptr<int> weak = token;
    bool ran = false;
    llmring::Result<std::uint64_t> refused = client.try_chat_async(
        "{not json", [token, &ran](llmring::Result<std::string>) { ran = true; });
    token.reset();
    CHECK(!refused.ok());
    CHECK(refused.error().status() == LLMRING_INVALID_JSON);
    CHECK(weak.expired());
    CHECK(!ran);

    // The context of a completed call is freed exactly once (valgrind checks the rest).
    token = std::make_shared<int>(8);
    weak = token;
    Waiter waiter2;
    auto inner = waiter2.callback();
    client.chat_async(CHAT_MOCK, [token, inner](llmring::Result<std::string> r) { inner(std::move(r)); });
    token.reset();
    CHECK(waiter2.wait());
    for (int i = 0; i < 500 && !weak.expired(); i++) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    CHECK(weak.expired());

    // Cancelling: unknown ids are ignored; a cancelled call ends once, OK or CANCELLED.
    client.cancel(987654321);
    Waiter waiter3;
    std::uint64_t id3 = client.chat_async(CHAT_MOCK, waiter3.callback());
    client.cancel(id3);
    CHECK(waiter3.wait());
    {
        std::lock_guard<std::mutex> lock(waiter3.mutex);
        CHECK(waiter3.calls == 1);
        CHECK(waiter3.result->ok() || waiter3.result->error().status() == LLMRING_CANCELLED);
    }

    // Many threads on one client.
    std::vector<std::thread> threads;
    std::atomic<int> ok{0};
    for (int t = 0; t < 8; t++) {
        threads.emplace_back([&client, &ok] {
            for (int i = 0; i < 5; i++) {
                if (client.try_chat(CHAT_MOCK).ok()) ok++;
            }
        });
    }
    for (auto &t : threads) t.join();
    CHECK(ok == 40);

    // Receipts, range-for: 1 + 1 + 1 (+ the possibly cancelled one) + 40.
    int count = 0;
    for (const std::string &receipt : client.receipts()) {
        count++;
        CHECK(llmring::verify_receipt(receipt, pair.public_key));
    }
    CHECK(count == 43 || count == 44);
    int none = 0;
    for (const auto &receipt : client.receipts(R"({"provider":"anthropic"})")) {
        (void)receipt;
        none++;
    }
    CHECK(none == 0);
    llmring::Receipts receipts = client.receipts();
    std::optional<std::string> first = receipts.next();
    CHECK(first.has_value() && contains(*first, "\"receipt_id\""));
    CHECK(!client.try_receipts("{bad").ok());

    std::string stats = client.stats();
    CHECK(contains(stats, "\"requests\":" + std::to_string(count)));
    std::string report = client.verify_store();
    CHECK(contains(report, "\"ok\":true"));
    CHECK(contains(report, "\"valid\":" + std::to_string(count)));

    std::string path = "llmring-hpp-export.csv";
    std::string exported =
        client.export_to(R"({"format":"csv","output":")" + json_escape(path) + "\"}");
    CHECK(contains(exported, "\"exported\":" + std::to_string(count)));
    std::ifstream file(path);
    std::stringstream text;
    text << file.rdbuf();
    CHECK(contains(text.str(), "receipt_id"));
    std::remove(path.c_str());
    CHECK(!client.try_export_to(R"({"format":"xml","output":"x"})").ok());
}

void test_budgets() {
    // 1000 + 100 mock tokens through "fast" (openai:gpt-4o-mini at 0.15 / 0.6 per million)
    // cost 0.00021: past the soft threshold (10% of 0.001), within the limit.
    llmring::Client client(
        R"({"store":":memory:","budgets":[{"name":"tiny","limit_usd":"0.001","window":"total",)"
        R"("soft_threshold":0.1}]})");
    std::mutex mutex;
    std::vector<std::string> warnings;
    client.on_budget_warning([&](std::string_view warning) {
        std::lock_guard<std::mutex> lock(mutex);
        warnings.emplace_back(warning);
    });
    std::string response = client.chat(
        R"({"model":"fast","messages":[{"role":"user","content":"x"}],"mock_response":"ok",)"
        R"("mock_usage":{"prompt_tokens":1000,"completion_tokens":100}})");
    CHECK(contains(response, "budget_warnings"));
    {
        std::lock_guard<std::mutex> lock(mutex);
        CHECK(warnings.size() == 1 && contains(warnings[0], "tiny"));
    }
    std::string status = client.budget_status();
    CHECK(contains(status, "\"budgets\"") && contains(status, "\"tiny\""));

    // 10000 prompt tokens (0.0015) do not fit: refused before any network traffic.
    llmring::Result<std::string> refused = client.try_chat(
        R"({"model":"fast","messages":[{"role":"user","content":"x"}],"mock_response":"ok",)"
        R"("mock_usage":{"prompt_tokens":10000,"completion_tokens":100}})");
    CHECK(!refused.ok() && refused.error().status() == LLMRING_BUDGET_EXCEEDED);
    client.on_budget_warning(nullptr);  // cleared
}

// The text of a {"delta":"..."} chunk (the stub's and the mock's deltas have no escapes), or
// "<bad chunk>".
std::string delta_of(std::string_view chunk) {
    const std::string_view prefix = R"({"delta":")";
    if (chunk.substr(0, prefix.size()) != prefix || chunk.size() < prefix.size() + 2 ||
        chunk.substr(chunk.size() - 2) != "\"}") {
        return "<bad chunk>";
    }
    return std::string(chunk.substr(prefix.size(), chunk.size() - prefix.size() - 2));
}

struct StreamAborted : std::runtime_error {
    StreamAborted() : std::runtime_error("aborted by the callback") {}
};

void test_mock_stream() {
    llmring::Client client(R"({"store":":memory:"})");
    std::vector<std::string> chunks;
    std::thread::id caller = std::this_thread::get_id();
    bool same_thread = true;
    std::string response = client.chat_stream(CHAT_MOCK, [&](std::string_view chunk) {
        chunks.emplace_back(chunk);
        same_thread = same_thread && std::this_thread::get_id() == caller;
        return true;
    });
    CHECK(chunks.size() == 1 && delta_of(chunks[0]) == "Hello mock");
    CHECK(same_thread);
    CHECK(contains(response, "\"content\":\"Hello mock\""));
    CHECK(contains(response, "\"receipt\""));

    // No callback: refused before anything runs; a bad request: an Error, no chunk.
    llmring::Result<std::string> no_callback = client.try_chat_stream(CHAT_MOCK, nullptr);
    CHECK(!no_callback.ok() && no_callback.error().status() == LLMRING_INVALID_ARGUMENT);
    int calls = 0;
    try {
        client.chat_stream("{not json", [&](std::string_view) { return ++calls > 0; });
        CHECK(!"chat_stream accepted bad JSON");
    } catch (const llmring::Error &e) {
        CHECK(e.status() == LLMRING_INVALID_JSON);
    }
    CHECK(calls == 0);
}

void test_stub_stream(const std::string &config, const llmring::KeyPair &pair) {
    llmring::Client client(config);

    // 1 request: every delta, in order; the final response is priced as the plain call's.
    std::string text;
    int chunks = 0;
    std::string response = client.chat_stream(CHAT, [&](std::string_view chunk) {
        chunks++;
        text += delta_of(chunk);
        return true;
    });
    CHECK(chunks == 4);
    CHECK(text == "Hello from the stub");
    CHECK(contains(response, "\"content\":\"Hello from the stub\""));
    CHECK(contains(response, "\"cost\":0.000345"));
    CHECK(!contains(response, "stopped_early"));

    // 1 request: stopped by returning false after 3 of the 100+ chunks.
    chunks = 0;
    response = client.chat_stream(CHAT_TRICKLE, [&](std::string_view) { return ++chunks < 3; });
    CHECK(chunks == 3);
    CHECK(contains(response, "\"stopped_early\":true"));
    CHECK(contains(response, "\"content\":\"w0 w1 w2 \""));

    // 1 request: an exception from the callback stops the stream and comes out unchanged,
    // through the throwing and the Result form alike.
    chunks = 0;
    try {
        client.chat_stream(CHAT_TRICKLE, [&](std::string_view) -> bool {
            chunks++;
            throw StreamAborted();
        });
        CHECK(!"the callback's exception was swallowed");
    } catch (const StreamAborted &) {
        CHECK(chunks == 1);
    }

    // 2 requests (retried once): a failing provider is an Error, and no chunk arrives.
    chunks = 0;
    llmring::Result<std::string> failed_stream =
        client.try_chat_stream(CHAT_FAIL, [&](std::string_view) { return ++chunks > 0; });
    CHECK(!failed_stream.ok() && failed_stream.error().status() == LLMRING_PROVIDER);
    CHECK(chunks == 0);

    // Receipts: the whole stream, the stopped one, the one stopped by the exception.
    int count = 0;
    for (const std::string &receipt : client.receipts()) {
        count++;
        CHECK(llmring::verify_receipt(receipt, pair.public_key));
    }
    CHECK(count == 3);
}

// The number of connections the stub holds silent (lines of LLMRING_STUB_HELD_FILE).
int held_connections() {
    const char *path = std::getenv("LLMRING_STUB_HELD_FILE");
    std::ifstream file(path != nullptr ? path : "");
    int lines = 0;
    for (std::string line; std::getline(file, line);) lines++;
    return lines;
}

// Streams cancelled from another thread with new_call_id() and cancel(): while the stub is
// silent and after the first chunk. The client's timeout is 30 s: only a working cancel
// ends them with LLMRING_CANCELLED.
void test_stub_stream_cancel(const std::string &config) {
    llmring::Client client(config);
    auto stored = [&] {
        int n = 0;
        for (const std::string &receipt : client.receipts()) n += !receipt.empty();
        return n;
    };

    // 1 request, held silent: cancelled once the stub holds it; nothing is stored.
    int held = held_connections();
    std::uint64_t id = client.new_call_id();
    std::thread canceller([&] {
        for (int i = 0; i < 6000 && held_connections() == held; i++) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        client.cancel(id);
    });
    int chunks = 0;
    llmring::Result<std::string> silent =
        client.try_chat_stream(id, CHAT_HOLD, [&](std::string_view) { return ++chunks > 0; });
    canceller.join();
    CHECK(held_connections() == held + 1);
    CHECK(!silent.ok() && silent.error().status() == LLMRING_CANCELLED);
    CHECK(!silent.ok() && !contains(silent.error().json(), "\"response\""));
    CHECK(chunks == 0);
    CHECK(stored() == 0);

    // 1 request: cancelled after the first chunk (the throwing form); the partial answer is
    // receipted and in the error's "response".
    id = client.new_call_id();
    std::promise<void> first;
    std::thread after_chunk([&] {
        first.get_future().wait();
        client.cancel(id);
    });
    chunks = 0;
    try {
        client.chat_stream(id, CHAT_HOLD_HELLO, [&](std::string_view chunk) {
            if (chunks++ == 0) first.set_value();
            return delta_of(chunk) == "Hello";
        });
        CHECK(!"a cancelled stream returned");
    } catch (const llmring::Error &e) {
        CHECK(e.status() == LLMRING_CANCELLED);
        CHECK(contains(e.json(), "\"stopped_early\":true"));
        CHECK(contains(e.json(), "\"content\":\"Hello\""));
    }
    after_chunk.join();
    CHECK(chunks == 1);
    CHECK(stored() == 1);

    // Ids: each starts one stream; cancelling before the start sends nothing.
    id = client.new_call_id();
    CHECK(client.new_call_id() != id);
    client.cancel(id);
    llmring::Result<std::string> early =
        client.try_chat_stream(id, CHAT_HOLD, [](std::string_view) { return true; });
    CHECK(!early.ok() && early.error().status() == LLMRING_CANCELLED);
    llmring::Result<std::string> reused =
        client.try_chat_stream(id, CHAT_MOCK, [](std::string_view) { return true; });
    CHECK(!reused.ok() && reused.error().status() == LLMRING_INVALID_ARGUMENT);
}

void test_stub(const std::string &dir, const std::string &url, const llmring::KeyPair &pair) {
    std::string config =
        R"({"lockfile":")" + json_escape(dir) + R"(/llmring.lock","registry":{"dir":")" +
        json_escape(dir) + R"(/registry"},"providers":{"openai":{"api_key":")" + API_KEY +
        R"(","base_url":")" + json_escape(url) +
        R"(/v1"}},"timeout_ms":30000,"max_retries":1,"retry_backoff_ms":10,)"
        R"("store":":memory:","signing_key":")" + pair.private_key + "\"}";
    llmring::Client client(config);

    // 1 request.
    std::string response = client.chat(CHAT);
    CHECK(contains(response, "\"content\":\"Hello from the stub\""));
    CHECK(contains(response, "\"model\":\"openai:gpt-stub\""));
    CHECK(contains(response, "\"cost\":0.000345"));

    // 2 requests (retried once), as an exception and as a result.
    try {
        client.chat(CHAT_FAIL);
        CHECK(!"a failing provider call succeeded");
    } catch (const llmring::Error &e) {
        CHECK(e.status() == LLMRING_PROVIDER);
        CHECK(contains(e.json(), "\"http_status\":500"));
        CHECK(!contains(e.json(), API_KEY));
        CHECK(!contains(e.what(), API_KEY));
    }

    // 1 request, asynchronously.
    Waiter waiter;
    client.chat_async(CHAT, waiter.callback());
    CHECK(waiter.wait());
    {
        std::lock_guard<std::mutex> lock(waiter.mutex);
        CHECK(waiter.result->ok() && contains(waiter.result->value(), "Hello from the stub"));
    }

    int count = 0;
    for (const std::string &receipt : client.receipts(R"({"alias":"fast"})")) {
        count++;
        CHECK(contains(receipt, "\"provider\":\"openai\""));
        CHECK(llmring::verify_receipt(receipt, pair.public_key));
    }
    CHECK(count == 2);

    std::string usage = client.calculate_cost(
        "openai:gpt-stub", R"({"prompt_tokens":1000,"completion_tokens":1000})");
    CHECK(contains(usage, "\"cost\":0.00075"));
    CHECK(!client.try_calculate_cost("openai:gpt-stub", "[").ok());

    test_stub_stream(config, pair);
    test_stub_stream_cancel(config);
}

}  // namespace

int main(int argc, char **argv) {
    try {
        test_keys_and_receipts();
        test_client_errors();
        llmring::KeyPair pair = llmring::generate_keypair();
        test_mock(pair);
        test_budgets();
        test_mock_stream();
        const char *url = std::getenv("LLMRING_STUB_URL");
        if (argc == 2 && url != nullptr && url[0] != '\0') {
            test_stub(argv[1], url, pair);
        } else {
            std::printf("LLMRING_STUB_URL or FIXTURE_DIR not given: stub tests skipped\n");
        }
    } catch (const llmring::Error &e) {
        std::fprintf(stderr, "unexpected llmring::Error: %s\n%s\n", e.what(), e.json().c_str());
        failed++;
    } catch (const std::exception &e) {
        std::fprintf(stderr, "unexpected exception: %s\n", e.what());
        failed++;
    }
    std::printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
