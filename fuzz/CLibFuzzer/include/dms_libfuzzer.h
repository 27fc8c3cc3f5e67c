#ifndef DMS_LIBFUZZER_H
#define DMS_LIBFUZZER_H

#include <stddef.h>
#include <stdint.h>

/// libFuzzer's entry point for programs with a main function of their own (LLVM 12 and later):
/// parses libFuzzer's flags from argv and runs `callback` on each input. Declared here because
/// libFuzzer ships no header for it; only `dms-fuzz`, linked with -sanitize=fuzzer, uses it.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
