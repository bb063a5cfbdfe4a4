/*
 * test_store.c: the store and budget functions of the C ABI (llmring_stats, llmring_export,
 * llmring_verify_store, llmring_budget_status, llmring_on_budget_warning) on a durable store,
 * with the offline mock (no network).
 *
 * Usage: test_store STORE_FILE EXPORT_FILE   (both are replaced)
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llmring.h"

static int passed = 0;
static int failed = 0;

static bool check(bool ok, const char *what, int line) {
    if (ok) {
        passed++;
    } else {
        failed++;
        fprintf(stderr, "FAILED line %d: %s\n", line, what);
    }
    return ok;
}
#define CHECK(cond) check((cond), #cond, __LINE__)

static bool contains(const char *text, const char *part) {
    return text != NULL && strstr(text, part) != NULL;
}

static int warnings = 0;

static void on_warning(void *user_data, const char *warning_json) {
    int *count = (int *)user_data;
    if (contains(warning_json, "\"budget\":\"tiny\"")) {
        (*count)++;
    }
}

/* 1000 prompt + 500 completion tokens on gpt-4o-mini (0.15 / 0.6 per million): 0.00045. */
static const char CHAT[] =
    "{\"model\":\"fast\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
    "\"mock_response\":\"ok\",\"mock_usage\":{\"prompt_tokens\":1000,\"completion_tokens\":500}}";

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: test_store STORE_FILE EXPORT_FILE\n");
        return 2;
    }
    remove(argv[1]);
    remove(argv[2]);
    char *private_key = NULL, *public_key = NULL, *error = NULL;
    if (!CHECK(llmring_keypair_generate(NULL, &private_key, &public_key, &error) == LLMRING_OK)) {
        return 1;
    }
    char config[1024];
    snprintf(config, sizeof config,
             "{\"store\":\"%s\",\"signing_key\":\"%s\",\"budgets\":[{\"name\":\"tiny\","
             "\"limit_usd\":\"0.001\",\"window\":\"day\",\"soft_threshold\":0.5}]}",
             argv[1], private_key);
    llmring_string_free(private_key);
    llmring_t *client = NULL;
    if (!CHECK(llmring_new(config, &client, &error) == LLMRING_OK)) {
        fprintf(stderr, "%s\n", error);
        llmring_string_free(error);
        llmring_string_free(public_key);
        return 1;
    }
    CHECK(llmring_on_budget_warning(client, on_warning, &warnings, &error) == LLMRING_OK);

    /* Two calls fit; the second crosses the soft threshold; the third does not fit. */
    for (int i = 0; i < 3; i++) {
        char *response = NULL;
        llmring_status_t status = llmring_chat(client, CHAT, &response, &error);
        if (i < 2) {
            CHECK(status == LLMRING_OK);
            CHECK(i == 0 || contains(response, "\"budget_warnings\""));
        } else {
            CHECK(status == LLMRING_BUDGET_EXCEEDED);
            CHECK(response == NULL);
            CHECK(contains(error, "\"code\":\"LLMRING_BUDGET_EXCEEDED\""));
            CHECK(contains(error, "\"limit\":0.001"));
            llmring_string_free(error);
            error = NULL;
        }
        llmring_string_free(response);
    }
    CHECK(warnings == 1);

    char *out = NULL;
    CHECK(llmring_budget_status(client, &out, &error) == LLMRING_OK);
    CHECK(contains(out, "\"spent\":0.0009"));
    CHECK(contains(out, "\"name\":\"tiny\""));
    llmring_string_free(out);

    out = NULL;
    CHECK(llmring_stats(client, NULL, &out, &error) == LLMRING_OK);
    CHECK(contains(out, "\"requests\":2"));
    CHECK(contains(out, "\"total_cost\":0.0009"));
    llmring_string_free(out);
    out = NULL;
    CHECK(llmring_stats(client, "{\"alias\":\"none\",\"by\":\"provider\"}", &out, &error) == LLMRING_OK);
    CHECK(contains(out, "\"requests\":0"));
    llmring_string_free(out);

    char options[600];
    snprintf(options, sizeof options, "{\"format\":\"csv\",\"output\":\"%s\"}", argv[2]);
    out = NULL;
    CHECK(llmring_export(client, options, &out, &error) == LLMRING_OK);
    CHECK(contains(out, "\"exported\":2"));
    llmring_string_free(out);
    FILE *csv = fopen(argv[2], "r");
    int lines = 0;
    if (CHECK(csv != NULL)) {
        for (int c = fgetc(csv); c != EOF; c = fgetc(csv)) {
            lines += c == '\n';
        }
        fclose(csv);
    }
    CHECK(lines == 3);

    out = NULL;
    CHECK(llmring_verify_store(client, NULL, &out, &error) == LLMRING_OK);
    CHECK(contains(out, "\"ok\":true"));
    CHECK(contains(out, "\"valid\":2"));
    llmring_string_free(out);

    /* Bad arguments: a status and an error, outputs untouched. */
    out = NULL;
    CHECK(llmring_stats(NULL, NULL, &out, &error) == LLMRING_INVALID_ARGUMENT && out == NULL);
    llmring_string_free(error);
    CHECK(llmring_stats(client, "{\"by\":", &out, &error) == LLMRING_INVALID_JSON && out == NULL);
    llmring_string_free(error);
    CHECK(llmring_export(client, NULL, &out, &error) == LLMRING_INVALID_ARGUMENT);
    llmring_string_free(error);
    CHECK(llmring_export(client, "{\"format\":\"xml\",\"output\":\"x\"}", &out, &error) ==
          LLMRING_INVALID_ARGUMENT);
    llmring_string_free(error);
    CHECK(llmring_verify_store(client, NULL, NULL, &error) == LLMRING_INVALID_ARGUMENT);
    llmring_string_free(error);
    CHECK(llmring_verify_store(client, "{\"public_key\":\"nope\"}", &out, &error) == LLMRING_KEY);
    llmring_string_free(error);
    CHECK(llmring_budget_status(NULL, &out, &error) == LLMRING_INVALID_ARGUMENT);
    llmring_string_free(error);
    CHECK(llmring_budget_status(client, NULL, NULL) == LLMRING_INVALID_ARGUMENT);
    CHECK(llmring_on_budget_warning(NULL, on_warning, NULL, NULL) == LLMRING_INVALID_ARGUMENT);
    CHECK(llmring_on_budget_warning(client, NULL, NULL, NULL) == LLMRING_OK);

    llmring_free(client);
    llmring_string_free(public_key);
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
