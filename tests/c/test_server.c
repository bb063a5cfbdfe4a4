/*
 * test_server.c: the server-mode functions of the C ABI (llmring_sync, llmring_server_status,
 * llmring_server_stats, llmring_server_receipts) with the server unreachable (a closed port
 * on 127.0.0.1) and the offline mock: the call succeeds, its report waits in the outbox, and
 * no output carries the server's API key. The delivery itself is tested in tests/server.rs.
 *
 * Usage: test_server
 */
#include "test_support.h"

static const char SERVER_KEY[] = "lk-c-SECRET-server-77";

static const char CONFIG[] =
    "{\"store\":\":memory:\",\"server\":{\"url\":\"http://127.0.0.1:9\","
    "\"api_key\":\"lk-c-SECRET-server-77\",\"timeout_ms\":500,\"retry_backoff_ms\":10}}";

static const char CHAT[] =
    "{\"model\":\"fast\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
    "\"mock_response\":\"ok\"}";

static bool no_key(const char *text) {
    return text == NULL || strstr(text, SERVER_KEY) == NULL;
}

int main(void) {
    CHECK("status number", (int)LLMRING_SERVER == 19);
    llmring_t *client = NULL;
    char *error = UNTOUCHED;
    if (!expect_ok("llmring_new", llmring_new(CONFIG, &client, &error), &error)) {
        return 1;
    }

    char *response = NULL;
    error = UNTOUCHED;
    if (expect_ok("chat", llmring_chat(client, CHAT, &response, &error), &error)) {
        CHECK("chat", json_member(response, "receipt") != NULL);
        CHECK("chat", no_key(response));
        llmring_string_free(response);
    }

    char *out = NULL;
    error = UNTOUCHED;
    if (expect_ok("sync", llmring_sync(client, 200, &out, &error), &error)) {
        CHECK("sync", json_literal_is(out, "pending", "1"));
        CHECK("sync", strstr(out, "LLMRING_NETWORK") != NULL);
        CHECK("sync", no_key(out));
        llmring_string_free(out);
    }
    out = NULL;
    error = UNTOUCHED;
    if (expect_ok("status", llmring_server_status(client, &out, &error), &error)) {
        CHECK("status", json_literal_is(out, "blocked", "false"));
        CHECK("status", json_literal_is(out, "pending", "1"));
        llmring_string_free(out);
    }

    out = UNTOUCHED;
    error = NULL;
    llmring_status_t st = llmring_server_stats(client, NULL, &out, &error);
    CHECK("stats", no_key(error));
    expect_error("stats", st, LLMRING_NETWORK, "LLMRING_NETWORK", &error);
    CHECK("stats", out == UNTOUCHED);

    error = NULL;
    st = llmring_server_receipts(client, "{\"colour\":1}", &out, &error);
    expect_error("receipts filter", st, LLMRING_INVALID_ARGUMENT, "LLMRING_INVALID_ARGUMENT",
                 &error);
    error = NULL;
    st = llmring_sync(client, 0, NULL, &error);
    expect_error("NULL out_json", st, LLMRING_INVALID_ARGUMENT, "LLMRING_INVALID_ARGUMENT",
                 &error);
    llmring_free(client);

    /* No server configured. */
    llmring_t *plain = NULL;
    error = UNTOUCHED;
    if (expect_ok("plain client", llmring_new("{\"store\":\":memory:\"}", &plain, &error),
                  &error)) {
        error = NULL;
        st = llmring_sync(plain, 0, &out, &error);
        expect_error("no server", st, LLMRING_CONFIG, "LLMRING_CONFIG", &error);
        llmring_free(plain);
    }

    /* Plain HTTP to a host that is not loopback. */
    llmring_t *remote = NULL;
    error = NULL;
    st = llmring_new("{\"store\":\":memory:\",\"server\":{\"url\":\"http://llmring.example.com\","
                     "\"api_key\":\"lk-c-SECRET-server-77\"}}",
                     &remote, &error);
    CHECK("http to a remote host", no_key(error));
    expect_error("http to a remote host", st, LLMRING_CONFIG, "LLMRING_CONFIG", &error);
    CHECK("http to a remote host", remote == NULL);

    printf("test_server: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
