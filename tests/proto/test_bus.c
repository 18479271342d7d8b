/*  test_bus.c - the results-out reader (proto/zs_bus.c) on a real ZeroMQ
    XPUB -> SUB pair: records of single and batch bodies with their position,
    kind and scan; every kind of malformed message dropped and counted,
    the reader going on with the next one. */
#include "zs_bus.h"
#include "zs_msg.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

#include "zs_test.h"

static void *s_pub;

/* sends frames (data, size pairs; n of them) as one message */
static void s_send (int n, const void **data, const size_t *size)
{
    for (int i = 0; i < n; i++)
        zmq_send (s_pub, data[i], size[i], i + 1 < n ? ZMQ_SNDMORE : 0);
}

static void s_result (zs_buf_t *b, const char *symbol, uint32_t index)
{
    zs_result_t r = {0};
    r.scan = "s1";
    r.symbol = symbol;
    r.index = index;
    r.worker = "w";
    r.score = r.price = 0.5;
    char err[128];
    zs_result_encode (&r, b, err, sizeof err);
}

/* [topic, position, body] */
static void s_send3 (const char *topic, uint64_t seq, const zs_buf_t *body)
{
    unsigned char sq[ZS_POS_MAX];
    zs_pos_t pos = {seq, 0, 0};
    const void *d[3] = {topic, sq, body->data};
    size_t s[3] = {strlen (topic), zs_pos_encode (&pos, sq), body->size};
    s_send (3, d, s);
}

int main (void)
{
    void *ctx = zmq_ctx_new ();
    s_pub = zmq_socket (ctx, ZMQ_XPUB);
    void *sub = zmq_socket (ctx, ZMQ_SUB);
    zmq_bind (s_pub, "inproc://bus");
    zmq_connect (sub, "inproc://bus");
    zmq_setsockopt (sub, ZMQ_SUBSCRIBE, "", 0);
    char sbuf[16];
    CHECK (zmq_recv (s_pub, sbuf, sizeof sbuf, 0) == 1 && sbuf[0] == 1,
           "the subscription reached the publisher");

    /* 1: one result; 2: a batch of three signals; 3: an event */
    zs_buf_t one = {0}, batch = {0}, ev = {0};
    s_result (&one, "AAA", 0);
    unsigned char h[8];
    zs_buf_append (&batch, h, zs_recs_header (3, h));
    s_result (&batch, "B0", 1);
    s_result (&batch, "B1", 2);
    s_result (&batch, "B2", 3);
    zs_ev_progress_t p = {0};
    p.scan = "s1";
    p.total = 4;
    p.eta = -1;
    char err[256];
    CHECK (zs_ev_progress_encode (&p, &ev, err, sizeof err) == 0, "event");
    s_send3 ("s1.r0", 5, &one);
    s_send3 ("s1.r1", 10, &batch);
    s_send3 ("s1.ev", 2, &ev);
    /* malformed: two frames, four frames, a bad topic, a bad seq, an
       empty body, a batch whose third element is not a map */
    const void *d2[2] = {"s1.r0", "\x01"};
    size_t z2[2] = {5, 1};
    s_send (2, d2, z2);
    unsigned char sq1 = 1;
    const void *d4[4] = {"s1.r0", &sq1, one.data, "x"};
    size_t z4[4] = {5, 1, one.size, 1};
    s_send (4, d4, z4);
    s_send3 ("s1.zz", 1, &one);
    s_send3 ("bad topic.r0", 1, &one);
    const void *dbs[3] = {"s1.r0", "\xa1x", one.data};
    size_t zbs[3] = {5, 2, one.size};
    s_send (3, dbs, zbs);
    const void *de[3] = {"s1.r0", &sq1, ""};
    size_t ze[3] = {5, 1, 0};
    s_send (3, de, ze);
    zs_buf_t broken = {0};
    zs_buf_append (&broken, h, zs_recs_header (3, h));
    s_result (&broken, "C0", 4);
    s_result (&broken, "C1", 5);
    zs_buf_append (&broken, "\x05", 1);
    s_send3 ("s1.r0", 20, &broken);
    /* and a good one after all of them */
    s_send3 ("s1.r0", 6, &one);

    zs_bus_reader_t r;
    zs_bus_reader_init (&r, sub);
    zs_bus_rec_t rec;
    int got[64], n = 0;
    uint64_t seqs[64];
    int kinds[64];
    char syms[64][8];
    /* the frames of every message sent above are already queued (inproc
       delivers in order): read until nothing is left, waiting at most
       200 ms for the first */
    int timeout = 200;
    zmq_setsockopt (sub, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    for (int rc; n < 64 && (rc = zs_bus_reader_next (&r, 0, &rec, err,
                                                      sizeof err)) != 0;
         n++) {
        got[n] = rc;
        seqs[n] = rc > 0 ? rec.pos : 0;
        kinds[n] = rc > 0 ? (int) rec.kind : -1;
        syms[n][0] = 0;
        zs_result_t res = {0};
        if (rc > 0 && zs_result_decode (rec.data, rec.size, &res, err,
                                        sizeof err) == 0)
            snprintf (syms[n], sizeof syms[n], "%s", res.symbol);
        zs_msg_free (&res.mem_);
        if (rc > 0)
            CHECK (strcmp (rec.scan, "s1") == 0 && rec.topic[0] == 's',
                   "record %d: scan %s topic %s", n, rec.scan, rec.topic);
    }
    /* expected, in order */
    static const struct {
        int rc;
        uint64_t seq;
        int kind;
        const char *sym;
    } want[] = {
        {1, 5, ZS_TOPIC_RESULT_PLAIN, "AAA"},
        {1, 10, ZS_TOPIC_RESULT_SIGNAL, "B0"},
        {1, 11, ZS_TOPIC_RESULT_SIGNAL, "B1"},
        {1, 12, ZS_TOPIC_RESULT_SIGNAL, "B2"},
        {1, 2, ZS_TOPIC_EVENT, ""},
        {-1, 0, -1, ""}, /* two frames */
        {-1, 0, -1, ""}, /* four frames */
        {-1, 0, -1, ""}, /* topic s1.zz */
        {-1, 0, -1, ""}, /* topic with a space */
        {-1, 0, -1, ""}, /* seq frame a string */
        {-1, 0, -1, ""}, /* empty body */
        {1, 20, ZS_TOPIC_RESULT_PLAIN, "C0"},
        {1, 21, ZS_TOPIC_RESULT_PLAIN, "C1"},
        {-1, 0, -1, ""}, /* the batch's third element */
        {1, 6, ZS_TOPIC_RESULT_PLAIN, "AAA"},
    };
    int nwant = (int) (sizeof want / sizeof want[0]);
    CHECK (n == nwant, "%d reads, want %d", n, nwant);
    for (int i = 0; i < n && i < nwant; i++)
        CHECK (got[i] == want[i].rc && seqs[i] == want[i].seq
                   && kinds[i] == want[i].kind
                   && strcmp (syms[i], want[i].sym) == 0,
               "read %d: rc %d seq %llu kind %d symbol '%s' (want %d %llu "
               "%d '%s')",
               i, got[i], (unsigned long long) seqs[i], kinds[i], syms[i],
               want[i].rc, (unsigned long long) want[i].seq, want[i].kind,
               want[i].sym);
    CHECK (r.bad == 7 && r.messages == 5, "bad %llu, messages %llu",
           (unsigned long long) r.bad, (unsigned long long) r.messages);
    /* nothing left: 0 at once without waiting */
    CHECK (zs_bus_reader_next (&r, ZMQ_DONTWAIT, &rec, err, sizeof err) == 0,
           "nothing waiting");
    zs_bus_reader_close (&r);
    zs_buf_free (&one);
    zs_buf_free (&batch);
    zs_buf_free (&ev);
    zs_buf_free (&broken);
    zmq_close (sub);
    zmq_close (s_pub);
    zmq_ctx_term (ctx);
    return ZS_TEST_END ("bus");
}
