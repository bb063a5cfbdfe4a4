/*
 * test_chat.c: the client through the C ABI (and, compiled from a .cpp copy, from C++),
 * against a stub OpenAI server started by the test: ctest runs
 *
 *     stub_provider --expect 3 -- test_chat FIXTURE_DIR
 *
 * where stub_provider (tests/support/stub_provider.rs) listens on 127.0.0.1, passes its URL
 * in LLMRING_STUB_URL and checks afterwards that it received exactly 3 requests. FIXTURE_DIR
 * is tests/fixtures/client (its llmring.lock and registry/).
 *
 * Checks: llmring_new with the lockfile, registry, provider key and base URL and signing key;
 * llmring_chat's response (content, model, finish reason, exact usage and cost); a failing
 * call (HTTP 500, retried once: 2 requests) gives LLMRING_PROVIDER with provider, model and
 * HTTP status and no API key, and adds no receipt; the offline mock calls no network and
 * says so in its receipt; llmring_receipts_iter / _next / _free (LLMRING_END at the end,
 * filters); every receipt verifies with llmring_verify_receipt; llmring_calculate_cost;
 * NULL arguments give LLMRING_INVALID_ARGUMENT; llmring_free(NULL) is fine.
 *
 * Prints "N passed, M failed" and exits non-zero when anything failed.
 */
#include "test_support.h"

/* Frees a string llmring returned, unless it is the UNTOUCHED marker. */
static void release(char *s) {
    if (s != UNTOUCHED) {
        llmring_string_free(s);
    }
}

/* ------------------------------------------------------------------------------------- */
/* Test data                                                                             */
/* ------------------------------------------------------------------------------------- */

static const char CHAT[] =
    "{\"model\":\"fast\",\"messages\":[{\"role\":\"user\",\"content\":\"Hello from C\"}]}";
static const char CHAT_FAIL[] =
    "{\"model\":\"fast\",\"messages\":[{\"role\":\"user\",\"content\":\"please fail\"}]}";
static const char CHAT_MOCK[] =
    "{\"model\":\"fast\",\"messages\":[{\"role\":\"user\",\"content\":\"Say hi\"}],"
    "\"mock_response\":\"Hello mock\"}";

typedef struct {
    char *private_key;
    char *public_key;
} keypair;

/* ------------------------------------------------------------------------------------- */
/* Tests                                                                                 */
/* ------------------------------------------------------------------------------------- */

static void test_chat_ok(const llmring_t *client) {
    const char *label = "llmring_chat against the stub";
    char *response = UNTOUCHED;
    char *error = UNTOUCHED;
    llmring_status_t status = llmring_chat(client, CHAT, &response, &error);
    if (!expect_ok(label, status, &error) || !CHECK(label, response != UNTOUCHED)) {
        return;
    }
    CHECK(label, json_string_is(response, "content", "Hello from the stub"));
    CHECK(label, json_string_is(response, "model", "openai:gpt-stub"));
    CHECK(label, json_string_is(response, "alias", "fast"));
    CHECK(label, json_string_is(response, "finish_reason", "stop"));
    /* usage: 1000 uncached × 0.15 + 200 cached × 0.075, 300 × 0.6 dollars per million. */
    const char *usage = json_member(response, "usage");
    CHECK(label, usage != NULL);
    CHECK(label, json_literal_is(usage, "prompt_tokens", "1200"));
    CHECK(label, json_literal_is(usage, "completion_tokens", "300"));
    CHECK(label, json_literal_is(usage, "total_tokens", "1500"));
    CHECK(label, json_literal_is(usage, "cached_tokens", "200"));
    CHECK(label, json_literal_is(usage, "cost", "0.000345"));
    CHECK(label, json_literal_is(usage, "input_cost", "0.000165"));
    CHECK(label, json_literal_is(usage, "output_cost", "0.00018"));
    CHECK(label, json_string_is(usage, "cost_status", "priced"));
    const char *receipt = json_member(response, "receipt");
    CHECK(label, receipt != NULL && receipt[0] == '{');
    CHECK(label, json_literal_is(receipt, "total_cost", "0.000345"));
    CHECK(label, starts_with(json_member(receipt, "signature"), "\"ed25519:"));
    llmring_string_free(response);
}

static void test_chat_failure(const llmring_t *client) {
    const char *label = "llmring_chat with a failing provider";
    char *response = UNTOUCHED;
    char *error = UNTOUCHED;
    llmring_status_t status = llmring_chat(client, CHAT_FAIL, &response, &error);
    CHECK(label, response == UNTOUCHED);
    CHECK(label, status == LLMRING_PROVIDER);
    if (!CHECK(label, error != NULL && error != UNTOUCHED)) {
        return;
    }
    CHECK(label, json_string_is(error, "code", "LLMRING_PROVIDER"));
    CHECK(label, json_string_is(error, "provider", "openai"));
    CHECK(label, json_string_is(error, "model", "gpt-stub"));
    CHECK(label, json_literal_is(error, "http_status", "500"));
    CHECK(label, strstr(error, "stub failure") != NULL);
    CHECK(label, strstr(error, API_KEY) == NULL);
    llmring_string_free(error);

    /* out_error may be NULL. */
    status = llmring_chat(client, "{\"model\":\"nope\",\"messages\":[]}", &response, NULL);
    CHECK(label, status != LLMRING_OK);
    CHECK(label, response == UNTOUCHED);
}

static void test_chat_mock(const llmring_t *client) {
    const char *label = "llmring_chat with mock_response";
    char *response = UNTOUCHED;
    char *error = UNTOUCHED;
    llmring_status_t status = llmring_chat(client, CHAT_MOCK, &response, &error);
    if (!expect_ok(label, status, &error)) {
        return;
    }
    CHECK(label, json_string_is(response, "content", "Hello mock"));
    /* 9 estimated prompt tokens × 0.15 + 3 × 0.6 dollars per million. */
    CHECK(label, json_literal_is(json_member(response, "usage"), "cost", "0.00000315"));
    CHECK(label, json_literal_is(json_member(response, "receipt"), "mock", "true"));
    llmring_string_free(response);
}

/* Iterates the receipts matching `filter`, checks each, and returns how many there were. */
static int count_receipts(const llmring_t *client, const char *filter, const char *public_key,
                          const char *label) {
    llmring_receipts_iter_t *iter = NULL;
    char *error = UNTOUCHED;
    llmring_status_t status = llmring_receipts_iter(client, filter, &iter, &error);
    if (!expect_ok(label, status, &error) || !CHECK(label, iter != NULL)) {
        return -1;
    }
    int count = 0;
    for (;;) {
        char *receipt = UNTOUCHED;
        error = UNTOUCHED;
        status = llmring_receipts_iter_next(iter, &receipt, &error);
        if (status == LLMRING_END) {
            CHECK(label, receipt == UNTOUCHED);
            release(error);
            break;
        }
        if (!expect_ok(label, status, &error)) {
            break;
        }
        count++;
        CHECK(label, starts_with(json_member(receipt, "lock_digest"), "\"sha256:"));
        CHECK(label, json_string_is(receipt, "provider", "openai"));
        CHECK(label, json_string_is(receipt, "model", "gpt-stub"));
        bool valid = false;
        error = UNTOUCHED;
        status = llmring_verify_receipt(receipt, public_key, &valid, &error);
        if (expect_ok(label, status, &error)) {
            CHECK(label, valid);
        }
        llmring_string_free(receipt);
    }
    /* After the end, still the end. */
    char *receipt = UNTOUCHED;
    CHECK(label, llmring_receipts_iter_next(iter, &receipt, NULL) == LLMRING_END);
    CHECK(label, receipt == UNTOUCHED);
    llmring_receipts_iter_free(iter);
    return count;
}

static void test_receipts(const llmring_t *client, const keypair *pair) {
    const char *label = "llmring_receipts_iter";
    /* The stub call and the mock call; the failed calls left none. */
    CHECK(label, count_receipts(client, NULL, pair->public_key, label) == 2);
    CHECK(label, count_receipts(client, "{}", pair->public_key, label) == 2);
    CHECK(label, count_receipts(client, "{\"alias\":\"fast\"}", pair->public_key, label) == 2);
    CHECK(label, count_receipts(client, "{\"provider\":\"anthropic\"}", pair->public_key,
                                label) == 0);

    /* The first receipt is the stub call's, with its exact costs; the second the mock's. */
    llmring_receipts_iter_t *iter = NULL;
    char *error = UNTOUCHED;
    if (expect_ok(label, llmring_receipts_iter(client, NULL, &iter, &error), &error)) {
        char *first = NULL;
        char *second = NULL;
        CHECK(label, llmring_receipts_iter_next(iter, &first, NULL) == LLMRING_OK);
        CHECK(label, llmring_receipts_iter_next(iter, &second, NULL) == LLMRING_OK);
        CHECK(label, json_literal_is(first, "prompt_tokens", "1200"));
        CHECK(label, json_literal_is(first, "cached_tokens", "200"));
        CHECK(label, json_literal_is(first, "input_cost", "0.000165"));
        CHECK(label, json_literal_is(first, "output_cost", "0.00018"));
        CHECK(label, json_literal_is(first, "total_cost", "0.000345"));
        CHECK(label, json_member(first, "mock") == NULL);
        CHECK(label, json_literal_is(second, "mock", "true"));
        /* A tampered receipt does not verify. */
        if (first != NULL) {
            char *at = strstr(first, "0.000345");
            if (CHECK(label, at != NULL)) {
                at[7] = '6';
                bool valid = true;
                CHECK(label, llmring_verify_receipt(first, pair->public_key, &valid, NULL) ==
                                 LLMRING_OK);
                CHECK(label, !valid);
            }
        }
        llmring_string_free(first);
        llmring_string_free(second);
        llmring_receipts_iter_free(iter);
    }

    /* Errors. */
    iter = NULL;
    error = UNTOUCHED;
    expect_error(label, llmring_receipts_iter(client, "{\"aliases\":1}", &iter, &error),
                 LLMRING_INVALID_ARGUMENT, "LLMRING_INVALID_ARGUMENT", &error);
    CHECK(label, iter == NULL);
    error = UNTOUCHED;
    expect_error(label, llmring_receipts_iter(client, "{", &iter, &error), LLMRING_INVALID_JSON,
                 "LLMRING_INVALID_JSON", &error);
}

static void test_calculate_cost(const llmring_t *client) {
    const char *label = "llmring_calculate_cost";
    char *out = UNTOUCHED;
    char *error = UNTOUCHED;
    llmring_status_t status = llmring_calculate_cost(
        client, "openai:gpt-stub", "{\"prompt_tokens\":1000,\"completion_tokens\":500}", &out,
        &error);
    if (expect_ok(label, status, &error)) {
        CHECK(label, json_literal_is(out, "cost", "0.00045"));
        CHECK(label, json_literal_is(out, "input_cost", "0.00015"));
        CHECK(label, json_literal_is(out, "output_cost", "0.0003"));
        CHECK(label, json_string_is(out, "cost_status", "priced"));
        llmring_string_free(out);
    }
    out = UNTOUCHED;
    error = UNTOUCHED;
    status = llmring_calculate_cost(client, "openai:unknown-model",
                                    "{\"prompt_tokens\":1,\"completion_tokens\":1}", &out, &error);
    if (expect_ok(label, status, &error)) {
        CHECK(label, json_string_is(out, "cost_status", "model_not_in_registry"));
        llmring_string_free(out);
    }
    out = UNTOUCHED;
    error = UNTOUCHED;
    expect_error(label,
                 llmring_calculate_cost(client, "openai:gpt-stub", "{bad", &out, &error),
                 LLMRING_INVALID_JSON, "LLMRING_INVALID_JSON", &error);
    CHECK(label, out == UNTOUCHED);
}

static void test_null_arguments(const llmring_t *client) {
    const char *label = "NULL arguments";
    char *out = UNTOUCHED;
    char *error = UNTOUCHED;

    expect_error(label, llmring_chat(NULL, CHAT_MOCK, &out, &error), LLMRING_INVALID_ARGUMENT,
                 "LLMRING_INVALID_ARGUMENT", &error);
    error = UNTOUCHED;
    expect_error(label, llmring_chat(client, NULL, &out, &error), LLMRING_INVALID_ARGUMENT,
                 "LLMRING_INVALID_ARGUMENT", &error);
    error = UNTOUCHED;
    expect_error(label, llmring_chat(client, CHAT_MOCK, NULL, &error),
                 LLMRING_INVALID_ARGUMENT, "LLMRING_INVALID_ARGUMENT", &error);
    CHECK(label, llmring_chat(NULL, NULL, NULL, NULL) == LLMRING_INVALID_ARGUMENT);
    CHECK(label, out == UNTOUCHED);

    llmring_receipts_iter_t *iter = NULL;
    error = UNTOUCHED;
    expect_error(label, llmring_receipts_iter(NULL, NULL, &iter, &error),
                 LLMRING_INVALID_ARGUMENT, "LLMRING_INVALID_ARGUMENT", &error);
    error = UNTOUCHED;
    expect_error(label, llmring_receipts_iter(client, NULL, NULL, &error),
                 LLMRING_INVALID_ARGUMENT, "LLMRING_INVALID_ARGUMENT", &error);
    CHECK(label, iter == NULL);
    error = UNTOUCHED;
    expect_error(label, llmring_receipts_iter_next(NULL, &out, &error),
                 LLMRING_INVALID_ARGUMENT, "LLMRING_INVALID_ARGUMENT", &error);
    CHECK(label, out == UNTOUCHED);
    error = UNTOUCHED;
    if (expect_ok(label, llmring_receipts_iter(client, NULL, &iter, &error), &error)) {
        error = UNTOUCHED;
        expect_error(label, llmring_receipts_iter_next(iter, NULL, &error),
                     LLMRING_INVALID_ARGUMENT, "LLMRING_INVALID_ARGUMENT", &error);
        llmring_receipts_iter_free(iter);
    }

    const char *usage = "{\"prompt_tokens\":1,\"completion_tokens\":1}";
    error = UNTOUCHED;
    expect_error(label, llmring_calculate_cost(NULL, "openai:gpt-stub", usage, &out, &error),
                 LLMRING_INVALID_ARGUMENT, "LLMRING_INVALID_ARGUMENT", &error);
    error = UNTOUCHED;
    expect_error(label, llmring_calculate_cost(client, NULL, usage, &out, &error),
                 LLMRING_INVALID_ARGUMENT, "LLMRING_INVALID_ARGUMENT", &error);
    error = UNTOUCHED;
    expect_error(label, llmring_calculate_cost(client, "openai:gpt-stub", NULL, &out, &error),
                 LLMRING_INVALID_ARGUMENT, "LLMRING_INVALID_ARGUMENT", &error);
    error = UNTOUCHED;
    expect_error(label, llmring_calculate_cost(client, "openai:gpt-stub", usage, NULL, &error),
                 LLMRING_INVALID_ARGUMENT, "LLMRING_INVALID_ARGUMENT", &error);
    CHECK(label, out == UNTOUCHED);

    llmring_t *other = NULL;
    error = UNTOUCHED;
    expect_error(label, llmring_new("{}", NULL, &error), LLMRING_INVALID_ARGUMENT,
                 "LLMRING_INVALID_ARGUMENT", &error);
    error = UNTOUCHED;
    expect_error(label, llmring_new("{\"no_such_key\":1}", &other, &error), LLMRING_CONFIG,
                 "LLMRING_CONFIG", &error);
    CHECK(label, other == NULL);

    /* Releasing NULL is fine. */
    llmring_free(NULL);
    llmring_receipts_iter_free(NULL);
    llmring_string_free(NULL);
    CHECK(label, true);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s FIXTURE_DIR (run by stub_provider, see the header)\n",
                argv[0]);
        return 2;
    }
    const char *url = getenv("LLMRING_STUB_URL");
    if (url == NULL || !starts_with(url, "http://127.0.0.1:")) {
        fprintf(stderr, "LLMRING_STUB_URL is not set: run this test through stub_provider\n");
        return 2;
    }

    keypair pair = {NULL, NULL};
    char *error = UNTOUCHED;
    if (!expect_ok("keypair",
                   llmring_keypair_generate(NULL, &pair.private_key, &pair.public_key, &error), &error)) {
        return 1;
    }
    char *config = make_config(argv[1], url, pair.private_key);
    llmring_t *client = NULL;
    error = UNTOUCHED;
    if (CHECK("config", config != NULL) &&
        expect_ok("llmring_new", llmring_new(config, &client, &error), &error) &&
        CHECK("llmring_new", client != NULL)) {
        test_chat_ok(client);      /* 1 request */
        test_chat_failure(client); /* 2 requests (max_retries 1), then none */
        test_chat_mock(client);    /* no request */
        test_receipts(client, &pair);
        test_calculate_cost(client);
        test_null_arguments(client);
    }
    llmring_free(client);
    free(config);
    llmring_string_free(pair.private_key);
    llmring_string_free(pair.public_key);

    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
