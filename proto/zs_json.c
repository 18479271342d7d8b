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

/* 10^k as 128-bit integers, k = 0..21 */
#define P19 ((u128) 10000000000000000000ULL)
static const u128 s_p10t[22] = {
    1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL,
    10000000ULL, 100000000ULL, 1000000000ULL, 10000000000ULL,
    100000000000ULL, 1000000000000ULL, 10000000000000ULL,
    100000000000000ULL, 1000000000000000ULL, 10000000000000000ULL,
    100000000000000000ULL, 1000000000000000000ULL, P19, P19 * 10,
    P19 * 100};
#undef P19

/*  "00" "01" ... "99": two digits per division (the divisions of one
    number form a chain of dependent multiplications). */
static const char s_pairs[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233"
    "34353637383940414243444546474849505152535455565758596061626364656667"
    "6869707172737475767778798081828384858687888990919293949596979899";

/*  Exactly eight digits of v < 10^8 (leading zeros kept): two levels of
    division, so the four pairs do not wait on one another. */
static inline void s_digits8 (uint32_t v, char *p)
{
    uint32_t hi = v / 10000, lo = v % 10000;
    memcpy (p, s_pairs + 2 * (hi / 100), 2);
    memcpy (p + 2, s_pairs + 2 * (hi % 100), 2);
    memcpy (p + 4, s_pairs + 2 * (lo / 100), 2);
    memcpy (p + 6, s_pairs + 2 * (lo % 100), 2);
}

/*  The digits of v < 10^8 without leading zeros (at least one). */
static inline int s_digits_short (uint32_t v, char *out)
{
    char tmp[16] = {0}; /* the 8 bytes copied may start 7 in */
    s_digits8 (v, tmp);
    int skip = 0;
    while (skip < 7 && tmp[skip] == '0')
        skip++;
    memcpy (out, tmp + skip, 8);
    return 8 - skip;
}

/*  The decimal digits of d, most significant first (no terminator; up to
    eight bytes past them may be written); returns their count (1..20):
    eight at a time in 32 bits. */
static int s_digits (uint64_t d, char *out)
{
    if (d < 100000000ULL)
        return s_digits_short ((uint32_t) d, out);
    uint64_t hi = d / 100000000ULL;
    uint32_t lo = (uint32_t) (d % 100000000ULL);
    int n;
    if (hi < 100000000ULL)
        n = s_digits_short ((uint32_t) hi, out);
    else {
        n = s_digits_short ((uint32_t) (hi / 100000000ULL), out);
        s_digits8 ((uint32_t) (hi % 100000000ULL), out + n);
        n += 8;
    }
    s_digits8 (lo, out + n);
    return n + 8;
}

/*  Writes digits (a decimal integer d > 0) times 10^exp in the form %g
    would choose: positional when the leading digit's exponent is in
    -5..16, else d.ddde+XX.  Returns the length (and terminates). */
static size_t s_format (char *out, uint64_t d, int exp)
{
    /* the digits, then copied 20 bytes at a time (a constant size: no
       call; out has room for 40, dig for the reads past its digits) */
    char dig[40] = {0};
    int n = s_digits (d, dig);
    int lead = exp + n - 1; /* exponent of the leading digit */
    char *p = out;
    if (lead >= -5 && lead < 17) {
        if (lead < 0) {
            *p++ = '0';
            *p++ = '.';
            for (int z = 0; z < -lead - 1; z++)
                *p++ = '0';
            memcpy (p, dig, 20);
            p += n;
        }
        else if (lead >= n - 1) { /* an integer: its zeros */
            memcpy (p, dig, 20);
            p += n;
            for (int z = 0; z < exp; z++)
                *p++ = '0';
        }
        else {
            memcpy (p, dig, 20);
            p += lead + 1;
            *p++ = '.';
            memcpy (p, dig + lead + 1, 20);
            p += n - lead - 1;
        }
    }
    else {
        *p++ = dig[0];
        if (n > 1) {
            *p++ = '.';
            memcpy (p, dig + 1, 20);
            p += n - 1;
        }
        *p++ = 'e';
        *p++ = lead < 0 ? '-' : '+';
        int a = lead < 0 ? -lead : lead;
        if (a >= 100)
            *p++ = (char) ('0' + a / 100);
        memcpy (p, s_pairs + 2 * (a % 100), 2);
        p += 2;
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
    int d10 = ((be - 1023) * 78913) >> 18; /* floor of e * log10(2) */
    int k = 17 - d10;
    if (k < 1 || k > 21)
        return 0;
    int sh = -e + 2;
    /* numerators over 2^sh: v is 4m, its neighbours' midpoints 4m-2 and
       4m+2 (4m-1 below a power of two, where the gap halves) */
    bool pow2 = (bits & ((1ULL << 52) - 1)) == 0 && be > 1;
    u128 scale = s_p10t[k];
    u128 vn = (u128) (4 * m) * scale;
    u128 ln = vn - (pow2 ? scale : 2 * scale);
    u128 un = vn + 2 * scale;
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
    /* the largest q with a multiple of 10^q in [lo, hi]: while lo - 1
       and hi part at the next power of ten (each step a division by the
       constant 10: a multiplication); a and b are then (lo - 1) / 10^q
       and hi / 10^q, so the multiples are 10^q times a + 1 .. b */
    uint64_t vr = (uint64_t) (vn >> sh);
    uint64_t a = lo - 1, b = hi, t = vr;
    int q = 0;
    while (q < 18 && a / 10 != b / 10) {
        a /= 10;
        b /= 10;
        t /= 10;
        q++;
    }
    uint64_t pw = s_pow10[q];
    uint64_t digits = b; /* one multiple: that one */
    if (a + 1 != b) {
        /* of those (fewer than ten), the nearest to v: compare the two
           around it exactly (a tie goes below) */
        uint64_t below = t < a + 1 ? a + 1 : t;
        uint64_t above = t + 1 > b ? b : t + 1;
        u128 bn = (u128) (below * pw) << sh, an = (u128) (above * pw) << sh;
        u128 db = bn > vn ? bn - vn : vn - bn;
        u128 da = an > vn ? an - vn : vn - an;
        digits = da < db ? above : below;
    }
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
        p += s_digits ((uint64_t) a, p);
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

/*  1 for the bytes a JSON string holds as they are: printable ASCII
    other than the quote and the backslash. */
static const unsigned char s_plain[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  /* 0x00 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  /* 0x10 */
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,  /* 0x20 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,  /* 0x30 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,  /* 0x40 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,  /* 0x50 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,  /* 0x60 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,  /* 0x70 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  /* 0x80 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  /* 0x90 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  /* 0xa0 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  /* 0xb0 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  /* 0xc0 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  /* 0xd0 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  /* 0xe0 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  /* 0xf0 */
};

void zs_json_string (zs_buf_t *out, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    /* the common case: printable ASCII with nothing to escape, copied as
       it is scanned (a table says which bytes pass as they are) */
    if (s_room (out, 64) == 0) {
        const unsigned char *q = (const unsigned char *) s;
        char *d = out->data + out->size;
        size_t lim = out->cap - out->size - 2, i = 0;
        while (i < lim && s_plain[q[i]]) {
            d[1 + i] = (char) q[i];
            i++;
        }
        if (!q[i]) {
            d[0] = '"';
            d[1 + i] = '"';
            out->size += i + 2;
            return;
        }
    }
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

/*  Numbers are written in place (room for the longest first). */
static void s_num (zs_buf_t *out, double v)
{
    if (!isfinite (v))
        S_LIT (out, "null");
    else if (s_room (out, 40) == 0)
        out->size += zs_json_double (v, out->data + out->size);
}

static void s_uint (zs_buf_t *out, uint64_t v)
{
    if (s_room (out, 24) == 0)
        out->size += (size_t) s_digits (v, out->data + out->size);
}

static void s_str_or_null (zs_buf_t *out, const char *s)
{
    if (s)
        zs_json_string (out, s);
    else
        S_LIT (out, "null");
}

static void s_head (zs_buf_t *out, const char *type, uint64_t pos)
{
    S_LIT (out, "{\"type\":\"");
    s_put (out, type, strlen (type));
    S_LIT (out, "\",\"seq\":");
    s_uint (out, pos);
    S_LIT (out, ",\"data\":{");
}

static void s_result (zs_buf_t *out, const zs_result_t *r)
{
    S_LIT (out, "\"" "scan" "\":");
    zs_json_string (out, r->scan);
    S_LIT (out, ",\"" "symbol" "\":");
    zs_json_string (out, r->symbol);
    S_LIT (out, ",\"" "index" "\":");
    s_uint (out, r->index);
    S_LIT (out, ",\"" "signal" "\":");
    if (r->signal)
        S_LIT (out, "true");
    else
        S_LIT (out, "false");
    S_LIT (out, ",\"" "score" "\":");
    s_num (out, r->score);
    S_LIT (out, ",\"" "time" "\":");
    s_str_or_null (out, r->time);
    S_LIT (out, ",\"" "price" "\":");
    s_num (out, r->price);
    S_LIT (out, ",\"" "values" "\":");
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
        S_LIT (out, ",\"" "error" "\":");
        zs_json_string (out, r->error);
    }
    if (r->note) {
        S_LIT (out, ",\"" "note" "\":");
        zs_json_string (out, r->note);
    }
    S_LIT (out, ",\"" "worker" "\":");
    zs_json_string (out, r->worker);
}

static void s_def (zs_buf_t *out, const zs_scan_def_t *d)
{
    if (d->strategy) {
        S_LIT (out, ",\"" "strategy" "\":");
        zs_json_string (out, d->strategy);
    }
    if (d->nparams) {
        S_LIT (out, ",\"" "params" "\":");
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
        S_LIT (out, ",\"" "filter" "\":");
        zs_json_string (out, d->filter);
    }
    if (d->data) {
        S_LIT (out, ",\"" "data" "\":");
        zs_json_string (out, d->data);
    }
}

static void s_started (zs_buf_t *out, const zs_ev_started_t *e)
{
    S_LIT (out, "\"" "scan" "\":");
    zs_json_string (out, e->scan);
    S_LIT (out, ",\"" "total" "\":");
    s_uint (out, e->total);
    if (e->universe) {
        S_LIT (out, ",\"" "universe" "\":");
        zs_json_string (out, e->universe);
    }
    s_def (out, &e->def);
    S_LIT (out, ",\"" "priority" "\":");
    zs_json_string (out, zs_priority_name (e->priority));
    S_LIT (out, ",\"" "max_signals" "\":");
    s_uint (out, e->max_signals);
    S_LIT (out, ",\"" "max_symbols" "\":");
    s_uint (out, e->max_symbols);
    S_LIT (out, ",\"" "timeout_seconds" "\":");
    s_num (out, e->timeout_seconds);
    S_LIT (out, ",\"" "time" "\":");
    s_num (out, e->time);
}

static void s_progress (zs_buf_t *out, const zs_ev_progress_t *e)
{
    S_LIT (out, "\"" "scan" "\":");
    zs_json_string (out, e->scan);
    S_LIT (out, ",\"" "total" "\":");
    s_uint (out, e->total);
    S_LIT (out, ",\"" "done" "\":");
    s_uint (out, e->done);
    S_LIT (out, ",\"" "signals" "\":");
    s_uint (out, e->signals);
    S_LIT (out, ",\"" "failed" "\":");
    s_uint (out, e->failed);
    S_LIT (out, ",\"" "busy" "\":");
    s_uint (out, e->busy);
    S_LIT (out, ",\"" "elapsed" "\":");
    s_num (out, e->elapsed);
    S_LIT (out, ",\"" "rate" "\":");
    s_num (out, e->rate);
    S_LIT (out, ",\"" "eta" "\":");
    s_num (out, e->eta >= 0 ? e->eta : NAN);
}

static void s_finished (zs_buf_t *out, const zs_ev_finished_t *e)
{
    double saved = e->total ? (double) e->unscanned / (double) e->total : 0;
    S_LIT (out, "\"" "scan" "\":");
    zs_json_string (out, e->scan);
    S_LIT (out, ",\"" "reason" "\":");
    zs_json_string (out, zs_end_reason_name (e->reason));
    S_LIT (out, ",\"" "total" "\":");
    s_uint (out, e->total);
    S_LIT (out, ",\"" "scanned" "\":");
    s_uint (out, e->scanned);
    S_LIT (out, ",\"" "signals" "\":");
    s_uint (out, e->signals);
    S_LIT (out, ",\"" "results" "\":");
    s_uint (out, e->results);
    S_LIT (out, ",\"" "failed" "\":");
    s_uint (out, e->failed);
    S_LIT (out, ",\"" "unscanned" "\":");
    s_uint (out, e->unscanned);
    S_LIT (out, ",\"" "work_saved" "\":");
    s_num (out, saved);
    S_LIT (out, ",\"" "elapsed" "\":");
    s_num (out, e->elapsed);
    S_LIT (out, ",\"" "first_result_ms" "\":");
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
