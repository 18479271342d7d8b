/*  zs_json.c - see zs_json.h.

    Numbers: the shortest decimal that reads back as the same double.  For
    the values records carry (prices, indicators, counts: 1e-4 <= |v| <
    1e17, not integers beyond 2^53) it is computed exactly with 128-bit
    integers: v and the two midpoints to its neighbours, scaled by 10^k so
    that v has 18 digits, bound the integers that round back to v; the
    shortest of them is the multiple of the largest power of ten among
    them (the nearest to v when there are several).  Anything else takes
    the slow road: %.15g, %.16g, %.17g, the first that strtod reads back
    (the nearest n-digit decimal is the one to try: if it does not read
    back, no n-digit decimal does).  tests/proto/test_json.c checks both
    against strtod on millions of values.
*/
#include "zs_json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef unsigned __int128 u128;

/*  Appending without a call per piece: room is made (rarely), then the
    bytes are copied in place.  On failure to grow nothing is written
    (the record then reads short: zs_json_record checks at its end). */
static int s_grow (zs_buf_t *b, size_t n)
{
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->size + n)
        cap *= 2;
    char *p = (char *) realloc (b->data, cap);
    if (!p)
        return -1;
    b->data = p;
    b->cap = cap;
    return 0;
}

static inline int s_room (zs_buf_t *b, size_t n)
{
    return b->size + n <= b->cap ? 0 : s_grow (b, n);
}

static inline void s_put (zs_buf_t *b, const void *p, size_t n)
{
    if (s_room (b, n) == 0) {
        memcpy (b->data + b->size, p, n);
        b->size += n;
    }
}

#define S_LIT(b, s) s_put ((b), (s), sizeof (s) - 1)

#define s_pow10_c0 1ULL
#define s_pow10_c1 10ULL
#define s_pow10_c2 100ULL
#define s_pow10_c3 1000ULL
#define s_pow10_c4 10000ULL
#define s_pow10_c5 100000ULL
#define s_pow10_c6 1000000ULL
#define s_pow10_c7 10000000ULL
#define s_pow10_c8 100000000ULL
#define s_pow10_c9 1000000000ULL
#define s_pow10_c10 10000000000ULL
#define s_pow10_c11 100000000000ULL
#define s_pow10_c12 1000000000000ULL
#define s_pow10_c13 10000000000000ULL
#define s_pow10_c14 100000000000000ULL
#define s_pow10_c15 1000000000000000ULL
#define s_pow10_c16 10000000000000000ULL
#define s_pow10_c17 100000000000000000ULL
#define s_pow10_c18 1000000000000000000ULL
#define s_pow10_c19 10000000000000000000ULL

static const uint64_t s_pow10[20] = {1ULL,
                                     10ULL,
                                     100ULL,
                                     1000ULL,
                                     10000ULL,
                                     100000ULL,
                                     1000000ULL,
                                     10000000ULL,
                                     100000000ULL,
                                     1000000000ULL,
                                     10000000000ULL,
                                     100000000000ULL,
                                     1000000000000ULL,
                                     10000000000000ULL,
                                     100000000000000ULL,
                                     1000000000000000ULL,
                                     10000000000000000ULL,
                                     100000000000000000ULL,
                                     1000000000000000000ULL,
                                     10000000000000000000ULL};

/*  x / 10^q, q in 0..19: each case a division by a constant, which the
    compiler turns into a multiplication (a division by a variable costs
    tens of cycles; a number needs several). */
static inline uint64_t s_div10 (uint64_t x, int q)
{
    switch (q) {
#define D(n)                                                               \
    case n:                                                                \
        return x / s_pow10_c##n;
        D (0) D (1) D (2) D (3) D (4) D (5) D (6) D (7) D (8) D (9)
        D (10) D (11) D (12) D (13) D (14) D (15) D (16) D (17) D (18)
        D (19)
#undef D
    default:
        return 0;
    }
}

static u128 s_p10 (int k)
{
    return k < 20 ? (u128) s_pow10[k] : (u128) s_pow10[19] * s_pow10[k - 19];
}

/*  Writes digits (a decimal integer d, ndig digits) times 10^exp in the
    form %g would choose: positional when the leading digit's exponent is
    in -5..16, else d.ddde+XX.  Returns the length. */
static size_t s_format (char *out, uint64_t d, int exp)
{
    char dig[24];
    int n = 0;
    while (d) {
        dig[n++] = (char) ('0' + d % 10);
        d /= 10;
    }
    /* dig holds the digits backwards */
    int lead = exp + n - 1; /* exponent of the leading digit */
    char *p = out;
    if (lead >= -5 && lead < 17) {
        if (lead < 0) {
            *p++ = '0';
            *p++ = '.';
            for (int z = 0; z < -lead - 1; z++)
                *p++ = '0';
            for (int i = n - 1; i >= 0; i--)
                *p++ = dig[i];
        } else {
            for (int i = n - 1; i >= 0; i--) {
                *p++ = dig[i];
                if (n - 1 - i == lead && i > 0)
                    *p++ = '.';
            }
            for (int z = 0; z < exp; z++)
                *p++ = '0';
        }
    } else {
        *p++ = dig[n - 1];
        if (n > 1) {
            *p++ = '.';
            for (int i = n - 2; i >= 0; i--)
                *p++ = dig[i];
        }
        p += sprintf (p, "e%c%02d", lead < 0 ? '-' : '+',
                      lead < 0 ? -lead : lead);
    }
    *p = 0;
    return (size_t) (p - out);
}

/*  The exact shortest form of v > 0 when it is in range: returns the
    length, or 0 when v needs the slow road. */
static size_t s_fast (double v, char *out)
{
    if (!(v >= 1e-4 && v < 1e17))
        return 0;
    uint64_t bits;
    memcpy (&bits, &v, sizeof bits);
    int be = (int) ((bits >> 52) & 0x7ff);
    uint64_t m = (bits & ((1ULL << 52) - 1)) | (1ULL << 52);
    int e = be - 1075; /* v = m * 2^e */
    if (e >= 0)
        return 0;
    /* k: about the least scale with v * 10^k >= 10^17 (from the binary
       exponent; off by one either way is harmless: the bounds below have
       17 or 18 digits, and room for at least one integer) */
    int d10 = (int) floor ((be - 1023) * 0.30102999566398120);
    int k = 17 - d10;
    if (k < 1 || k > 21)
        return 0;
    int sh = -e + 2;
    /* numerators over 2^sh: v is 4m, its neighbours' midpoints 4m-2 and
       4m+2 (4m-1 below a power of two, where the gap halves) */
    bool pow2 = (bits & ((1ULL << 52) - 1)) == 0 && be > 1;
    u128 scale = s_p10 (k);
    u128 vn = (u128) (4 * m) * scale;
    u128 ln = (u128) (4 * m - (pow2 ? 1 : 2)) * scale;
    u128 un = (u128) (4 * m + 2) * scale;
    bool even = (m & 1) == 0; /* round-half-even: ties go to v */
    /* the integers c with ln <= c * 2^sh <= un (strict when odd) */
    u128 lo128 = ln >> sh;
    if ((lo128 << sh) < ln || (!even && (lo128 << sh) == ln))
        lo128++;
    u128 hi128 = un >> sh;
    if (!even && (hi128 << sh) == un)
        hi128--;
    if (lo128 > hi128 || hi128 >= (u128) s_pow10[19])
        return 0;
    uint64_t lo = (uint64_t) lo128, hi = (uint64_t) hi128;
    /* the largest q with a multiple of 10^q in [lo, hi]: every interval
       of 10^q0 <= hi - lo + 1 integers holds one, so q >= q0; it is
       larger only when the interval straddles a rounder number: go up
       while lo - 1 and hi still part at the next power */
    uint64_t w = hi - lo + 1;
    int q = 0;
    while (q < 18 && s_pow10[q + 1] <= w)
        q++;
    while (q < 18 && s_div10 (lo - 1, q + 1) != s_div10 (hi, q + 1))
        q++;
    uint64_t pw = s_pow10[q];
    uint64_t first = s_div10 (lo + pw - 1, q) * pw, last = s_div10 (hi, q) * pw;
    /* of those (fewer than ten), the nearest to v: v rounded to 10^q */
    uint64_t vr = (uint64_t) (vn >> sh);
    uint64_t c = s_div10 (vr + pw / 2, q) * pw;
    if (c < first)
        c = first;
    if (c > last)
        c = last;
    if (c != first || c != last) {
        /* a tie or a rounding edge: compare the two around v exactly */
        uint64_t below = s_div10 (vr, q) * pw, above = below + pw;
        if (below < first)
            below = first;
        if (above > last)
            above = last;
        u128 db = vn - ((u128) below << sh);
        u128 da = ((u128) above << sh) - vn;
        if ((u128) below << sh > vn)
            db = ((u128) below << sh) - vn;
        if ((u128) above << sh < vn)
            da = vn - ((u128) above << sh);
        c = da < db ? above : below;
    }
    uint64_t digits = s_div10 (c, q);
    int exp = q - k;
    while (digits && digits % 10 == 0) {
        digits /= 10;
        exp++;
    }
    return s_format (out, digits, exp);
}

static size_t s_slow (double v, char *buf)
{
    /* a subnormal has fewer bits than 15 digits: its shortest form may be
       shorter than its nearest 15-digit one, so every length is tried */
    for (int prec = v < 2.2250738585072014e-308 ? 1 : 15; prec <= 17; prec++) {
        int n = snprintf (buf, 32, "%.*g", prec, v);
        if (prec == 17 || strtod (buf, NULL) == v)
            return (size_t) n;
    }
    return 0;
}

size_t zs_json_double (double v, char *buf)
{
    if (v == 0) {
        strcpy (buf, signbit (v) ? "-0" : "0");
        return strlen (buf);
    }
    char *p = buf;
    double a = v;
    if (v < 0) {
        *p++ = '-';
        a = -v;
    }
    /* small integers: their digits */
    if (a < 9007199254740992.0 && a == (double) (uint64_t) a) {
        uint64_t u = (uint64_t) a;
        char tmp[24];
        int n = 0;
        do {
            tmp[n++] = (char) ('0' + u % 10);
            u /= 10;
        } while (u);
        while (n)
            *p++ = tmp[--n];
        *p = 0;
        return (size_t) (p - buf);
    }
    size_t n = s_fast (a, p);
    if (!n)
        n = s_slow (a, p);
    return (size_t) (p - buf) + n;
}

/* ---------------------------------------------------------------------- */
/*  Strings                                                                */

/*  Length of the valid UTF-8 sequence at s (1..4), or 0 when invalid. */
static int s_utf8 (const unsigned char *s)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    int n = c >= 0xf0 && c <= 0xf4  ? 4
            : c >= 0xe0             ? 3
            : c >= 0xc2 && c < 0xe0 ? 2
                                    : 0;
    if (c >= 0xf5)
        n = 0;
    for (int i = 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    if (n == 3) {
        if (c == 0xe0 && s[1] < 0xa0)
            return 0; /* overlong */
        if (c == 0xed && s[1] >= 0xa0)
            return 0; /* a surrogate */
    }
    if (n == 4) {
        if (c == 0xf0 && s[1] < 0x90)
            return 0;
        if (c == 0xf4 && s[1] >= 0x90)
            return 0;
    }
    return n;
}

void zs_json_string (zs_buf_t *out, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    s_put (out, "\"", 1);
    const unsigned char *p = (const unsigned char *) s;
    const unsigned char *run = p;
    while (*p) {
        unsigned char c = *p;
        if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
            p++;
            continue;
        }
        int n = c >= 0x80 ? s_utf8 (p) : 1;
        if (c >= 0x80 && n > 0) {
            p += n;
            continue;
        }
        s_put (out, run, (size_t) (p - run));
        char esc[8];
        size_t len = 2;
        esc[0] = '\\';
        if (c == '"' || c == '\\')
            esc[1] = (char) c;
        else if (c == '\n')
            esc[1] = 'n';
        else if (c == '\r')
            esc[1] = 'r';
        else if (c == '\t')
            esc[1] = 't';
        else if (c < 0x20) {
            memcpy (esc, "\\u00", 4);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            len = 6;
        } else {
            memcpy (esc, "\\ufffd", 6); /* not UTF-8 */
            len = 6;
        }
        s_put (out, esc, len);
        p++;
        run = p;
    }
    s_put (out, run, (size_t) (p - run));
    s_put (out, "\"", 1);
}

/* ---------------------------------------------------------------------- */
/*  Records                                                                */

static void s_lit (zs_buf_t *out, const char *s)
{
    s_put (out, s, strlen (s));
}

static void s_key (zs_buf_t *out, const char *k)
{
    /* keys are ours: plain ASCII, no escaping */
    s_put (out, ",\"", 2);
    s_put (out, k, strlen (k));
    s_put (out, "\":", 2);
}

static void s_first_key (zs_buf_t *out, const char *k)
{
    s_put (out, "\"", 1);
    s_put (out, k, strlen (k));
    s_put (out, "\":", 2);
}

static void s_num (zs_buf_t *out, double v)
{
    if (!isfinite (v)) {
        s_lit (out, "null");
        return;
    }
    char b[40];
    size_t n = zs_json_double (v, b);
    s_put (out, b, n);
}

static void s_uint (zs_buf_t *out, uint64_t v)
{
    char b[24];
    int n = 0;
    char tmp[24];
    do {
        tmp[n++] = (char) ('0' + v % 10);
        v /= 10;
    } while (v);
    for (int i = 0; i < n; i++)
        b[i] = tmp[n - 1 - i];
    s_put (out, b, (size_t) n);
}

static void s_str_or_null (zs_buf_t *out, const char *s)
{
    if (s)
        zs_json_string (out, s);
    else
        s_lit (out, "null");
}

static void s_head (zs_buf_t *out, const char *type, uint64_t pos)
{
    s_lit (out, "{\"type\":\"");
    s_lit (out, type);
    s_lit (out, "\",\"seq\":");
    s_uint (out, pos);
    s_lit (out, ",\"data\":{");
}

static void s_result (zs_buf_t *out, const zs_result_t *r)
{
    s_first_key (out, "scan");
    zs_json_string (out, r->scan);
    s_key (out, "symbol");
    zs_json_string (out, r->symbol);
    s_key (out, "index");
    s_uint (out, r->index);
    s_key (out, "signal");
    s_lit (out, r->signal ? "true" : "false");
    s_key (out, "score");
    s_num (out, r->score);
    s_key (out, "time");
    s_str_or_null (out, r->time);
    s_key (out, "price");
    s_num (out, r->price);
    s_key (out, "values");
    s_put (out, "{", 1);
    for (size_t i = 0; i < r->nvalues; i++) {
        if (i)
            s_put (out, ",", 1);
        zs_json_string (out, r->values[i].name);
        s_put (out, ":", 1);
        s_num (out, r->values[i].value);
    }
    s_put (out, "}", 1);
    if (r->error) {
        s_key (out, "error");
        zs_json_string (out, r->error);
    }
    if (r->note) {
        s_key (out, "note");
        zs_json_string (out, r->note);
    }
    s_key (out, "worker");
    zs_json_string (out, r->worker);
}

static void s_def (zs_buf_t *out, const zs_scan_def_t *d)
{
    if (d->strategy) {
        s_key (out, "strategy");
        zs_json_string (out, d->strategy);
    }
    if (d->nparams) {
        s_key (out, "params");
        s_put (out, "{", 1);
        for (size_t i = 0; i < d->nparams; i++) {
            if (i)
                s_put (out, ",", 1);
            zs_json_string (out, d->pnames[i]);
            s_put (out, ":", 1);
            s_num (out, d->pvalues[i]);
        }
        s_put (out, "}", 1);
    }
    if (d->filter) {
        s_key (out, "filter");
        zs_json_string (out, d->filter);
    }
    if (d->data) {
        s_key (out, "data");
        zs_json_string (out, d->data);
    }
}

static void s_started (zs_buf_t *out, const zs_ev_started_t *e)
{
    s_first_key (out, "scan");
    zs_json_string (out, e->scan);
    s_key (out, "total");
    s_uint (out, e->total);
    if (e->universe) {
        s_key (out, "universe");
        zs_json_string (out, e->universe);
    }
    s_def (out, &e->def);
    s_key (out, "priority");
    zs_json_string (out, zs_priority_name (e->priority));
    s_key (out, "max_signals");
    s_uint (out, e->max_signals);
    s_key (out, "max_symbols");
    s_uint (out, e->max_symbols);
    s_key (out, "timeout_seconds");
    s_num (out, e->timeout_seconds);
    s_key (out, "time");
    s_num (out, e->time);
}

static void s_progress (zs_buf_t *out, const zs_ev_progress_t *e)
{
    s_first_key (out, "scan");
    zs_json_string (out, e->scan);
    s_key (out, "total");
    s_uint (out, e->total);
    s_key (out, "done");
    s_uint (out, e->done);
    s_key (out, "signals");
    s_uint (out, e->signals);
    s_key (out, "failed");
    s_uint (out, e->failed);
    s_key (out, "busy");
    s_uint (out, e->busy);
    s_key (out, "elapsed");
    s_num (out, e->elapsed);
    s_key (out, "rate");
    s_num (out, e->rate);
    s_key (out, "eta");
    s_num (out, e->eta >= 0 ? e->eta : NAN);
}

static void s_finished (zs_buf_t *out, const zs_ev_finished_t *e)
{
    double saved = e->total ? (double) e->unscanned / (double) e->total : 0;
    s_first_key (out, "scan");
    zs_json_string (out, e->scan);
    s_key (out, "reason");
    zs_json_string (out, zs_end_reason_name (e->reason));
    s_key (out, "total");
    s_uint (out, e->total);
    s_key (out, "scanned");
    s_uint (out, e->scanned);
    s_key (out, "signals");
    s_uint (out, e->signals);
    s_key (out, "results");
    s_uint (out, e->results);
    s_key (out, "failed");
    s_uint (out, e->failed);
    s_key (out, "unscanned");
    s_uint (out, e->unscanned);
    s_key (out, "work_saved");
    s_num (out, saved);
    s_key (out, "elapsed");
    s_num (out, e->elapsed);
    s_key (out, "first_result_ms");
    s_num (out, e->first_result_ms >= 0 ? e->first_result_ms : NAN);
}

const char *zs_json_type (zs_msg_type_t type)
{
    switch (type) {
    case ZS_MSG_RESULT:
        return "result";
    case ZS_MSG_EV_STARTED:
        return "started";
    case ZS_MSG_EV_PROGRESS:
        return "progress";
    case ZS_MSG_EV_FINISHED:
        return "complete";
    default:
        return NULL;
    }
}

int zs_json_record (zs_json_t *self, uint64_t pos, const void *data,
                    size_t size, zs_msg_type_t *type, zs_buf_t *out, char *err,
                    size_t errlen)
{
    if (zs_msg_peek (data, size, type, err, errlen) != 0)
        return -1;
    const char *name = zs_json_type (*type);
    if (!name) {
        snprintf (err, errlen, "'%s' is not a record",
                  zs_msg_type_name (*type));
        return -1;
    }
    size_t mark = out->size;
    int rc = -1;
    switch (*type) {
    case ZS_MSG_RESULT:
        if ((rc = zs_result_decode (data, size, &self->result, err, errlen))
            == 0) {
            s_head (out, name, pos);
            s_result (out, &self->result);
        }
        break;
    case ZS_MSG_EV_STARTED:
        if ((rc =
                 zs_ev_started_decode (data, size, &self->started, err, errlen))
            == 0) {
            s_head (out, name, pos);
            s_started (out, &self->started);
        }
        break;
    case ZS_MSG_EV_PROGRESS:
        if ((rc = zs_ev_progress_decode (data, size, &self->progress, err,
                                         errlen))
            == 0) {
            s_head (out, name, pos);
            s_progress (out, &self->progress);
        }
        break;
    default:
        if ((rc = zs_ev_finished_decode (data, size, &self->finished, err,
                                         errlen))
            == 0) {
            s_head (out, name, pos);
            s_finished (out, &self->finished);
        }
        break;
    }
    if (rc != 0) {
        out->size = mark;
        return -1;
    }
    s_put (out, "}}", 2);
    return 0;
}

void zs_json_free (zs_json_t *self)
{
    zs_msg_free (&self->result.mem_);
    zs_msg_free (&self->started.mem_);
    zs_msg_free (&self->progress.mem_);
    zs_msg_free (&self->finished.mem_);
}
