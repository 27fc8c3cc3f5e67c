#include "dms_malloc.h"

#include <malloc.h>

int dms_set_mmap_threshold(int bytes) {
    return mallopt(M_MMAP_THRESHOLD, bytes);
}
