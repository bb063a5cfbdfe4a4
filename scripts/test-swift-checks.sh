#!/usr/bin/env bash
# What can be checked of the Swift binding (bindings/swift) without a Swift toolchain:
#   1. the system-library module: module.modulemap + shim.h + include/llmring.h compile as
#      a Clang module (clang -fmodules), and a C file importing it sees the API; skipped,
#      with a note, when clang is not installed;
#   2. every llmring_* function the Swift sources call exists in include/llmring.h with the
#      same number of arguments, and every LLMRING_* constant they use is declared
#      (scripts/check-swift-c-calls.py);
#   3. every status of llmring_status_t has a name in the C++, Go and Swift bindings
#      (scripts/check-status-names.py).
# Building and running the Swift package itself (swift build / swift test) is NOT done here.
#
# Usage: bash scripts/test-swift-checks.sh
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
swift="$root/bindings/swift"
work="$(mktemp -d "${TMPDIR:-/tmp}/llmring-swift.XXXXXX")"
trap 'rm -rf "$work"' EXIT
step() { printf '\n==> %s\n' "$*"; }

step "Clang module CLLMRing (module.modulemap over llmring.h)"
if command -v clang >/dev/null; then
  clang --version | head -n 1
  cat >"$work/use_module.c" <<'C'
#pragma clang module import CLLMRing
/* The module exports the whole C API. */
static llmring_status_t (*const chat_async)(const llmring_t *, const char *, llmring_done_fn,
                                            void *, uint64_t *, char **) = llmring_chat_async;
/* The streaming call and its chunk callback, as LLMRing.swift calls them. */
static int on_chunk(void *user_data, const char *chunk_json) {
    return user_data != 0 && chunk_json != 0 ? LLMRING_STREAM_CONTINUE : LLMRING_STREAM_STOP;
}
static llmring_status_t (*const chat_stream)(const llmring_t *, const char *, llmring_chunk_fn,
                                             void *, char **, char **) = llmring_chat_stream;
int main(void) {
    llmring_t *client = 0;
    llmring_status_t status = llmring_new("{}", &client, 0);
    llmring_free(client);
    llmring_chunk_fn chunk_fn = on_chunk;
    return chat_async != 0 && chat_stream != 0 && chunk_fn != 0 && status == LLMRING_OK ? 0 : 1;
}
C
  flags=(-fmodules -fmodules-cache-path="$work/modules"
         -fmodule-map-file="$swift/Sources/CLLMRing/module.modulemap"
         -I "$root/include" -std=c11 -Wall -Wextra -Werror)
  # The module on its own, as Swift's Clang importer builds it...
  clang -x c -fmodules -fmodules-cache-path="$work/modules" -I "$root/include" \
        -Xclang -emit-module -fmodule-name=CLLMRing \
        -c "$swift/Sources/CLLMRing/module.modulemap" -o "$work/CLLMRing.pcm"
  # ...and imported by a client.
  clang "${flags[@]}" -fsyntax-only "$work/use_module.c"
  echo "CLLMRing builds as a Clang module and exposes the C API"
else
  echo "NOTE: clang is not installed: the Clang module check is SKIPPED (apt-get install clang)"
fi

step "llmring_* calls in the Swift sources against include/llmring.h"
python3 "$root/scripts/check-swift-c-calls.py" "$root/include/llmring.h" \
        "$swift/Sources" "$swift/Tests"

step "every status of the C API known by name to the C++, Go and Swift bindings"
python3 "$root/scripts/check-status-names.py"

echo
echo "swift checks passed (the Swift package itself was not built: no Swift toolchain)"
