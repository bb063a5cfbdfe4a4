# Build step of the llmring_cargo_build target (run with `cmake -P`, see CMakeLists.txt):
#
# 1. `cargo rustc --release --lib -- --print native-static-libs` builds the cdylib, the
#    staticlib and the rlib; rustc notes the native libraries the static library needs
#    ("native-static-libs: -lgcc_s -lutil ..."; cargo replays the note when nothing was
#    rebuilt). That list is written, only when it changed, to
#      NATIVE_RSP       a linker response file, used by the in-tree llmring_static target
#                       (-Wl,@file, so the list can come from the build, not the configure);
#      NATIVE_CMAKE     set(_llmring_native_static_libs ...), installed beside
#                       llmringConfig.cmake for the installed llmring::llmring_static;
#      PC_OUT           llmring.pc from PC_TEMPLATE, with the list as Libs.private.
# 2. The shared library is copied into LIB_DIR under its SONAME (set by build.rs), with the
#    development symlink LINK_NAME -> SONAME beside it.
#
# Variables (-D): CARGO, MANIFEST, CARGO_TARGET_DIR, SHARED_BUILT, LIB_DIR, SONAME,
# LINK_NAME, NATIVE_RSP, NATIVE_CMAKE, PC_TEMPLATE, PC_OUT.
cmake_minimum_required(VERSION 3.16)

foreach(_var IN ITEMS CARGO MANIFEST CARGO_TARGET_DIR SHARED_BUILT LIB_DIR SONAME LINK_NAME
                      NATIVE_RSP NATIVE_CMAKE PC_TEMPLATE PC_OUT)
  if(NOT DEFINED ${_var})
    message(FATAL_ERROR "CargoBuild.cmake: ${_var} is not set")
  endif()
endforeach()

set(_command "${CARGO}" rustc --release --lib --manifest-path "${MANIFEST}"
             -- --print native-static-libs)
if(CMAKE_VERSION VERSION_GREATER_EQUAL 3.18)
  set(_echo ECHO_ERROR_VARIABLE)
else()
  set(_echo)
endif()
execute_process(
  COMMAND ${CMAKE_COMMAND} -E env "CARGO_TARGET_DIR=${CARGO_TARGET_DIR}" ${_command}
  RESULT_VARIABLE _result
  ERROR_VARIABLE _stderr
  ${_echo})
if(NOT _echo)
  message("${_stderr}")
endif()
if(NOT _result EQUAL 0)
  message(FATAL_ERROR "cargo failed (${_result})")
endif()

if(NOT _stderr MATCHES "native-static-libs: ([^\r\n]*)")
  message(FATAL_ERROR "rustc did not report the static library's native libraries "
                      "(no \"native-static-libs:\" note in cargo's output)")
endif()
string(STRIP "${CMAKE_MATCH_1}" _flags)

# As CMake link items: -lNAME -> NAME, "-framework X" kept as one item, others verbatim.
separate_arguments(_args UNIX_COMMAND "${_flags}")
set(_items)
set(_framework OFF)
foreach(_arg IN LISTS _args)
  if(_framework)
    list(APPEND _items "-framework ${_arg}")
    set(_framework OFF)
  elseif(_arg STREQUAL "-framework")
    set(_framework ON)
  elseif(_arg MATCHES "^-l(.+)$")
    list(APPEND _items "${CMAKE_MATCH_1}")
  else()
    list(APPEND _items "${_arg}")
  endif()
endforeach()

# Writes `content` to `path` unless it already holds exactly that (keeps timestamps, so
# nothing relinks or reinstalls needlessly).
function(_llmring_write_if_changed path content)
  if(EXISTS "${path}")
    file(READ "${path}" _old)
    if(_old STREQUAL content)
      return()
    endif()
  endif()
  file(WRITE "${path}" "${content}")
endfunction()

_llmring_write_if_changed("${NATIVE_RSP}" "${_flags}\n")
string(CONCAT _cmake
  "# Written by the llmring build: the native libraries of libllmring.a, as rustc reported\n"
  "# them (${_flags}).\nset(_llmring_native_static_libs \"${_items}\")\n")
_llmring_write_if_changed("${NATIVE_CMAKE}" "${_cmake}")
set(LLMRING_PC_LIBS_PRIVATE "${_flags}")
configure_file("${PC_TEMPLATE}" "${PC_OUT}.new" @ONLY)
file(READ "${PC_OUT}.new" _pc)
file(REMOVE "${PC_OUT}.new")
_llmring_write_if_changed("${PC_OUT}" "${_pc}")
message(STATUS "llmring static library needs: ${_flags}")

# The shared library under its SONAME, and the development symlink.
file(MAKE_DIRECTORY "${LIB_DIR}")
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different "${SHARED_BUILT}" "${LIB_DIR}/${SONAME}"
                RESULT_VARIABLE _result)
if(NOT _result EQUAL 0)
  message(FATAL_ERROR "could not copy ${SHARED_BUILT} to ${LIB_DIR}/${SONAME}")
endif()
if(NOT LINK_NAME STREQUAL SONAME)
  file(CREATE_LINK "${SONAME}" "${LIB_DIR}/${LINK_NAME}" SYMBOLIC)
endif()
