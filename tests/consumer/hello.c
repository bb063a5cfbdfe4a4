#include <stdio.h>
#include <llmring.h>

int main(void) {
    llmring_t *client = NULL;
    char *response = NULL, *error = NULL;
    /* NULL: default configuration (environment, ./llmring.lock, built-in aliases). */
    if (llmring_new(NULL, &client, &error) != LLMRING_OK ||
        /* "mock_response": answered offline; leave it out to call the alias's provider. */
        llmring_chat(client, "{\"model\": \"fast\", \"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}],"
                             " \"mock_response\": \"Hello!\"}",
                     &response, &error) != LLMRING_OK) {
        fprintf(stderr, "%s\n", error);  /* {"code":"LLMRING_...","status":N,"message":"..."} */
        llmring_string_free(error);
        llmring_free(client);
        return 1;
    }
    puts(response);  /* {"content":"...","usage":{...,"cost":...},"receipt":{...}} */
    llmring_string_free(response);
    llmring_free(client);
    return 0;
}
