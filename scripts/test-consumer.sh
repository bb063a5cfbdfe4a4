#!/usr/bin/env bash
# Installs llmring from the CMake build into a temporary prefix, then builds and runs
# tests/consumer/main.c against the INSTALLED tree in three ways:
#   1. CMake find_package(llmring), shared library (llmring::llmring)
#   2. CMake find_package(llmring), static library (llmring::llmring_static)
#   3. plain `cc main.c $(pkg-config --cflags --libs llmring)`
#
# Usage: bash scripts/test-consumer.sh        (LLMRING_BUILD_DIR, default build/)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/llmring-consumer.XXXXXX")"
trap 'rm -rf "$work"' EXIT
prefix="$work/install"
step() { printf '\n==> %s\n' "$*"; }
# Fails when an executable that should embed libllmring.a loads libllmring.so instead.
assert_static() {
  if ldd "$1" | grep -q libllmring; then
    echo "$1 is linked against the shared library, expected the static one" >&2
    exit 1
  fi
}

step "build and install llmring into $prefix"
# shellcheck source=lib/install.sh
source "$root/scripts/lib/install.sh"
llmring_install "$root" "$prefix"

step "CMake consumer (find_package)"
cmake -S "$root/tests/consumer" -B "$work/cmake-build" -DCMAKE_PREFIX_PATH="$prefix" \
      -DCMAKE_BUILD_TYPE=Release
cmake --build "$work/cmake-build"
"$work/cmake-build/consumer"        # finds libllmring.so through its build RPATH
"$work/cmake-build/consumer_static"
assert_static "$work/cmake-build/consumer_static"

step "pkg-config consumer"
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
echo "pkg-config --cflags --libs llmring: $(pkg-config --cflags --libs llmring)"
cc -std=c11 -Wall -Wextra -Werror "$root/tests/consumer/main.c" \
   $(pkg-config --cflags --libs llmring) -o "$work/consumer-pkgconfig"
LD_LIBRARY_PATH="$(pkg-config --variable=libdir llmring)" "$work/consumer-pkgconfig"

step "pkg-config consumer, static (Libs.private)"
echo "pkg-config --static --libs llmring: $(pkg-config --static --libs llmring)"
# The linker prefers libllmring.so to libllmring.a in the same directory; a directory that
# holds only the archive, searched first, makes -lllmring pick the static library.
mkdir "$work/static-only"
ln -s "$prefix/lib/libllmring.a" "$work/static-only/libllmring.a"
cc -std=c11 -Wall -Wextra -Werror "$root/tests/consumer/main.c" -L"$work/static-only" \
   $(pkg-config --cflags --static --libs llmring) -o "$work/consumer-pkgconfig-static"
assert_static "$work/consumer-pkgconfig-static"
"$work/consumer-pkgconfig-static"
assert_static "$work/consumer-pkgconfig-static"

echo
echo "consumer tests passed"
