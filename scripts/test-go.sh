#!/usr/bin/env bash
# The Go binding (bindings/go): installs llmring from the CMake build into a prefix
# (BUILD/go-prefix), points pkg-config and the dynamic loader at it, then runs, in bindings/go:
#   gofmt -l (must list nothing), go vet ./..., go test -race ./...
# then builds and runs tests/consumer/go (README's Go first call) against the same install.
#
# Usage: bash scripts/test-go.sh        (LLMRING_BUILD_DIR, default build/; GO, default go)
# Needs Go 1.23 or newer (range-over-func iterators); /usr/local/go/bin is searched too.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${LLMRING_BUILD_DIR:-$root/build}"
# A fixed prefix inside the build directory (see GOCACHE below).
prefix="$build/go-prefix"
rm -rf "$prefix"
step() { printf '\n==> %s\n' "$*"; }

if ! command -v go >/dev/null && [[ -x /usr/local/go/bin/go ]]; then
  export PATH="/usr/local/go/bin:$PATH"
fi
go="${GO:-go}"
command -v "$go" >/dev/null || { echo "go not found: install Go 1.23 or newer" >&2; exit 1; }
"$go" version

step "build and install llmring into $prefix"
# shellcheck source=lib/install.sh
source "$root/scripts/lib/install.sh"
llmring_install "$root" "$prefix"

export PKG_CONFIG_PATH="$prefix/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
export LD_LIBRARY_PATH="$prefix/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export CGO_ENABLED=1
# Keep the module and build caches out of the source tree; no third-party modules are used.
export GOFLAGS="${GOFLAGS:-} -mod=mod"
export GOTOOLCHAIN=local
# Go's build cache may keep cgo link flags from another prefix (a stale -L): one cache per
# build directory, beside the prefix it was built against.
export GOCACHE="$build/go-cache"
echo "pkg-config --cflags --libs llmring: $(pkg-config --cflags --libs llmring)"

cd "$root/bindings/go"
step "gofmt -l"
unformatted="$(gofmt -l .)"
[[ -z "$unformatted" ]] || { echo "not gofmt-formatted: $unformatted" >&2; exit 1; }

step "go vet ./..."
"$go" vet ./...

step "go test -race ./..."
# -count=1: the library is outside Go's view, so cached results could be stale.
"$go" test -race -count=1 -timeout 300s ./...

step "tests/consumer/go: README's first call, from a module outside the binding"
# Offline: no API key, so the mock answers "fast"; receipts go to a scratch store.
cd "$root/tests/consumer/go"
store="$(mktemp -d "${TMPDIR:-/tmp}/llmring-go-consumer.XXXXXX")"
trap 'rm -rf "$store"' EXIT
[[ -z "$(gofmt -l .)" ]] || { echo "tests/consumer/go is not gofmt-formatted" >&2; exit 1; }
"$go" vet .
env -u OPENAI_API_KEY LLMRING_LOCKFILE_PATH= LLMRING_PROFILE= LLMRING_STORE="$store/receipts.jsonl" \
  "$go" run . | tee "$store/out.txt"
grep -q '^receipt ' "$store/out.txt" || { echo "the Go consumer printed no receipt" >&2; exit 1; }

echo
echo "go tests passed"
