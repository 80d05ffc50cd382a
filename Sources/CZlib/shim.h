#ifndef PORTCULLIS_CZLIB_SHIM_H
#define PORTCULLIS_CZLIB_SHIM_H
#include <zlib.h>

/*
 * deflateInit2 and inflateInit2 are macros (they pass ZLIB_VERSION and
 * sizeof(z_stream) so the library can check the header it was built with);
 * Swift cannot call macros, so these wrappers do. Negative windowBits select
 * raw deflate (no zlib header or checksum), as permessage-deflate requires.
 */
static inline int portcullis_deflateInit2(z_streamp stream, int level, int windowBits, int memLevel) {
    return deflateInit2(stream, level, Z_DEFLATED, windowBits, memLevel, Z_DEFAULT_STRATEGY);
}

static inline int portcullis_inflateInit2(z_streamp stream, int windowBits) {
    return inflateInit2(stream, windowBits);
}
#endif
