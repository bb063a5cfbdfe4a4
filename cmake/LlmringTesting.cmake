# Helpers for the C examples and tests: every C source is built as strict C11 and, from a
# copy with a .cpp name, as C++17, both with -Wall -Wextra -Werror.

set(LLMRING_STRICT_WARNINGS -Wall -Wextra -Wpedantic -Werror)

# LLMRING_SANITIZE=ON builds every C and C++ example and test (the directories added after
# this file is included) with AddressSanitizer and UndefinedBehaviorSanitizer, stopping at the
# first report. The Rust library itself is not instrumented, but its allocations go through
# the sanitizer's malloc, so LeakSanitizer sees what the library leaks at exit. Valgrind
# cannot run sanitized programs: the valgrind copies of the tests are not registered in such
# a build (scripts/test.sh runs it in a second build directory; the valgrind run stays in
# the first).
option(LLMRING_SANITIZE "Build the C/C++ tests and examples with ASan + UBSan" OFF)
if(LLMRING_SANITIZE)
  set(LLMRING_SANITIZER_FLAGS -fsanitize=address,undefined -fno-omit-frame-pointer
                              -fno-sanitize-recover=all)
  add_compile_options(${LLMRING_SANITIZER_FLAGS})
  add_link_options(${LLMRING_SANITIZER_FLAGS})
  # Shadows the cached result of find_program in this directory and below.
  set(VALGRIND_EXECUTABLE "")
  message(STATUS "LLMRING_SANITIZE: C/C++ tests and examples use ASan + UBSan; no valgrind tests")
endif()

# llmring_c_program(<name> <source.c> <link-target>)
#   Adds executable <name> (C11) and <name>_cxx (the same source compiled as C++17).
function(llmring_c_program name source library)
  get_filename_component(_source "${source}" ABSOLUTE)
  get_filename_component(_stem "${source}" NAME_WE)

  add_executable(${name} "${_source}")
  set_target_properties(${name} PROPERTIES
    C_STANDARD 11 C_STANDARD_REQUIRED ON C_EXTENSIONS OFF)
  target_compile_options(${name} PRIVATE ${LLMRING_STRICT_WARNINGS})
  target_link_libraries(${name} PRIVATE ${library})

  # A verbatim copy named .cpp; configure_file re-copies it whenever the .c file changes.
  set(_cxx_source "${CMAKE_CURRENT_BINARY_DIR}/cxx/${_stem}.cpp")
  configure_file("${_source}" "${_cxx_source}" COPYONLY)
  add_executable(${name}_cxx "${_cxx_source}")
  set_target_properties(${name}_cxx PROPERTIES
    CXX_STANDARD 17 CXX_STANDARD_REQUIRED ON CXX_EXTENSIONS OFF)
  target_compile_options(${name}_cxx PRIVATE ${LLMRING_STRICT_WARNINGS})
  target_include_directories(${name}_cxx PRIVATE "${CMAKE_CURRENT_SOURCE_DIR}")
  target_link_libraries(${name}_cxx PRIVATE ${library})
endfunction()

# llmring_add_valgrind_test(<test-name> <target>)
function(llmring_add_valgrind_test test_name target)
  if(VALGRIND_EXECUTABLE)
    add_test(NAME ${test_name}
             COMMAND "${VALGRIND_EXECUTABLE}" --error-exitcode=1 --leak-check=full
                     --errors-for-leak-kinds=definite,indirect,possible --quiet
                     $<TARGET_FILE:${target}>)
  else()
    message(STATUS "valgrind not found: ${test_name} is not registered")
  endif()
endfunction()
