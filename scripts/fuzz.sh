#!/usr/bin/env bash
# Builds the fuzz targets of fuzz/ (cargo-fuzz, libFuzzer, AddressSanitizer, debug assertions)
# and runs each for a bounded time, starting from its committed seed corpus
# (fuzz/corpus/TARGET). Prints the executions per target; exits non-zero when any target
# crashes (panic, failed assertion, sanitizer report, timeout or out-of-memory), after running
# the others. See docs/fuzzing.md.
#
# Usage: bash scripts/fuzz.sh [TARGET...]      (default: every target, `cargo fuzz list`)
# Environment:
#   FUZZ_SECONDS   seconds per target (default 20)
#   FUZZ_WORK_DIR  where new corpus entries and logs go (default fuzz/corpus-work; the
#                  committed seeds in fuzz/corpus are only read)
# Needs cargo-fuzz (`cargo install cargo-fuzz --locked`). On a stable toolchain the nightly
# flags cargo-fuzz passes (-Zsanitizer) are allowed with RUSTC_BOOTSTRAP=1, set here.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root/fuzz"
seconds="${FUZZ_SECONDS:-20}"
work="${FUZZ_WORK_DIR:-$root/fuzz/corpus-work}"
export RUSTC_BOOTSTRAP=1
# cargo-fuzz builds with one codegen unit; 16 let both cores work (a clean build took 4.3
# instead of 6.3 minutes here) and fuzz as fast. Appended, so RUSTFLAGS may add more.
export RUSTFLAGS="${RUSTFLAGS:-} -Ccodegen-units=16"

fail() { printf 'error: %s\n' "$*" >&2; exit 1; }

[[ "$seconds" =~ ^[0-9]+$ && "$seconds" -gt 0 ]] || fail "FUZZ_SECONDS must be a positive integer"
cargo fuzz --version >/dev/null 2>&1 ||
  fail "cargo-fuzz is not installed: cargo install cargo-fuzz --locked"

targets=("$@")
if ((${#targets[@]} == 0)); then
  mapfile -t targets < <(cargo fuzz list)
fi

# The fuzz crate is its own workspace: the root's `cargo fmt --check` does not cover it.
cargo fmt --check

echo "building ${#targets[@]} fuzz targets"
build_start=$SECONDS
cargo fuzz build
echo "build: $((SECONDS - build_start)) s"

failed=()
summary=()
for target in "${targets[@]}"; do
  [[ -d "corpus/$target" ]] || fail "no seed corpus fuzz/corpus/$target"
  mkdir -p "$work/$target"
  log="$work/$target.log"
  echo "==> $target (${seconds} s)"
  # New inputs go to the first corpus directory (the work one); the seeds are only read.
  if cargo fuzz run "$target" "$work/$target" "corpus/$target" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    >"$log" 2>&1; then
    outcome=ok
  else
    outcome=CRASH
    failed+=("$target")
    tail -n 60 "$log" >&2
    echo "reproduce: (cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run $target fuzz/artifacts/$target/<file>)" >&2
  fi
  runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
  corpus="$(find "$work/$target" -type f | wc -l)"
  line="$(printf '%-18s %-6s %10s execs  %5s corpus entries  (log: %s)' \
    "$target" "$outcome" "${runs:-?}" "$corpus" "$log")"
  echo "$line"
  summary+=("$line")
done

echo
echo "fuzzing summary (${seconds} s per target):"
printf '  %s\n' "${summary[@]}"
if ((${#failed[@]})); then
  fail "fuzz targets crashed: ${failed[*]} (inputs in fuzz/artifacts/)"
fi
