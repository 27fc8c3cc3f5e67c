#ifndef DMS_MALLOC_H
#define DMS_MALLOC_H

/// Fixes glibc's mmap threshold (mallopt(M_MMAP_THRESHOLD, bytes)), which also stops glibc from
/// raising it on its own. Returns 1 on success, 0 on failure. <malloc.h> is not part of Swift's
/// Glibc module, hence this C function.
int dms_set_mmap_threshold(int bytes);

#endif
