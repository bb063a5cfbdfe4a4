/*
 * test_async.c: llmring_chat_async and llmring_cancel through the C ABI (and, compiled from a
 * .cpp copy, from C++), against the stub OpenAI server: ctest runs
 *
 *     stub_provider -- test_async FIXTURE_DIR [N]
 *
 * (see tests/support/stub_provider.rs; no request count is checked: a cancelled call may or
 * may not have reached the stub).
 *
 * Checks: N calls in flight at once (default 500) each call back exactly once, on a thread
 * other than the caller's, with LLMRING_OK and the response, and have distinct ids; pending
 * calls to a slow endpoint that are cancelled call back once with LLMRING_CANCELLED;
 * cancelling an unknown id is fine; llmring_free with calls in flight returns only after
 * each callback ran once with LLMRING_CANCELLED; a request that cannot be read fails at once
 * and calls nothing back; NULL arguments give LLMRING_INVALID_ARGUMENT.
 *
 * Prints "N passed, M failed" and exits non-zero when anything failed.
 */
/* pthreads, clock_gettime and nanosleep under strict C11. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <pthread.h>
#include <time.h>

#include "test_support.h"

static const char CHAT[] =
    "{\"model\":\"fast\",\"messages\":[{\"role\":\"user\",\"content\":\"Hello from C\"}]}";
static const char CHAT_SLOW[] =
    "{\"model\":\"fast\",\"messages\":[{\"role\":\"user\",\"content\":\"please wait\"}]}";

/* Completions of a batch of calls, guarded by `lock`. */
typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int done;
    pthread_t caller;
    bool on_caller_thread;
} batch;

/* One call of a batch: its user_data. */
typedef struct {
    batch *owner;
    int calls;
    llmring_status_t status;
    bool content_ok;
    bool error_ok;
} slot;

static void on_done(void *user_data, llmring_status_t status, const char *response_json,
                    const char *error_json) {
    slot *s = (slot *)user_data;
    batch *b = s->owner;
    pthread_mutex_lock(&b->lock);
    s->calls++;
    s->status = status;
    s->content_ok = response_json != NULL &&
                    json_string_is(response_json, "content", "Hello from the stub") &&
                    error_json == NULL;
    s->error_ok = error_json != NULL && response_json == NULL &&
                  strstr(error_json, API_KEY) == NULL;
    if (pthread_equal(b->caller, pthread_self())) {
        b->on_caller_thread = true;
    }
    b->done++;
    pthread_cond_broadcast(&b->changed);
    pthread_mutex_unlock(&b->lock);
}

static batch *new_batch(void) {
    batch *b = (batch *)calloc(1, sizeof *b);
    if (b != NULL) {
        pthread_mutex_init(&b->lock, NULL);
        pthread_cond_init(&b->changed, NULL);
        b->caller = pthread_self();
    }
    return b;
}

static void free_batch(batch *b) {
    pthread_cond_destroy(&b->changed);
    pthread_mutex_destroy(&b->lock);
    free(b);
}

/* Waits until `n` callbacks ran or `seconds` passed; returns how many ran. */
static int wait_done(batch *b, int n, int seconds) {
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += seconds;
    pthread_mutex_lock(&b->lock);
    while (b->done < n) {
        if (pthread_cond_timedwait(&b->changed, &b->lock, &deadline) != 0) {
            break;
        }
    }
    int done = b->done;
    pthread_mutex_unlock(&b->lock);
    return done;
}

/* Starts `n` calls of `request`; fills ids[i] and binds slots[i]. Returns how many started. */
static int start_calls(const llmring_t *client, const char *request, batch *b, slot *slots,
                       uint64_t *ids, int n) {
    int started = 0;
    for (int i = 0; i < n; i++) {
        slots[i].owner = b;
        char *error = UNTOUCHED;
        if (!expect_ok("llmring_chat_async",
                       llmring_chat_async(client, request, on_done, &slots[i], &ids[i], &error),
                       &error)) {
            break;
        }
        started++;
    }
    return started;
}

static void test_many_in_flight(const llmring_t *client, int n) {
    const char *label = "llmring_chat_async: many calls in flight";
    batch *b = new_batch();
    slot *slots = (slot *)calloc((size_t)n, sizeof *slots);
    uint64_t *ids = (uint64_t *)calloc((size_t)n, sizeof *ids);
    if (!CHECK(label, b != NULL && slots != NULL && ids != NULL)) {
        return;
    }
    int started = start_calls(client, CHAT, b, slots, ids, n);
    CHECK(label, started == n);
    int done = wait_done(b, started, 120);
    CHECK(label, done == started);
    /* A moment more: a second callback of any call would show up here. */
    struct timespec pause = {0, 100 * 1000 * 1000};
    nanosleep(&pause, NULL);
    pthread_mutex_lock(&b->lock);
    int once = 0, ok = 0;
    for (int i = 0; i < started; i++) {
        once += slots[i].calls == 1;
        ok += slots[i].status == LLMRING_OK && slots[i].content_ok;
    }
    CHECK(label, once == started);
    CHECK(label, ok == started);
    CHECK(label, !b->on_caller_thread);
    pthread_mutex_unlock(&b->lock);
    int distinct = 1;
    for (int i = 0; i < started && distinct; i++) {
        distinct = ids[i] != 0;
        for (int j = i + 1; j < started && distinct; j++) {
            distinct = ids[i] != ids[j];
        }
    }
    CHECK(label, distinct);
    printf("%d calls in flight: every callback ran once\n", started);
    free(ids);
    free(slots);
    free_batch(b);
}

static void test_cancel(const llmring_t *client) {
    const char *label = "llmring_cancel of pending calls";
    enum { N = 20 };
    batch *b = new_batch();
    slot slots[N];
    uint64_t ids[N];
    memset(slots, 0, sizeof slots);
    if (!CHECK(label, b != NULL)) {
        return;
    }
    int started = start_calls(client, CHAT_SLOW, b, slots, ids, N);
    for (int i = 0; i < started; i++) {
        char *error = UNTOUCHED;
        expect_ok(label, llmring_cancel(client, ids[i], &error), &error);
    }
    CHECK(label, wait_done(b, started, 10) == started);
    /* Cancelling again, or an unknown id, does nothing. */
    char *error = UNTOUCHED;
    expect_ok(label, llmring_cancel(client, ids[0], &error), &error);
    error = UNTOUCHED;
    expect_ok(label, llmring_cancel(client, 987654321u, &error), &error);
    struct timespec pause = {0, 100 * 1000 * 1000};
    nanosleep(&pause, NULL);
    pthread_mutex_lock(&b->lock);
    for (int i = 0; i < started; i++) {
        CHECK(label, slots[i].calls == 1);
        CHECK(label, slots[i].status == LLMRING_CANCELLED);
        CHECK(label, slots[i].error_ok);
    }
    pthread_mutex_unlock(&b->lock);
    free_batch(b);
}

static void test_free_in_flight(const char *config) {
    const char *label = "llmring_free with calls in flight";
    enum { N = 20 };
    llmring_t *client = NULL;
    char *error = UNTOUCHED;
    if (!expect_ok(label, llmring_new(config, &client, &error), &error)) {
        return;
    }
    batch *b = new_batch();
    slot slots[N];
    uint64_t ids[N];
    memset(slots, 0, sizeof slots);
    if (!CHECK(label, b != NULL)) {
        llmring_free(client);
        return;
    }
    int started = start_calls(client, CHAT_SLOW, b, slots, ids, N);
    CHECK(label, started == N);
    llmring_free(client);
    /* Every callback has run by the time llmring_free returns. */
    pthread_mutex_lock(&b->lock);
    CHECK(label, b->done == started);
    for (int i = 0; i < started; i++) {
        CHECK(label, slots[i].calls == 1);
        CHECK(label, slots[i].status == LLMRING_CANCELLED);
    }
    pthread_mutex_unlock(&b->lock);
    free_batch(b);
}

static void test_async_arguments(const llmring_t *client) {
    const char *label = "llmring_chat_async / llmring_cancel arguments";
    batch *b = new_batch();
    slot s;
    memset(&s, 0, sizeof s);
    if (!CHECK(label, b != NULL)) {
        return;
    }
    s.owner = b;
    uint64_t id = 42;
    char *error = UNTOUCHED;
    expect_error(label, llmring_chat_async(NULL, CHAT, on_done, &s, &id, &error),
                 LLMRING_INVALID_ARGUMENT, "LLMRING_INVALID_ARGUMENT", &error);
    error = UNTOUCHED;
    expect_error(label, llmring_chat_async(client, NULL, on_done, &s, &id, &error),
                 LLMRING_INVALID_ARGUMENT, "LLMRING_INVALID_ARGUMENT", &error);
    error = UNTOUCHED;
    expect_error(label, llmring_chat_async(client, CHAT, NULL, &s, &id, &error),
                 LLMRING_INVALID_ARGUMENT, "LLMRING_INVALID_ARGUMENT", &error);
    error = UNTOUCHED;
    expect_error(label, llmring_chat_async(client, CHAT, on_done, &s, NULL, &error),
                 LLMRING_INVALID_ARGUMENT, "LLMRING_INVALID_ARGUMENT", &error);
    error = UNTOUCHED;
    expect_error(label, llmring_chat_async(client, "{bad", on_done, &s, &id, &error),
                 LLMRING_INVALID_JSON, "LLMRING_INVALID_JSON", &error);
    CHECK(label, llmring_chat_async(NULL, NULL, NULL, NULL, NULL, NULL) ==
                     LLMRING_INVALID_ARGUMENT);
    CHECK(label, id == 42);
    error = UNTOUCHED;
    expect_error(label, llmring_cancel(NULL, 1, &error), LLMRING_INVALID_ARGUMENT,
                 "LLMRING_INVALID_ARGUMENT", &error);
    CHECK(label, llmring_cancel(NULL, 1, NULL) == LLMRING_INVALID_ARGUMENT);
    struct timespec pause = {0, 50 * 1000 * 1000};
    nanosleep(&pause, NULL);
    CHECK(label, s.calls == 0);
    free_batch(b);
}

int main(int argc, char **argv) {
    if (argc != 2 && argc != 3) {
        fprintf(stderr, "usage: %s FIXTURE_DIR [N] (run by stub_provider)\n", argv[0]);
        return 2;
    }
    int n = argc == 3 ? atoi(argv[2]) : 500;
    const char *url = getenv("LLMRING_STUB_URL");
    if (n <= 0 || url == NULL || !starts_with(url, "http://127.0.0.1:")) {
        fprintf(stderr, "LLMRING_STUB_URL is not set or N is bad: run through stub_provider\n");
        return 2;
    }
    char *config = make_config(argv[1], url, NULL);
    llmring_t *client = NULL;
    char *error = UNTOUCHED;
    if (CHECK("config", config != NULL) &&
        expect_ok("llmring_new", llmring_new(config, &client, &error), &error)) {
        test_many_in_flight(client, n);
        test_cancel(client);
        test_async_arguments(client);
        test_free_in_flight(config);
    }
    llmring_free(client);
    free(config);
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
