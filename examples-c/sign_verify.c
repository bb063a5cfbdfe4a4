/*
 * sign_verify.c: generate a key pair, issue a signed cost receipt, verify it, and show that
 * a tampered copy no longer verifies.
 *
 * Every llmring function returns a status (LLMRING_OK is 0) and can hand back an error as
 * JSON through its last argument. Every string that llmring returns is freed with
 * llmring_string_free().
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llmring.h"

/* What the host knows about one LLM call: which alias/profile/lockfile chose the model,
 * the usage the provider reported, and the costs from the pricing registry. */
static const char CALL[] =
    "{"
    "\"alias\": \"fast\","
    "\"profile\": \"default\","
    "\"lock_digest\": \"sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\","
    "\"provider\": \"openai\","
    "\"model\": \"gpt-4o-mini\","
    "\"usage\": {\"prompt_tokens\": 150, \"completion_tokens\": 300},"
    "\"costs\": {\"input_cost\": 0.0000225, \"output_cost\": 0.00018}"
    "}";

/* Prints the error of a failed call and frees it. Returns false so callers can
 * `return report(...)`. */
static bool report(const char *what, llmring_status_t status, char *error) {
    fprintf(stderr, "%s failed (status %d): %s\n", what, (int)status,
            error != NULL ? error : "(no details)");
    llmring_string_free(error);
    return false;
}

/* Verifies `receipt` with `public_key`; stores the answer in *valid. */
static bool verify(const char *receipt, const char *public_key, bool *valid) {
    char *error = NULL;
    llmring_status_t status = llmring_verify_receipt(receipt, public_key, valid, &error);
    if (status != LLMRING_OK) {
        return report("llmring_verify_receipt", status, error);
    }
    return true;
}

/* Returns a copy of `text` with the first `from` replaced by `to` (NULL if absent). */
static char *replace_once(const char *text, const char *from, const char *to) {
    const char *at = strstr(text, from);
    if (at == NULL) {
        return NULL;
    }
    size_t head = (size_t)(at - text);
    size_t size = strlen(text) - strlen(from) + strlen(to) + 1;
    char *copy = (char *)malloc(size);
    if (copy == NULL) {
        return NULL;
    }
    memcpy(copy, text, head);
    strcpy(copy + head, to);
    strcat(copy, at + strlen(from));
    return copy;
}

int main(void) {
    int exit_code = EXIT_FAILURE;
    char *private_key = NULL;
    char *public_key = NULL;
    char *receipt = NULL;
    char *digest = NULL;
    char *tampered = NULL;
    char *error = NULL;
    llmring_status_t status;
    bool valid = false;

    printf("llmring %s\n", llmring_version());

    /* 1. A new Ed25519 key pair (NULL format: base64url). */
    status = llmring_keypair_generate(NULL, &private_key, &public_key, &error);
    if (status != LLMRING_OK) {
        report("llmring_keypair_generate", status, error);
        goto done;
    }
    printf("public key: %s\n", public_key);

    /* 2. A receipt for a call the host made itself; llmring adds the id, the timestamp,
     *    the total tokens and cost, and the signature. */
    status = llmring_receipt_generate(CALL, private_key, &receipt, &error);
    if (status != LLMRING_OK) {
        report("llmring_receipt_generate", status, error);
        goto done;
    }
    printf("receipt: %s\n", receipt);

    /* 3. Its digest: SHA-256 of the canonical (RFC 8785) JSON without the signature. */
    status = llmring_receipt_digest(receipt, &digest, &error);
    if (status != LLMRING_OK) {
        report("llmring_receipt_digest", status, error);
        goto done;
    }
    printf("digest: %s\n", digest);

    /* 4. The receipt verifies with the public key. */
    if (!verify(receipt, public_key, &valid)) {
        goto done;
    }
    printf("original receipt: %s\n", valid ? "valid" : "INVALID");
    if (!valid) {
        goto done;
    }

    /* 5. Change one field: the signature no longer matches. */
    tampered = replace_once(receipt, "\"total_tokens\":450", "\"total_tokens\":45");
    if (tampered == NULL) {
        fprintf(stderr, "the receipt has no \"total_tokens\":450\n");
        goto done;
    }
    if (!verify(tampered, public_key, &valid)) {
        goto done;
    }
    printf("tampered receipt: %s\n", valid ? "VALID" : "invalid");
    if (valid) {
        goto done;
    }

    exit_code = EXIT_SUCCESS;

done:
    free(tampered);
    llmring_string_free(digest);
    llmring_string_free(receipt);
    llmring_string_free(public_key);
    llmring_string_free(private_key);
    return exit_code;
}
