/*
 * test_support.h: bookkeeping, minimal JSON inspection and the client configuration shared by
 * the C tests that run against stub_provider (test_stream.c, test_async.c). Every function is
 * `static inline`, so that a test using only some of them compiles without warnings, as C11
 * and as C++17.
 */
#ifndef LLMRING_TEST_SUPPORT_H
#define LLMRING_TEST_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llmring.h"

static int passed = 0;
static int failed = 0;

static inline bool check_at(bool ok, const char *label, const char *what, int line) {
    if (ok) {
        passed++;
    } else {
        failed++;
        fprintf(stderr, "FAIL line %d: %s: %s\n", line, label, what);
    }
    return ok;
}
#define CHECK(label, cond) check_at((cond), (label), #cond, __LINE__)

/* Out-pointers are pre-set to this to prove that a failing call did not write them, and
 * out_error is pre-set to it to prove that a successful call wrote NULL. */
static char untouched_storage[] = "untouched";
#define UNTOUCHED (untouched_storage)

/* The API key the stub accepts; it must never appear in an error. */
static const char API_KEY[] = "sk-c-test-KEY-0042";

static inline const char *skip_space(const char *p) {
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
        p++;
    }
    return p;
}

/* The value of the first member `key` ("key" then ':') at or after `json`, or NULL. */
static inline const char *json_member(const char *json, const char *key) {
    char pattern[64];
    if (json == NULL) {
        return NULL;
    }
    snprintf(pattern, sizeof pattern, "\"%s\"", key);
    for (const char *p = strstr(json, pattern); p != NULL; p = strstr(p + 1, pattern)) {
        const char *q = skip_space(p + strlen(pattern));
        if (*q == ':') {
            return skip_space(q + 1);
        }
    }
    return NULL;
}

/* True when member `key` is the string `value`. */
static inline bool json_string_is(const char *json, const char *key, const char *value) {
    const char *v = json_member(json, key);
    size_t n = strlen(value);
    return v != NULL && v[0] == '"' && strncmp(v + 1, value, n) == 0 && v[n + 1] == '"';
}

/* True when member `key` is exactly the literal `text` (a number, true, false, null). */
static inline bool json_literal_is(const char *json, const char *key, const char *text) {
    const char *v = json_member(json, key);
    size_t n = strlen(text);
    return v != NULL && strncmp(v, text, n) == 0 && strchr(",}] \t\r\n", v[n]) != NULL;
}

static inline bool starts_with(const char *s, const char *prefix) {
    return s != NULL && strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Appends `text` to `out` (capacity `size`) as JSON string content. */
static inline bool append_json_escaped(char *out, size_t size, const char *text) {
    size_t n = strlen(out);
    for (const char *p = text; *p != '\0'; p++) {
        if (*p == '"' || *p == '\\') {
            if (n + 2 >= size) {
                return false;
            }
            out[n++] = '\\';
        }
        if (n + 1 >= size) {
            return false;
        }
        out[n++] = *p;
    }
    out[n] = '\0';
    return true;
}

static inline bool append(char *out, size_t size, const char *text) {
    size_t n = strlen(out);
    if (n + strlen(text) + 1 > size) {
        return false;
    }
    memcpy(out + n, text, strlen(text) + 1);
    return true;
}

/* A successful call: LLMRING_OK and out_error set to NULL. */
static inline bool expect_ok(const char *label, llmring_status_t status, char **errorp) {
    char *error = *errorp;
    bool ok = CHECK(label, status == LLMRING_OK);
    if (!ok) {
        fprintf(stderr, "  got status %d: %s\n", (int)status,
                error != NULL && error != UNTOUCHED ? error : "(no error text)");
    }
    ok = CHECK(label, error == NULL) && ok;
    if (error != NULL && error != UNTOUCHED) {
        llmring_string_free(error);
    }
    return ok;
}

/* A failed call with the expected status, an error JSON with its code, and no API key.
 * Frees the error. */
static inline void expect_error(const char *label, llmring_status_t status,
                                llmring_status_t expected, const char *code, char **errorp) {
    char *error = *errorp;
    if (!CHECK(label, status == expected)) {
        fprintf(stderr, "  expected %d, got %d: %s\n", (int)expected, (int)status,
                error != NULL && error != UNTOUCHED ? error : "");
    }
    if (!CHECK(label, error != NULL && error != UNTOUCHED)) {
        return;
    }
    CHECK(label, json_string_is(error, "code", code));
    CHECK(label, strstr(error, API_KEY) == NULL);
    llmring_string_free(error);
}

/* The configuration JSON for the stub at `url` and the fixtures in `dir` (free it), or NULL.
 * `private_key` may be NULL (unsigned receipts). */
static inline char *make_config(const char *dir, const char *url, const char *private_key) {
    size_t size = 4 * (strlen(dir) + strlen(url)) + 1024 +
                  (private_key != NULL ? strlen(private_key) : 0);
    char *config = (char *)calloc(size, 1);
    if (config == NULL) {
        return NULL;
    }
    bool ok = append(config, size, "{\"lockfile\":\"") &&
              append_json_escaped(config, size, dir) &&
              append(config, size, "/llmring.lock\",\"registry\":{\"dir\":\"") &&
              append_json_escaped(config, size, dir) &&
              append(config, size, "/registry\"},\"profile\":\"default\","
                                   "\"providers\":{\"openai\":{\"api_key\":\"") &&
              append(config, size, API_KEY) && append(config, size, "\",\"base_url\":\"") &&
              append_json_escaped(config, size, url) &&
              append(config, size,
                     "/v1\"},\"anthropic\":{\"api_key\":\"unused\","
                     "\"base_url\":\"http://127.0.0.1:9\"}},"
                     "\"timeout_ms\":30000,\"max_retries\":1,\"retry_backoff_ms\":10,"
                     "\"store\":\":memory:\"");
    if (ok && private_key != NULL) {
        ok = append(config, size, ",\"signing_key\":\"") &&
             append(config, size, private_key) && append(config, size, "\"");
    }
    ok = ok && append(config, size, "}");
    if (!ok) {
        free(config);
        return NULL;
    }
    return config;
}

/* The number of receipts in the client's store, or -1. */
static inline int stored_receipts(const llmring_t *client) {
    llmring_receipts_iter_t *iter = NULL;
    char *error = UNTOUCHED;
    if (!expect_ok("receipts", llmring_receipts_iter(client, NULL, &iter, &error), &error)) {
        return -1;
    }
    int n = 0;
    char *receipt = NULL;
    while (llmring_receipts_iter_next(iter, &receipt, NULL) == LLMRING_OK) {
        llmring_string_free(receipt);
        n++;
    }
    llmring_receipts_iter_free(iter);
    return n;
}

#endif /* LLMRING_TEST_SUPPORT_H */
