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
    ZS_MP_INVALID,       /* 0xc1                                          */
    ZS_MP_END            /* nothing left: the body was cut short          */
} zs_mp_kind_t;

/* The kind of the next value, without consuming it. */
zs_mp_kind_t zs_mp_peek (const zs_mp_t *mp);
/* Name of a kind for error messages ("string", "map"...). */
const char *zs_mp_kind_name (zs_mp_kind_t kind);

/*  Each reader consumes one value of its kind and returns 0, or returns -1
    leaving the cursor where it was (wrong kind, truncated, too long).
    The common small forms (fixmap, fixstr, positive fixint, uint16,
    uint32, float64) are read inline; the rest by the *_any functions. */
int zs_mp_read_map_any (zs_mp_t *mp, uint32_t *n);
int zs_mp_read_array (zs_mp_t *mp, uint32_t *n); /* n <= what is left     */
int zs_mp_read_str_any (zs_mp_t *mp, const char **s, uint32_t *len);
int zs_mp_read_uint_any (zs_mp_t *mp, uint64_t *v);
int zs_mp_read_double_any (zs_mp_t *mp, double *v);
int zs_mp_read_bool (zs_mp_t *mp, bool *v);
int zs_mp_read_nil (zs_mp_t *mp);

/* n <= what is left / 2 */
static inline int zs_mp_read_map (zs_mp_t *mp, uint32_t *n)
{
    if (mp->p < mp->end && (*mp->p & 0xf0) == 0x80) {
        uint32_t k = *mp->p & 0x0f;
        if ((size_t) (mp->end - mp->p - 1) < (size_t) k * 2)
            return -1;
        *n = k;
        mp->p++;
        return 0;
    }
    return zs_mp_read_map_any (mp, n);
}

static inline int zs_mp_read_str (zs_mp_t *mp, const char **s, uint32_t *len)
{
    if (mp->p < mp->end && (*mp->p & 0xe0) == 0xa0) {
        uint32_t k = *mp->p & 0x1f;
        if ((size_t) (mp->end - mp->p - 1) < k)
            return -1;
        *s = (const char *) mp->p + 1;
        *len = k;
        mp->p += 1 + k;
        return 0;
    }
    return zs_mp_read_str_any (mp, s, len);
}

/* rejects negatives */
static inline int zs_mp_read_uint (zs_mp_t *mp, uint64_t *v)
{
    if (mp->p < mp->end) {
        const uint8_t *p = mp->p;
        size_t left = (size_t) (mp->end - p);
        if (*p <= 0x7f) {
            *v = *p;
            mp->p++;
            return 0;
        }
        if (*p == 0xcd && left >= 3) {
            *v = (uint64_t) p[1] << 8 | p[2];
            mp->p += 3;
            return 0;
        }
        if (*p == 0xce && left >= 5) {
            *v = (uint64_t) p[1] << 24 | (uint64_t) p[2] << 16
                 | (uint64_t) p[3] << 8 | p[4];
            mp->p += 5;
            return 0;
        }
    }
    return zs_mp_read_uint_any (mp, v);
}

/* floats and integers */
static inline int zs_mp_read_double (zs_mp_t *mp, double *v)
{
    if (mp->end - mp->p >= 9 && *mp->p == 0xcb) {
        /* big-endian on the wire: one load and a byte swap */
        uint64_t bits;
        __builtin_memcpy (&bits, mp->p + 1, sizeof bits);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        bits = __builtin_bswap64 (bits);
#endif
        __builtin_memcpy (v, &bits, sizeof *v);
        mp->p += 9;
        return 0;
    }
    return zs_mp_read_double_any (mp, v);
}

/*  Skips one value of any kind, nested at most max_depth (up to 64) deep.
    Returns 0, or -1 (truncated, too deep, invalid byte), the cursor then
    where it was.  Checks the structure only: what a string or a number
    holds is the reader's to judge. */
int zs_mp_skip (zs_mp_t *mp, int max_depth);

#endif
