/*  zs_mp.c - see zs_mp.h.  */
#include "zs_mp.h"

#include <pthread.h>

#include <string.h>

static size_t s_left (const zs_mp_t *mp)
{
    return (size_t) (mp->end - mp->p);
}

static uint64_t s_be (const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

zs_mp_kind_t zs_mp_peek (const zs_mp_t *mp)
{
    if (mp->p >= mp->end)
        return ZS_MP_END;
    uint8_t b = *mp->p;
    if (b <= 0x7f || (b >= 0xcc && b <= 0xcf))
        return ZS_MP_UINT;
    if (b >= 0xe0 || (b >= 0xd0 && b <= 0xd3))
        return ZS_MP_NINT; /* checked for sign when read */
    if ((b >= 0x80 && b <= 0x8f) || b == 0xde || b == 0xdf)
        return ZS_MP_MAP;
    if ((b >= 0x90 && b <= 0x9f) || b == 0xdc || b == 0xdd)
        return ZS_MP_ARRAY;
    if ((b >= 0xa0 && b <= 0xbf) || (b >= 0xd9 && b <= 0xdb))
        return ZS_MP_STR;
    switch (b) {
    case 0xc0:
        return ZS_MP_NIL;
    case 0xc2:
    case 0xc3:
        return ZS_MP_BOOL;
    case 0xc4:
    case 0xc5:
    case 0xc6:
        return ZS_MP_BIN;
    case 0xca:
    case 0xcb:
        return ZS_MP_FLOAT;
    case 0xc7:
    case 0xc8:
    case 0xc9:
    case 0xd4:
    case 0xd5:
    case 0xd6:
    case 0xd7:
    case 0xd8:
        return ZS_MP_EXT;
    default:
        return ZS_MP_INVALID;
    }
}

const char *zs_mp_kind_name (zs_mp_kind_t kind)
{
    static const char *names[] = {"nil",   "boolean", "integer", "integer",
                                  "float", "string",  "binary",  "array",
                                  "map",   "extension", "an invalid byte",
                                  "nothing (truncated: the body ends here)"};
    return kind <= ZS_MP_END ? names[kind] : "?";
}

/*  Reads a length-prefixed header: small (fix) forms encoded in the byte,
    or 1/2/4-byte big-endian lengths. */
static int s_header (zs_mp_t *mp, uint8_t fixlo, uint8_t fixhi,
                     uint8_t fixmask, const uint8_t forms[3], uint32_t *n)
{
    if (mp->p >= mp->end)
        return -1;
    uint8_t b = *mp->p;
    if (b >= fixlo && b <= fixhi) {
        *n = b & fixmask;
        mp->p++;
        return 0;
    }
    static const int sizes[3] = {1, 2, 4};
    for (int i = 0; i < 3; i++) {
        if (!forms[i] || b != forms[i])
            continue;
        if (s_left (mp) < (size_t) (1 + sizes[i]))
            return -1;
        *n = (uint32_t) s_be (mp->p + 1, sizes[i]);
        mp->p += 1 + sizes[i];
        return 0;
    }
    return -1;
}

int zs_mp_read_map_any (zs_mp_t *mp, uint32_t *n)
{
    static const uint8_t forms[3] = {0, 0xde, 0xdf};
    const uint8_t *save = mp->p;
    if (s_header (mp, 0x80, 0x8f, 0x0f, forms, n) != 0)
        return -1;
    if ((uint64_t) *n * 2 > s_left (mp)) { /* each entry is >= 2 bytes */
        mp->p = save;
        return -1;
    }
    return 0;
}

int zs_mp_read_array (zs_mp_t *mp, uint32_t *n)
{
    static const uint8_t forms[3] = {0, 0xdc, 0xdd};
    const uint8_t *save = mp->p;
    if (s_header (mp, 0x90, 0x9f, 0x0f, forms, n) != 0)
        return -1;
    if ((uint64_t) *n > s_left (mp)) { /* each element is >= 1 byte */
        mp->p = save;
        return -1;
    }
    return 0;
}

int zs_mp_read_str_any (zs_mp_t *mp, const char **s, uint32_t *len)
{
    static const uint8_t forms[3] = {0xd9, 0xda, 0xdb};
    const uint8_t *save = mp->p;
    if (s_header (mp, 0xa0, 0xbf, 0x1f, forms, len) != 0)
        return -1;
    if (*len > s_left (mp)) {
        mp->p = save;
        return -1;
    }
    *s = (const char *) mp->p;
    mp->p += *len;
    return 0;
}

/*  Reads any integer as a signed 128-bit-free pair: negative flag and
    magnitude. */
static int s_read_int (zs_mp_t *mp, bool *negative, uint64_t *mag)
{
    if (mp->p >= mp->end)
        return -1;
    uint8_t b = *mp->p;
    size_t left = s_left (mp);
    *negative = false;
    if (b <= 0x7f) {
        *mag = b;
        mp->p++;
        return 0;
    }
    if (b >= 0xe0) {
        *negative = true;
        *mag = (uint64_t) (256 - b);
        mp->p++;
        return 0;
    }
    int size = 0;
    bool is_signed = false;
    switch (b) {
    case 0xcc: size = 1; break;
    case 0xcd: size = 2; break;
    case 0xce: size = 4; break;
    case 0xcf: size = 8; break;
    case 0xd0: size = 1; is_signed = true; break;
    case 0xd1: size = 2; is_signed = true; break;
    case 0xd2: size = 4; is_signed = true; break;
    case 0xd3: size = 8; is_signed = true; break;
    default:
        return -1;
    }
    if (left < (size_t) (1 + size))
        return -1;
    uint64_t raw = s_be (mp->p + 1, size);
    mp->p += 1 + size;
    if (is_signed) {
        int bits = size * 8;
        uint64_t sign = (uint64_t) 1 << (bits - 1);
        if (raw & sign) {
            /* two's complement magnitude of a negative number */
            uint64_t mask = bits == 64 ? ~(uint64_t) 0
                                       : (((uint64_t) 1 << bits) - 1);
            *negative = true;
            *mag = ((~raw) & mask) + 1;
        }
        else
            *mag = raw;
    }
    else
        *mag = raw;
    return 0;
}

int zs_mp_read_uint_any (zs_mp_t *mp, uint64_t *v)
{
    const uint8_t *save = mp->p;
    bool negative;
    uint64_t mag;
    if (s_read_int (mp, &negative, &mag) != 0 || (negative && mag != 0)) {
        mp->p = save;
        return -1;
    }
    *v = mag;
    return 0;
}

int zs_mp_read_double_any (zs_mp_t *mp, double *v)
{
    if (mp->p >= mp->end)
        return -1;
    uint8_t b = *mp->p;
    if (b == 0xca) {
        if (s_left (mp) < 5)
            return -1;
        uint32_t bits = (uint32_t) s_be (mp->p + 1, 4);
        float f;
        memcpy (&f, &bits, sizeof f);
        *v = (double) f;
        mp->p += 5;
        return 0;
    }
    if (b == 0xcb) {
        if (s_left (mp) < 9)
            return -1;
        uint64_t bits = s_be (mp->p + 1, 8);
        memcpy (v, &bits, sizeof *v);
        mp->p += 9;
        return 0;
    }
    const uint8_t *save = mp->p;
    bool negative;
    uint64_t mag;
    if (s_read_int (mp, &negative, &mag) != 0) {
        mp->p = save;
        return -1;
    }
    *v = negative ? -(double) mag : (double) mag;
    return 0;
}

int zs_mp_read_bool (zs_mp_t *mp, bool *v)
{
    if (mp->p >= mp->end || (*mp->p != 0xc2 && *mp->p != 0xc3))
        return -1;
    *v = *mp->p == 0xc3;
    mp->p++;
    return 0;
}

int zs_mp_read_nil (zs_mp_t *mp)
{
    if (mp->p >= mp->end || *mp->p != 0xc0)
        return -1;
    mp->p++;
    return 0;
}

/*  What the first byte of a value says about its size (the skip's table):
    a value of fixed size, a length of 1, 2 or 4 bytes that follows (then
    that many bytes; ext has a type byte more), a container whose count is
    in the byte or follows, or nothing valid (0xc1). */
enum {
    S_BAD,       /* 0xc1                                                   */
    S_FIXED,     /* arg = the whole value's size                           */
    S_FIXSTR,    /* 0xa0-0xbf: the length is in the byte                   */
    S_LEN,       /* arg = bytes of length; then the data                   */
    S_EXTLEN,    /* arg = bytes of length; then a type byte and the data   */
    S_FIXARRAY,  /* 0x90-0x9f                                              */
    S_FIXMAP,    /* 0x80-0x8f                                              */
    S_ARRAY,     /* arg = bytes of count                                   */
    S_MAP        /* arg = bytes of count                                   */
};

typedef struct {
    uint8_t cls, arg;
} s_byte_t;

static s_byte_t s_bytes[256];
static pthread_once_t s_bytes_once = PTHREAD_ONCE_INIT;

static void s_bytes_init (void)
{
    for (int b = 0; b < 256; b++) {
        s_byte_t *t = &s_bytes[b];
        t->cls = S_FIXED;
        t->arg = 1; /* fixints, nil, booleans */
        if (b >= 0x80 && b <= 0x8f)
            t->cls = S_FIXMAP;
        else if (b >= 0x90 && b <= 0x9f)
            t->cls = S_FIXARRAY;
        else if (b >= 0xa0 && b <= 0xbf)
            t->cls = S_FIXSTR;
    }
    static const struct {
        uint8_t b, cls, arg;
    } forms[] = {
        {0xc1, S_BAD, 0},    {0xc4, S_LEN, 1},    {0xc5, S_LEN, 2},
        {0xc6, S_LEN, 4},    {0xc7, S_EXTLEN, 1}, {0xc8, S_EXTLEN, 2},
        {0xc9, S_EXTLEN, 4}, {0xca, S_FIXED, 5},  {0xcb, S_FIXED, 9},
        {0xcc, S_FIXED, 2},  {0xcd, S_FIXED, 3},  {0xce, S_FIXED, 5},
        {0xcf, S_FIXED, 9},  {0xd0, S_FIXED, 2},  {0xd1, S_FIXED, 3},
        {0xd2, S_FIXED, 5},  {0xd3, S_FIXED, 9},  {0xd4, S_FIXED, 3},
        {0xd5, S_FIXED, 4},  {0xd6, S_FIXED, 6},  {0xd7, S_FIXED, 10},
        {0xd8, S_FIXED, 18}, {0xd9, S_LEN, 1},    {0xda, S_LEN, 2},
        {0xdb, S_LEN, 4},    {0xdc, S_ARRAY, 2},  {0xdd, S_ARRAY, 4},
        {0xde, S_MAP, 2},    {0xdf, S_MAP, 4},
    };
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        s_bytes[forms[i].b].cls = forms[i].cls;
        s_bytes[forms[i].b].arg = forms[i].arg;
    }
}

/*  Without recursion: a count of the values still to skip at each open
    container (the record walk of every batch goes through here, once per
    value; a recursive skip by kind was 10% of a subscriber's time). */
#define SKIP_STACK 64

int zs_mp_skip (zs_mp_t *mp, int max_depth)
{
    pthread_once (&s_bytes_once, s_bytes_init);
    if (max_depth > SKIP_STACK)
        max_depth = SKIP_STACK; /* deeper than any message may nest */
    const uint8_t *p = mp->p, *end = mp->end;
    uint64_t todo[SKIP_STACK + 1];
    int depth = 0;
    uint64_t left = 1; /* values still to skip at this depth */
    for (;;) {
        while (!left) {
            if (!depth) {
                mp->p = p;
                return 0;
            }
            left = todo[--depth];
        }
        left--;
        if (p >= end)
            return -1;
        size_t room = (size_t) (end - p);
        const s_byte_t t = s_bytes[*p];
        uint64_t n;
        switch (t.cls) {
        case S_FIXED:
            if (room < t.arg)
                return -1;
            p += t.arg;
            break;
        case S_FIXSTR:
            n = *p & 0x1f;
            if (room < 1 + n)
                return -1;
            p += 1 + n;
            break;
        case S_LEN:
        case S_EXTLEN:
            if (room < 1u + t.arg)
                return -1;
            n = s_be (p + 1, t.arg) + (t.cls == S_EXTLEN);
            if (room - 1 - t.arg < n)
                return -1;
            p += 1 + t.arg + n;
            break;
        case S_FIXARRAY:
        case S_FIXMAP:
        case S_ARRAY:
        case S_MAP:
            if (depth >= max_depth)
                return -1; /* nested too deep */
            if (t.cls == S_FIXARRAY || t.cls == S_FIXMAP) {
                n = *p & 0x0f;
                p++;
            }
            else {
                if (room < 1u + t.arg)
                    return -1;
                n = s_be (p + 1, t.arg);
                p += 1 + t.arg;
            }
            if (t.cls == S_FIXMAP || t.cls == S_MAP)
                n *= 2;
            if (n > (uint64_t) (end - p))
                return -1; /* each value is at least a byte */
            todo[depth++] = left;
            left = n;
            break;
        default:
            return -1; /* 0xc1 */
        }
    }
}
