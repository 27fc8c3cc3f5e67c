#ifndef DMS_CZLIB_INFLATE_SHIM_H
#define DMS_CZLIB_INFLATE_SHIM_H

#include <zlib.h>

// zlib for the request bodies' Content-Encoding (DMSHTTP). Not named CZlib: ZIPFoundation has a
// module of that name.

/// zlib's inflateInit2 is a macro (it passes the header's version and the stream's size to
/// inflateInit2_), which Swift cannot call; this is it as a function.
static inline int dms_inflate_init(z_stream *stream, int window_bits) {
    return inflateInit2(stream, window_bits);
}

#endif
