/*
 * test_ffi.c: exercises every function of include/llmring.h from C (and, compiled from a
 * .cpp copy, from C++): success paths, NULL for every pointer argument, invalid UTF-8,
 * malformed and duplicate-key JSON, wrong keys. For every failure it checks the status
 * number, the error JSON ({"code","status","message"}) and that the outputs were left
 * untouched; for every success, that *out_error was set to NULL.
 *
 * Prints "N passed, M failed" and exits non-zero when anything failed.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llmring.h"

/* ------------------------------------------------------------------------------------- */
/* Bookkeeping                                                                           */
/* ------------------------------------------------------------------------------------- */

static int passed = 0;
static int failed = 0;

static bool check_at(bool ok, const char *label, const char *what, int line) {
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

/* Frees a string unless it is NULL or the sentinel. */
static void release(char *s) {
    if (s != UNTOUCHED) {
        llmring_string_free(s);
    }
}

static const char *status_name(llmring_status_t status) {
    switch (status) {
    case LLMRING_OK: return "LLMRING_OK";
    case LLMRING_END: return "LLMRING_END";
    case LLMRING_INVALID_ARGUMENT: return "LLMRING_INVALID_ARGUMENT";
    case LLMRING_INVALID_JSON: return "LLMRING_INVALID_JSON";
    case LLMRING_CONFIG: return "LLMRING_CONFIG";
    case LLMRING_AUTH: return "LLMRING_AUTH";
    case LLMRING_RATE_LIMITED: return "LLMRING_RATE_LIMITED";
    case LLMRING_TIMEOUT: return "LLMRING_TIMEOUT";
    case LLMRING_NETWORK: return "LLMRING_NETWORK";
    case LLMRING_PROVIDER: return "LLMRING_PROVIDER";
    case LLMRING_COST_UNKNOWN: return "LLMRING_COST_UNKNOWN";
    case LLMRING_BUDGET_EXCEEDED: return "LLMRING_BUDGET_EXCEEDED";
    case LLMRING_SIGNATURE: return "LLMRING_SIGNATURE";
    case LLMRING_KEY: return "LLMRING_KEY";
    case LLMRING_STORE: return "LLMRING_STORE";
    case LLMRING_CANCELLED: return "LLMRING_CANCELLED";
    case LLMRING_PANIC: return "LLMRING_PANIC";
    case LLMRING_INTERNAL: return "LLMRING_INTERNAL";
    case LLMRING_FORKED: return "LLMRING_FORKED";
    case LLMRING_SERVER: return "LLMRING_SERVER";
    }
    return "(unknown status)";
}

/* ------------------------------------------------------------------------------------- */
/* Minimal JSON inspection (enough to check error objects and receipts)                  */
/* ------------------------------------------------------------------------------------- */

static const char *skip_space(const char *p) {
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
        p++;
    }
    return p;
}

/* The value of member `key` ("key" then ':'), or NULL when there is none. */
static const char *json_member(const char *json, const char *key) {
    char pattern[64];
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
static bool json_string_is(const char *json, const char *key, const char *value) {
    const char *v = json_member(json, key);
    size_t n = strlen(value);
    return v != NULL && v[0] == '"' && strncmp(v + 1, value, n) == 0 && v[n + 1] == '"';
}

/* True when member `key` is a JSON string. */
static bool json_is_string(const char *json, const char *key) {
    const char *v = json_member(json, key);
    return v != NULL && v[0] == '"' && strchr(v + 1, '"') != NULL;
}

/* True when member `key` is exactly the number text `number`. */
static bool json_number_is(const char *json, const char *key, const char *number) {
    const char *v = json_member(json, key);
    size_t n = strlen(number);
    return v != NULL && strncmp(v, number, n) == 0 && strchr(",}] \t\r\n", v[n]) != NULL;
}

/* True when `text` looks like one JSON object: "{ ... }" with balanced braces outside
 * strings. */
static bool json_is_object(const char *text) {
    const char *p = skip_space(text);
    if (*p != '{') {
        return false;
    }
    int depth = 0;
    bool in_string = false;
    for (; *p != '\0'; p++) {
        if (in_string) {
            if (*p == '\\' && p[1] != '\0') {
                p++;
            } else if (*p == '"') {
                in_string = false;
            }
        } else if (*p == '"') {
            in_string = true;
        } else if (*p == '{' || *p == '[') {
            depth++;
        } else if (*p == '}' || *p == ']') {
            depth--;
            if (depth == 0) {
                return *skip_space(p + 1) == '\0';
            }
        }
    }
    return false;
}

static bool is_lower_hex(const char *s, size_t length) {
    if (strlen(s) != length) {
        return false;
    }
    for (size_t i = 0; i < length; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
            return false;
        }
    }
    return true;
}

static bool starts_with(const char *s, const char *prefix) {
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* A malloc'ed copy of `text` with the first `from` replaced by `to`, or NULL. */
static char *replace_once(const char *text, const char *from, const char *to) {
    const char *at = strstr(text, from);
    if (at == NULL) {
        return NULL;
    }
    size_t head = (size_t)(at - text);
    char *copy = (char *)malloc(strlen(text) - strlen(from) + strlen(to) + 1);
    if (copy == NULL) {
        return NULL;
    }
    memcpy(copy, text, head);
    strcpy(copy + head, to);
    strcat(copy, at + strlen(from));
    return copy;
}

/* ------------------------------------------------------------------------------------- */
/* Expectations                                                                          */
/* ------------------------------------------------------------------------------------- */

/* A successful call: LLMRING_OK and *out_error set to NULL (it was UNTOUCHED before). */
static bool expect_ok(const char *label, llmring_status_t status, char *error) {
    bool ok = CHECK(label, status == LLMRING_OK);
    if (!ok) {
        fprintf(stderr, "  got %s: %s\n", status_name(status),
                error != NULL && error != UNTOUCHED ? error : "(no error text)");
    }
    ok = CHECK(label, error == NULL) && ok;
    release(error);
    return ok;
}

/* A failed call: the expected status, and an error JSON object carrying the same code
 * and number and a message. Frees `error`. */
static void expect_error(const char *label, llmring_status_t status,
                         llmring_status_t expected, char *error) {
    if (!CHECK(label, status == expected)) {
        fprintf(stderr, "  expected %s, got %s: %s\n", status_name(expected),
                status_name(status), error != NULL && error != UNTOUCHED ? error : "");
    }
    if (!CHECK(label, error != NULL && error != UNTOUCHED)) {
        return;
    }
    char number[16];
    snprintf(number, sizeof number, "%d", (int)expected);
    bool well_formed = CHECK(label, json_is_object(error));
    well_formed = CHECK(label, json_string_is(error, "code", status_name(expected))) && well_formed;
    well_formed = CHECK(label, json_number_is(error, "status", number)) && well_formed;
    well_formed = CHECK(label, json_is_string(error, "message")) && well_formed;
    if (!well_formed) {
        fprintf(stderr, "  error JSON: %s\n", error);
    }
    llmring_string_free(error);
}

/* ------------------------------------------------------------------------------------- */
/* Test data                                                                             */
/* ------------------------------------------------------------------------------------- */

static const char INVALID_UTF8[] = "{\"a\":\"\xff\xfe\"}";
static const char MALFORMED_JSON[] = "{\"alias\": \"fast\",";
static const char DUPLICATE_KEYS[] = "{\"a\":1,\"a\":2}";
static const char MALFORMED_KEY[] = "this is not a key";

static const char CALL[] =
    "{\"alias\":\"fast\",\"profile\":\"default\","
    "\"lock_digest\":\"sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\","
    "\"provider\":\"openai\",\"model\":\"gpt-4o-mini\","
    "\"usage\":{\"prompt_tokens\":150,\"completion_tokens\":300},"
    "\"costs\":{\"input_cost\":0.0000225,\"output_cost\":0.00018}}";

static const char CALL_WRONG_TOTAL[] =
    "{\"alias\":\"fast\",\"profile\":\"default\","
    "\"lock_digest\":\"sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\","
    "\"provider\":\"openai\",\"model\":\"gpt-4o-mini\","
    "\"usage\":{\"prompt_tokens\":150,\"completion_tokens\":300,\"total_tokens\":451},"
    "\"costs\":{\"input_cost\":0.0000225,\"output_cost\":0.00018}}";

/* SHA-256 of {"a":1,"b":2}. */
static const char DIGEST_A1_B2[] =
    "43258cff783fe7036d8a43033f830adfc60ec037382473548ac742b888292777";

typedef struct {
    char *private_key;
    char *public_key;
} keypair;

static keypair make_keypair(const char *format) {
    keypair pair = {NULL, NULL};
    char *error = UNTOUCHED;
    llmring_status_t status =
        llmring_keypair_generate(format, &pair.private_key, &pair.public_key, &error);
    if (!expect_ok("make_keypair", status, error)) {
        pair.private_key = pair.public_key = NULL;
    }
    return pair;
}

static void free_keypair(keypair *pair) {
    llmring_string_free(pair->private_key);
    llmring_string_free(pair->public_key);
    pair->private_key = pair->public_key = NULL;
}

/* A receipt for CALL, signed with `private_key` (unsigned when NULL), or NULL. */
static char *make_receipt(const char *private_key) {
    char *receipt = UNTOUCHED;
    char *error = UNTOUCHED;
    llmring_status_t status = llmring_receipt_generate(CALL, private_key, &receipt, &error);
    if (!expect_ok("make_receipt", status, error)) {
        return NULL;
    }
    return receipt;
}

/* Verifies and returns validity; a failing call counts as a failure and returns false. */
static bool verifies(const char *receipt, const char *public_key) {
    bool valid = false;
    char *error = UNTOUCHED;
    llmring_status_t status = llmring_verify_receipt(receipt, public_key, &valid, &error);
    if (!expect_ok("verifies", status, error)) {
        return false;
    }
    return valid;
}

/* ------------------------------------------------------------------------------------- */
/* Tests                                                                                 */
/* ------------------------------------------------------------------------------------- */

static void test_version(void) {
    const char *label = "llmring_version";
    const char *version = llmring_version();
    CHECK(label, version != NULL);
    CHECK(label, version != NULL && strcmp(version, LLMRING_VERSION) == 0);
    char expected[64];
    snprintf(expected, sizeof expected, "%d.%d.%d", LLMRING_VERSION_MAJOR,
             LLMRING_VERSION_MINOR, LLMRING_VERSION_PATCH);
    CHECK(label, strcmp(LLMRING_VERSION, expected) == 0);
    CHECK(label, llmring_version() == version); /* static, stable */
}

static void test_string_free(void) {
    llmring_string_free(NULL);
    CHECK("llmring_string_free(NULL)", true);
}

static void test_keypair_formats(void) {
    const char *const formats[] = {NULL, "base64url", "base64", "hex", "pem"};
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
        const char *format = formats[i];
        char label[96];
        snprintf(label, sizeof label, "keypair format %s", format ? format : "NULL");

        char *private_key = UNTOUCHED;
        char *public_key = UNTOUCHED;
        char *error = UNTOUCHED;
        llmring_status_t status =
            llmring_keypair_generate(format, &private_key, &public_key, &error);
        if (!expect_ok(label, status, error)) {
            continue;
        }
        CHECK(label, private_key != NULL && private_key != UNTOUCHED);
        CHECK(label, public_key != NULL && public_key != UNTOUCHED);
        CHECK(label, strcmp(private_key, public_key) != 0);

        if (format == NULL || strcmp(format, "base64url") == 0) {
            CHECK(label, strpbrk(public_key, "+/=") == NULL);
        } else if (strcmp(format, "hex") == 0) {
            CHECK(label, is_lower_hex(public_key, 64));
            CHECK(label, is_lower_hex(private_key, 64));
        } else if (strcmp(format, "pem") == 0) {
            CHECK(label, starts_with(private_key, "-----BEGIN PRIVATE KEY-----"));
            CHECK(label, starts_with(public_key, "-----BEGIN PUBLIC KEY-----"));
        }

        /* The public key derived from the private key, in the same format. */
        char *derived = UNTOUCHED;
        error = UNTOUCHED;
        status = llmring_public_key_from_private(private_key, format, &derived, &error);
        if (expect_ok(label, status, error)) {
            CHECK(label, strcmp(derived, public_key) == 0);
            llmring_string_free(derived);
        }

        /* Keys in this format sign and verify; a hex public key derived from them too. */
        char *receipt = make_receipt(private_key);
        if (receipt != NULL) {
            CHECK(label, verifies(receipt, public_key));
            char *hex_public = UNTOUCHED;
            error = UNTOUCHED;
            status = llmring_public_key_from_private(private_key, "hex", &hex_public, &error);
            if (expect_ok(label, status, error)) {
                CHECK(label, is_lower_hex(hex_public, 64));
                CHECK(label, verifies(receipt, hex_public));
                llmring_string_free(hex_public);
            }
            llmring_string_free(receipt);
        }
        llmring_string_free(private_key);
        llmring_string_free(public_key);
    }
}

static void test_keypair_errors(void) {
    const char *label = "llmring_keypair_generate";
    char *private_key = UNTOUCHED;
    char *public_key = UNTOUCHED;
    char *error = UNTOUCHED;
    llmring_status_t status;

    /* Unknown format. */
    status = llmring_keypair_generate("der", &private_key, &public_key, &error);
    expect_error(label, status, LLMRING_INVALID_ARGUMENT, error);
    CHECK(label, private_key == UNTOUCHED && public_key == UNTOUCHED);

    /* Format not UTF-8. */
    error = UNTOUCHED;
    status = llmring_keypair_generate("\xff", &private_key, &public_key, &error);
    expect_error(label, status, LLMRING_INVALID_ARGUMENT, error);
    CHECK(label, private_key == UNTOUCHED && public_key == UNTOUCHED);

    /* NULL out_private_key / out_public_key: nothing is written to the other one. */
    error = UNTOUCHED;
    status = llmring_keypair_generate(NULL, NULL, &public_key, &error);
    expect_error(label, status, LLMRING_INVALID_ARGUMENT, error);
    CHECK(label, public_key == UNTOUCHED);

    error = UNTOUCHED;
    status = llmring_keypair_generate(NULL, &private_key, NULL, &error);
    expect_error(label, status, LLMRING_INVALID_ARGUMENT, error);
    CHECK(label, private_key == UNTOUCHED);

    /* out_error is optional, on failure and on success. */
    status = llmring_keypair_generate("der", &private_key, &public_key, NULL);
    CHECK(label, status == LLMRING_INVALID_ARGUMENT);
    CHECK(label, private_key == UNTOUCHED && public_key == UNTOUCHED);
    status = llmring_keypair_generate(NULL, &private_key, &public_key, NULL);
    if (CHECK(label, status == LLMRING_OK)) {
        llmring_string_free(private_key);
        llmring_string_free(public_key);
    }
}

static void test_public_key_from_private_errors(const keypair *pair) {
    const char *label = "llmring_public_key_from_private";
    char *public_key = UNTOUCHED;
    char *error = UNTOUCHED;
    llmring_status_t status;

    status = llmring_public_key_from_private(NULL, NULL, &public_key, &error);
    expect_error(label, status, LLMRING_INVALID_ARGUMENT, error);
    CHECK(label, public_key == UNTOUCHED);

    error = UNTOUCHED;
    status = llmring_public_key_from_private(pair->private_key, NULL, NULL, &error);
    expect_error(label, status, LLMRING_INVALID_ARGUMENT, error);

    error = UNTOUCHED;
    status = llmring_public_key_from_private("\xff\xfe", NULL, &public_key, &error);
    expect_error(label, status, LLMRING_INVALID_ARGUMENT, error);
    CHECK(label, public_key == UNTOUCHED);

    error = UNTOUCHED;
    status = llmring_public_key_from_private(pair->private_key, "\xff", &public_key, &error);
    expect_error(label, status, LLMRING_INVALID_ARGUMENT, error);
    CHECK(label, public_key == UNTOUCHED);

    error = UNTOUCHED;
    status = llmring_public_key_from_private(pair->private_key, "der", &public_key, &error);
    expect_error(label, status, LLMRING_INVALID_ARGUMENT, error);
    CHECK(label, public_key == UNTOUCHED);

    error = UNTOUCHED;
    status = llmring_public_key_from_private(MALFORMED_KEY, NULL, &public_key, &error);
    expect_error(label, status, LLMRING_KEY, error);
    CHECK(label, public_key == UNTOUCHED);

    error = UNTOUCHED;
    status = llmring_public_key_from_private("", NULL, &public_key, &error);
    expect_error(label, status, LLMRING_KEY, error);
    CHECK(label, public_key == UNTOUCHED);

    /* NULL out_error, success and failure. */
    status = llmring_public_key_from_private(pair->private_key, NULL, &public_key, NULL);
    if (CHECK(label, status == LLMRING_OK)) {
        CHECK(label, strcmp(public_key, pair->public_key) == 0);
        llmring_string_free(public_key);
        public_key = UNTOUCHED;
    }
    status = llmring_public_key_from_private(MALFORMED_KEY, NULL, &public_key, NULL);
    CHECK(label, status == LLMRING_KEY);
    CHECK(label, public_key == UNTOUCHED);
}

static void test_receipt_generate(const keypair *pair) {
    const char *label = "llmring_receipt_generate";
    char *receipt = UNTOUCHED;
    char *error = UNTOUCHED;
    llmring_status_t status;

    /* Signed. */
    status = llmring_receipt_generate(CALL, pair->private_key, &receipt, &error);
    if (expect_ok(label, status, error)) {
        int failed_before = failed;
        CHECK(label, json_is_object(receipt));
        CHECK(label, json_string_is(receipt, "alias", "fast"));
        CHECK(label, json_string_is(receipt, "profile", "default"));
        CHECK(label, json_string_is(receipt, "provider", "openai"));
        CHECK(label, json_string_is(receipt, "model", "gpt-4o-mini"));
        CHECK(label, json_is_string(receipt, "receipt_id"));
        CHECK(label, json_is_string(receipt, "timestamp"));
        CHECK(label, json_number_is(receipt, "prompt_tokens", "150"));
        CHECK(label, json_number_is(receipt, "completion_tokens", "300"));
        CHECK(label, json_number_is(receipt, "total_tokens", "450"));
        /* Exact decimals, never binary-float noise. */
        CHECK(label, json_number_is(receipt, "input_cost", "0.0000225"));
        CHECK(label, json_number_is(receipt, "output_cost", "0.00018"));
        CHECK(label, json_number_is(receipt, "total_cost", "0.0002025"));
        const char *signature = json_member(receipt, "signature");
        CHECK(label, signature != NULL && starts_with(signature, "\"ed25519:"));
        CHECK(label, verifies(receipt, pair->public_key));
        if (failed != failed_before) {
            fprintf(stderr, "  receipt: %s\n", receipt);
        }
        llmring_string_free(receipt);
    }

    /* Unsigned (NULL private_key): no valid signature. */
    receipt = make_receipt(NULL);
    if (receipt != NULL) {
        CHECK(label, json_member(receipt, "signature") == NULL);
        CHECK(label, !verifies(receipt, pair->public_key));
        llmring_string_free(receipt);
    }

    /* Given totals must equal the sums. */
    receipt = UNTOUCHED;
    error = UNTOUCHED;
    status = llmring_receipt_generate(CALL_WRONG_TOTAL, pair->private_key, &receipt, &error);
    expect_error(label, status, LLMRING_INVALID_ARGUMENT, error);
    CHECK(label, receipt == UNTOUCHED);

    struct {
        const char *input;
        const char *key;
        bool null_out;
        llmring_status_t expected;
    } cases[] = {
        {NULL, NULL, false, LLMRING_INVALID_ARGUMENT},
        {CALL, NULL, true, LLMRING_INVALID_ARGUMENT},
        {INVALID_UTF8, NULL, false, LLMRING_INVALID_ARGUMENT},
        {CALL, "\xff\xfe", false, LLMRING_INVALID_ARGUMENT},
        {MALFORMED_JSON, NULL, false, LLMRING_INVALID_JSON},
        {DUPLICATE_KEYS, NULL, false, LLMRING_INVALID_JSON},
        {CALL, MALFORMED_KEY, false, LLMRING_KEY},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char case_label[96];
        snprintf(case_label, sizeof case_label, "%s case %zu", label, i);
        receipt = UNTOUCHED;
        error = UNTOUCHED;
        status = llmring_receipt_generate(cases[i].input, cases[i].key,
                                          cases[i].null_out ? NULL : &receipt, &error);
        expect_error(case_label, status, cases[i].expected, error);
        CHECK(case_label, receipt == UNTOUCHED);
        /* The same without out_error. */
        status = llmring_receipt_generate(cases[i].input, cases[i].key,
                                          cases[i].null_out ? NULL : &receipt, NULL);
        CHECK(case_label, status == cases[i].expected);
        CHECK(case_label, receipt == UNTOUCHED);
    }
}

static void test_receipt_sign(const keypair *pair, const keypair *other) {
    const char *label = "llmring_receipt_sign";
    char *unsigned_receipt = make_receipt(NULL);
    if (unsigned_receipt == NULL) {
        return;
    }
    char *signed_receipt = UNTOUCHED;
    char *error = UNTOUCHED;
    llmring_status_t status;

    status = llmring_receipt_sign(unsigned_receipt, pair->private_key, &signed_receipt, &error);
    if (expect_ok(label, status, error)) {
        CHECK(label, verifies(signed_receipt, pair->public_key));
        CHECK(label, !verifies(signed_receipt, other->public_key));

        /* Tampered: any changed member breaks the signature. */
        char *tampered = replace_once(signed_receipt, "\"total_tokens\":450",
                                      "\"total_tokens\":451");
        if (CHECK(label, tampered != NULL)) {
            CHECK(label, !verifies(tampered, pair->public_key));
            free(tampered);
        }
        tampered = replace_once(signed_receipt, "\"model\":\"gpt-4o-mini\"",
                                "\"model\":\"gpt-4o\"");
        if (CHECK(label, tampered != NULL)) {
            CHECK(label, !verifies(tampered, pair->public_key));
            free(tampered);
        }

        /* Re-signing with another key replaces the signature. */
        char *resigned = UNTOUCHED;
        error = UNTOUCHED;
        status = llmring_receipt_sign(signed_receipt, other->private_key, &resigned, &error);
        if (expect_ok(label, status, error)) {
            CHECK(label, verifies(resigned, other->public_key));
            CHECK(label, !verifies(resigned, pair->public_key));
            llmring_string_free(resigned);
        }

        /* The signed receipt is canonical: signing it again gives the same text (Ed25519
         * signatures are deterministic). */
        char *again = UNTOUCHED;
        error = UNTOUCHED;
        status = llmring_receipt_sign(signed_receipt, pair->private_key, &again, &error);
        if (expect_ok(label, status, error)) {
            CHECK(label, strcmp(again, signed_receipt) == 0);
            llmring_string_free(again);
        }
        llmring_string_free(signed_receipt);
    }

    struct {
        const char *receipt;
        const char *key;
        bool null_out;
        llmring_status_t expected;
    } cases[] = {
        {NULL, pair->private_key, false, LLMRING_INVALID_ARGUMENT},
        {unsigned_receipt, NULL, false, LLMRING_INVALID_ARGUMENT},
        {unsigned_receipt, pair->private_key, true, LLMRING_INVALID_ARGUMENT},
        {INVALID_UTF8, pair->private_key, false, LLMRING_INVALID_ARGUMENT},
        {unsigned_receipt, "\xff\xfe", false, LLMRING_INVALID_ARGUMENT},
        {MALFORMED_JSON, pair->private_key, false, LLMRING_INVALID_JSON},
        {DUPLICATE_KEYS, pair->private_key, false, LLMRING_INVALID_JSON},
        {"[1,2]", pair->private_key, false, LLMRING_INVALID_ARGUMENT},
        {unsigned_receipt, MALFORMED_KEY, false, LLMRING_KEY},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char case_label[96];
        snprintf(case_label, sizeof case_label, "%s case %zu", label, i);
        signed_receipt = UNTOUCHED;
        error = UNTOUCHED;
        status = llmring_receipt_sign(cases[i].receipt, cases[i].key,
                                      cases[i].null_out ? NULL : &signed_receipt, &error);
        expect_error(case_label, status, cases[i].expected, error);
        CHECK(case_label, signed_receipt == UNTOUCHED);
        status = llmring_receipt_sign(cases[i].receipt, cases[i].key,
                                      cases[i].null_out ? NULL : &signed_receipt, NULL);
        CHECK(case_label, status == cases[i].expected);
        CHECK(case_label, signed_receipt == UNTOUCHED);
    }
    llmring_string_free(unsigned_receipt);
}

/* The receipt with its "ed25519:<base64url>" signature rewritten as plain padded base64. */
static char *with_standard_base64_signature(const char *receipt) {
    const char *marker = "\"ed25519:";
    const char *start = strstr(receipt, marker);
    if (start == NULL) {
        return NULL;
    }
    const char *sig = start + strlen(marker);
    const char *end = strchr(sig, '"');
    if (end == NULL) {
        return NULL;
    }
    size_t sig_len = (size_t)(end - sig);
    size_t padded = (sig_len + 3) / 4 * 4;
    char *out = (char *)malloc(strlen(receipt) + padded + 1);
    if (out == NULL) {
        return NULL;
    }
    size_t head = (size_t)(start - receipt) + 1; /* keep the opening quote */
    memcpy(out, receipt, head);
    char *w = out + head;
    for (size_t i = 0; i < sig_len; i++) {
        char c = sig[i];
        *w++ = c == '-' ? '+' : c == '_' ? '/' : c;
    }
    for (size_t i = sig_len; i < padded; i++) {
        *w++ = '=';
    }
    strcpy(w, end);
    return out;
}

static void test_verify(const keypair *pair, const keypair *other) {
    const char *label = "llmring_verify_receipt";
    char *receipt = make_receipt(pair->private_key);
    if (receipt == NULL) {
        return;
    }
    bool valid = false;
    char *error = UNTOUCHED;
    llmring_status_t status;

    status = llmring_verify_receipt(receipt, pair->public_key, &valid, &error);
    if (expect_ok(label, status, error)) {
        CHECK(label, valid);
    }

    /* A valid key of another pair is a result, not an error. */
    valid = true;
    error = UNTOUCHED;
    status = llmring_verify_receipt(receipt, other->public_key, &valid, &error);
    if (expect_ok(label, status, error)) {
        CHECK(label, !valid);
    }

    /* Malformed or missing signatures are results too. */
    const char *const bad_signatures[] = {"\"ed25519:!!!\"", "\"ed25519:\"", "\"\"", "42"};
    for (size_t i = 0; i < sizeof bad_signatures / sizeof bad_signatures[0]; i++) {
        const char *sig = json_member(receipt, "signature");
        const char *sig_end = sig != NULL ? strchr(sig + 1, '"') : NULL;
        if (!CHECK(label, sig != NULL && sig_end != NULL)) {
            break;
        }
        char old_sig[256];
        size_t n = (size_t)(sig_end + 1 - sig);
        if (!CHECK(label, n < sizeof old_sig)) {
            break;
        }
        memcpy(old_sig, sig, n);
        old_sig[n] = '\0';
        char *bad = replace_once(receipt, old_sig, bad_signatures[i]);
        if (CHECK(label, bad != NULL)) {
            valid = true;
            error = UNTOUCHED;
            status = llmring_verify_receipt(bad, pair->public_key, &valid, &error);
            if (expect_ok(label, status, error)) {
                CHECK(label, !valid);
            } else {
                fprintf(stderr, "  signature %s\n", bad_signatures[i]);
            }
            free(bad);
        }
    }

    /* The seed's Python signer wrote plain standard base64 signatures. */
    char *standard = with_standard_base64_signature(receipt);
    if (CHECK(label, standard != NULL)) {
        CHECK(label, verifies(standard, pair->public_key));
        free(standard);
    }

    /* Whitespace and member order do not matter: verification canonicalizes. */
    char *spaced = replace_once(receipt, "{", "{ \n\t");
    if (CHECK(label, spaced != NULL)) {
        CHECK(label, verifies(spaced, pair->public_key));
        free(spaced);
    }

    struct {
        const char *receipt;
        const char *key;
        bool null_out;
        llmring_status_t expected;
    } cases[] = {
        {NULL, pair->public_key, false, LLMRING_INVALID_ARGUMENT},
        {receipt, NULL, false, LLMRING_INVALID_ARGUMENT},
        {receipt, pair->public_key, true, LLMRING_INVALID_ARGUMENT},
        {INVALID_UTF8, pair->public_key, false, LLMRING_INVALID_ARGUMENT},
        {receipt, "\xff\xfe", false, LLMRING_INVALID_ARGUMENT},
        {MALFORMED_JSON, pair->public_key, false, LLMRING_INVALID_JSON},
        {DUPLICATE_KEYS, pair->public_key, false, LLMRING_INVALID_JSON},
        {receipt, MALFORMED_KEY, false, LLMRING_KEY},
        {receipt, "", false, LLMRING_KEY},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char case_label[96];
        snprintf(case_label, sizeof case_label, "%s case %zu", label, i);
        bool initial = (i % 2) == 0; /* both values, to see that nothing is written */
        valid = initial;
        error = UNTOUCHED;
        status = llmring_verify_receipt(cases[i].receipt, cases[i].key,
                                        cases[i].null_out ? NULL : &valid, &error);
        expect_error(case_label, status, cases[i].expected, error);
        CHECK(case_label, valid == initial);
        status = llmring_verify_receipt(cases[i].receipt, cases[i].key,
                                        cases[i].null_out ? NULL : &valid, NULL);
        CHECK(case_label, status == cases[i].expected);
        CHECK(case_label, valid == initial);
    }
    llmring_string_free(receipt);
}

static void test_canonical_json(void) {
    const char *label = "llmring_receipt_canonical_json";
    struct {
        const char *input;
        const char *expected;
    } cases[] = {
        {"{\"b\":2,\"a\":1,\"signature\":\"x\"}", "{\"a\":1,\"b\":2}"},
        {" { \"z\" : [1, 2.50, 1e2, \"\\u00e9\"], \"a\" : true } ",
         "{\"a\":true,\"z\":[1,2.5,100,\"\xc3\xa9\"]}"},
        {"{\"\xc3\xa9\":1,\"z\":2,\"a\":{\"d\":null,\"c\":\"\\n\"}}",
         "{\"a\":{\"c\":\"\\n\",\"d\":null},\"z\":2,\"\xc3\xa9\":1}"},
        {"[3, 1, {\"b\": 0, \"a\": -0.0}]", "[3,1,{\"a\":0,\"b\":0}]"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *canonical = UNTOUCHED;
        char *error = UNTOUCHED;
        llmring_status_t status =
            llmring_receipt_canonical_json(cases[i].input, &canonical, &error);
        if (expect_ok(label, status, error)) {
            if (!CHECK(label, strcmp(canonical, cases[i].expected) == 0)) {
                fprintf(stderr, "  input    %s\n  got      %s\n  expected %s\n",
                        cases[i].input, canonical, cases[i].expected);
            }
            llmring_string_free(canonical);
        }
    }

    /* A receipt is already canonical, apart from its signature. */
    char *receipt = make_receipt(NULL);
    if (receipt != NULL) {
        char *canonical = UNTOUCHED;
        char *error = UNTOUCHED;
        llmring_status_t status = llmring_receipt_canonical_json(receipt, &canonical, &error);
        if (expect_ok(label, status, error)) {
            CHECK(label, strcmp(canonical, receipt) == 0);
            llmring_string_free(canonical);
        }
        llmring_string_free(receipt);
    }

    struct {
        const char *input;
        bool null_out;
        llmring_status_t expected;
    } errors[] = {
        {NULL, false, LLMRING_INVALID_ARGUMENT},
        {"{}", true, LLMRING_INVALID_ARGUMENT},
        {INVALID_UTF8, false, LLMRING_INVALID_ARGUMENT},
        {MALFORMED_JSON, false, LLMRING_INVALID_JSON},
        {"", false, LLMRING_INVALID_JSON},
        {"{} {}", false, LLMRING_INVALID_JSON},
        {DUPLICATE_KEYS, false, LLMRING_INVALID_JSON},
        {"{\"a\":{\"b\":1,\"b\":1}}", false, LLMRING_INVALID_JSON},
        {"{\"n\":9007199254740993}", false, LLMRING_INVALID_JSON},
    };
    for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++) {
        char case_label[96];
        snprintf(case_label, sizeof case_label, "%s error case %zu", label, i);
        char *canonical = UNTOUCHED;
        char *error = UNTOUCHED;
        llmring_status_t status = llmring_receipt_canonical_json(
            errors[i].input, errors[i].null_out ? NULL : &canonical, &error);
        expect_error(case_label, status, errors[i].expected, error);
        CHECK(case_label, canonical == UNTOUCHED);
        status = llmring_receipt_canonical_json(errors[i].input,
                                                errors[i].null_out ? NULL : &canonical, NULL);
        CHECK(case_label, status == errors[i].expected);
        CHECK(case_label, canonical == UNTOUCHED);
    }
}

static void test_digest(const keypair *pair) {
    const char *label = "llmring_receipt_digest";
    char *digest = UNTOUCHED;
    char *error = UNTOUCHED;
    llmring_status_t status;

    /* The digest covers the canonical form, without the signature. */
    const char *const same[] = {"{\"a\":1,\"b\":2}", "{\"b\":2,\"a\":1,\"signature\":\"x\"}",
                                "{ \"b\" : 2.0, \"a\" : 1 }"};
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        digest = UNTOUCHED;
        error = UNTOUCHED;
        status = llmring_receipt_digest(same[i], &digest, &error);
        if (expect_ok(label, status, error)) {
            CHECK(label, is_lower_hex(digest, 64));
            if (!CHECK(label, strcmp(digest, DIGEST_A1_B2) == 0)) {
                fprintf(stderr, "  digest of %s: %s\n", same[i], digest);
            }
            llmring_string_free(digest);
        }
    }

    /* Signing does not change a receipt's digest; changing a member does. */
    char *unsigned_receipt = make_receipt(NULL);
    char *signed_receipt = UNTOUCHED;
    error = UNTOUCHED;
    if (unsigned_receipt != NULL) {
        status = llmring_receipt_sign(unsigned_receipt, pair->private_key, &signed_receipt,
                                      &error);
        if (expect_ok(label, status, error)) {
            char *d1 = UNTOUCHED;
            char *d2 = UNTOUCHED;
            char *e1 = UNTOUCHED;
            char *e2 = UNTOUCHED;
            status = llmring_receipt_digest(unsigned_receipt, &d1, &e1);
            bool ok1 = expect_ok(label, status, e1);
            status = llmring_receipt_digest(signed_receipt, &d2, &e2);
            bool ok2 = expect_ok(label, status, e2);
            if (ok1 && ok2) {
                CHECK(label, is_lower_hex(d1, 64));
                CHECK(label, strcmp(d1, d2) == 0);
            }
            if (ok1) {
                llmring_string_free(d1);
            }
            if (ok2) {
                llmring_string_free(d2);
            }
            char *tampered = replace_once(signed_receipt, "\"total_tokens\":450",
                                          "\"total_tokens\":451");
            char *d3 = UNTOUCHED;
            char *d4 = UNTOUCHED;
            if (CHECK(label, tampered != NULL) &&
                CHECK(label, llmring_receipt_digest(tampered, &d3, NULL) == LLMRING_OK) &&
                CHECK(label, llmring_receipt_digest(signed_receipt, &d4, NULL) == LLMRING_OK)) {
                CHECK(label, strcmp(d3, d4) != 0);
            }
            release(d3);
            release(d4);
            free(tampered);
            llmring_string_free(signed_receipt);
        }
        llmring_string_free(unsigned_receipt);
    }

    struct {
        const char *input;
        bool null_out;
        llmring_status_t expected;
    } errors[] = {
        {NULL, false, LLMRING_INVALID_ARGUMENT},
        {"{}", true, LLMRING_INVALID_ARGUMENT},
        {INVALID_UTF8, false, LLMRING_INVALID_ARGUMENT},
        {MALFORMED_JSON, false, LLMRING_INVALID_JSON},
        {DUPLICATE_KEYS, false, LLMRING_INVALID_JSON},
    };
    for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++) {
        char case_label[96];
        snprintf(case_label, sizeof case_label, "%s error case %zu", label, i);
        digest = UNTOUCHED;
        error = UNTOUCHED;
        status = llmring_receipt_digest(errors[i].input, errors[i].null_out ? NULL : &digest,
                                        &error);
        expect_error(case_label, status, errors[i].expected, error);
        CHECK(case_label, digest == UNTOUCHED);
        status = llmring_receipt_digest(errors[i].input, errors[i].null_out ? NULL : &digest,
                                        NULL);
        CHECK(case_label, status == errors[i].expected);
        CHECK(case_label, digest == UNTOUCHED);
    }
}

int main(void) {
    test_version();
    test_string_free();
    test_keypair_formats();
    test_keypair_errors();

    keypair pair = make_keypair(NULL);
    keypair other = make_keypair("hex");
    if (pair.private_key != NULL && other.private_key != NULL) {
        test_public_key_from_private_errors(&pair);
        test_receipt_generate(&pair);
        test_receipt_sign(&pair, &other);
        test_verify(&pair, &other);
        test_digest(&pair);
    } else {
        CHECK("key pairs for the remaining tests", false);
    }
    test_canonical_json();
    free_keypair(&pair);
    free_keypair(&other);

    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
