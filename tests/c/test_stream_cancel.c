/*
 * test_stream_cancel.c: cancelling a streamed call from another thread through the C ABI
 * (llmring_call_id_new, llmring_chat_stream_with_id, llmring_cancel), and from C++ (a .cpp
 * copy), against the stub OpenAI server: ctest runs
 *
 *     stub_provider --expect 2 -- test_stream_cancel FIXTURE_DIR
 *
 * The stub holds "please hold" requests silent (after one delta for "please hold after
 * hello"), logs each held connection to LLMRING_STUB_HELD_FILE, and fails unless the client
 * closed every held connection (see tests/support/stub_provider.rs). The client timeout is
 * ten minutes: a cancel that did not work makes ctest's timeout fail the test.
 *
 * Checks: a stream cancelled while the stub has sent nothing ends with LLMRING_CANCELLED, no
 * chunk, no receipt and no "response" in the error; cancelled after its first chunk it ends
 * with LLMRING_CANCELLED and a stopped_early receipt, which the error's "response" carries; an
 * id cancelled before its stream starts ends it at once without a request; the stream under
 * an id from a mock request completes; unknown or reused ids and NULL arguments give
 * LLMRING_INVALID_ARGUMENT.
 *
 * Prints "N passed, M failed" and exits non-zero when anything failed.
 */
/* pthreads and nanosleep under strict C11. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <pthread.h>
#include <time.h>

#include "test_support.h"

static const char CHAT_HOLD[] =
    "{\"model\":\"fast\",\"messages\":[{\"role\":\"user\",\"content\":\"please hold\"}]}";
static const char CHAT_HOLD_HELLO[] = "{\"model\":\"fast\",\"messages\":[{\"role\":\"user\","
                                      "\"content\":\"please hold after hello\"}]}";
static const char CHAT_MOCK[] =
    "{\"model\":\"fast\",\"messages\":[{\"role\":\"user\",\"content\":\"Say hi\"}],"
    "\"mock_response\":\"Hello mock\"}";

/* One stream run on its own thread, and what it saw. */
typedef struct {
    const llmring_t *client;
    uint64_t id;
    const char *request;
    llmring_status_t status;
    char *response;
    char *error;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int chunks;
} stream_run;

static int on_chunk(void *user_data, const char *chunk_json) {
    stream_run *run = (stream_run *)user_data;
    (void)chunk_json;
    pthread_mutex_lock(&run->lock);
    run->chunks++;
    pthread_cond_broadcast(&run->changed);
    pthread_mutex_unlock(&run->lock);
    return LLMRING_STREAM_CONTINUE;
}

static void *stream_thread(void *arg) {
    stream_run *run = (stream_run *)arg;
    run->status = llmring_chat_stream_with_id(run->client, run->id, run->request, on_chunk, run,
                                              &run->response, &run->error);
    return NULL;
}

static void sleep_ms(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

/* The number of lines in the stub's held-connections log. */
static int held_connections(void) {
    const char *path = getenv("LLMRING_STUB_HELD_FILE");
    FILE *f = path != NULL ? fopen(path, "r") : NULL;
    int n = 0;
    if (f == NULL) {
        return 0;
    }
    for (int c = fgetc(f); c != EOF; c = fgetc(f)) {
        n += c == '\n';
    }
    fclose(f);
    return n;
}

/* Waits until the stub holds `n` connections (at most a minute). */
static bool wait_held(int n) {
    for (int i = 0; i < 6000; i++) {
        if (held_connections() >= n) {
            return true;
        }
        sleep_ms(10);
    }
    return false;
}

static bool start_run(const char *label, stream_run *run, const llmring_t *client,
                      const char *request, pthread_t *thread) {
    memset(run, 0, sizeof *run);
    run->client = client;
    run->request = request;
    run->response = UNTOUCHED;
    run->error = UNTOUCHED;
    pthread_mutex_init(&run->lock, NULL);
    pthread_cond_init(&run->changed, NULL);
    char *error = UNTOUCHED;
    if (!expect_ok(label, llmring_call_id_new(client, &run->id, &error), &error)) {
        return false;
    }
    return CHECK(label, pthread_create(thread, NULL, stream_thread, run) == 0);
}

static void end_run(stream_run *run) {
    pthread_mutex_destroy(&run->lock);
    pthread_cond_destroy(&run->changed);
}

static void test_cancel_before_first_byte(const llmring_t *client) {
    const char *label = "cancel while the provider is silent";
    int before = stored_receipts(client);
    int held = held_connections();
    stream_run run;
    pthread_t thread;
    if (!start_run(label, &run, client, CHAT_HOLD, &thread)) {
        return;
    }
    CHECK(label, wait_held(held + 1));
    char *error = UNTOUCHED;
    expect_ok(label, llmring_cancel(client, run.id, &error), &error);
    pthread_join(thread, NULL);
    CHECK(label, run.response == UNTOUCHED);
    CHECK(label, run.chunks == 0);
    CHECK(label, run.error != UNTOUCHED && json_member(run.error, "response") == NULL);
    expect_error(label, run.status, LLMRING_CANCELLED, "LLMRING_CANCELLED", &run.error);
    CHECK(label, stored_receipts(client) == before);
    end_run(&run);
}

static void test_cancel_between_chunks(const llmring_t *client) {
    const char *label = "cancel after the first chunk";
    int before = stored_receipts(client);
    stream_run run;
    pthread_t thread;
    if (!start_run(label, &run, client, CHAT_HOLD_HELLO, &thread)) {
        return;
    }
    pthread_mutex_lock(&run.lock);
    while (run.chunks == 0) {
        pthread_cond_wait(&run.changed, &run.lock);
    }
    pthread_mutex_unlock(&run.lock);
    char *error = UNTOUCHED;
    expect_ok(label, llmring_cancel(client, run.id, &error), &error);
    pthread_join(thread, NULL);
    CHECK(label, run.response == UNTOUCHED);
    CHECK(label, run.chunks == 1);
    const char *response = run.error != UNTOUCHED ? json_member(run.error, "response") : NULL;
    if (CHECK(label, response != NULL)) {
        CHECK(label, json_literal_is(response, "stopped_early", "true"));
        CHECK(label, json_string_is(response, "content", "Hello"));
        const char *receipt = json_member(response, "receipt");
        CHECK(label, json_string_is(receipt, "cost_status", "estimated"));
        CHECK(label, starts_with(json_member(receipt, "signature"), "\"ed25519:"));
    }
    expect_error(label, run.status, LLMRING_CANCELLED, "LLMRING_CANCELLED", &run.error);
    CHECK(label, stored_receipts(client) == before + 1);
    end_run(&run);
}

static void test_cancel_before_start(const llmring_t *client) {
    const char *label = "cancel before the stream starts";
    uint64_t id = 0;
    char *error = UNTOUCHED;
    if (!expect_ok(label, llmring_call_id_new(client, &id, &error), &error)) {
        return;
    }
    error = UNTOUCHED;
    expect_ok(label, llmring_cancel(client, id, &error), &error);
    stream_run run;
    memset(&run, 0, sizeof run);
    pthread_mutex_init(&run.lock, NULL);
    pthread_cond_init(&run.changed, NULL);
    char *out = UNTOUCHED;
    error = UNTOUCHED;
    llmring_status_t status =
        llmring_chat_stream_with_id(client, id, CHAT_HOLD, on_chunk, &run, &out, &error);
    expect_error(label, status, LLMRING_CANCELLED, "LLMRING_CANCELLED", &error);
    CHECK(label, out == UNTOUCHED);
    CHECK(label, run.chunks == 0);
    end_run(&run);
}

static void test_ids(const llmring_t *client) {
    const char *label = "call ids";
    uint64_t a = 0;
    uint64_t b = 0;
    char *error = UNTOUCHED;
    expect_ok(label, llmring_call_id_new(client, &a, &error), &error);
    error = UNTOUCHED;
    expect_ok(label, llmring_call_id_new(client, &b, &error), &error);
    CHECK(label, a != 0 && b != 0 && a != b);
    stream_run run;
    memset(&run, 0, sizeof run);
    pthread_mutex_init(&run.lock, NULL);
    pthread_cond_init(&run.changed, NULL);
    char *out = UNTOUCHED;
    error = UNTOUCHED;
    if (expect_ok(label,
                  llmring_chat_stream_with_id(client, a, CHAT_MOCK, on_chunk, &run, &out, &error),
                  &error) &&
        CHECK(label, out != UNTOUCHED)) {
        CHECK(label, json_string_is(out, "content", "Hello mock"));
        CHECK(label, run.chunks == 1);
        llmring_string_free(out);
    }
    /* An id starts one stream; an unknown id none. */
    out = UNTOUCHED;
    error = UNTOUCHED;
    expect_error(label,
                 llmring_chat_stream_with_id(client, a, CHAT_MOCK, on_chunk, &run, &out, &error),
                 LLMRING_INVALID_ARGUMENT, "LLMRING_INVALID_ARGUMENT", &error);
    error = UNTOUCHED;
    expect_error(label,
                 llmring_chat_stream_with_id(client, b + 1000, CHAT_MOCK, on_chunk, &run, &out,
                                             &error),
                 LLMRING_INVALID_ARGUMENT, "LLMRING_INVALID_ARGUMENT", &error);
    CHECK(label, out == UNTOUCHED);
    /* NULL arguments. */
    error = UNTOUCHED;
    expect_error(label, llmring_call_id_new(client, NULL, &error), LLMRING_INVALID_ARGUMENT,
                 "LLMRING_INVALID_ARGUMENT", &error);
    error = UNTOUCHED;
    expect_error(label, llmring_call_id_new(NULL, &a, &error), LLMRING_INVALID_ARGUMENT,
                 "LLMRING_INVALID_ARGUMENT", &error);
    error = UNTOUCHED;
    expect_error(label,
                 llmring_chat_stream_with_id(client, b, CHAT_MOCK, NULL, &run, &out, &error),
                 LLMRING_INVALID_ARGUMENT, "LLMRING_INVALID_ARGUMENT", &error);
    CHECK(label, run.chunks == 1);
    end_run(&run);
}

/* `config` (freed) with a ten-minute timeout instead of make_config's 30 s (free it), or
 * NULL: only a working cancel ends the held streams in time. */
static char *with_long_timeout(char *config) {
    static const char from[] = "\"timeout_ms\":30000";
    static const char to[] = "\"timeout_ms\":600000";
    char *at = config != NULL ? strstr(config, from) : NULL;
    char *out = at != NULL ? (char *)malloc(strlen(config) + sizeof to) : NULL;
    if (out != NULL) {
        size_t head = (size_t)(at - config);
        memcpy(out, config, head);
        memcpy(out + head, to, sizeof to - 1);
        strcpy(out + head + sizeof to - 1, at + sizeof from - 1);
    }
    free(config);
    return out;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s FIXTURE_DIR (run by stub_provider)\n", argv[0]);
        return 2;
    }
    const char *url = getenv("LLMRING_STUB_URL");
    if (url == NULL || !starts_with(url, "http://127.0.0.1:") ||
        getenv("LLMRING_STUB_HELD_FILE") == NULL) {
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
    char *config = with_long_timeout(make_config(argv[1], url, private_key));
    llmring_t *client = NULL;
    error = UNTOUCHED;
    if (CHECK("config", config != NULL) &&
        expect_ok("llmring_new", llmring_new(config, &client, &error), &error)) {
        test_cancel_before_first_byte(client); /* 1 request */
        test_cancel_between_chunks(client);    /* 1 request */
        test_cancel_before_start(client);      /* none */
        test_ids(client);                      /* none */
    }
    llmring_free(client);
    free(config);
    llmring_string_free(private_key);
    llmring_string_free(public_key);
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
