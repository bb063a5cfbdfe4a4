/* Links against an installed llmring: checks the version, then issues and verifies a
 * signed receipt. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <llmring.h>

static const char CALL[] =
    "{\"alias\":\"fast\",\"profile\":\"default\","
    "\"lock_digest\":\"sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\","
    "\"provider\":\"openai\",\"model\":\"gpt-4o-mini\","
    "\"usage\":{\"prompt_tokens\":150,\"completion_tokens\":300},"
    "\"costs\":{\"input_cost\":0.0000225,\"output_cost\":0.00018}}";

int main(void) {
    char *private_key = NULL, *public_key = NULL, *receipt = NULL, *error = NULL;
    bool valid = false;
    int ok = 0;

    if (strcmp(llmring_version(), LLMRING_VERSION) != 0) {
        fprintf(stderr, "library %s does not match header %s\n", llmring_version(),
                LLMRING_VERSION);
        return 1;
    }
    if (llmring_keypair_generate(NULL, &private_key, &public_key, &error) == LLMRING_OK &&
        llmring_receipt_generate(CALL, private_key, &receipt, &error) == LLMRING_OK &&
        llmring_verify_receipt(receipt, public_key, &valid, &error) == LLMRING_OK && valid) {
        ok = 1;
        printf("consumer: llmring %s, receipt verified\n", llmring_version());
    } else {
        fprintf(stderr, "consumer failed: %s\n", error ? error : "receipt did not verify");
    }
    llmring_string_free(error);
    llmring_string_free(receipt);
    llmring_string_free(public_key);
    llmring_string_free(private_key);
    return ok ? 0 : 1;
}
