/*  fuzz_decode.c - one libFuzzer target per decoder: ZS_FUZZ_TYPE (set at
    compile time) names the message type whose decoder gets every input;
    type "any" dispatches with zs_msg_peek.  Decoding must never crash,
    leak or trip a sanitizer; what decodes must re-encode. */
#include "samples.h"
#include "zs_msg.h"
#include "zs_topic.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    const char *want = ZS_FUZZ_TYPE;
    char err[256];
    zs_msg_type_t type = ZS_MSG_UNKNOWN;
    if (strcmp (want, "any") == 0) {
        /* as a results body: a record or a batch of them */
        zs_recs_t it, one;
        const void *rec, *rec1;
        size_t len, len1;
        zs_result_t r = {0}, r1 = {0};
        char err1[256];
        int rc = zs_recs_init (&it, data, size, err, sizeof err);
        bool body = zs_recs_init (&one, data, size, err1, sizeof err1) > 0;
        while (rc >= 0
               && (rc = zs_recs_next (&it, &rec, &len, err, sizeof err))
                      > 0) {
            if ((const uint8_t *) rec < data
                || (const uint8_t *) rec + len > data + size || !len)
                abort (); /* a record outside the body: a bug */
            /* the one-pass iteration agrees with iterating, then
               decoding with the table-driven decoder */
            int got = zs_result_decode_generic (rec, len, &r, err,
                                                sizeof err) == 0 ? 1 : -2;
            int got1 = zs_recs_next_result (&one, &r1, &rec1, &len1, err1,
                                            sizeof err1);
            if (got != got1
                || (got == 1 && (rec1 != rec || len1 != len
                                 || !zs_result_same (&r, &r1)))
                || (got == -2 && strcmp (err, err1) != 0))
                abort ();
        }
        if (body
            && zs_recs_next_result (&one, &r1, &rec1, &len1, err1,
                                    sizeof err1) != (rc < 0 ? -1 : 0))
            abort ();
        zs_msg_free (&r.mem_);
        zs_msg_free (&r1.mem_);
        uint64_t req;
        zs_msg_peek_req (data, size, &req);
        if (zs_msg_peek (data, size, &type, err, sizeof err) != 0)
            return 0;
        /* the other small parsers see the same bytes */
        zs_pos_t pos;
        zs_pos_decode (data, size, &pos);
        char scan[ZS_ID_MAX + 1];
        zs_topic_kind_t kind;
        zs_topic_parse (data, size, scan, &kind);
    }
    if (strcmp (want, "result") == 0) {
        /* the one-pass decoder agrees with the table-driven one */
        zs_result_t a = {0}, b = {0};
        char e1[256] = "", e2[256] = "";
        int ra = zs_result_decode (data, size, &a, e1, sizeof e1);
        int rb = zs_result_decode_generic (data, size, &b, e2, sizeof e2);
        if (ra != rb || (ra == 0 ? !zs_result_same (&a, &b)
                                 : strcmp (e1, e2) != 0))
            abort ();
        zs_msg_free (&a.mem_);
        zs_msg_free (&b.mem_);
    }
    if (strcmp (want, "task") == 0) {
        /* a task decoded into a struct reused across inputs (as a lane
           does: the room the last decode left, or count and decode again)
           gives what a fresh struct gives */
        static zs_task_t reused;
        zs_task_t fresh = {0};
        char e1[256] = "", e2[256] = "";
        int ra = zs_task_decode (data, size, &reused, e1, sizeof e1);
        int rb = zs_task_decode (data, size, &fresh, e2, sizeof e2);
        zs_buf_t a = {0}, b = {0};
        if (ra != rb || (ra != 0 && strcmp (e1, e2) != 0))
            abort ();
        if (ra == 0
            && (zs_task_encode (&reused, &a, e1, sizeof e1) != 0
                || zs_task_encode (&fresh, &b, e2, sizeof e2) != 0
                || a.size != b.size || memcmp (a.data, b.data, a.size) != 0))
            abort ();
        zs_buf_free (&a);
        zs_buf_free (&b);
        zs_msg_free (&fresh.mem_);
    }
    for (const zs_sample_t *s = zs_samples; s->name; s++) {
        if (type != ZS_MSG_UNKNOWN ? s->type != type
                                   : strcmp (s->name, want) != 0)
            continue;
        zs_buf_t out = {0};
        if (s->reencode (data, size, &out, err, sizeof err) == 0
            && out.size == 0)
            abort (); /* decoded but re-encoded to nothing: a bug */
        zs_buf_free (&out);
    }
    return 0;
}
