#!/usr/bin/env bash
# Builds llmring with CMake (Release, in build/) and runs the main C example.
#
# Usage: bash scripts/quickstart.sh        (LLMRING_BUILD_DIR, default build/)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${LLMRING_BUILD_DIR:-$root/build}"
example=quickstart   # examples-c/quickstart.c

configure=(cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release)
if [[ ! -f "$build/CMakeCache.txt" ]] && command -v ninja >/dev/null; then
  configure+=(-G Ninja)
fi
"${configure[@]}"
cmake --build "$build" --parallel --target "$example"

echo
echo "==> $build/examples-c/$example"
"$build/examples-c/$example"
