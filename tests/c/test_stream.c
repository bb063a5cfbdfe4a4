/*
 * test_stream.c: llmring_chat_stream through the C ABI (and, compiled from a .cpp copy, from
 * C++), against the stub OpenAI server: ctest runs
 *
 *     stub_provider --expect 5 -- test_stream FIXTURE_DIR
 *
 * (see tests/support/stub_provider.rs and test_chat.c).
 *
 * Checks: a streamed call delivers each delta on the calling thread, in order, and its final
 * response and receipt equal the unstreamed call's but for the receipt's id, timestamp and
 * signature; a callback returning LLMRING_STREAM_STOP gets no further chunk, and the response
 * is marked stopped_early with cost_status "estimated"; a failing provider gives
 * LLMRING_PROVIDER, no chunk and no receipt; the offline mock streams one chunk; NULL
 * arguments give LLMRING_INVALID_ARGUMENT and call nothing.
 *
 * Prints "N passed, M failed" and exits non-zero when anything failed.
 */
/* pthreads, clock_gettime and nanosleep under strict C11. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <pthread.h>

#include "test_support.h"

static const char CHAT[] =
    "{\"model\":\"fast\",\"messages\":[{\"role\":\"user\",\"content\":\"Hello from C\"}]}";
static const char CHAT_TRICKLE[] =
    "{\"model\":\"fast\",\"messages\":[{\"role\":\"user\",\"content\":\"please trickle\"}]}";
static const char CHAT_FAIL[] =
    "{\"model\":\"fast\",\"messages\":[{\"role\":\"user\",\"content\":\"please fail\"}]}";
static const char CHAT_MOCK[] =
    "{\"model\":\"fast\",\"messages\":[{\"role\":\"user\",\"content\":\"Say hi\"}],"
    "\"mock_response\":\"Hello mock\"}";

/* What a chunk callback saw. */
typedef struct {
    int chunks;
    int stop_after; /* 0: never stop */
    bool other_thread;
    bool bad_chunk;
    pthread_t caller;
    char text[4096];
} chunks_seen;

static int on_chunk(void *user_data, const char *chunk_json) {
    chunks_seen *seen = (chunks_seen *)user_data;
    seen->chunks++;
    if (!pthread_equal(seen->caller, pthread_self())) {
        seen->other_thread = true;
    }
    /* {"delta":"..."}: append the text (the stub's deltas have no escapes). */
    const char *v = json_member(chunk_json, "delta");
    if (v == NULL || v[0] != '"') {
        seen->bad_chunk = true;
    } else {
        const char *end = strchr(v + 1, '"');
        size_t have = strlen(seen->text);
        size_t n = end != NULL ? (size_t)(end - v - 1) : 0;
        if (end == NULL || have + n + 1 > sizeof seen->text) {
            seen->bad_chunk = true;
        } else {
            memcpy(seen->text + have, v + 1, n);
            seen->text[have + n] = '\0';
        }
    }
    if (seen->stop_after > 0 && seen->chunks >= seen->stop_after) {
        return LLMRING_STREAM_STOP;
    }
    return LLMRING_STREAM_CONTINUE;
}

static void init_seen(chunks_seen *seen, int stop_after) {
    memset(seen, 0, sizeof *seen);
    seen->stop_after = stop_after;
    seen->caller = pthread_self();
}

/* A copy of the response's receipt object with the values of receipt_id, timestamp and
 * signature blanked (free it), or NULL. Canonical receipts have no braces inside strings. */
static char *receipt_without_identity(const char *response) {
    const char *start = json_member(response, "receipt");
    if (start == NULL || *start != '{') {
        return NULL;
    }
    int depth = 0;
    const char *p = start;
    for (; *p != '\0'; p++) {
        if (*p == '{') {
            depth++;
        } else if (*p == '}' && --depth == 0) {
            break;
        }
    }
    if (*p == '\0') {
        return NULL;
    }
    size_t len = (size_t)(p - start) + 1;
    char *copy = (char *)malloc(len + 1);
    if (copy == NULL) {
        return NULL;
    }
    memcpy(copy, start, len);
    copy[len] = '\0';
    const char *keys[] = {"receipt_id", "timestamp", "signature"};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        char *v = (char *)json_member(copy, keys[k]);
        if (v == NULL || *v != '"') {
            continue;
        }
        char *end = strchr(v + 1, '"');
        if (end != NULL) {
            memmove(v + 1, end, strlen(end) + 1); /* keep "" */
        }
    }
    return copy;
}

static void test_stream_equals_plain(const llmring_t *client) {
    const char *label = "llmring_chat_stream equals llmring_chat";
    char *plain = UNTOUCHED;
    char *error = UNTOUCHED;
    if (!expect_ok(label, llmring_chat(client, CHAT, &plain, &error), &error)) {
        return;
    }
    chunks_seen seen;
    init_seen(&seen, 0);
    char *streamed = UNTOUCHED;
    error = UNTOUCHED;
    if (expect_ok(label,
                  llmring_chat_stream(client, CHAT, on_chunk, &seen, &streamed, &error),
                  &error) &&
        CHECK(label, streamed != UNTOUCHED)) {
        CHECK(label, seen.chunks == 4);
        CHECK(label, strcmp(seen.text, "Hello from the stub") == 0);
        CHECK(label, !seen.other_thread);
        CHECK(label, !seen.bad_chunk);
        CHECK(label, json_string_is(streamed, "content", "Hello from the stub"));
        CHECK(label, json_string_is(streamed, "finish_reason", "stop"));
        const char *usage = json_member(streamed, "usage");
        CHECK(label, json_literal_is(usage, "prompt_tokens", "1200"));
        CHECK(label, json_literal_is(usage, "cached_tokens", "200"));
        CHECK(label, json_literal_is(usage, "cost", "0.000345"));
        CHECK(label, json_string_is(usage, "cost_status", "priced"));
        CHECK(label, json_member(streamed, "stopped_early") == NULL);
        char *a = receipt_without_identity(plain);
        char *b = receipt_without_identity(streamed);
        if (CHECK(label, a != NULL && b != NULL)) {
            if (!CHECK(label, strcmp(a, b) == 0)) {
                fprintf(stderr, "  plain:    %s\n  streamed: %s\n", a, b);
            }
        }
        free(a);
        free(b);
        const char *id_a = json_member(plain, "receipt_id");
        const char *id_b = json_member(streamed, "receipt_id");
        CHECK(label, id_a != NULL && id_b != NULL && strncmp(id_a, id_b, 38) != 0);
        llmring_string_free(streamed);
    }
    llmring_string_free(plain);
}

static void test_stream_stop_early(const llmring_t *client) {
    const char *label = "llmring_chat_stream stopped by its callback";
    chunks_seen seen;
    init_seen(&seen, 1);
    char *response = UNTOUCHED;
    char *error = UNTOUCHED;
    if (expect_ok(label,
                  llmring_chat_stream(client, CHAT_TRICKLE, on_chunk, &seen, &response,
                                      &error),
                  &error) &&
        CHECK(label, response != UNTOUCHED)) {
        CHECK(label, seen.chunks == 1);
        CHECK(label, strcmp(seen.text, "w0 ") == 0);
        CHECK(label, json_literal_is(response, "stopped_early", "true"));
        const char *usage = json_member(response, "usage");
        CHECK(label, json_string_is(usage, "cost_status", "estimated"));
        const char *receipt = json_member(response, "receipt");
        CHECK(label, json_string_is(receipt, "cost_status", "estimated"));
        CHECK(label, starts_with(json_member(receipt, "signature"), "\"ed25519:"));
        llmring_string_free(response);
    }
}

static void test_stream_failure(const llmring_t *client) {
    const char *label = "llmring_chat_stream with a failing provider";
    int before = stored_receipts(client);
    chunks_seen seen;
    init_seen(&seen, 0);
    char *response = UNTOUCHED;
    char *error = UNTOUCHED;
    llmring_status_t status =
        llmring_chat_stream(client, CHAT_FAIL, on_chunk, &seen, &response, &error);
    expect_error(label, status, LLMRING_PROVIDER, "LLMRING_PROVIDER", &error);
    CHECK(label, response == UNTOUCHED);
    CHECK(label, seen.chunks == 0);
    CHECK(label, stored_receipts(client) == before);
}

static void test_stream_mock(const llmring_t *client) {
    const char *label = "llmring_chat_stream with the offline mock";
    chunks_seen seen;
    init_seen(&seen, 0);
    char *response = UNTOUCHED;
    char *error = UNTOUCHED;
    if (expect_ok(label,
                  llmring_chat_stream(client, CHAT_MOCK, on_chunk, &seen, &response, &error),
                  &error)) {
        CHECK(label, seen.chunks == 1);
        CHECK(label, strcmp(seen.text, "Hello mock") == 0);
        CHECK(label, json_literal_is(response, "mock", "true"));
        llmring_string_free(response);
    }
}

static void test_stream_null_arguments(const llmring_t *client) {
    const char *label = "llmring_chat_stream NULL arguments";
    chunks_seen seen;
    init_seen(&seen, 0);
    char *out = UNTOUCHED;
    char *error = UNTOUCHED;
    expect_error(label, llmring_chat_stream(NULL, CHAT_MOCK, on_chunk, &seen, &out, &error),
                 LLMRING_INVALID_ARGUMENT, "LLMRING_INVALID_ARGUMENT", &error);
    error = UNTOUCHED;
    expect_error(label, llmring_chat_stream(client, NULL, on_chunk, &seen, &out, &error),
                 LLMRING_INVALID_ARGUMENT, "LLMRING_INVALID_ARGUMENT", &error);
    error = UNTOUCHED;
    expect_error(label, llmring_chat_stream(client, CHAT_MOCK, NULL, &seen, &out, &error),
                 LLMRING_INVALID_ARGUMENT, "LLMRING_INVALID_ARGUMENT", &error);
    error = UNTOUCHED;
    expect_error(label, llmring_chat_stream(client, CHAT_MOCK, on_chunk, &seen, NULL, &error),
                 LLMRING_INVALID_ARGUMENT, "LLMRING_INVALID_ARGUMENT", &error);
    error = UNTOUCHED;
    expect_error(label, llmring_chat_stream(client, "{bad", on_chunk, &seen, &out, &error),
                 LLMRING_INVALID_JSON, "LLMRING_INVALID_JSON", &error);
    CHECK(label, llmring_chat_stream(NULL, NULL, NULL, NULL, NULL, NULL) ==
                     LLMRING_INVALID_ARGUMENT);
    /* user_data may be NULL when the callback does not use it. */
    CHECK(label, out == UNTOUCHED);
    CHECK(label, seen.chunks == 0);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s FIXTURE_DIR (run by stub_provider)\n", argv[0]);
        return 2;
    }
    const char *url = getenv("LLMRING_STUB_URL");
    if (url == NULL || !starts_with(url, "http://127.0.0.1:")) {
        fprintf(stderr, "LLMRING_STUB_URL is not set: run this test through stub_provider\n");
        return 2;
    }
    char *private_key = NULL;
    char *public_key = NULL;
    char *error = UNTOUCHED;
    if (!expect_ok("keypair",
                   llmring_keypair_generate(NULL, &private_key, &public_key, &error),
                   &error)) {
        return 1;
    }
    char *config = make_config(argv[1], url, private_key);
    llmring_t *client = NULL;
    error = UNTOUCHED;
    if (CHECK("config", config != NULL) &&
        expect_ok("llmring_new", llmring_new(config, &client, &error), &error)) {
        test_stream_equals_plain(client); /* 2 requests */
        test_stream_stop_early(client);   /* 1 request */
        test_stream_failure(client);      /* 2 requests (max_retries 1) */
        test_stream_mock(client);         /* none */
        test_stream_null_arguments(client);
    }
    llmring_free(client);
    free(config);
    llmring_string_free(private_key);
    llmring_string_free(public_key);
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
