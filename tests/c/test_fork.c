/*
 * test_fork.c: a client used in a forked child fails with LLMRING_FORKED instead of hanging
 * (and, compiled from a .cpp copy, the same from C++), against the stub OpenAI server: ctest
 * runs
 *
 *     stub_provider --expect 2 -- test_fork FIXTURE_DIR
 *
 * (see tests/support/stub_provider.rs). The parent makes one call (the client's runtime
 * threads and connection pool are then live), forks, and the child calls every function
 * that takes the parent's client (chat, chat_stream, chat_async, cancel, receipts_iter,
 * stats, export, verify_store, budget_status, on_budget_warning): each must fail at once
 * with LLMRING_FORKED and an error JSON naming the code, write no output and send nothing;
 * then llmring_free must return. All under alarm(): a hang kills the child with SIGALRM and
 * fails the test. The parent checks that the child exited normally with 0, and
 * that its own client still works (a second call: the stub must have received exactly 2
 * requests, none from the child).
 *
 * Prints "N passed, M failed" and exits non-zero when anything failed.
 */
/* fork, waitpid, alarm, _exit under strict C11. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <errno.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_support.h"

static const char CHAT[] =
    "{\"model\":\"fast\",\"messages\":[{\"role\":\"user\",\"content\":\"Hello from C\"}]}";

/* Seconds the child may take in all; everything it does fails at once. */
enum { CHILD_ALARM_SECONDS = 20 };

static void never_called(void *user_data, llmring_status_t status, const char *response_json,
                         const char *error_json) {
    (void)status;
    (void)response_json;
    (void)error_json;
    *(int *)user_data += 1;
}

static int chunk_never_called(void *user_data, const char *chunk_json) {
    (void)chunk_json;
    *(int *)user_data += 1;
    return LLMRING_STREAM_CONTINUE;
}

static void warning_never_called(void *user_data, const char *warning_json) {
    (void)warning_json;
    *(int *)user_data += 1;
}

/* A call that must fail with LLMRING_FORKED and leave its output untouched. */
static void expect_forked(const char *label, llmring_status_t status, char **errorp,
                          const char *out) {
    expect_error(label, status, LLMRING_FORKED, "LLMRING_FORKED", errorp);
    CHECK(label, out == UNTOUCHED);
}

/* Everything the child checks; returns its exit status. */
static int child(llmring_t *client) {
    alarm(CHILD_ALARM_SECONDS);

    int calls = 0;
    char *out = UNTOUCHED;
    char *error = UNTOUCHED;
    llmring_status_t status = llmring_chat(client, CHAT, &out, &error);
    expect_forked("chat in the child", status, &error, out);

    error = UNTOUCHED;
    status = llmring_chat_stream(client, CHAT, chunk_never_called, &calls, &out, &error);
    expect_forked("chat_stream in the child", status, &error, out);

    uint64_t id = 0;
    error = UNTOUCHED;
    status = llmring_chat_async(client, CHAT, never_called, &calls, &id, &error);
    expect_forked("chat_async in the child", status, &error, UNTOUCHED);

    error = UNTOUCHED;
    status = llmring_cancel(client, 1, &error);
    expect_forked("cancel in the child", status, &error, UNTOUCHED);

    llmring_receipts_iter_t *iter = (llmring_receipts_iter_t *)(void *)UNTOUCHED;
    error = UNTOUCHED;
    status = llmring_receipts_iter(client, NULL, &iter, &error);
    expect_forked("receipts_iter in the child", status, &error, (const char *)(void *)iter);

    error = UNTOUCHED;
    status = llmring_stats(client, NULL, &out, &error);
    expect_forked("stats in the child", status, &error, out);

    error = UNTOUCHED;
    status = llmring_export(client, "{\"format\":\"json\",\"output\":\"/dev/null\"}", &out,
                            &error);
    expect_forked("export in the child", status, &error, out);

    error = UNTOUCHED;
    status = llmring_verify_store(client, NULL, &out, &error);
    expect_forked("verify_store in the child", status, &error, out);

    error = UNTOUCHED;
    status = llmring_budget_status(client, &out, &error);
    expect_forked("budget_status in the child", status, &error, out);

    error = UNTOUCHED;
    status = llmring_on_budget_warning(client, warning_never_called, &calls, &error);
    expect_forked("on_budget_warning in the child", status, &error, UNTOUCHED);

    uint64_t stream_id = 0;
    error = UNTOUCHED;
    status = llmring_call_id_new(client, &stream_id, &error);
    expect_forked("call_id_new in the child", status, &error, UNTOUCHED);
    CHECK("no id reserved in the child", stream_id == 0);

    error = UNTOUCHED;
    status = llmring_chat_stream_with_id(client, 1, CHAT, chunk_never_called, &calls, &out,
                                         &error);
    expect_forked("chat_stream_with_id in the child", status, &error, out);

    error = UNTOUCHED;
    status = llmring_sync(client, 0, &out, &error);
    expect_forked("sync in the child", status, &error, out);

    error = UNTOUCHED;
    status = llmring_server_status(client, &out, &error);
    expect_forked("server_status in the child", status, &error, out);

    /* Returns at once (the client is leaked, not shut down). */
    llmring_free(client);
    CHECK("no callback ran in the child", calls == 0);

    printf("child: %d passed, %d failed\n", passed, failed);
    fflush(stdout);
    return failed == 0 ? 0 : 1;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s FIXTURE_DIR (run under stub_provider)\n", argv[0]);
        return 2;
    }
    const char *url = getenv("LLMRING_STUB_URL");
    if (url == NULL) {
        fprintf(stderr, "LLMRING_STUB_URL is not set: run this test under stub_provider\n");
        return 2;
    }
    char *config = make_config(argv[1], url, NULL);
    if (config == NULL) {
        fprintf(stderr, "out of memory\n");
        return 2;
    }

    llmring_t *client = NULL;
    char *error = UNTOUCHED;
    llmring_status_t status = llmring_new(config, &client, &error);
    free(config);
    if (!expect_ok("new", status, &error)) {
        return 1;
    }

    char *response = NULL;
    error = UNTOUCHED;
    status = llmring_chat(client, CHAT, &response, &error);
    if (expect_ok("first call in the parent", status, &error)) {
        CHECK("first call", json_member(response, "receipt") != NULL);
        llmring_string_free(response);
    }

    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 1;
    }
    if (pid == 0) {
        _exit(child(client));
    }

    int wstatus = 0;
    pid_t waited;
    do {
        waited = waitpid(pid, &wstatus, 0);
    } while (waited < 0 && errno == EINTR);
    CHECK("waitpid", waited == pid);
    if (WIFSIGNALED(wstatus)) {
        fprintf(stderr, "  the child was killed by signal %d%s\n", WTERMSIG(wstatus),
                WTERMSIG(wstatus) == SIGALRM ? " (SIGALRM: it hung)" : "");
    }
    CHECK("the child exited normally", WIFEXITED(wstatus));
    CHECK("the child's checks passed", WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0);

    /* The parent's client is unaffected. */
    response = NULL;
    error = UNTOUCHED;
    status = llmring_chat(client, CHAT, &response, &error);
    if (expect_ok("second call in the parent", status, &error)) {
        CHECK("second call", json_member(response, "receipt") != NULL);
        llmring_string_free(response);
    }
    llmring_free(client);

    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
