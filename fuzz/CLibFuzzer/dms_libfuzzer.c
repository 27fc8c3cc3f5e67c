// The module only declares libFuzzer's driver (include/dms_libfuzzer.h); SwiftPM wants a source file.
#include "dms_libfuzzer.h"
