/*  zs_bench_proto.c - encode and decode rates of a typical result message
    (ten indicator values, about 300 bytes), one thread, next to in-run
    references: msgpack-c packing the same map by hand (for encode) and
    msgpack-c's own unpacker reading the same bytes into an object tree
    (for decode).  Prints BENCH lines (see bench/run). */
#include "zs_json.h"
#include "zs_msg.h"

#include <jansson.h>
#include <math.h>
#include <msgpack.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static double s_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static const char *s_names[10] = {"rsi(14)", "sma(50)", "sma(200)",
                                  "ema(12)", "ema(26)", "macd",
                                  "macd_signal", "atr(14)", "avgvol(20)",
                                  "close"};

static void s_fill (zs_result_t *r)
{
    memset (r, 0, sizeof *r);
    r->scan = "s7k2mq9d1xyz";
    r->index = 4242;
    r->symbol = "S004242";
    r->signal = true;
    r->score = 3.2171;
    r->time = "2025-12-31";
    r->price = 101.25;
    r->nvalues = 10;
    for (int i = 0; i < 10; i++) {
        r->values[i].name = s_names[i];
        r->values[i].value = 100.0 / (i + 3.0);
    }
    r->worker = "bench-host-4242";
    r->lane = 1;
    r->wseq = 123456;
    r->task = 999;
    r->attempt = 1;
}

static int s_write (void *data, const char *buf, size_t len)
{
    zs_buf_t *b = (zs_buf_t *) data;
    memcpy (b->data + b->size, buf, len);
    b->size += len;
    return 0;
}

/* The same map, packed by hand with msgpack-c: no validation, no table. */
static void s_pack_by_hand (const zs_result_t *r, zs_buf_t *out)
{
    msgpack_packer pk;
    msgpack_packer_init (&pk, out, s_write);
#define KS(k, v)                                                           \
    msgpack_pack_str_with_body (&pk, k, strlen (k));                       \
    msgpack_pack_str_with_body (&pk, v, strlen (v))
#define KU(k, v)                                                           \
    msgpack_pack_str_with_body (&pk, k, strlen (k));                       \
    msgpack_pack_uint64 (&pk, v)
    msgpack_pack_map (&pk, 15);
    KU ("v", 1);
    KS ("type", "result");
    KS ("scan", r->scan);
    KU ("index", r->index);
    KS ("symbol", r->symbol);
    msgpack_pack_str_with_body (&pk, "signal", 6);
    msgpack_pack_true (&pk);
    msgpack_pack_str_with_body (&pk, "score", 5);
    msgpack_pack_double (&pk, r->score);
    KS ("time", r->time);
    msgpack_pack_str_with_body (&pk, "price", 5);
    msgpack_pack_double (&pk, r->price);
    msgpack_pack_str_with_body (&pk, "values", 6);
    msgpack_pack_map (&pk, r->nvalues);
    for (size_t i = 0; i < r->nvalues; i++) {
        msgpack_pack_str_with_body (&pk, r->values[i].name,
                                    strlen (r->values[i].name));
        msgpack_pack_double (&pk, r->values[i].value);
    }
    KS ("worker", r->worker);
    KU ("lane", r->lane);
    KU ("wseq", r->wseq);
    KU ("task", r->task);
    KU ("attempt", r->attempt);
}

/*  The reference decoder: msgpack-c unpacking data into an object tree,
    reps times; bodies/s. */
static double s_unpack_rate (const char *data, size_t size, long reps)
{
    msgpack_unpacked up;
    msgpack_unpacked_init (&up);
    volatile size_t sink = 0;
    double t0 = s_now ();
    for (long k = 0; k < reps; k++) {
        size_t off = 0;
        msgpack_unpack_next (&up, data, size, &off);
        sink += up.data.via.map.size;
    }
    double rate = (double) reps / (s_now () - t0);
    msgpack_unpacked_destroy (&up);
    return sink ? rate : 0;
}

/*  A task of 2,000 symbols, as the broker sends a lane, decoded into one
    reused struct (as a lane does): symbols/s, against msgpack-c unpacking
    it into an object tree. */
static int s_task_bench (void)
{
    enum { N = 2000, REPS = 2000 };
    static char names[N][12];
    static const char *syms[N];
    static uint32_t index[N];
    for (int i = 0; i < N; i++) {
        snprintf (names[i], sizeof names[i], "S%06d", i * 3);
        syms[i] = names[i];
        index[i] = (uint32_t) (i * 5 + 70000);
    }
    zs_task_t t = {0};
    t.scan = "b123-45";
    t.task = 99;
    t.attempt = 1;
    t.broker = "brk1";
    t.nsymbols = N;
    t.symbols = syms;
    t.index = index;
    zs_buf_t buf = {0};
    char err[256];
    if (zs_task_encode (&t, &buf, err, sizeof err) != 0) {
        fprintf (stderr, "task encode: %s\n", err);
        return 1;
    }
    zs_task_t d = {0};
    volatile size_t sink = 0;
    double t0 = s_now ();
    for (int k = 0; k < REPS; k++) {
        if (zs_task_decode (buf.data, buf.size, &d, err, sizeof err) != 0) {
            fprintf (stderr, "task decode: %s\n", err);
            return 1;
        }
        sink += d.nsymbols;
    }
    double ours = (double) N * REPS / (s_now () - t0);
    double ref = s_unpack_rate (buf.data, buf.size, REPS) * N;
    printf ("BENCH\ttask decode, strict (2,000 symbols, %zu B)\t%.0f\t"
            "symbols/s\tmsgpack-c unpack to object tree\t%.0f\n",
            buf.size, ours, ref);
    zs_msg_free (&d.mem_);
    zs_buf_free (&buf);
    return sink == 0;
}

/* ---------------------------------------------------------------------- */
/*  JSON rendering: the shared renderer against jansson                    */

/*  The way the CLI rendered a result before zs_json: a jansson tree per
    record, then a dump. */
static size_t s_jansson_render (const zs_result_t *r, uint64_t pos)
{
    json_t *d = json_object ();
    json_object_set_new (d, "scan", json_string (r->scan));
    json_object_set_new (d, "symbol", json_string (r->symbol));
    json_object_set_new (d, "index", json_integer (r->index));
    json_object_set_new (d, "signal", json_boolean (r->signal));
    json_object_set_new (d, "score", json_real (r->score));
    json_object_set_new (d, "time", json_string (r->time));
    json_object_set_new (d, "price", json_real (r->price));
    json_t *vals = json_object ();
    for (size_t i = 0; i < r->nvalues; i++)
        json_object_set_new (vals, r->values[i].name,
                             isfinite (r->values[i].value)
                                 ? json_real (r->values[i].value)
                                 : json_null ());
    json_object_set_new (d, "values", vals);
    json_object_set_new (d, "worker", json_string (r->worker));
    json_t *rec = json_object ();
    json_object_set_new (rec, "type", json_string ("result"));
    json_object_set_new (rec, "seq", json_integer ((json_int_t) pos));
    json_object_set_new (rec, "data", d);
    char *line = json_dumps (rec, JSON_COMPACT | JSON_PRESERVE_ORDER);
    size_t n = line ? strlen (line) : 0;
    free (line);
    json_decref (rec);
    return n;
}

/*  1,024 results with values like a scan's (prices, indicators with all
    their digits), rendered from their msgpack bytes as the CLI and the
    gateway do, against decoding them and rendering with jansson. */
static int s_json_bench (void)
{
    enum { N = 1024 };
    zs_buf_t msgs[N];
    memset (msgs, 0, sizeof msgs);
    zs_result_t r;
    s_fill (&r);
    char err[256];
    unsigned seed = 12345;
    for (int i = 0; i < N; i++) {
        r.index = (uint32_t) i;
        r.price = 5 + (rand_r (&seed) % 30000) / 100.0;
        r.score = (rand_r (&seed) % 100000) / 997.0 - 40;
        for (int k = 0; k < 10; k++)
            r.values[k].value = r.price * (0.5 + rand_r (&seed) / (double) RAND_MAX);
        if (zs_result_encode (&r, &msgs[i], err, sizeof err) != 0)
            return -1;
    }
    zs_json_t js = {0};
    zs_buf_t out = {0};
    zs_msg_type_t type;
    const long reps = 600;
    volatile size_t sink = 0;
    double t0 = s_now ();
    for (long k = 0; k < reps; k++)
        for (int i = 0; i < N; i++) {
            zs_buf_reset (&out);
            zs_json_record (&js, (uint64_t) i + 1, msgs[i].data,
                            msgs[i].size, &type, &out, err, sizeof err);
            sink += out.size;
        }
    double ours = (double) (reps * N) / (s_now () - t0);
    zs_result_t d = {0};
    t0 = s_now ();
    for (long k = 0; k < reps / 6; k++)
        for (int i = 0; i < N; i++) {
            zs_result_decode (msgs[i].data, msgs[i].size, &d, err,
                              sizeof err);
            sink += s_jansson_render (&d, (uint64_t) i + 1);
        }
    double ref = (double) (reps / 6 * N) / (s_now () - t0);
    printf ("BENCH\tJSON rendering of a record (a 10-value result, from its "
            "msgpack bytes)\t%.0f\trecords/s\tdecode + jansson tree + "
            "dump\t%.0f\n",
            ours, ref);
    zs_msg_free (&d.mem_);
    zs_json_free (&js);
    zs_buf_free (&out);
    for (int i = 0; i < N; i++)
        zs_buf_free (&msgs[i]);
    return sink == 0;
}

int main (void)
{
    if (s_json_bench () != 0)
        return 1;
    if (s_task_bench () != 0)
        return 1;
    zs_result_t r;
    s_fill (&r);
    zs_buf_t buf = {0};
    char err[256];
    if (zs_result_encode (&r, &buf, err, sizeof err) != 0) {
        fprintf (stderr, "encode: %s\n", err);
        return 1;
    }
    size_t size = buf.size;
    const long n = 1000000;
    volatile size_t sink = 0;

    double t0 = s_now ();
    for (long i = 0; i < n; i++) {
        zs_buf_reset (&buf);
        zs_result_encode (&r, &buf, err, sizeof err);
        sink += buf.size;
    }
    double enc = (double) n / (s_now () - t0);

    t0 = s_now ();
    for (long i = 0; i < n; i++) {
        zs_buf_reset (&buf);
        zs_msg_encode_generic (ZS_MSG_RESULT, &r, &buf, err, sizeof err);
        sink += buf.size;
    }
    double enc_table = (double) n / (s_now () - t0);

    zs_buf_t hand = {0};
    hand.data = (char *) malloc (4096);
    hand.cap = 4096;
    t0 = s_now ();
    for (long i = 0; i < n; i++) {
        hand.size = 0;
        s_pack_by_hand (&r, &hand);
        sink += hand.size;
    }
    double enc_ref = (double) n / (s_now () - t0);

    zs_result_t d = {0};
    t0 = s_now ();
    for (long i = 0; i < n; i++) {
        if (zs_result_decode (buf.data, buf.size, &d, err, sizeof err) != 0) {
            fprintf (stderr, "decode: %s\n", err);
            return 1;
        }
        sink += d.nvalues;
    }
    double dec = (double) n / (s_now () - t0);

    t0 = s_now ();
    for (long i = 0; i < n; i++) {
        if (zs_result_decode_generic (buf.data, buf.size, &d, err,
                                      sizeof err)
            != 0) {
            fprintf (stderr, "decode: %s\n", err);
            return 1;
        }
        sink += d.nvalues;
    }
    double dec_table = (double) n / (s_now () - t0);

    double dec_ref = s_unpack_rate (buf.data, buf.size, n);

    printf ("BENCH\tresult encode (%zu B, 10 values)\t%.0f\tmsg/s\t"
            "msgpack-c packing by hand\t%.0f\n",
            size, enc, enc_ref);
    printf ("BENCH\tresult encode (%zu B), hand-written vs table-driven\t"
            "%.0f\tmsg/s\tthe table-driven encoder\t%.0f\n",
            size, enc, enc_table);
    printf ("BENCH\tresult decode, strict (%zu B)\t%.0f\tmsg/s\t"
            "msgpack-c unpack to object tree\t%.0f\n",
            size, dec, dec_ref);
    printf ("BENCH\tresult decode (%zu B), one pass vs table-driven\t%.0f\t"
            "msg/s\tthe table-driven decoder\t%.0f\n",
            size, dec, dec_table);
    zs_msg_free (&d.mem_);
    zs_buf_free (&buf);
    free (hand.data);
    return sink == 0;
}
