/*  zs_mp.h - a strict, bounds-checked msgpack reader (private to proto/).

    Why not msgpack-c's unpacker for decoding: msgpack_unpack_next builds an
    object tree and allocates each container from its declared length
    before reading a single element, so a 5-byte input claiming an array of
    2^32 elements asks for ~100 GB.  This reader allocates nothing: it walks
    a cursor over the bytes, checks every length against what is left, and
    leaves copying to the caller.  Encoding uses msgpack-c's packer.
*/
#ifndef ZS_MP_H
#define ZS_MP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    const uint8_t *p;    /* next byte                                     */
    const uint8_t *end;  /* one past the last byte                        */
} zs_mp_t;

typedef enum {
    ZS_MP_NIL,
    ZS_MP_BOOL,
    ZS_MP_UINT,          /* non-negative integer                          */
    ZS_MP_NINT,          /* negative integer                              */
    ZS_MP_FLOAT,         /* float32 or float64                            */
    ZS_MP_STR,
    ZS_MP_BIN,
    ZS_MP_ARRAY,
    ZS_MP_MAP,
    ZS_MP_EXT,
    ZS_MP_INVALID        /* 0xc1, or nothing left                         */
} zs_mp_kind_t;

/* The kind of the next value, without consuming it. */
zs_mp_kind_t zs_mp_peek (const zs_mp_t *mp);
/* Name of a kind for error messages ("string", "map"...). */
const char *zs_mp_kind_name (zs_mp_kind_t kind);

/*  Each reader consumes one value of its kind and returns 0, or returns -1
    leaving the cursor where it was (wrong kind, truncated, too long). */
int zs_mp_read_map (zs_mp_t *mp, uint32_t *n);   /* n <= what is left / 2 */
int zs_mp_read_array (zs_mp_t *mp, uint32_t *n); /* n <= what is left     */
int zs_mp_read_str (zs_mp_t *mp, const char **s, uint32_t *len);
int zs_mp_read_uint (zs_mp_t *mp, uint64_t *v);  /* rejects negatives     */
int zs_mp_read_double (zs_mp_t *mp, double *v);  /* floats and integers   */
int zs_mp_read_bool (zs_mp_t *mp, bool *v);
int zs_mp_read_nil (zs_mp_t *mp);

/*  Skips one value of any kind, nested at most max_depth deep.  Returns 0,
    or -1 (truncated, too deep, invalid byte). */
int zs_mp_skip (zs_mp_t *mp, int max_depth);

#endif
