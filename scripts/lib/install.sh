# Sourced by scripts/test-consumer.sh and scripts/test-go.sh: builds llmring with CMake (in
# LLMRING_BUILD_DIR, default build/) and installs it into a prefix.
#
#   llmring_install ROOT PREFIX    configures if needed, builds, installs, checks the layout

llmring_install() {
  local root="$1" prefix="$2"
  local build="${LLMRING_BUILD_DIR:-$root/build}"
  if [[ ! -f "$build/CMakeCache.txt" ]]; then
    cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release
  fi
  cmake --build "$build"
  cmake --install "$build" --prefix "$prefix"
  local f
  for f in include/llmring.h include/llmring.hpp lib/libllmring.so lib/libllmring.a \
           lib/cmake/llmring/llmringConfig.cmake lib/cmake/llmring/llmringConfigVersion.cmake \
           lib/pkgconfig/llmring.pc; do
    [[ -f "$prefix/$f" ]] || { echo "install is missing $f" >&2; return 1; }
  done
}
