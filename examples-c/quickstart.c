/*
 * quickstart.c: the main job of llmring, end to end.
 *
 * 1. create a client that signs receipts with a fresh key;
 * 2. chat through the alias "fast" (the offline mock answers when no OPENAI_API_KEY is set);
 * 3. print the answer, its cost and its signed receipt;
 * 4. iterate the receipt store (durable: receipts of earlier runs are there too), verify the
 *    signatures of this run's receipts and print totals.
 *
 * Every llmring function returns a status (LLMRING_OK is 0) and can hand back an error as
 * JSON through its last argument. Every string llmring returns is freed with
 * llmring_string_free(); the client with llmring_free(), the iterator with
 * llmring_receipts_iter_free().
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "llmring.h"

/* Prints the error of a failed call and frees it; returns false. */
static bool failed(const char *what, llmring_status_t status, char *error) {
    fprintf(stderr, "%s failed (status %d): %s\n", what, (int)status,
            error != NULL ? error : "(no details)");
    llmring_string_free(error);
    return false;
}

/* Copies the raw JSON value of the first `"key":` in `json` into `out` (for printing
 * numbers and strings from llmring's compact JSON without a JSON library). */
static void json_field(const char *json, const char *key, char *out, size_t size) {
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\":", key);
    const char *at = strstr(json, pattern);
    out[0] = '\0';
    if (at == NULL || size == 0) {
        return;
    }
    at += strlen(pattern);
    size_t n = 0;
    bool quoted = *at == '"';
    for (const char *p = at + (quoted ? 1 : 0); *p != '\0' && n + 1 < size; p++) {
        if (quoted ? (*p == '"' && p[-1] != '\\') : (*p == ',' || *p == '}')) {
            break;
        }
        out[n++] = *p;
    }
    out[n] = '\0';
}

static bool run(void) {
    char *error = NULL;
    char *private_key = NULL;
    char *public_key = NULL;
    llmring_status_t status = llmring_keypair_generate(NULL, &private_key, &public_key, &error);
    if (status != LLMRING_OK) {
        return failed("llmring_keypair_generate", status, error);
    }

    char config[256];
    snprintf(config, sizeof config, "{\"signing_key\": \"%s\"}", private_key);
    llmring_string_free(private_key);
    llmring_t *client = NULL;
    status = llmring_new(config, &client, &error);
    memset(config, 0, sizeof config); /* the key is secret */
    if (status != LLMRING_OK) {
        llmring_string_free(public_key);
        return failed("llmring_new", status, error);
    }

    const char *key = getenv("OPENAI_API_KEY");
    bool offline = key == NULL || key[0] == '\0';
    const char *request =
        offline ? "{\"model\": \"fast\","
                  " \"messages\": [{\"role\": \"user\", \"content\": \"Say hello in five words.\"}],"
                  " \"mock_response\": \"Hello from the offline mock!\"}"
                : "{\"model\": \"fast\","
                  " \"messages\": [{\"role\": \"user\", \"content\": \"Say hello in five words.\"}]}";
    if (offline) {
        printf("(no OPENAI_API_KEY: the offline mock answers; no provider is called)\n");
    }

    /* Receipts of this run: their ids, and a filter for the store from the minute we start. */
    char ours[2][64] = {{0}};
    char filter[96];
    time_t now = time(NULL) - 60;
    char since[32];
    strftime(since, sizeof since, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    snprintf(filter, sizeof filter, "{\"since\": \"%s\"}", since);

    bool ok = true;
    for (int call = 0; call < 2 && ok; call++) {
        char *response = NULL;
        status = llmring_chat(client, request, &response, &error);
        if (status != LLMRING_OK) {
            ok = failed("llmring_chat", status, error);
            break;
        }
        char content[512], model[128], cost[64], cost_status[64];
        json_field(response, "content", content, sizeof content);
        json_field(response, "model", model, sizeof model);
        json_field(response, "cost", cost, sizeof cost);
        json_field(response, "cost_status", cost_status, sizeof cost_status);
        printf("\nanswer: %s\nmodel:  %s\ncost:   $%s (%s)\n", content, model, cost, cost_status);

        json_field(response, "receipt_id", ours[call], sizeof ours[call]);
        printf("receipt: %s\n", ours[call]);
        llmring_string_free(response);
    }

    /* Totals over the client's receipts. */
    llmring_receipts_iter_t *iter = NULL;
    if (ok) {
        status = llmring_receipts_iter(client, filter, &iter, &error);
        if (status != LLMRING_OK) {
            ok = failed("llmring_receipts_iter", status, error);
        }
    }
    if (ok) {
        long stored = 0, count = 0, tokens = 0;
        char *receipt = NULL;
        while ((status = llmring_receipts_iter_next(iter, &receipt, &error)) == LLMRING_OK) {
            char id[64], total_tokens[32], total_cost[64];
            json_field(receipt, "receipt_id", id, sizeof id);
            stored++;
            if (strcmp(id, ours[0]) == 0 || strcmp(id, ours[1]) == 0) {
                json_field(receipt, "total_tokens", total_tokens, sizeof total_tokens);
                json_field(receipt, "total_cost", total_cost, sizeof total_cost);
                bool valid = false;
                llmring_status_t checked =
                    llmring_verify_receipt(receipt, public_key, &valid, &error);
                if (checked != LLMRING_OK) {
                    ok = failed("llmring_verify_receipt", checked, error);
                }
                printf("\nreceipt %ld: %s\n  %s tokens, $%s, signature %s\n", count + 1, receipt,
                       total_tokens, total_cost, valid ? "valid" : "INVALID");
                ok = ok && valid;
                count++;
                tokens += strtol(total_tokens, NULL, 10);
            }
            llmring_string_free(receipt);
        }
        if (status != LLMRING_END) {
            ok = failed("llmring_receipts_iter_next", status, error);
        } else {
            printf("\nthis run: %ld receipts, %ld tokens (%ld receipts in the store since %s)\n",
                   count, tokens, stored, since);
            ok = ok && count == 2;
        }
    }
    llmring_receipts_iter_free(iter);
    llmring_free(client);
    llmring_string_free(public_key);
    return ok;
}

int main(void) {
    printf("llmring %s\n", llmring_version());
    if (!run()) {
        fprintf(stderr, "quickstart failed\n");
        return EXIT_FAILURE;
    }
    printf("\nquickstart ok\n");
    return EXIT_SUCCESS;
}
