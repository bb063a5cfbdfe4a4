/* The C API of llmring, as the Swift module CLLMRing (found on the include path that
 * `pkg-config --cflags llmring` gives). */
#include <llmring.h>
