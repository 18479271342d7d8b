/*  test_proto.c - the wire format: round trips of every message type
    (every optional field present, then absent), exact errors for bad
    input, every truncation and many random mutations of every valid
    encoding (which must decode cleanly or fail cleanly, never crash or
    leak: run under ASan/UBSan and valgrind), topics and sequence frames. */
#include "samples.h"
#include "zs_mp.h"
#include "zs_msg.h"
#include "zs_msg_int.h"
#include "zs_topic.h"

#include <math.h>
#include <msgpack.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zs_test.h"

/* ---------------------------------------------------------------------- */
/*  msgpack building helpers for hand-made inputs                          */

typedef struct {
    msgpack_sbuffer sb;
    msgpack_packer pk;
} s_mp_t;

static void s_mp_init (s_mp_t *m)
{
    msgpack_sbuffer_init (&m->sb);
    msgpack_packer_init (&m->pk, &m->sb, msgpack_sbuffer_write);
}

static void s_str (s_mp_t *m, const char *s)
{
    msgpack_pack_str (&m->pk, strlen (s));
    msgpack_pack_str_body (&m->pk, s, strlen (s));
}

static void s_kv_str (s_mp_t *m, const char *k, const char *v)
{
    s_str (m, k);
    s_str (m, v);
}

static void s_kv_uint (s_mp_t *m, const char *k, uint64_t v)
{
    s_str (m, k);
    msgpack_pack_uint64 (&m->pk, v);
}

/* ---------------------------------------------------------------------- */

static void test_round_trips (void)
{
    int n = 0;
    for (const zs_sample_t *s = zs_samples; s->name; s++)
        for (int full = 0; full < 2; full++) {
            zs_buf_t a = {0}, b = {0};
            char err[256] = "";
            int rc = s->encode_sample (full, &a, err, sizeof err);
            CHECK (rc == 0, "%s(%s): encode: %s", s->name,
                   full ? "full" : "minimal", err);
            zs_msg_type_t type;
            CHECK (zs_msg_peek (a.data, a.size, &type, err, sizeof err) == 0
                       && type == s->type,
                   "%s: peek says %s (%s)", s->name, zs_msg_type_name (type),
                   err);
            rc = s->reencode (a.data, a.size, &b, err, sizeof err);
            CHECK (rc == 0, "%s(%s): decode: %s", s->name,
                   full ? "full" : "minimal", err);
            /* encoding is deterministic and covers every field: equal
               bytes mean every field survived the trip */
            CHECK (a.size == b.size && memcmp (a.data, b.data, a.size) == 0,
                   "%s(%s): round trip changed the bytes (%zu -> %zu)",
                   s->name, full ? "full" : "minimal", a.size, b.size);
            zs_buf_free (&a);
            zs_buf_free (&b);
            n++;
        }
    printf ("round trips: %d\n", n);
}

/* Field values after decode, for the richest types. */
static void test_values (void)
{
    zs_buf_t buf = {0};
    char err[256];
    const zs_sample_t *s = zs_samples;
    while (s->type != ZS_MSG_RESULT)
        s++;
    CHECK (s->encode_sample (true, &buf, err, sizeof err) == 0, "encode");
    zs_result_t r = {0};
    CHECK (zs_result_decode (buf.data, buf.size, &r, err, sizeof err) == 0,
           "decode result: %s", err);
    CHECK (strcmp (r.scan, "s1") == 0 && r.index == 4
               && strcmp (r.symbol, "S000004") == 0 && r.signal
               && r.score == 3.25 && strcmp (r.time, "2025-12-31") == 0
               && r.price == 101.125 && r.nvalues == 3
               && strcmp (r.values[0].name, "rsi(14)") == 0
               && r.values[0].value == 26.75 && isnan (r.values[1].value)
               && r.lane == 2 && r.wseq == 4242 && r.task == 77
               && r.attempt == 1 && strcmp (r.worker, "host-1234") == 0,
           "result fields");
    zs_buf_reset (&buf);
    /* minimal: absent optionals read as their defaults */
    CHECK (s->encode_sample (false, &buf, err, sizeof err) == 0, "encode");
    CHECK (zs_result_decode (buf.data, buf.size, &r, err, sizeof err) == 0,
           "decode minimal result: %s", err);
    CHECK (!r.signal && isnan (r.score) && isnan (r.price) && !r.time
               && !r.error && !r.note && r.nvalues == 0 && r.wseq == 0,
           "minimal result defaults");
    zs_msg_free (&r.mem_);
    zs_buf_free (&buf);

    /* a task's arrays */
    while (s->type != ZS_MSG_TASK)
        s = s->type > ZS_MSG_TASK ? zs_samples : s + 1;
    CHECK (s->encode_sample (true, &buf, err, sizeof err) == 0, "encode");
    zs_task_t t = {0};
    CHECK (zs_task_decode (buf.data, buf.size, &t, err, sizeof err) == 0,
           "decode task: %s", err);
    CHECK (t.nsymbols == 4 && strcmp (t.symbols[2], "BRK.B") == 0
               && t.index[3] == 4000000000u && t.def.nparams == 2
               && strcmp (t.def.pnames[1], "threshold") == 0
               && t.def.pvalues[1] == 27.5 && t.attempt == 2,
           "task fields");
    /* decoding again into the same struct reuses its memory */
    char *mem = t.mem_.p;
    CHECK (zs_task_decode (buf.data, buf.size, &t, err, sizeof err) == 0
               && t.mem_.p == mem,
           "reuse");
    zs_msg_free (&t.mem_);
    zs_msg_free (&t.mem_); /* twice is harmless */
    zs_buf_free (&buf);
}

/* ---------------------------------------------------------------------- */
/*  Exact errors                                                           */

typedef struct {
    const char *name;
    void (*build) (s_mp_t *m);
    const char *want;      /* substring of the error                       */
    zs_msg_type_t as;      /* decoder to use; 0 = the one the body names   */
} s_bad_t;

static void b_not_map (s_mp_t *m)
{
    msgpack_pack_array (&m->pk, 1);
    msgpack_pack_int (&m->pk, 1);
}
static void b_no_version (s_mp_t *m)
{
    msgpack_pack_map (&m->pk, 2);
    s_kv_str (m, "type", "scan_status");
    s_kv_str (m, "scan", "a");
}
static void b_bad_version (s_mp_t *m)
{
    msgpack_pack_map (&m->pk, 3);
    s_kv_uint (m, "v", 1);
    s_kv_str (m, "type", "scan_status");
    s_kv_str (m, "scan", "a");
}
static void b_wrong_type (s_mp_t *m)
{
    msgpack_pack_map (&m->pk, 3);
    s_kv_uint (m, "v", ZS_PROTO_VERSION);
    s_kv_str (m, "type", "scan_stop");
    s_kv_str (m, "scan", "a");
}
static void b_missing (s_mp_t *m)
{
    msgpack_pack_map (&m->pk, 2);
    s_kv_uint (m, "v", ZS_PROTO_VERSION);
    s_kv_str (m, "type", "scan_status");
}
static void b_wrong_kind (s_mp_t *m)
{
    msgpack_pack_map (&m->pk, 3);
    s_kv_uint (m, "v", ZS_PROTO_VERSION);
    s_kv_str (m, "type", "scan_status");
    s_kv_uint (m, "scan", 5);
}
static void b_bad_id (s_mp_t *m)
{
    msgpack_pack_map (&m->pk, 3);
    s_kv_uint (m, "v", ZS_PROTO_VERSION);
    s_kv_str (m, "type", "scan_status");
    s_kv_str (m, "scan", "no spaces");
}
static void b_long_id (s_mp_t *m)
{
    char id[100];
    memset (id, 'a', 65);
    id[65] = 0;
    msgpack_pack_map (&m->pk, 3);
    s_kv_uint (m, "v", ZS_PROTO_VERSION);
    s_kv_str (m, "type", "scan_status");
    s_kv_str (m, "scan", id);
}
static void b_duplicate (s_mp_t *m)
{
    msgpack_pack_map (&m->pk, 4);
    s_kv_uint (m, "v", ZS_PROTO_VERSION);
    s_kv_str (m, "type", "scan_status");
    s_kv_str (m, "scan", "a");
    s_kv_str (m, "scan", "b");
}
static void b_trailing (s_mp_t *m)
{
    msgpack_pack_map (&m->pk, 3);
    s_kv_uint (m, "v", ZS_PROTO_VERSION);
    s_kv_str (m, "type", "scan_status");
    s_kv_str (m, "scan", "a");
    msgpack_pack_nil (&m->pk);
}
static void b_negative (s_mp_t *m)
{
    msgpack_pack_map (&m->pk, 4);
    s_kv_uint (m, "v", ZS_PROTO_VERSION);
    s_kv_str (m, "type", "scan_status");
    s_kv_str (m, "scan", "a");
    s_str (m, "req");
    msgpack_pack_int (&m->pk, -1);
}
static void b_u32_overflow (s_mp_t *m)
{
    msgpack_pack_map (&m->pk, 7);
    s_kv_uint (m, "v", ZS_PROTO_VERSION);
    s_kv_str (m, "type", "ready");
    s_kv_str (m, "worker", "w");
    s_kv_uint (m, "lane", 1ULL << 32);
    s_kv_uint (m, "taken", 0);
    s_kv_uint (m, "want", 1);
    s_kv_str (m, "x", "y");
}
static void b_bin_string (s_mp_t *m)
{
    msgpack_pack_map (&m->pk, 3);
    s_kv_uint (m, "v", ZS_PROTO_VERSION);
    s_kv_str (m, "type", "scan_status");
    s_str (m, "scan");
    msgpack_pack_bin (&m->pk, 1);
    msgpack_pack_bin_body (&m->pk, "a", 1);
}
static void b_nul_in_string (s_mp_t *m)
{
    msgpack_pack_map (&m->pk, 4);
    s_kv_uint (m, "v", ZS_PROTO_VERSION);
    s_kv_str (m, "type", "error");
    s_kv_uint (m, "code", 400);
    s_str (m, "message");
    msgpack_pack_str (&m->pk, 3);
    msgpack_pack_str_body (&m->pk, "a\0b", 3);
}
static void b_unknown_type (s_mp_t *m)
{
    msgpack_pack_map (&m->pk, 2);
    s_kv_uint (m, "v", ZS_PROTO_VERSION);
    s_kv_str (m, "type", "scan_explode");
}
static void b_deep (s_mp_t *m)
{
    msgpack_pack_map (&m->pk, 4);
    s_kv_uint (m, "v", ZS_PROTO_VERSION);
    s_kv_str (m, "type", "scan_status");
    s_kv_str (m, "scan", "a");
    s_str (m, "zzz");
    for (int i = 0; i < 40; i++)
        msgpack_pack_array (&m->pk, 1);
    msgpack_pack_nil (&m->pk);
}
static void b_index_mismatch (s_mp_t *m)
{
    msgpack_pack_map (&m->pk, 7);
    s_kv_uint (m, "v", ZS_PROTO_VERSION);
    s_kv_str (m, "type", "task");
    s_kv_str (m, "scan", "a");
    s_kv_uint (m, "task", 1);
    s_kv_uint (m, "attempt", 1);
    s_str (m, "symbols");
    msgpack_pack_array (&m->pk, 2);
    s_str (m, "A");
    s_str (m, "B");
    s_str (m, "index");
    msgpack_pack_array (&m->pk, 1);
    msgpack_pack_uint32 (&m->pk, 0);
}
static void b_empty_task (s_mp_t *m)
{
    msgpack_pack_map (&m->pk, 7);
    s_kv_uint (m, "v", ZS_PROTO_VERSION);
    s_kv_str (m, "type", "task");
    s_kv_str (m, "scan", "a");
    s_kv_uint (m, "task", 1);
    s_kv_uint (m, "attempt", 1);
    s_str (m, "symbols");
    msgpack_pack_array (&m->pk, 0);
    s_str (m, "index");
    msgpack_pack_array (&m->pk, 0);
}
static void b_bad_symbol (s_mp_t *m)
{
    msgpack_pack_map (&m->pk, 7);
    s_kv_uint (m, "v", ZS_PROTO_VERSION);
    s_kv_str (m, "type", "task");
    s_kv_str (m, "scan", "a");
    s_kv_uint (m, "task", 1);
    s_kv_uint (m, "attempt", 1);
    s_str (m, "symbols");
    msgpack_pack_array (&m->pk, 1);
    s_str (m, "../etc/passwd");
    s_str (m, "index");
    msgpack_pack_array (&m->pk, 1);
    msgpack_pack_uint32 (&m->pk, 0);
}
static void b_too_many_values (s_mp_t *m)
{
    msgpack_pack_map (&m->pk, 8);
    s_kv_uint (m, "v", ZS_PROTO_VERSION);
    s_kv_str (m, "type", "result");
    s_kv_str (m, "scan", "a");
    s_kv_uint (m, "index", 0);
    s_kv_str (m, "symbol", "A");
    s_str (m, "signal");
    msgpack_pack_true (&m->pk);
    s_kv_str (m, "worker", "w");
    s_str (m, "values");
    msgpack_pack_map (&m->pk, 33);
    for (int i = 0; i < 33; i++) {
        char k[8];
        snprintf (k, sizeof k, "v%d", i);
        s_str (m, k);
        msgpack_pack_double (&m->pk, i);
    }
}
static void b_infinite (s_mp_t *m)
{
    msgpack_pack_map (&m->pk, 5);
    s_kv_uint (m, "v", ZS_PROTO_VERSION);
    s_kv_str (m, "type", "broker_heartbeat");
    s_kv_str (m, "broker", "b");
    s_kv_uint (m, "tick", 1);
    s_str (m, "extra");
    msgpack_pack_double (&m->pk, INFINITY); /* unknown keys: any value */
}
static void b_inf_score (s_mp_t *m)
{
    msgpack_pack_map (&m->pk, 8);
    s_kv_uint (m, "v", ZS_PROTO_VERSION);
    s_kv_str (m, "type", "result");
    s_kv_str (m, "scan", "a");
    s_kv_uint (m, "index", 0);
    s_kv_str (m, "symbol", "A");
    s_str (m, "signal");
    msgpack_pack_true (&m->pk);
    s_kv_str (m, "worker", "w");
    s_str (m, "score");
    msgpack_pack_double (&m->pk, INFINITY);
}
static void b_both_def (s_mp_t *m)
{
    msgpack_pack_map (&m->pk, 3);
    s_kv_uint (m, "v", ZS_PROTO_VERSION);
    s_kv_str (m, "type", "scan_start");
    s_str (m, "def");
    msgpack_pack_map (&m->pk, 2);
    s_kv_str (m, "strategy", "x");
    s_kv_str (m, "filter", "close > 1");
}
static void b_huge_array (s_mp_t *m)
{
    msgpack_pack_map (&m->pk, 3);
    s_kv_uint (m, "v", ZS_PROTO_VERSION);
    s_kv_str (m, "type", "scan_start");
    s_str (m, "symbols");
    /* array32 claiming 4 billion elements, then nothing */
    msgpack_sbuffer_write (&m->sb, "\xdd\xff\xff\xff\xff", 5);
}
static void b_huge_map (s_mp_t *m)
{
    msgpack_sbuffer_write (&m->sb, "\xdf\xff\xff\xff\xff", 5);
}

static const s_bad_t s_bad[] = {
    {"not a map", b_not_map, "not a msgpack map", ZS_MSG_UNKNOWN},
    {"no version", b_no_version, "missing protocol version", ZS_MSG_UNKNOWN},
    {"version 1", b_bad_version, "unsupported protocol version 1", ZS_MSG_UNKNOWN},
    {"wrong type", b_wrong_type, "type is 'scan_stop', want 'scan_status'",
     ZS_MSG_SCAN_STATUS},
    {"missing field", b_missing, "missing required field 'scan'", ZS_MSG_UNKNOWN},
    {"wrong kind", b_wrong_kind, "scan: want a string, got integer", ZS_MSG_UNKNOWN},
    {"bad id", b_bad_id, "scan is not an id", ZS_MSG_UNKNOWN},
    {"long id", b_long_id, "scan is not an id", ZS_MSG_UNKNOWN},
    {"duplicate key", b_duplicate, "duplicate key 'scan'", ZS_MSG_UNKNOWN},
    {"trailing bytes", b_trailing, "1 trailing bytes", ZS_MSG_UNKNOWN},
    {"negative uint", b_negative, "req: want a non-negative integer", ZS_MSG_UNKNOWN},
    {"u32 overflow", b_u32_overflow, "lane: 4294967296 is out of range", ZS_MSG_UNKNOWN},
    {"binary as string", b_bin_string, "scan: want a string, got binary", ZS_MSG_UNKNOWN},
    {"NUL in string", b_nul_in_string, "message contains a NUL byte", ZS_MSG_UNKNOWN},
    {"unknown type", b_unknown_type, "unknown message type 'scan_explode'", ZS_MSG_UNKNOWN},
    {"nesting bomb", b_deep, "malformed value of unknown key", ZS_MSG_UNKNOWN},
    {"index mismatch", b_index_mismatch, "index has 1 entries for 2 symbols", ZS_MSG_UNKNOWN},
    {"empty task", b_empty_task, "symbols: 0 symbols", ZS_MSG_UNKNOWN},
    {"path as symbol", b_bad_symbol, "symbols is not a symbol", ZS_MSG_UNKNOWN},
    {"too many values", b_too_many_values, "values: more than 32", ZS_MSG_UNKNOWN},
    {"infinite score", b_inf_score, "score: not a finite number", ZS_MSG_UNKNOWN},
    {"strategy and filter", b_both_def, "exclusive", ZS_MSG_UNKNOWN},
    {"huge array", b_huge_array, "symbols: want an array", ZS_MSG_UNKNOWN},
    {"huge map", b_huge_map, "not a msgpack map", ZS_MSG_UNKNOWN},
    {NULL, NULL, NULL, ZS_MSG_UNKNOWN}};

/*  Decodes with the decoder the body's type names (or scan_status). */
static int s_decode_any (const void *data, size_t size, zs_msg_type_t as,
                         char *err, size_t errlen)
{
    zs_msg_type_t type = as;
    if (as == ZS_MSG_UNKNOWN && zs_msg_peek (data, size, &type, err, errlen) != 0)
        return -1;
    for (const zs_sample_t *s = zs_samples; s->name; s++)
        if (s->type == type) {
            zs_buf_t out = {0};
            int rc = s->reencode (data, size, &out, err, errlen);
            zs_buf_free (&out);
            return rc;
        }
    return -1;
}

static void test_errors (void)
{
    int n = 0;
    for (const s_bad_t *b = s_bad; b->name; b++) {
        s_mp_t m;
        s_mp_init (&m);
        b->build (&m);
        char err[256] = "";
        int rc = s_decode_any (m.sb.data, m.sb.size, b->as, err, sizeof err);
        CHECK (rc == -1, "%s: decoded, want an error", b->name);
        CHECK (strstr (err, b->want) != NULL, "%s: error '%s', want '%s'",
               b->name, err, b->want);
        msgpack_sbuffer_destroy (&m.sb);
        n++;
    }
    /* unknown extra keys with any value are ignored */
    s_mp_t m;
    s_mp_init (&m);
    b_infinite (&m);
    zs_broker_hb_t hb = {0};
    char err[256];
    CHECK (zs_broker_hb_decode (m.sb.data, m.sb.size, &hb, err, sizeof err)
                   == 0
               && hb.tick == 1,
           "unknown keys ignored: %s", err);
    zs_msg_free (&hb.mem_);
    msgpack_sbuffer_destroy (&m.sb);
    /* encoders refuse what decoders would refuse */
    zs_scan_status_t st = {0};
    st.scan = "bad id";
    zs_buf_t buf = {0};
    CHECK (zs_scan_status_encode (&st, &buf, err, sizeof err) == -1
               && buf.size == 0 && strstr (err, "scan is not an id"),
           "encoder validates: %s", err);
    zs_result_t r = {0};
    r.scan = "a";
    r.symbol = "A";
    r.worker = "w";
    r.score = INFINITY;
    r.price = NAN;
    CHECK (zs_result_encode (&r, &buf, err, sizeof err) == -1
               && strstr (err, "score: not a finite number"),
           "encoder refuses infinity: %s", err);
    zs_buf_free (&buf);
    printf ("error cases: %d\n", n + 2);
}

/* ---------------------------------------------------------------------- */
/*  Truncations and mutations: never a crash, never a leak                 */

static uint64_t s_rng = 0x9e3779b97f4a7c15ULL;
static uint64_t s_rand (void)
{
    s_rng ^= s_rng << 13;
    s_rng ^= s_rng >> 7;
    s_rng ^= s_rng << 17;
    return s_rng;
}

static void test_truncations_and_mutations (void)
{
    long truncs = 0, mutations = 0, accepted = 0;
    unsigned char work[8192];
    for (const zs_sample_t *s = zs_samples; s->name; s++)
        for (int full = 0; full < 2; full++) {
            zs_buf_t a = {0};
            char err[256];
            if (s->encode_sample (full, &a, err, sizeof err) != 0)
                continue;
            /* every proper prefix is an error */
            for (size_t k = 0; k < a.size; k++) {
                zs_buf_t out = {0};
                int rc = s->reencode (a.data, k, &out, err, sizeof err);
                CHECK (rc == -1, "%s: prefix %zu of %zu decoded", s->name, k,
                       a.size);
                zs_buf_free (&out);
                truncs++;
            }
            /* random mutations: flips, inserts, deletes, splices */
            for (int i = 0; i < 4000 && a.size < sizeof work - 16; i++) {
                size_t n = a.size;
                memcpy (work, a.data, n);
                int edits = 1 + (int) (s_rand () % 4);
                for (int e = 0; e < edits && n > 0; e++) {
                    size_t at = s_rand () % n;
                    switch (s_rand () % 5) {
                    case 0:
                        work[at] ^= (unsigned char) (1u << (s_rand () % 8));
                        break;
                    case 1:
                        work[at] = (unsigned char) s_rand ();
                        break;
                    case 2: /* insert */
                        memmove (work + at + 1, work + at, n - at);
                        work[at] = (unsigned char) s_rand ();
                        n++;
                        break;
                    case 3: /* delete */
                        memmove (work + at, work + at + 1, n - at - 1);
                        n--;
                        break;
                    default: /* interesting bytes: big headers */
                        work[at] = (unsigned char[]){0xdc, 0xdd, 0xde, 0xdf,
                                                     0xdb, 0xc1, 0xcf,
                                                     0xd3}[s_rand () % 8];
                        break;
                    }
                }
                zs_buf_t out = {0};
                if (s->reencode (work, n, &out, err, sizeof err) == 0)
                    accepted++;
                zs_buf_free (&out);
                mutations++;
            }
            zs_buf_free (&a);
        }
    printf ("truncations: %ld (all rejected), mutations: %ld (%ld still "
            "valid)\n",
            truncs, mutations, accepted);
}

/* ---------------------------------------------------------------------- */

static void test_topics (void)
{
    char buf[ZS_TOPIC_MAX], scan[ZS_ID_MAX + 1];
    zs_topic_kind_t kind;
    CHECK (zs_topic_result (buf, sizeof buf, "abc", true) == 6
               && strcmp (buf, "abc.r1") == 0,
           "signal topic");
    CHECK (zs_topic_result (buf, sizeof buf, "abc", false) == 6
               && strcmp (buf, "abc.r0") == 0,
           "plain topic");
    CHECK (zs_topic_build (buf, sizeof buf, "abc", ZS_TOPIC_EVENT) == 6
               && strcmp (buf, "abc.ev") == 0,
           "event topic");
    CHECK (zs_topic_prefix_scan (buf, sizeof buf, "abc") == 4
               && strcmp (buf, "abc.") == 0,
           "scan prefix");
    CHECK (zs_topic_prefix_results (buf, sizeof buf, "abc") == 5
               && strcmp (buf, "abc.r") == 0,
           "results prefix");
    CHECK (zs_topic_build (buf, sizeof buf, "a.b", ZS_TOPIC_EVENT) == 0,
           "a dot in an id is refused");
    CHECK (zs_topic_build (buf, 4, "abc", ZS_TOPIC_EVENT) == 0,
           "small buffer");
    CHECK (zs_topic_parse ("abc.r1", 6, scan, &kind) == 0
               && strcmp (scan, "abc") == 0
               && kind == ZS_TOPIC_RESULT_SIGNAL,
           "parse signal");
    CHECK (zs_topic_parse ("x-1.ev", 6, scan, &kind) == 0
               && kind == ZS_TOPIC_EVENT,
           "parse event");
    const char *bad[] = {"abc.r2", "abc", ".r1", "a b.r1", "abc.R1", "abcr1",
                         NULL};
    for (int i = 0; bad[i]; i++)
        CHECK (zs_topic_parse (bad[i], strlen (bad[i]), scan, &kind) == -1,
               "'%s' is not a topic", bad[i]);
    CHECK (zs_topic_parse ("ab\0c.r1", 7, scan, &kind) == -1, "NUL in topic");
    /* position frames: [pos, signals, events], signals + events < pos */
    uint64_t cases[] = {1, 2, 127, 128, 255, 256, 65535, 65536, 4294967295ULL,
                        4294967296ULL, UINT64_MAX};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        unsigned char sb[ZS_POS_MAX];
        zs_pos_t p = {cases[i], cases[i] / 3, cases[i] / 3};
        size_t n = zs_pos_encode (&p, sb);
        zs_pos_t back = {0, 0, 0};
        CHECK (n <= ZS_POS_MAX && zs_pos_decode (sb, n, &back) == 0
                   && back.pos == p.pos && back.signals == p.signals
                   && back.events == p.events,
               "pos %llu", (unsigned long long) cases[i]);
        CHECK (zs_pos_decode (sb, n - 1, &back) == -1, "truncated pos");
    }
    /* the req of a request or reply, read alone */
    {
        zs_scan_started_t m = {0};
        m.req = 4242;
        m.scan = "s1";
        m.total = 10;
        m.seq = 1;
        zs_buf_t b = {0};
        char err[256];
        uint64_t req = 0;
        CHECK (zs_scan_started_encode (&m, &b, err, sizeof err) == 0
                   && zs_msg_peek_req (b.data, b.size, &req) == 0
                   && req == 4242,
               "peek req: %llu", (unsigned long long) req);
        m.req = 0; /* absent */
        zs_buf_reset (&b);
        zs_scan_started_encode (&m, &b, err, sizeof err);
        CHECK (zs_msg_peek_req (b.data, b.size, &req) == -1, "no req");
        CHECK (zs_msg_peek_req ("\x81\xa3req\xa1x", 7, &req) == -1,
               "a req that is not a number");
        CHECK (zs_msg_peek_req ("\x92", 1, &req) == -1, "not a map");
        zs_buf_free (&b);
    }
    zs_pos_t v;
    CHECK (zs_pos_decode ("\x93\x01\x00\x00", 4, &v) == 0 && v.pos == 1,
           "position 1");
    CHECK (zs_pos_decode ("\x93\x01\x00\x00\x02", 5, &v) == -1,
           "pos trailing byte");
    CHECK (zs_pos_decode ("\x01", 1, &v) == -1, "a bare uint (v1's seq)");
    CHECK (zs_pos_decode ("\x92\x01\x00", 3, &v) == -1, "two numbers");
    CHECK (zs_pos_decode ("\x93\x00\x00\x00", 4, &v) == -1, "position 0");
    CHECK (zs_pos_decode ("\x93\x03\x02\x01", 4, &v) == -1,
           "more signals and events than records before it");
    CHECK (zs_pos_decode ("\x93\x03\x01\x01", 4, &v) == 0,
           "two records before it, one signal, one event");
    CHECK (zs_pos_decode ("\x93\xa1x\x00\x00", 5, &v) == -1,
           "a string position");
}

/* ---------------------------------------------------------------------- */
/*  The hand-written result encoder against the table-driven one           */

static void s_rand_str (char *buf, size_t len, const char *alphabet)
{
    size_t n = strlen (alphabet);
    for (size_t i = 0; i < len; i++)
        buf[i] = alphabet[s_rand () % n];
    buf[len] = 0;
}

static uint64_t s_rand_uint (void)
{
    /* every msgpack width: fixint, 8, 16, 32 and 64 bits */
    static const uint64_t tops[] = {0x7f, 0xff, 0xffff, 0xffffffffULL,
                                    UINT64_MAX};
    uint64_t top = tops[s_rand () % 5];
    return top == UINT64_MAX ? s_rand () : s_rand () % (top + 1);
}

/*  The strings of a random result live here. */
typedef struct {
    char scan[65], sym[32], when[65], error[1025], note[1025], worker[129],
        names[ZS_VALUES_MAX][65];
} s_rstrs_t;

/*  A random valid result: every field, every msgpack width of its numbers,
    undefined and special floats, up to ZS_VALUES_MAX values. */
static void s_rand_result (zs_result_t *rp, s_rstrs_t *st)
{
    static const char *ID = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                            "0123456789_-";
    static const char *SYM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._^-";
    char *scan = st->scan, *sym = st->sym, *when = st->when,
         *error = st->error, *note = st->note, *worker = st->worker;
    char (*names)[65] = st->names;
    zs_result_t r = {0};
    s_rand_str (scan, 1 + s_rand () % 64, ID);
    s_rand_str (sym, 1 + s_rand () % 31, SYM);
    r.scan = scan;
    r.symbol = sym;
    r.index = (uint32_t) s_rand_uint ();
    r.signal = s_rand () & 1;
    double special[] = {NAN, 0.0, -0.0, 1e-300, -123.456, 1e300};
    r.score = s_rand () % 2 ? special[s_rand () % 6]
                            : (double) (int64_t) s_rand () / 1e9;
    r.price = s_rand () % 2 ? special[s_rand () % 6]
                            : (double) (s_rand () % 100000) / 7.0;
    if (s_rand () % 2) {
        s_rand_str (when, 1 + s_rand () % 64, ID);
        r.time = when;
    }
    r.nvalues = s_rand () % 4 ? s_rand () % 8 : s_rand () % 33;
    for (size_t i = 0; i < r.nvalues; i++) {
        snprintf (names[i], sizeof names[i], "v%zu_", i);
        size_t at = strlen (names[i]);
        s_rand_str (names[i] + at, s_rand () % (64 - at), ID);
        r.values[i].name = names[i];
        r.values[i].value = s_rand () % 5 ? (double) (int64_t) s_rand ()
                                          : NAN;
    }
    if (s_rand () % 4 == 0) {
        s_rand_str (error, s_rand () % 1025, ID);
        r.error = error;
    }
    if (s_rand () % 4 == 0) {
        s_rand_str (note, s_rand () % 300, ID);
        r.note = note;
    }
    s_rand_str (worker, 1 + s_rand () % 128, ID);
    r.worker = worker;
    if (s_rand () % 2)
        r.lane = (uint32_t) s_rand_uint ();
    if (s_rand () % 2)
        r.wseq = s_rand_uint ();
    if (s_rand () % 2)
        r.task = s_rand_uint ();
    if (s_rand () % 2)
        r.attempt = (uint32_t) s_rand_uint ();
    *rp = r;
}

static void test_result_encoder (void)
{
    char err1[256], err2[256];
    int same = 0;
    for (int k = 0; k < 20000; k++) {
        s_rstrs_t st;
        zs_result_t r;
        s_rand_result (&r, &st);
        zs_buf_t a = {0}, b = {0};
        zs_buf_append (&a, "x", 1); /* appends after what is there */
        zs_buf_append (&b, "x", 1);
        int ra = zs_result_encode (&r, &a, err1, sizeof err1);
        int rb = zs_msg_encode_generic (ZS_MSG_RESULT, &r, &b, err2,
                                        sizeof err2);
        if (ra == 0 && rb == 0 && a.size == b.size
            && memcmp (a.data, b.data, a.size) == 0)
            same++;
        else
            CHECK (0, "result %d: fast %d (%zu bytes), table %d (%zu bytes)",
                   k, ra, a.size, rb, b.size);
        zs_buf_free (&a);
        zs_buf_free (&b);
    }
    CHECK (same == 20000, "%d of 20000 random results encoded the same", same);

    /* the encoder of a task's results: the same bytes, whatever r says of
       the five fields it holds itself */
    same = 0;
    for (int k = 0; k < 20000; k++) {
        s_rstrs_t st;
        zs_result_t r;
        s_rand_result (&r, &st);
        zs_result_enc_t e;
        int ri = zs_result_enc_init (&e, r.scan, r.worker, r.lane, r.task,
                                     r.attempt, err1, sizeof err1);
        zs_result_t other = r;
        other.scan = "ignored";
        other.worker = NULL;
        other.lane = 9;
        other.task = other.attempt = 0;
        zs_buf_t a = {0}, b = {0};
        int ra = ri == 0 ? zs_result_encode_with (&e, &other, &a, err1,
                                                  sizeof err1)
                         : -1;
        int rb = zs_result_encode (&r, &b, err2, sizeof err2);
        if (ra == 0 && rb == 0 && a.size == b.size
            && memcmp (a.data, b.data, a.size) == 0)
            same++;
        zs_buf_free (&a);
        zs_buf_free (&b);
    }
    CHECK (same == 20000, "%d of 20000 random results encoded the same with "
           "a task's encoder", same);
    zs_result_enc_t e;
    CHECK (zs_result_enc_init (&e, "a b", "w", 0, 0, 0, err1, sizeof err1)
               == -1 && strcmp (err1, "scan is not an id ([A-Za-z0-9_-]{1,64})")
                            == 0,
           "a task's encoder refuses a bad scan id: %s", err1);
    CHECK (zs_result_enc_init (&e, "s", "", 0, 0, 0, err1, sizeof err1) == -1
               && strcmp (err1, "worker must be 1..128 bytes") == 0,
           "... and a bad worker id: %s", err1);

    /* bad results: both refuse, with the same reason */
    zs_result_t good = {0};
    good.scan = "s1";
    good.symbol = "AAPL";
    good.worker = "w";
    good.score = good.price = NAN;
    good.nvalues = 2;
    good.values[0].name = "a";
    good.values[1].name = "b";
    for (int c = 0; c < 14; c++) {
        zs_result_t r = good;
        switch (c) {
        case 0: r.scan = NULL; break;
        case 1: r.scan = "a.b"; break;
        case 2: r.symbol = "a b"; break;
        case 3: r.score = INFINITY; break;
        case 4: r.price = -INFINITY; break;
        case 5: r.values[1].name = "a"; break;
        case 6: r.values[0].value = INFINITY; break;
        case 7: r.nvalues = ZS_VALUES_MAX + 1; break;
        case 8: r.worker = NULL; break;
        case 9: r.worker = ""; break;
        case 10: r.time = ""; break;
        case 11: r.values[1].name = NULL; break;
        case 12: r.symbol = "a b"; r.worker = ""; break; /* two faults */
        case 13: r.note = "x\001"; r.worker = NULL; r.index = 5; break;
        }
        zs_buf_t a = {0}, b = {0};
        int ra = zs_result_encode (&r, &a, err1, sizeof err1);
        int rb = zs_msg_encode_generic (ZS_MSG_RESULT, &r, &b, err2,
                                        sizeof err2);
        CHECK (ra == -1 && rb == -1 && strcmp (err1, err2) == 0
                   && a.size == 0,
               "bad result %d: fast '%s', table '%s'", c, ra ? err1 : "ok",
               rb ? err2 : "ok");
        zs_buf_free (&a);
        zs_buf_free (&b);
    }
}

/* ---------------------------------------------------------------------- */
/*  The one-pass result decoder against the table-driven one               */

/*  Decodes data both ways: the same verdict, the same reason, the same
    values; returns 1 when they agree. */
static int s_decode_both (const void *data, size_t size, zs_result_t *f,
                          zs_result_t *g, int *accepted)
{
    char e1[256] = "", e2[256] = "";
    int rf = zs_result_decode (data, size, f, e1, sizeof e1);
    int rg = zs_result_decode_generic (data, size, g, e2, sizeof e2);
    *accepted = rg == 0;
    if (rf != rg)
        return 0;
    return rf == 0 ? zs_result_same (f, g) : strcmp (e1, e2) == 0;
}

/*  A body packed by hand: the forms our encoder never writes. */
static void s_pack_key (msgpack_packer *pk, const char *k)
{
    msgpack_pack_str (pk, strlen (k));
    msgpack_pack_str_body (pk, k, strlen (k));
}

static void test_result_decoder (void)
{
    zs_result_t f = {0}, g = {0};
    int agree = 0, total = 0, accepted = 0, acc;
    /* random results, then each mutated: flipped bytes, truncated, a byte
       inserted, a byte removed */
    for (int k = 0; k < 20000; k++) {
        s_rstrs_t st;
        zs_result_t r;
        s_rand_result (&r, &st);
        char err[256];
        zs_buf_t b = {0};
        CHECK (zs_result_encode (&r, &b, err, sizeof err) == 0, "encode");
        agree += s_decode_both (b.data, b.size, &f, &g, &acc);
        CHECK (acc && zs_result_same (&f, &r), "result %d decodes as sent", k);
        total++;
        accepted += acc;
        unsigned char *m = (unsigned char *) malloc (b.size + 1);
        for (int v = 0; v < 8; v++) {
            size_t n = b.size;
            memcpy (m, b.data, n);
            size_t at = s_rand () % n;
            switch (v % 4) {
            case 0:
                m[at] ^= (unsigned char) (1 + s_rand () % 255);
                if (s_rand () % 2)
                    m[s_rand () % n] = (unsigned char) s_rand ();
                break;
            case 1:
                n = at;
                break;
            case 2:
                memmove (m + at + 1, m + at, n - at);
                m[at] = (unsigned char) s_rand ();
                n++;
                break;
            case 3:
                memmove (m + at, m + at + 1, n - at - 1);
                n--;
                break;
            }
            agree += s_decode_both (m, n, &f, &g, &acc);
            total++;
            accepted += acc;
        }
        free (m);
        zs_buf_free (&b);
    }
    /* forms and faults packed by hand, each with the keys a valid result
       needs unless it tests their absence */
    for (int c = 0; c < 30; c++) {
        msgpack_sbuffer sb;
        msgpack_sbuffer_init (&sb);
        msgpack_packer pk;
        msgpack_packer_init (&pk, &sb, msgpack_sbuffer_write);
        int extra = c >= 1 && c < 27 ? 1 : 0;
        /* 27, 28, 29: without symbol, signal, worker */
        msgpack_pack_map (&pk, (c == 2 ? 0 : 2) + 5 + extra
                                   - (c == 3 || c == 4 || c >= 27 ? 1 : 0));
        if (c != 2) {
            s_pack_key (&pk, "v");
            if (c == 5)
                msgpack_pack_uint8 (&pk, 2);
            else
                msgpack_pack_uint16 (&pk, 1); /* a wider form of 1 */
            s_pack_key (&pk, "type");
            s_pack_key (&pk, c == 6 ? "results" : "result");
        }
        if (c != 3) {
            s_pack_key (&pk, "scan");
            s_pack_key (&pk, c == 7 ? "a.b" : "s1");
        }
        if (c != 4) {
            s_pack_key (&pk, "index");
            if (c == 8)
                msgpack_pack_uint64 (&pk, 1ULL << 32);
            else if (c == 9)
                msgpack_pack_int8 (&pk, -1);
            else
                msgpack_pack_uint32 (&pk, 7);
        }
        if (c != 27) {
            s_pack_key (&pk, "symbol");
            if (c == 10)
                msgpack_pack_str (&pk, 3),
                    msgpack_pack_str_body (&pk, "A\0B", 3);
            else
                s_pack_key (&pk, "AAPL");
        }
        if (c != 28) {
            s_pack_key (&pk, "signal");
            if (c == 11)
                msgpack_pack_int (&pk, 1);
            else
                msgpack_pack_true (&pk);
        }
        if (c != 29) {
            s_pack_key (&pk, "worker");
            s_pack_key (&pk, c == 12 ? "" : "w1");
        }
        if (extra) {
            switch (c) {
            case 1: s_pack_key (&pk, "unknown"); msgpack_pack_nil (&pk); break;
            case 2: s_pack_key (&pk, "score"); msgpack_pack_float (&pk, 1.5f); break;
            case 13: s_pack_key (&pk, "score"); msgpack_pack_int (&pk, -3); break;
            case 14: s_pack_key (&pk, "price"); msgpack_pack_double (&pk, INFINITY); break;
            case 15: s_pack_key (&pk, "price"); msgpack_pack_double (&pk, NAN); break;
            case 16: s_pack_key (&pk, "symbol"); s_pack_key (&pk, "MSFT"); break;
            case 17:
                s_pack_key (&pk, "values");
                msgpack_pack_map (&pk, 2);
                s_pack_key (&pk, "a"); msgpack_pack_nil (&pk);
                s_pack_key (&pk, "a"); msgpack_pack_double (&pk, 1);
                break;
            case 18:
                s_pack_key (&pk, "values");
                msgpack_pack_map (&pk, 1);
                s_pack_key (&pk, ""); msgpack_pack_double (&pk, 1);
                break;
            case 19: s_pack_key (&pk, "time"); s_pack_key (&pk, ""); break;
            case 20: {
                char big[1100];
                memset (big, 'x', sizeof big);
                s_pack_key (&pk, "error");
                msgpack_pack_str (&pk, 1025);
                msgpack_pack_str_body (&pk, big, 1025);
                break;
            }
            case 21: s_pack_key (&pk, "lane"); msgpack_pack_uint64 (&pk, 1ULL << 40); break;
            case 22: s_pack_key (&pk, "wseq"); msgpack_pack_uint64 (&pk, UINT64_MAX); break;
            case 23: s_pack_key (&pk, "v"); msgpack_pack_uint8 (&pk, 1); break;
            case 24: s_pack_key (&pk, "note"); msgpack_pack_bin (&pk, 1); msgpack_pack_bin_body (&pk, "x", 1); break;
            case 25: s_pack_key (&pk, "attempt"); msgpack_pack_float (&pk, 2.0f); break;
            case 26: s_pack_key (&pk, "score"); msgpack_pack_float (&pk, -0.25f); break;
            default: s_pack_key (&pk, "task"); msgpack_pack_uint16 (&pk, 300); break;
            }
        }
        agree += s_decode_both (sb.data, sb.size, &f, &g, &acc);
        total++;
        accepted += acc;
        msgpack_sbuffer_destroy (&sb);
    }
    CHECK (agree == total, "%d of %d bodies decoded the same both ways",
           agree, total);
    /* the mutations must have produced both verdicts */
    CHECK (accepted > 20000 && accepted < total - 20000,
           "%d of %d accepted", accepted, total);

    /* batches: the one-pass iteration against zs_recs_next + the table */
    int batches_same = 0;
    for (int k = 0; k < 300; k++) {
        unsigned n = 1 + (unsigned) s_rand () % 40;
        zs_buf_t body = {0};
        unsigned char h[8];
        zs_buf_append (&body, h, zs_recs_header (n, h));
        for (unsigned i = 0; i < n; i++) {
            s_rstrs_t st;
            zs_result_t r;
            s_rand_result (&r, &st);
            char err[256];
            zs_result_encode (&r, &body, err, sizeof err);
        }
        if (k % 3) /* damage one byte, or cut the end */
            ((unsigned char *) body.data)[s_rand () % body.size] ^=
                (unsigned char) (1 + s_rand () % 255);
        if (k % 7 == 0)
            body.size -= s_rand () % body.size;
        zs_recs_t a, b;
        char e1[256] = "", e2[256] = "";
        int ra = zs_recs_init (&a, body.data, body.size, e1, sizeof e1);
        int rb = zs_recs_init (&b, body.data, body.size, e2, sizeof e2);
        bool same = ra == rb;
        while (same && ra >= 0) {
            const void *r1, *r2;
            size_t l1 = 0, l2 = 0;
            ra = zs_recs_next_result (&a, &f, &r1, &l1, e1, sizeof e1);
            rb = zs_recs_next (&b, &r2, &l2, e2, sizeof e2);
            if (rb > 0 && zs_result_decode_generic (r2, l2, &g, e2,
                                                    sizeof e2) != 0)
                rb = -2;
            same = ra == rb && (ra < 0 ? strcmp (e1, e2) == 0 : true)
                   && (ra != 1 || (r1 == r2 && l1 == l2
                                   && zs_result_same (&f, &g)));
            if (ra == 0 || ra == -1)
                break;
        }
        batches_same += same;
        zs_buf_free (&body);
    }
    CHECK (batches_same == 300, "%d of 300 batches iterated the same",
           batches_same);
    zs_msg_free (&f.mem_);
    zs_msg_free (&g.mem_);
}

/*  One struct reused for tasks of every size, as a lane does: each decode
    fills the room left by the last one, or counts and decodes again. */
static void test_reused_struct (void)
{
    static const size_t sizes[] = {1, 3000, 5, 4096, 2, 4000, 4095, 7};
    zs_task_t got = {0};
    int ok = 0;
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t n = sizes[k];
        char (*names)[12] = (char (*)[12]) malloc (n * 12);
        const char **syms = (const char **) malloc (n * sizeof (char *));
        uint32_t *index = (uint32_t *) malloc (n * sizeof (uint32_t));
        for (size_t i = 0; i < n; i++) {
            snprintf (names[i], 12, "S%zu_%zu", k, i * 7919 % 100000);
            syms[i] = names[i];
            index[i] = (uint32_t) (i * 31 + k);
        }
        zs_task_t t = {0};
        t.scan = "reuse";
        t.task = k + 1;
        t.attempt = 1;
        t.def.filter = k % 2 ? "close > 1" : NULL;
        t.nsymbols = n;
        t.symbols = syms;
        t.index = index;
        zs_buf_t b = {0};
        char err[256];
        bool same = zs_task_encode (&t, &b, err, sizeof err) == 0
                    && zs_task_decode (b.data, b.size, &got, err, sizeof err)
                           == 0
                    && got.nsymbols == n && got.task == k + 1
                    && strcmp (got.scan, "reuse") == 0
                    && (k % 2 ? got.def.filter
                                    && strcmp (got.def.filter, "close > 1")
                                           == 0
                              : got.def.filter == NULL);
        for (size_t i = 0; same && i < n; i++)
            same = strcmp (got.symbols[i], names[i]) == 0
                   && got.index[i] == index[i];
        CHECK (same, "task of %zu symbols decoded into a reused struct", n);
        ok += same;
        zs_buf_free (&b);
        free (names);
        free (syms);
        free (index);
    }
    CHECK (ok == 8, "%d of 8 reused decodes", ok);

    /* a name given twice in def.params, then a bad symbol: the same reason
       (the first fault) from a fresh struct, which counts before it fills,
       and from the reused one, which has room and fills at once */
    for (int late_fault = 0; late_fault < 2; late_fault++) {
        msgpack_sbuffer sb;
        msgpack_sbuffer_init (&sb);
        msgpack_packer pk;
        msgpack_packer_init (&pk, &sb, msgpack_sbuffer_write);
        msgpack_pack_map (&pk, 7);
        s_pack_key (&pk, "v");
        msgpack_pack_uint8 (&pk, ZS_PROTO_VERSION);
        s_pack_key (&pk, "type");
        s_pack_key (&pk, "task");
        s_pack_key (&pk, "scan");
        s_pack_key (&pk, "s1");
        s_pack_key (&pk, "task");
        msgpack_pack_uint8 (&pk, 3);
        s_pack_key (&pk, "attempt");
        msgpack_pack_uint8 (&pk, 1);
        s_pack_key (&pk, "def");
        msgpack_pack_map (&pk, 3);
        /* a long data URI first: a fresh struct runs out of room before
           the params and only counts them */
        char uri[600];
        memset (uri, 'x', sizeof uri - 1);
        uri[sizeof uri - 1] = 0;
        memcpy (uri, "csv:/", 5);
        s_pack_key (&pk, "data");
        s_pack_key (&pk, uri);
        s_pack_key (&pk, "strategy");
        s_pack_key (&pk, "rsi_oversold");
        s_pack_key (&pk, "params");
        msgpack_pack_map (&pk, 2);
        s_pack_key (&pk, "period");
        msgpack_pack_double (&pk, 14);
        s_pack_key (&pk, "period");
        msgpack_pack_double (&pk, 7);
        s_pack_key (&pk, "symbols");
        msgpack_pack_array (&pk, 2);
        s_pack_key (&pk, "AAA");
        s_pack_key (&pk, late_fault ? "B B" : "BBB");
        zs_task_t fresh = {0};
        char e1[256] = "", e2[256] = "";
        int r1 = zs_task_decode (sb.data, sb.size, &fresh, e1, sizeof e1);
        int r2 = zs_task_decode (sb.data, sb.size, &got, e2, sizeof e2);
        CHECK (r1 == -1 && r2 == -1
                   && strcmp (e1, "def.params: 'period' given twice") == 0
                   && strcmp (e2, e1) == 0,
               "a name twice (%s): fresh '%s', reused '%s'",
               late_fault ? "and a bad symbol after it" : "alone", e1, e2);
        zs_msg_free (&fresh.mem_);
        msgpack_sbuffer_destroy (&sb);
    }
    zs_msg_free (&got.mem_);
}

/* ---------------------------------------------------------------------- */
/*  Record batches                                                         */

/*  Counts the records of a body; -1 when iterating it ends in an error.
    Each record's bytes must lie inside the body and decode as a result. */
static int s_walk (const void *data, size_t size, int *decoded)
{
    char err[256];
    zs_recs_t it;
    const void *rec;
    size_t len;
    int n = 0, rc = zs_recs_init (&it, data, size, err, sizeof err);
    *decoded = 0;
    while (rc >= 0 && (rc = zs_recs_next (&it, &rec, &len, err, sizeof err))
                          > 0) {
        CHECK ((const char *) rec >= (const char *) data
                   && (const char *) rec + len <= (const char *) data + size,
               "a record inside its body");
        zs_result_t r = {0};
        if (zs_result_decode (rec, len, &r, err, sizeof err) == 0)
            (*decoded)++;
        zs_msg_free (&r.mem_);
        n++;
    }
    return rc < 0 ? -1 : n;
}

static void test_batches (void)
{
    char err[256];
    unsigned char h[8];
    CHECK (zs_recs_header (1, h) == 1 && h[0] == 0x91, "header of 1");
    CHECK (zs_recs_header (15, h) == 1 && h[0] == 0x9f, "header of 15");
    CHECK (zs_recs_header (16, h) == 3 && h[0] == 0xdc && h[1] == 0
               && h[2] == 16,
           "header of 16");
    CHECK (zs_recs_header (ZS_BATCH_MAX, h) == 3 && h[1] == 0x10 && h[2] == 0,
           "header of %d", ZS_BATCH_MAX);

    /* 20 distinct results, each encoded alone, then as one batch */
    zs_buf_t one[20], batch = {0};
    size_t hl = zs_recs_header (20, h);
    zs_buf_append (&batch, h, hl);
    for (int i = 0; i < 20; i++) {
        zs_result_t r = {0};
        char sym[16];
        snprintf (sym, sizeof sym, "S%d", i);
        r.scan = "b1";
        r.index = (uint32_t) i;
        r.symbol = sym;
        r.signal = i % 3 == 0;
        r.score = i * 0.5;
        r.price = 10 + i;
        r.worker = "w";
        r.nvalues = 1;
        r.values[0].name = "rsi(14)";
        r.values[0].value = 20 + i;
        memset (&one[i], 0, sizeof one[i]);
        CHECK (zs_result_encode (&r, &one[i], err, sizeof err) == 0,
               "encode %d: %s", i, err);
        zs_buf_append (&batch, one[i].data, one[i].size);
    }
    zs_recs_t it;
    const void *rec;
    size_t len;
    CHECK (zs_recs_init (&it, batch.data, batch.size, err, sizeof err) == 20,
           "a batch of 20");
    for (int i = 0; i < 20; i++) {
        int rc = zs_recs_next (&it, &rec, &len, err, sizeof err);
        CHECK (rc == 1 && len == one[i].size
                   && memcmp (rec, one[i].data, len) == 0,
               "record %d is exactly its own encoding", i);
    }
    CHECK (zs_recs_next (&it, &rec, &len, err, sizeof err) == 0, "then the end");
    /* one map alone is a body of one record */
    int dec;
    CHECK (s_walk (one[0].data, one[0].size, &dec) == 1 && dec == 1,
           "a map is one record");
    CHECK (s_walk (batch.data, batch.size, &dec) == 20 && dec == 20,
           "every record of the batch decodes");
    /* built in place (as a lane builds them): the same bytes, with a
       3-byte header (20 records) and with a 1-byte one (the first 15,
       reusing the buffer) */
    {
        zs_buf_t inplace = {0};
        const char *start;
        size_t blen;
        CHECK (zs_recs_open (&inplace) == 0, "open a batch");
        for (int i = 0; i < 20; i++)
            zs_buf_append (&inplace, one[i].data, one[i].size);
        start = zs_recs_close (&inplace, 20, &blen);
        CHECK (blen == batch.size && memcmp (start, batch.data, blen) == 0,
               "a batch built in place is the batch (%zu bytes)", blen);
        CHECK (zs_recs_open (&inplace) == 0, "open again");
        size_t body = 0;
        for (int i = 0; i < 15; i++) {
            zs_buf_append (&inplace, one[i].data, one[i].size);
            body += one[i].size;
        }
        start = zs_recs_close (&inplace, 15, &blen);
        CHECK (blen == body + 1 && (unsigned char) start[0] == 0x9f
                   && memcmp (start + 1, one[0].data, one[0].size) == 0,
               "15 records under a 1-byte header (%zu bytes)", blen);
        CHECK (zs_recs_init (&it, start, blen, err, sizeof err) == 15,
               "and it reads as 15 records: %s", err);
        zs_buf_free (&inplace);
    }

    /* errors */
    CHECK (zs_recs_init (&it, "", 0, err, sizeof err) == -1
               && strstr (err, "empty"),
           "empty body: %s", err);
    CHECK (zs_recs_init (&it, "\x90", 1, err, sizeof err) == -1
               && strstr (err, "batch of 0"),
           "empty array: %s", err);
    CHECK (zs_recs_init (&it, "\xa3" "abc", 4, err, sizeof err) == -1
               && strstr (err, "want a map or an array"),
           "a string: %s", err);
    CHECK (zs_recs_init (&it, "\xdc\x10\x01", 3, err, sizeof err) == -1,
           "an array too long for its bytes is refused: %s", err);
    {
        zs_buf_t big = {0};
        zs_recs_header (ZS_BATCH_MAX, h);
        h[2] = 1; /* 4097 */
        zs_buf_append (&big, h, 3);
        for (int i = 0; i < ZS_BATCH_MAX + 1; i++)
            zs_buf_append (&big, "\x80", 1);
        CHECK (zs_recs_init (&it, big.data, big.size, err, sizeof err) == -1
                   && strstr (err, "4097"),
               "too many records: %s", err);
        zs_buf_free (&big);
    }
    CHECK (zs_recs_init (&it, "\x92\x80\x01", 3, err, sizeof err) == 2
               && zs_recs_next (&it, &rec, &len, err, sizeof err) == 1
               && zs_recs_next (&it, &rec, &len, err, sizeof err) == -1
               && strstr (err, "want a map"),
           "an element that is not a map: %s", err);
    CHECK (zs_recs_next (&it, &rec, &len, err, sizeof err) == 0,
           "nothing after an error");
    CHECK (zs_recs_init (&it, "\x91\x80\x80", 3, err, sizeof err) == 1
               && zs_recs_next (&it, &rec, &len, err, sizeof err) == 1
               && zs_recs_next (&it, &rec, &len, err, sizeof err) == -1
               && strstr (err, "1 bytes after"),
           "bytes after the last record: %s", err);
    CHECK (zs_recs_init (&it, "\x80\x80", 2, err, sizeof err) == 1
               && zs_recs_next (&it, &rec, &len, err, sizeof err) == 1
               && zs_recs_next (&it, &rec, &len, err, sizeof err) == -1,
           "bytes after a lone map: %s", err);
    /* every truncation of the batch ends in an error, never past its end */
    int bad = 0;
    for (size_t n = 0; n < batch.size; n++) {
        char *cut = (char *) malloc (n ? n : 1);
        memcpy (cut, batch.data, n);
        if (s_walk (cut, n, &dec) != -1)
            bad++;
        free (cut);
    }
    CHECK (bad == 0, "%d truncations of a batch were taken as whole", bad);
    for (int i = 0; i < 20; i++)
        zs_buf_free (&one[i]);
    zs_buf_free (&batch);
}

/* ---------------------------------------------------------------------- */
/*  zs_mp_skip (a table and a stack) against a recursive skip written from
    the msgpack spec: the same verdict and the same end on random values
    of every form, nested, truncated and mutated, at every depth limit */

static uint64_t s_ref_be (const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/* the end of the value at p, or NULL */
static const uint8_t *s_ref_skip (const uint8_t *p, const uint8_t *end,
                                  int depth)
{
    if (p >= end)
        return NULL;
    size_t room = (size_t) (end - p);
    unsigned b = *p;
    uint64_t len = 0, count = 0;
    int hdr = 1;
    bool container = false;
    if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3)
        return p + 1;
    if (b == 0xc1)
        return NULL;
    if (b >= 0xa0 && b <= 0xbf)
        len = b & 0x1f;
    else if (b >= 0x80 && b <= 0x9f) {
        container = true;
        count = (b & 0x0f) * (b <= 0x8f ? 2 : 1);
    }
    else if (b >= 0xcc && b <= 0xd3) {
        static const int sz[] = {1, 2, 4, 8};
        return room >= 1u + sz[(b - 0xcc) & 3] ? p + 1 + sz[(b - 0xcc) & 3]
                                                : NULL;
    }
    else if (b == 0xca || b == 0xcb) {
        size_t n = b == 0xca ? 5 : 9;
        return room >= n ? p + n : NULL;
    }
    else if (b >= 0xd4 && b <= 0xd8) {
        size_t n = 2 + ((size_t) 1 << (b - 0xd4));
        return room >= n ? p + n : NULL;
    }
    else {
        /* a length or count of 1, 2 or 4 bytes follows */
        int lb = 0;
        switch (b) {
        case 0xc4: case 0xc7: case 0xd9: lb = 1; break;
        case 0xc5: case 0xc8: case 0xda: case 0xdc: case 0xde: lb = 2; break;
        default: lb = 4; break;
        }
        if (room < 1u + lb)
            return NULL;
        hdr = 1 + lb;
        uint64_t v = s_ref_be (p + 1, lb);
        if (b >= 0xdc) {
            container = true;
            count = b >= 0xde ? v * 2 : v;
        }
        else
            len = v + (b >= 0xc7 && b <= 0xc9); /* ext: the type byte */
    }
    if (!container)
        return room - hdr >= len ? p + hdr + len : NULL;
    if (depth <= 0)
        return NULL;
    p += hdr;
    for (uint64_t i = 0; i < count && p; i++)
        p = s_ref_skip (p, end, depth - 1);
    return p;
}

static void s_gen_be (zs_buf_t *b, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        unsigned char c = (unsigned char) (v >> (8 * i));
        zs_buf_append (b, &c, 1);
    }
}

static void s_gen_value (zs_buf_t *b, int depth)
{
    unsigned char c;
    static const unsigned char junk[20] = "0123456789abcdefghi";
    int what = rand () % (depth > 0 ? 12 : 8);
    switch (what) {
    case 0: /* fixints, nil, booleans */
        c = (unsigned char[]){0x00, 0x7f, 0xe0, 0xff, 0xc0, 0xc2, 0xc3,
                              0x2a}[rand () % 8];
        zs_buf_append (b, &c, 1);
        break;
    case 1: { /* sized ints and floats */
        static const unsigned char f[] = {0xcc, 0xcd, 0xce, 0xcf, 0xd0,
                                          0xd1, 0xd2, 0xd3, 0xca, 0xcb};
        static const int n[] = {1, 2, 4, 8, 1, 2, 4, 8, 4, 8};
        int k = rand () % 10;
        zs_buf_append (b, &f[k], 1);
        s_gen_be (b, (uint64_t) rand () * 2654435761u, n[k]);
        break;
    }
    case 2:
    case 3: { /* strings: fix, 8, 16, 32 */
        int len = rand () % 20, form = rand () % 4;
        if (form == 0) {
            c = (unsigned char) (0xa0 | len);
            zs_buf_append (b, &c, 1);
        }
        else {
            c = (unsigned char) (0xd8 + form);
            zs_buf_append (b, &c, 1);
            s_gen_be (b, (uint64_t) len, form == 1 ? 1 : form == 2 ? 2 : 4);
        }
        zs_buf_append (b, junk, (size_t) len);
        break;
    }
    case 4: { /* bin 8, 16, 32 */
        int len = rand () % 20, form = rand () % 3;
        c = (unsigned char) (0xc4 + form);
        zs_buf_append (b, &c, 1);
        s_gen_be (b, (uint64_t) len, 1 << form);
        zs_buf_append (b, junk, (size_t) len);
        break;
    }
    case 5: { /* fixext 1..16 */
        int k = rand () % 5;
        c = (unsigned char) (0xd4 + k);
        zs_buf_append (b, &c, 1);
        zs_buf_append (b, junk, 1 + ((size_t) 1 << k));
        break;
    }
    case 6:
    case 7: { /* ext 8, 16, 32 */
        int len = rand () % 20, form = rand () % 3;
        c = (unsigned char) (0xc7 + form);
        zs_buf_append (b, &c, 1);
        s_gen_be (b, (uint64_t) len, 1 << form);
        zs_buf_append (b, junk, (size_t) len + 1);
        break;
    }
    default: { /* arrays and maps: fix, 16, 32 */
        bool map = what >= 10;
        int n = rand () % 6, form = rand () % 3;
        if (form == 0) {
            c = (unsigned char) ((map ? 0x80 : 0x90) | n);
            zs_buf_append (b, &c, 1);
        }
        else {
            c = (unsigned char) ((map ? 0xde : 0xdc) + form - 1);
            zs_buf_append (b, &c, 1);
            s_gen_be (b, (uint64_t) n, form == 1 ? 2 : 4);
        }
        for (int i = 0; i < n * (map ? 2 : 1); i++)
            s_gen_value (b, depth - 1);
        break;
    }
    }
}

static void s_skip_same (const uint8_t *data, size_t size, int depth,
                         int *cases)
{
    const uint8_t *want = s_ref_skip (data, data + size, depth);
    zs_mp_t mp = {data, data + size};
    int rc = zs_mp_skip (&mp, depth);
    (*cases)++;
    CHECK ((rc == 0) == (want != NULL),
           "skip of %zu bytes (first 0x%02x), depth %d: %s, the spec %s",
           size, size ? data[0] : 0, depth, rc == 0 ? "accepted" : "refused",
           want ? "accepts" : "refuses");
    if (rc == 0 && want)
        CHECK (mp.p == want, "skip ends at %td, the spec at %td",
               mp.p - data, want - data);
    if (rc != 0)
        CHECK (mp.p == data, "a refused skip moved the cursor");
}

static void test_skip (void)
{
    srand (7);
    int cases = 0;
    zs_buf_t b = {0};
    for (int i = 0; i < 20000; i++) {
        zs_buf_reset (&b);
        s_gen_value (&b, rand () % 6);
        if (rand () % 4 == 0)
            s_gen_value (&b, 2); /* bytes after the value */
        const uint8_t *d = (const uint8_t *) b.data;
        int depth = rand () % 8 - 1;
        s_skip_same (d, b.size, depth, &cases);
        s_skip_same (d, b.size, 9, &cases);
        /* every truncation of small ones, a few of the others */
        for (size_t cut = 0; cut < b.size; cut++)
            if (b.size < 40 || rand () % 8 == 0)
                s_skip_same (d, cut, 9, &cases);
        /* mutations: any byte may become a header of another form */
        uint8_t copy[4096];
        if (b.size <= sizeof copy)
            for (int m = 0; m < 8; m++) {
                memcpy (copy, d, b.size);
                copy[(size_t) rand () % b.size] = (uint8_t) rand ();
                s_skip_same (copy, b.size, rand () % 10, &cases);
            }
    }
    /* by hand: the invalid byte, depth limits, counts beyond the bytes */
    static const uint8_t c1[] = {0xc1}, nested[] = {0x91, 0x91, 0x91, 0x01},
                         empty_map[] = {0x80},
                         big_array[] = {0xdd, 0xff, 0xff, 0xff, 0xff, 0x01},
                         big_str[] = {0xdb, 0x7f, 0xff, 0xff, 0xff, 'x'};
    zs_mp_t mp = {c1, c1 + 1};
    CHECK (zs_mp_skip (&mp, 8) == -1, "0xc1 is refused");
    mp = (zs_mp_t){nested, nested + 4};
    CHECK (zs_mp_skip (&mp, 2) == -1 && mp.p == nested,
           "three arrays deep with a limit of 2 are refused");
    mp = (zs_mp_t){nested, nested + 4};
    CHECK (zs_mp_skip (&mp, 3) == 0 && mp.p == nested + 4,
           "three arrays deep with a limit of 3 are skipped");
    mp = (zs_mp_t){empty_map, empty_map + 1};
    CHECK (zs_mp_skip (&mp, 0) == -1, "even an empty map needs depth 1");
    mp = (zs_mp_t){big_array, big_array + 6};
    CHECK (zs_mp_skip (&mp, 8) == -1, "an array of 2^32-1 in 6 bytes");
    mp = (zs_mp_t){big_str, big_str + 6};
    CHECK (zs_mp_skip (&mp, 8) == -1, "a string of 2^31 in 6 bytes");
    zs_buf_free (&b);
    printf ("skip: %d cases against the spec's recursive skip\n", cases);
}

/*  Records for msgpack clients: the envelope's bytes against msgpack-c's
    packing of the same map, with the record's bytes unchanged inside. */
static void test_envelopes (void)
{
    s_mp_t rec;
    s_mp_init (&rec);
    msgpack_pack_map (&rec.pk, 2);
    s_kv_str (&rec, "symbol", "AAPL");
    s_kv_uint (&rec, "index", 70000);
    uint64_t poss[] = {1, 127, 128, 65536, 5000000000ULL};
    for (size_t i = 0; i < sizeof poss / sizeof *poss; i++) {
        s_mp_t want;
        s_mp_init (&want);
        msgpack_pack_map (&want.pk, 3);
        s_kv_str (&want, "type", "result");
        s_kv_uint (&want, "seq", poss[i]);
        s_str (&want, "data");
        msgpack_sbuffer_write (&want.sb, rec.sb.data, rec.sb.size);
        zs_buf_t out = {0};
        zs_buf_append (&out, "x", 1); /* appends after what is there */
        CHECK (zs_envelope_encode (&out, "result", poss[i], rec.sb.data,
                                   rec.sb.size)
                   == 0
                   && out.size == 1 + want.sb.size
                   && memcmp (out.data + 1, want.sb.data, want.sb.size) == 0,
               "envelope at %llu: %zu bytes, want %zu",
               (unsigned long long) poss[i], out.size - 1, want.sb.size);
        zs_buf_free (&out);
        msgpack_sbuffer_destroy (&want.sb);
    }
    s_mp_t lost;
    s_mp_init (&lost);
    msgpack_pack_map (&lost.pk, 4);
    s_kv_str (&lost, "scan", "s1");
    s_kv_uint (&lost, "from", 3);
    s_kv_uint (&lost, "to", 900);
    s_kv_str (&lost, "reason", "left the history");
    s_mp_t want;
    s_mp_init (&want);
    msgpack_pack_map (&want.pk, 3);
    s_kv_str (&want, "type", "lost");
    s_kv_uint (&want, "seq", 900);
    s_str (&want, "data");
    msgpack_sbuffer_write (&want.sb, lost.sb.data, lost.sb.size);
    zs_buf_t out = {0};
    CHECK (zs_envelope_lost (&out, "s1", 3, 900, "left the history") == 0
               && out.size == want.sb.size
               && memcmp (out.data, want.sb.data, want.sb.size) == 0,
           "lost envelope: %zu bytes, want %zu", out.size, want.sb.size);
    zs_buf_free (&out);
    msgpack_sbuffer_destroy (&want.sb);
    msgpack_sbuffer_destroy (&lost.sb);
    msgpack_sbuffer_destroy (&rec.sb);
}

/*  Each message type has one table, in one channel's file: the three
    channels' lists together name every type once. */
static void test_tables (void)
{
    int seen[ZS_MSG_TYPE_COUNT] = {0};
    const zs_desc_t *const *lists[] = {zs_msg_api_descs, zs_msg_work_descs,
                                       zs_msg_res_descs};
    const size_t counts[] = {zs_msg_api_ndescs, zs_msg_work_ndescs,
                             zs_msg_res_ndescs};
    for (size_t l = 0; l < 3; l++)
        for (size_t i = 0; i < counts[l]; i++) {
            int t = (int) lists[l][i]->type;
            CHECK (t > 0 && t < ZS_MSG_TYPE_COUNT, "type %d in a table", t);
            if (t > 0 && t < ZS_MSG_TYPE_COUNT)
                seen[t]++;
        }
    for (int t = 1; t < ZS_MSG_TYPE_COUNT; t++)
        CHECK (seen[t] == 1, "%s: %d tables",
               zs_msg_type_name ((zs_msg_type_t) t), seen[t]);
}

int main (void)
{
    test_skip ();
    test_round_trips ();
    test_values ();
    test_errors ();
    test_truncations_and_mutations ();
    test_topics ();
    test_batches ();
    test_result_encoder ();
    test_result_decoder ();
    test_reused_struct ();
    test_envelopes ();
    test_tables ();
    return ZS_TEST_END ("proto");
}
