/*  test_json.c - the JSON renderer (proto/zs_json.c).

    Numbers: on millions of doubles - random bit patterns, values in the
    ranges records carry (prices, indicators, volumes), integers, powers
    of two and their neighbours, decimals with few digits - the text reads
    back (strtod) as the very same double, and has no more significant
    digits than the shortest of %.1g .. %.17g that reads back (found the
    slow way).  Strings: escapes, UTF-8 kept, invalid bytes replaced.
    Records: every type renders with its fields, and the result is JSON
    that a strict reader (jansson) accepts with the same values. */
#include "zs_json.h"
#include "zs_msg.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zs_test.h"

static uint64_t s_state = 0x9e3779b97f4a7c15ULL;
static uint64_t s_rand (void)
{
    uint64_t z = (s_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* significant digits of a decimal text (%g-like) */
static int s_digits (const char *s)
{
    int n = 0, lead = 1;
    int trailing = 0;
    for (const char *p = s; *p && *p != 'e' && *p != 'E'; p++) {
        if (*p < '0' || *p > '9')
            continue;
        if (lead && *p == '0')
            continue;
        lead = 0;
        n++;
        trailing = *p == '0' ? trailing + 1 : 0;
    }
    /* integers like 1200 count their zeros as not significant */
    if (!strchr (s, '.'))
        n -= trailing;
    return n ? n : 1;
}

static int s_shortest_digits (double v)
{
    char b[64];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf (b, sizeof b, "%.*g", prec, v);
        if (strtod (b, NULL) == v)
            return prec;
    }
    return 17;
}

static long s_bad_trip, s_bad_len, s_checked;

static void s_check (double v, bool check_length)
{
    if (!isfinite (v))
        return;
    char b[40];
    size_t n = zs_json_double (v, b);
    s_checked++;
    if (n != strlen (b) || strtod (b, NULL) != v) {
        if (s_bad_trip++ < 5)
            fprintf (stderr, "round trip: %.17g -> '%s'\n", v, b);
        return;
    }
    if (check_length && s_digits (b) > s_shortest_digits (v)) {
        if (s_bad_len++ < 5)
            fprintf (stderr,
                     "not shortest: %.17g -> '%s' (%d digits, %d "
                     "would do)\n",
                     v, b, s_digits (b), s_shortest_digits (v));
    }
}

int main (int argc, char **argv)
{
    long n = argc > 1 ? atol (argv[1]) : 1000000;
    if (getenv ("ZS_VALGRIND"))
        n = 20000; /* under valgrind: the same checks, fewer numbers */
    /* named cases */
    static const struct {
        double v;
        const char *want;
    } named[] = {{0.1, "0.1"},
                 {26.0, "26"},
                 {-3.5, "-3.5"},
                 {1e-5, "1e-05"},
                 {101.25, "101.25"},
                 {1.0 / 3.0, "0.3333333333333333"},
                 {123456789.125, "123456789.125"},
                 {5e-324, "5e-324"},
                 {1e300, "1e+300"},
                 {0.3, "0.3"},
                 {2.0 / 3.0, "0.6666666666666666"},
                 {1e16, "1e+16"},
                 {9007199254740993.0, "9007199254740992"},
                 {0.0001, "0.0001"},
                 {100.0 / 7.0, "14.285714285714286"}};
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++) {
        char b[40];
        zs_json_double (named[i].v, b);
        CHECK (strcmp (b, named[i].want) == 0 && strtod (b, NULL) == named[i].v,
               "%.17g -> '%s', want '%s'", named[i].v, b, named[i].want);
    }
    /* random bit patterns (every exponent), checked for round trip; a
       tenth of them also for length */
    for (long i = 0; i < n; i++) {
        uint64_t bits = s_rand ();
        double v;
        memcpy (&v, &bits, sizeof v);
        s_check (v, i % 10 == 0);
    }
    /* the ranges records carry: prices, indicators, volumes, ratios */
    for (long i = 0; i < n; i++) {
        double u = (double) (s_rand () >> 11) / 9007199254740992.0;
        double scale = pow (10, (double) (s_rand () % 22) - 5);
        s_check (u * scale, i % 10 == 0);
        s_check ((double) (s_rand () % 1000000) / 100.0, i % 10 == 0);
    }
    /* integers, powers of two and their neighbours */
    for (int e = -1074; e < 1024; e++) {
        double p = ldexp (1.0, e);
        s_check (p, true);
        s_check (nextafter (p, 0), true);
        s_check (nextafter (p, INFINITY), true);
    }
    for (long i = 0; i < 100000; i++)
        s_check ((double) (int64_t) (s_rand () >> (s_rand () % 64)), true);
    CHECK (s_bad_trip == 0, "%ld of %ld numbers did not read back", s_bad_trip,
           s_checked);
    CHECK (s_bad_len == 0, "%ld numbers longer than the shortest", s_bad_len);
    fprintf (stderr, "json: %ld numbers checked\n", s_checked);

    /* strings */
    zs_buf_t b = {0};
    zs_json_string (&b, "a\"b\\c\n\t\x01\xc3\xa9\xff\xe2\x82");
    zs_buf_append (&b, "", 1);
    CHECK (strcmp (b.data, "\"a\\\"b\\\\c\\n\\t\\u0001\xc3\xa9\\ufffd\\ufffd"
                           "\\ufffd\"")
               == 0,
           "string: %s", b.data);

    /* records: a result with every field, and the three events */
    zs_json_t js = {0};
    char err[256];
    zs_msg_type_t type;
    zs_result_t r = {0};
    r.scan = "s1";
    r.symbol = "S000004";
    r.index = 4;
    r.signal = true;
    r.score = 3.25;
    r.time = "2025-12-31";
    r.price = 101.125;
    r.nvalues = 2;
    r.values[0].name = "rsi(14)";
    r.values[0].value = 26.75;
    r.values[1].name = "sma(200)";
    r.values[1].value = NAN;
    r.note = "line\nbreak";
    r.worker = "w\"1";
    zs_buf_t msg = {0};
    zs_result_encode (&r, &msg, err, sizeof err);
    zs_buf_reset (&b);
    CHECK (
        zs_json_record (&js, 7, msg.data, msg.size, &type, &b, err, sizeof err)
                == 0
            && type == ZS_MSG_RESULT,
        "render a result: %s", err);
    json_error_t jerr;
    json_t *o = json_loadb (b.data, b.size, JSON_REJECT_DUPLICATES, &jerr);
    CHECK (o != NULL, "strict JSON: %s", jerr.text);
    json_t *d = o ? json_object_get (o, "data") : NULL;
    CHECK (o
               && strcmp (json_string_value (json_object_get (o, "type")),
                          "result")
                      == 0
               && json_integer_value (json_object_get (o, "seq")) == 7
               && json_is_true (json_object_get (d, "signal"))
               && json_real_value (json_object_get (d, "score")) == 3.25
               && json_is_null (
                   json_object_get (json_object_get (d, "values"), "sma(200)"))
               && strcmp (json_string_value (json_object_get (d, "note")),
                          "line\nbreak")
                      == 0
               && strcmp (json_string_value (json_object_get (d, "worker")),
                          "w\"1")
                      == 0,
           "result fields: %.*s", (int) b.size, b.data);
    json_decref (o);
    zs_ev_finished_t f = {0};
    f.scan = "s1";
    f.reason = ZS_END_MAX_SIGNALS;
    f.total = 100;
    f.results = 60;
    f.unscanned = 40;
    f.first_result_ms = -1;
    zs_buf_reset (&msg);
    zs_ev_finished_encode (&f, &msg, err, sizeof err);
    zs_buf_reset (&b);
    CHECK (
        zs_json_record (&js, 99, msg.data, msg.size, &type, &b, err, sizeof err)
            == 0,
        "render finished: %s", err);
    o = json_loadb (b.data, b.size, 0, &jerr);
    d = o ? json_object_get (o, "data") : NULL;
    CHECK (o
               && strcmp (json_string_value (json_object_get (o, "type")),
                          "complete")
                      == 0
               && strcmp (json_string_value (json_object_get (d, "reason")),
                          "max_signals")
                      == 0
               && json_real_value (json_object_get (d, "work_saved")) == 0.4
               && json_is_null (json_object_get (d, "first_result_ms")),
           "finished fields: %.*s", (int) b.size, b.data);
    json_decref (o);
    /* not a record */
    zs_buf_reset (&b);
    CHECK (
        zs_json_record (&js, 1, "\x81\xa1v\x02", 4, &type, &b, err, sizeof err)
                == -1
            && b.size == 0,
        "garbage refused, nothing written");
    zs_json_free (&js);
    zs_buf_free (&b);
    zs_buf_free (&msg);
    return ZS_TEST_END ("json");
}
