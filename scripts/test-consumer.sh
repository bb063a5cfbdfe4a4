#!/usr/bin/env bash
# Installs llmring from the CMake build into a temporary prefix, checks the shared library's
# SONAME and symlink (build and install trees), then builds and runs tests/consumer/main.c
# against the INSTALLED tree in four ways:
#   1. CMake find_package(llmring), shared library (llmring::llmring)
#   2. CMake find_package(llmring), static library (llmring::llmring_static, with the native
#      libraries rustc reported at build time)
#   3. plain `cc main.c $(pkg-config --cflags --libs llmring)`
#   4. the same with `pkg-config --static` (Libs.private) against libllmring.a
# and README's first calls, tests/consumer/hello.c and hello.cpp (CMake) and hello.c with
# README's pkg-config line, run offline (no API key: the mock answers); README's snippets
# marked `<!-- snippet: FILE -->` must be lines of FILE as they are.
#
# Usage: bash scripts/test-consumer.sh        (LLMRING_BUILD_DIR, default build/)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/llmring-consumer.XXXXXX")"
trap 'rm -rf "$work"' EXIT
prefix="$work/install"
step() { printf '\n==> %s\n' "$*"; }
build="${LLMRING_BUILD_DIR:-$root/build}"
# The SONAME build.rs sets: libllmring.so.MAJOR, MAJOR from Cargo.toml's version.
major="$(sed -n 's/^version *= *"\([0-9]*\)\..*/\1/p' "$root/Cargo.toml" | head -n 1)"
soname="libllmring.so.$major"
# Fails unless DIR/libllmring.so.MAJOR has that SONAME and DIR/libllmring.so links to it.
assert_soname() {
  local dir="$1" got
  got="$(readelf -d "$dir/$soname" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')"
  [[ "$got" == "$soname" ]] || { echo "$dir/$soname: SONAME is '$got', expected $soname" >&2; exit 1; }
  [[ "$(readlink "$dir/libllmring.so")" == "$soname" ]] ||
    { echo "$dir/libllmring.so is not a symlink to $soname" >&2; exit 1; }
  echo "$dir/$soname: SONAME $got; libllmring.so -> $soname"
}
# Fails unless an executable records libllmring.so.MAJOR as NEEDED.
assert_needs_soname() {
  readelf -d "$1" | grep -q "(NEEDED).*\[$soname\]" ||
    { echo "$1 does not record $soname as NEEDED" >&2; readelf -d "$1" >&2; exit 1; }
}
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

step "SONAME and symlinks"
assert_soname "$build/lib"
assert_soname "$prefix/lib"

step "README snippets match their files"
python3 - "$root" <<'PY'
import pathlib, re, sys
root = pathlib.Path(sys.argv[1])
readme = (root / "README.md").read_text()
blocks = re.findall(r"<!-- snippet: (\S+) -->\n```[a-z]*\n(.*?)\n```", readme, re.S)
strip = lambda text: [line.strip() for line in text.splitlines()]
bad = 0
for path, block in blocks:
    want, have = strip(block), strip((root / path).read_text())
    if not any(have[i:i + len(want)] == want for i in range(len(have) - len(want) + 1)):
        print(f"README.md: the snippet marked {path} is not in that file", file=sys.stderr)
        bad += 1
print(f"{len(blocks)} snippet(s) checked")
sys.exit(1 if bad or not blocks else 0)
PY

# README's first calls run offline: no key (the mock answers "fast"), a scratch store.
first_call() {
  env -u OPENAI_API_KEY -u ANTHROPIC_API_KEY -u GEMINI_API_KEY -u GOOGLE_API_KEY \
      LLMRING_LOCKFILE_PATH= LLMRING_PROFILE= LLMRING_STORE="$work/receipts.jsonl" "$@" \
      | tee "$work/out.txt"
  grep -q '"receipt_id"' "$work/out.txt" || { echo "$1 printed no receipt" >&2; exit 1; }
}

step "CMake consumer (find_package)"
cmake -S "$root/tests/consumer" -B "$work/cmake-build" -DCMAKE_PREFIX_PATH="$prefix" \
      -DCMAKE_BUILD_TYPE=Release
cmake --build "$work/cmake-build"
"$work/cmake-build/consumer"        # finds libllmring.so.0 through its build RPATH
assert_needs_soname "$work/cmake-build/consumer"
"$work/cmake-build/consumer_static"
assert_static "$work/cmake-build/consumer_static"
first_call "$work/cmake-build/hello"
first_call "$work/cmake-build/hello_cpp"
grep -q '"delta"' "$work/out.txt" || { echo "hello_cpp printed no stream chunk" >&2; exit 1; }

step "pkg-config consumer"
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
echo "pkg-config --cflags --libs llmring: $(pkg-config --cflags --libs llmring)"
cc -std=c11 -Wall -Wextra -Werror "$root/tests/consumer/main.c" \
   $(pkg-config --cflags --libs llmring) -o "$work/consumer-pkgconfig"
LD_LIBRARY_PATH="$(pkg-config --variable=libdir llmring)" "$work/consumer-pkgconfig"
assert_needs_soname "$work/consumer-pkgconfig"
# README's line, as written there (P = the prefix): found through its RPATH.
P="$prefix"
(cd "$root/tests/consumer" &&
 cc hello.c $(PKG_CONFIG_PATH="$P/lib/pkgconfig" pkg-config --cflags --libs llmring) -Wl,-rpath,"$P/lib" \
    -o "$work/hello-pkgconfig")
first_call "$work/hello-pkgconfig"

step "pkg-config consumer, static (Libs.private)"
echo "pkg-config --static --libs llmring: $(pkg-config --static --libs llmring)"
# Libs.private is the list rustc reported for this build (cmake/CargoBuild.cmake).
native="$(cat "$build/llmring-native-static-libs.rsp")"
grep -qxF "Libs.private: $native" "$prefix/lib/pkgconfig/llmring.pc" ||
  { echo "llmring.pc: Libs.private is not rustc's list ($native)" >&2; exit 1; }
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
