/*  zs_msgdec.c - the strict, table-driven decoder (and the peek at a
    message's type that comes before it): every key, kind, bound and
    charset of a message's table (zs_msgapi.c, zs_msgwork.c, zs_msgres.c)
    is checked, and anything else refused with the key and the reason.

    Decoding copies strings (NUL-terminated) and arrays into the struct's
    reusable mem_ buffer.  Types without arrays need at most twice the input
    size (each string costs at least one header byte on the wire, which
    pays for its NUL), so they decode in one pass; types with arrays fill
    the room the struct already has, and when it runs out, count what the
    rest needs and decode again (once per struct, when reused: a lane's
    tasks decode in one pass).
*/
#include "zs_msg.h"
#include "zs_msg_int.h"
#include "zs_mp.h"

#include <assert.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------- */
/*  Decoding                                                               */

typedef struct {
    zs_mp_t mp;
    bool measure;       /* out of room: only count memory                 */
    size_t used;        /* bytes of mem used (or needed)                  */
    char *mem;
    size_t cap;
    size_t nidx;        /* count of the last index array read            */
    char *err;
    size_t errlen;
} s_dec_t;

/*  Reserves bytes (aligned) in mem; NULL while measuring. */
static void *s_reserve (s_dec_t *d, size_t bytes, size_t align)
{
    size_t at = (d->used + align - 1) & ~(align - 1);
    d->used = at + bytes;
    if (!d->measure && d->used > d->cap)
        d->measure = true; /* out of room: only count from here on */
    if (d->measure)
        return NULL;
    return d->mem + at;
}

static const char *s_copy_str (s_dec_t *d, const char *s, uint32_t len)
{
    char *dst = (char *) s_reserve (d, (size_t) len + 1, 1);
    if (!dst)
        return "";
    memcpy (dst, s, len);
    dst[len] = 0;
    return dst;
}

static int s_dec_str_len (s_dec_t *d, const char *key, zs_fkind_t kind,
                          const char **out, uint32_t *lenp);

static int s_dec_str (s_dec_t *d, const char *key, zs_fkind_t kind,
                      const char **out)
{
    uint32_t len;
    return s_dec_str_len (d, key, kind, out, &len);
}

/*  Like s_dec_str, and gives the string's length. */
static int s_dec_str_len (s_dec_t *d, const char *key, zs_fkind_t kind,
                          const char **out, uint32_t *lenp)
{
    const char *s;
    uint32_t len;
    if (zs_mp_read_str (&d->mp, &s, &len) != 0)
        return zs_msg_fail (d->err, d->errlen, "%s: want a string, got %s", key,
                            zs_mp_kind_name (zs_mp_peek (&d->mp)));
    const char *why = zs_msg_check_str (kind, s, len);
    if (why)
        return zs_msg_fail (d->err, d->errlen, "%s %s", key, why);
    *out = s_copy_str (d, s, len);
    *lenp = len;
    return 0;
}

static int s_dec_enum (s_dec_t *d, const char *key, zs_fkind_t kind,
                       int *out)
{
    const char *s;
    uint32_t len;
    if (zs_mp_read_str (&d->mp, &s, &len) != 0)
        return zs_msg_fail (d->err, d->errlen, "%s: want a string, got %s", key,
                            zs_mp_kind_name (zs_mp_peek (&d->mp)));
    int i = zs_msg_enum_find (kind, s, len);
    if (i < 0)
        return zs_msg_fail (d->err, d->errlen, "%s: unknown value '%.*s'", key,
                            (int) (len > 32 ? 32 : len), s);
    *out = i;
    return 0;
}

static int s_dec_uint (s_dec_t *d, const char *key, uint64_t max,
                       uint64_t *out)
{
    if (zs_mp_read_uint (&d->mp, out) != 0)
        return zs_msg_fail (d->err, d->errlen,
                            "%s: want a non-negative integer, got %s", key,
                            zs_mp_kind_name (zs_mp_peek (&d->mp)));
    if (*out > max)
        return zs_msg_fail (d->err, d->errlen, "%s: %llu is out of range", key,
                            (unsigned long long) *out);
    return 0;
}

static int s_dec_double (s_dec_t *d, const char *key, bool nil_ok,
                         double *out)
{
    if (nil_ok && zs_mp_read_nil (&d->mp) == 0) {
        *out = NAN;
        return 0;
    }
    if (zs_mp_read_double (&d->mp, out) != 0)
        return zs_msg_fail (d->err, d->errlen, "%s: want a number, got %s", key,
                            zs_mp_kind_name (zs_mp_peek (&d->mp)));
    if (!nil_ok && !isfinite (*out))
        return zs_msg_fail (d->err, d->errlen, "%s: not a finite number", key);
    if (nil_ok && isinf (*out))
        return zs_msg_fail (d->err, d->errlen, "%s: not a finite number", key);
    return 0;
}

static bool s_key_is (const char *k, uint32_t klen, const char *want)
{
    /* compare without strlen: want is NUL-terminated, k is not */
    for (uint32_t i = 0; i < klen; i++)
        if (want[i] != k[i] || !want[i])
            return false;
    return want[klen] == 0;
}

static int s_dec_def (s_dec_t *d, zs_scan_def_t *def)
{
    uint32_t n;
    if (zs_mp_read_map (&d->mp, &n) != 0)
        return zs_msg_fail (d->err, d->errlen, "def: want a map, got %s",
                            zs_mp_kind_name (zs_mp_peek (&d->mp)));
    unsigned seen = 0;
    for (uint32_t i = 0; i < n; i++) {
        const char *k;
        uint32_t klen;
        if (zs_mp_read_str (&d->mp, &k, &klen) != 0)
            return zs_msg_fail (d->err, d->errlen, "def: keys must be strings");
        int which = s_key_is (k, klen, "data")       ? 0
                    : s_key_is (k, klen, "strategy") ? 1
                    : s_key_is (k, klen, "filter")   ? 2
                    : s_key_is (k, klen, "params")   ? 3
                                                     : -1;
        if (which < 0) {
            if (zs_mp_skip (&d->mp, MAX_SKIP_DEPTH) != 0)
                return zs_msg_fail (d->err, d->errlen,
                                    "def: malformed value of unknown key");
            continue;
        }
        if (seen & (1u << which))
            return zs_msg_fail (d->err, d->errlen, "def: duplicate key '%.*s'",
                                (int) klen, k);
        seen |= 1u << which;
        int rc = 0;
        if (which == 0)
            rc = s_dec_str (d, "def.data", K_TEXT, &def->data);
        else if (which == 1)
            rc = s_dec_str (d, "def.strategy", K_NAME, &def->strategy);
        else if (which == 2)
            rc = s_dec_str (d, "def.filter", K_FILTER, &def->filter);
        else {
            uint32_t np;
            if (zs_mp_read_map (&d->mp, &np) != 0)
                return zs_msg_fail (d->err, d->errlen,
                                    "def.params: want a map, got %s",
                                    zs_mp_kind_name (zs_mp_peek (&d->mp)));
            if (np > ZS_PARAMS_MAX)
                return zs_msg_fail (d->err, d->errlen,
                                    "def.params: more than %d", ZS_PARAMS_MAX);
            def->nparams = np;
            /* names compared as they are on the wire: the same verdict
               whether this pass copies strings or only counts */
            const char *raw[ZS_PARAMS_MAX];
            uint32_t rawlen[ZS_PARAMS_MAX];
            for (uint32_t j = 0; j < np && rc == 0; j++) {
                zs_mp_t at = d->mp;
                rc = s_dec_str (d, "def.params name", K_NAME,
                                &def->pnames[j]);
                if (rc == 0) {
                    zs_mp_read_str (&at, &raw[j], &rawlen[j]); /* just read */
                    rc = s_dec_double (d, "def.params value", false,
                                       &def->pvalues[j]);
                }
                for (uint32_t q = 0; q < j && rc == 0; q++)
                    if (rawlen[q] == rawlen[j]
                        && memcmp (raw[q], raw[j], rawlen[j]) == 0)
                        rc = zs_msg_fail (d->err, d->errlen,
                                          "def.params: '%.*s' given twice",
                                          (int) rawlen[j], raw[j]);
            }
        }
        if (rc != 0)
            return rc;
    }
    if (def->strategy && def->filter)
        return zs_msg_fail (d->err, d->errlen,
                            "def: strategy and filter are exclusive");
    return 0;
}

static int s_dec_fields (s_dec_t *d, const zs_field_t *fields, size_t n,
                         void *base, const char *type);

static int s_dec_field (s_dec_t *d, const zs_field_t *f, void *base)
{
    void *p = (char *) base + f->off;
    uint64_t u;
    int e;
    switch (f->kind) {
    case K_U64:
        return s_dec_uint (d, f->key, UINT64_MAX, (uint64_t *) p);
    case K_U32:
        if (s_dec_uint (d, f->key, UINT32_MAX, &u) != 0)
            return -1;
        *(uint32_t *) p = (uint32_t) u;
        return 0;
    case K_BOOL:
        if (zs_mp_read_bool (&d->mp, (bool *) p) != 0)
            return zs_msg_fail (d->err, d->errlen, "%s: want a boolean, got %s",
                                f->key, zs_mp_kind_name (zs_mp_peek (&d->mp)));
        return 0;
    case K_DBL:
        return s_dec_double (d, f->key, false, (double *) p);
    case K_DBLNAN:
        return s_dec_double (d, f->key, true, (double *) p);
    case K_PRIO:
        if (s_dec_enum (d, f->key, K_PRIO, &e) != 0)
            return -1;
        *(zs_priority_t *) p = (zs_priority_t) e;
        return 0;
    case K_REASON:
        if (s_dec_enum (d, f->key, K_REASON, &e) != 0)
            return -1;
        *(zs_end_reason_t *) p = (zs_end_reason_t) e;
        return 0;
    case K_STATE:
        if (s_dec_enum (d, f->key, K_STATE, &e) != 0)
            return -1;
        *(zs_scan_state_t *) p = (zs_scan_state_t) e;
        return 0;
    case K_VIEW:
        if (s_dec_enum (d, f->key, K_VIEW, &e) != 0)
            return -1;
        *(zs_view_t *) p = (zs_view_t) e;
        return 0;
    case K_DEF:
        return s_dec_def (d, (zs_scan_def_t *) p);
    case K_TSYMS:
    case K_USYMS: {
        uint32_t n;
        if (zs_mp_read_array (&d->mp, &n) != 0)
            return zs_msg_fail (d->err, d->errlen, "%s: want an array, got %s",
                                f->key, zs_mp_kind_name (zs_mp_peek (&d->mp)));
        size_t max = f->kind == K_TSYMS ? ZS_TASK_SYMBOLS_MAX : ZS_UNIVERSE_MAX;
        if (n > max || (f->kind == K_TSYMS && n == 0))
            return zs_msg_fail (d->err, d->errlen,
                                "%s: %u symbols (want %s..%zu)", f->key, n,
                                f->kind == K_TSYMS ? "1" : "0", max);
        const char **arr = (const char **) s_reserve (
            d, (size_t) n * sizeof (char *), sizeof (char *));
        for (uint32_t i = 0; i < n; i++) {
            const char *s = NULL;
            if (s_dec_str (d, f->key, K_SYM, &s) != 0)
                return -1;
            if (arr)
                arr[i] = s;
        }
        *(const char ***) p = arr;
        *(size_t *) ((char *) base + f->off2) = n;
        return 0;
    }
    case K_IDX: {
        uint32_t n;
        if (zs_mp_read_array (&d->mp, &n) != 0)
            return zs_msg_fail (d->err, d->errlen, "%s: want an array, got %s",
                                f->key, zs_mp_kind_name (zs_mp_peek (&d->mp)));
        if (n > ZS_TASK_SYMBOLS_MAX)
            return zs_msg_fail (d->err, d->errlen, "%s: too long", f->key);
        uint32_t *arr = (uint32_t *) s_reserve (
            d, (size_t) n * sizeof (uint32_t), sizeof (uint32_t));
        for (uint32_t i = 0; i < n; i++) {
            if (s_dec_uint (d, f->key, UINT32_MAX, &u) != 0)
                return -1;
            if (arr)
                arr[i] = (uint32_t) u;
        }
        *(uint32_t **) p = arr;
        d->nidx = n;
        return 0;
    }
    case K_VALUES: {
        uint32_t n;
        if (zs_mp_read_map (&d->mp, &n) != 0)
            return zs_msg_fail (d->err, d->errlen, "%s: want a map, got %s",
                                f->key, zs_mp_kind_name (zs_mp_peek (&d->mp)));
        if (n > ZS_VALUES_MAX)
            return zs_msg_fail (d->err, d->errlen, "%s: more than %d", f->key,
                                ZS_VALUES_MAX);
        zs_value_t *vals = (zs_value_t *) p;
        /* names compared as they are on the wire (see def.params) */
        const char *raw[ZS_VALUES_MAX];
        uint32_t lens[ZS_VALUES_MAX];
        for (uint32_t i = 0; i < n; i++) {
            zs_mp_t at = d->mp;
            if (s_dec_str (d, "values name", K_NAME, &vals[i].name) != 0
                || s_dec_double (d, "values entry", true, &vals[i].value)
                       != 0)
                return -1;
            zs_mp_read_str (&at, &raw[i], &lens[i]); /* read just above */
            for (uint32_t j = 0; j < i; j++)
                if (lens[j] == lens[i] && raw[j][0] == raw[i][0]
                    && memcmp (raw[j], raw[i], lens[i]) == 0)
                    return zs_msg_fail (d->err, d->errlen,
                                        "%s: '%.*s' given twice", f->key,
                                        (int) lens[i], raw[i]);
        }
        *(size_t *) ((char *) base + f->off2) = n;
        return 0;
    }
    case K_INFOS:
    case K_WORKERS: {
        uint32_t n;
        if (zs_mp_read_array (&d->mp, &n) != 0)
            return zs_msg_fail (d->err, d->errlen, "%s: want an array, got %s",
                                f->key, zs_mp_kind_name (zs_mp_peek (&d->mp)));
        if (n > ZS_LIST_MAX)
            return zs_msg_fail (d->err, d->errlen, "%s: more than %d", f->key,
                                ZS_LIST_MAX);
        const zs_field_t *sub;
        size_t nsub, size;
        zs_msg_entry_table ((zs_fkind_t) f->kind, &sub, &nsub, &size);
        char *arr = (char *) s_reserve (d, (size_t) n * size, sizeof (double));
        union {
            zs_scan_info_t info;
            zs_worker_info_t worker;
        } scratch;
        for (uint32_t i = 0; i < n; i++) {
            void *target = arr ? arr + i * size : (void *) &scratch;
            memset (target, 0, size);
            if (s_dec_fields (d, sub, nsub, target, NULL) != 0)
                return -1;
        }
        *(void **) p = arr;
        *(size_t *) ((char *) base + f->off2) = n;
        return 0;
    }
    default:
        return s_dec_str (d, f->key, (zs_fkind_t) f->kind, (const char **) p);
    }
}

/*  Decodes a map of fields into base.  When type is not NULL the map must
    carry "v" = ZS_PROTO_VERSION and "type" = type. */
static int s_dec_fields (s_dec_t *d, const zs_field_t *fields, size_t n,
                         void *base, const char *type)
{
    uint32_t count;
    if (zs_mp_read_map (&d->mp, &count) != 0)
        return zs_msg_fail (d->err, d->errlen, "%s: want a map, got %s",
                            type ? "body" : "entry",
                            zs_mp_kind_name (zs_mp_peek (&d->mp)));
    uint64_t seen = 0;
    size_t hint = 0;
    bool seen_v = false, seen_type = false;
    for (uint32_t i = 0; i < count; i++) {
        const char *k;
        uint32_t klen;
        if (zs_mp_read_str (&d->mp, &k, &klen) != 0) {
            if (d->mp.p >= d->mp.end)
                return zs_msg_fail (
                    d->err, d->errlen,
                    "truncated: the map ends after %u of its %u "
                    "entries",
                    i, count);
            if (zs_mp_peek (&d->mp) == ZS_MP_STR)
                return zs_msg_fail (d->err, d->errlen,
                                    "truncated: key %u runs past the end",
                                    i + 1);
            return zs_msg_fail (d->err, d->errlen,
                                "keys must be strings, got %s",
                                zs_mp_kind_name (zs_mp_peek (&d->mp)));
        }
        if (type && s_key_is (k, klen, "v")) {
            uint64_t v;
            if (seen_v)
                return zs_msg_fail (d->err, d->errlen, "duplicate key 'v'");
            seen_v = true;
            if (zs_mp_read_uint (&d->mp, &v) != 0)
                return zs_msg_fail (d->err, d->errlen,
                                    "v: want the protocol version number");
            if (v != ZS_PROTO_VERSION)
                return zs_msg_fail (d->err, d->errlen,
                                    "unsupported protocol version %llu (this "
                                    "is version %d)",
                                    (unsigned long long) v, ZS_PROTO_VERSION);
            continue;
        }
        if (type && s_key_is (k, klen, "type")) {
            const char *t;
            uint32_t tlen;
            if (seen_type)
                return zs_msg_fail (d->err, d->errlen, "duplicate key 'type'");
            seen_type = true;
            if (zs_mp_read_str (&d->mp, &t, &tlen) != 0)
                return zs_msg_fail (d->err, d->errlen, "type: want a string");
            if (!s_key_is (t, tlen, type))
                return zs_msg_fail (d->err, d->errlen,
                                    "type is '%.*s', want '%s'",
                                    (int) (tlen > 32 ? 32 : tlen), t, type);
            continue;
        }
        /* encoders write fields in table order, skipping absent ones:
           look ahead from the last match first, then behind it */
        if (hint > n)
            hint = n;
        size_t j = hint;
        while (j < n && !s_key_is (k, klen, fields[j].key))
            j++;
        if (j == n) {
            for (j = 0; j < hint && !s_key_is (k, klen, fields[j].key); j++)
                ;
            if (j == hint)
                j = n; /* not a field of ours */
        }
        hint = j + 1;
        if (j == n) { /* unknown: skip, for forward compatibility */
            if (zs_mp_skip (&d->mp, MAX_SKIP_DEPTH) != 0)
                return zs_msg_fail (d->err, d->errlen,
                                    "malformed value of unknown key '%.*s'",
                                    (int) (klen > 32 ? 32 : klen), k);
            continue;
        }
        if (seen & ((uint64_t) 1 << j))
            return zs_msg_fail (d->err, d->errlen, "duplicate key '%s'",
                                fields[j].key);
        seen |= (uint64_t) 1 << j;
        if (s_dec_field (d, &fields[j], base) != 0)
            return -1;
    }
    if (type && !seen_v)
        return zs_msg_fail (d->err, d->errlen, "missing protocol version 'v'");
    if (type && !seen_type)
        return zs_msg_fail (d->err, d->errlen, "missing 'type'");
    for (size_t j = 0; j < n; j++)
        if (fields[j].required && !(seen & ((uint64_t) 1 << j)))
            return zs_msg_fail (d->err, d->errlen,
                                "missing required field '%s'", fields[j].key);
    return 0;
}

/*  Sets a struct to its "absent" values, keeping its mem_. */
static void s_reset (const zs_desc_t *desc, void *m)
{
    zs_mem_t mem = *(zs_mem_t *) ((char *) m + desc->mem_off);
    memset (m, 0, desc->size);
    *(zs_mem_t *) ((char *) m + desc->mem_off) = mem;
    for (size_t i = 0; i < desc->nfields; i++)
        if (desc->fields[i].kind == K_DBLNAN)
            *(double *) ((char *) m + desc->fields[i].off) = NAN;
}

static int s_pass (const zs_desc_t *desc, const void *data, size_t size,
                   void *m, s_dec_t *d)
{
    d->mp.p = (const uint8_t *) data;
    d->mp.end = d->mp.p + size;
    d->used = 0;
    d->nidx = 0;
    s_reset (desc, m);
    if (s_dec_fields (d, desc->fields, desc->nfields, m,
                      zs_msg_type_name (desc->type))
        != 0)
        return -1;
    if (d->mp.p != d->mp.end)
        return zs_msg_fail (d->err, d->errlen,
                            "%zu trailing bytes after the body",
                            (size_t) (d->mp.end - d->mp.p));
    if (desc->type == ZS_MSG_TASK) {
        zs_task_t *t = (zs_task_t *) m;
        if (d->nidx != t->nsymbols)
            return zs_msg_fail (d->err, d->errlen,
                                "index has %zu entries for %zu symbols",
                                d->nidx, t->nsymbols);
    }
    return 0;
}

int zs_msg_decode_desc (const zs_desc_t *desc, const void *data, size_t size,
                     void *m, char *err, size_t errlen)
{
    if (!data && size)
        return zs_msg_fail (err, errlen, "no data");
    if (size > ZS_MSG_MAX)
        return zs_msg_fail (err, errlen,
                            "message of %zu bytes is over the limit", size);
    zs_mem_t *mem = (zs_mem_t *) ((char *) m + desc->mem_off);
    s_dec_t d;
    memset (&d, 0, sizeof d);
    d.err = err;
    d.errlen = errlen;
    /* without arrays: room enough at once; with arrays: fill what room
       the struct has (a reused struct's is usually enough), and when it
       runs out count the rest, make room, and fill again */
    size_t need = desc->arrays ? 256 : 2 * size + 64;
    for (int pass = 0; pass < 2; pass++) {
        if (mem->cap < need) {
            char *p = (char *) realloc (mem->p, need);
            if (!p) {
                s_reset (desc, m);
                return zs_msg_fail (err, errlen, "out of memory");
            }
            mem->p = p;
            mem->cap = need;
        }
        d.mem = mem->p;
        d.cap = mem->cap;
        d.measure = false;
        if (s_pass (desc, data, size, m, &d) != 0) {
            s_reset (desc, m);
            return -1;
        }
        if (!d.measure)
            return 0;
        need = d.used + d.used / 4 + 64;
    }
    assert (0 && "a second pass cannot run out of room"); /* our own */
    s_reset (desc, m);
    return zs_msg_fail (err, errlen, "out of memory");
}

/* ---------------------------------------------------------------------- */
/*  Peek                                                                   */

int zs_msg_peek_req (const void *data, size_t size, uint64_t *req)
{
    zs_mp_t mp = {(const uint8_t *) data, (const uint8_t *) data + size};
    uint32_t n;
    if (!data || zs_mp_read_map (&mp, &n) != 0)
        return -1;
    for (uint32_t i = 0; i < n; i++) {
        const char *k;
        uint32_t klen;
        if (zs_mp_read_str (&mp, &k, &klen) != 0)
            return -1;
        if (s_key_is (k, klen, "req"))
            return zs_mp_read_uint (&mp, req) == 0 ? 0 : -1;
        if (zs_mp_skip (&mp, MAX_SKIP_DEPTH) != 0)
            return -1;
    }
    return -1;
}

int zs_msg_peek (const void *data, size_t size, zs_msg_type_t *type,
                 char *err, size_t errlen)
{
    zs_mp_t mp = {(const uint8_t *) data, (const uint8_t *) data + size};
    uint32_t n;
    if (!data || zs_mp_read_map (&mp, &n) != 0)
        return zs_msg_fail (err, errlen, "not a msgpack map");
    bool have_v = false;
    const char *t = NULL;
    uint32_t tlen = 0;
    for (uint32_t i = 0; i < n; i++) {
        const char *k;
        uint32_t klen;
        if (zs_mp_read_str (&mp, &k, &klen) != 0)
            return zs_msg_fail (err, errlen, "keys must be strings");
        if (s_key_is (k, klen, "v")) {
            uint64_t v;
            if (zs_mp_read_uint (&mp, &v) != 0)
                return zs_msg_fail (err, errlen,
                                    "v: want the protocol version number");
            if (v != ZS_PROTO_VERSION)
                return zs_msg_fail (
                    err, errlen,
                    "unsupported protocol version %llu (this is "
                    "version %d)",
                    (unsigned long long) v, ZS_PROTO_VERSION);
            have_v = true;
        }
        else if (s_key_is (k, klen, "type")) {
            if (zs_mp_read_str (&mp, &t, &tlen) != 0)
                return zs_msg_fail (err, errlen, "type: want a string");
        }
        else if (zs_mp_skip (&mp, MAX_SKIP_DEPTH) != 0)
            return zs_msg_fail (err, errlen, "malformed value");
        if (have_v && t)
            break;
    }
    if (!have_v)
        return zs_msg_fail (err, errlen, "missing protocol version 'v'");
    if (!t)
        return zs_msg_fail (err, errlen, "missing 'type'");
    for (int i = 1; i < ZS_MSG_TYPE_COUNT; i++)
        if (s_key_is (t, tlen, zs_msg_type_name ((zs_msg_type_t) i))) {
            *type = (zs_msg_type_t) i;
            return 0;
        }
    return zs_msg_fail (err, errlen, "unknown message type '%.*s'",
                        (int) (tlen > 32 ? 32 : tlen), t);
}
