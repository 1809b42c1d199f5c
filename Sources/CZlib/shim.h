#include <zlib.h>

// zlib's inflateInit2 is a macro; Swift sees only the underlying function.
static inline int czlib_inflate_init2(z_stream *stream, int windowBits) {
    return inflateInit2(stream, windowBits);
}
