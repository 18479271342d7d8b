/*  test_follow.c - the bus's follower (proto/zs_bus.c, zs_bus_t) against
    a scripted broker: an XPUB it publishes on and a ROUTER that answers
    its replays, both real ZeroMQ sockets.  Cases: records in order; a
    hole in the positions filled from the history and the held records
    after it handed out in order, none twice; a message overlapping what
    was handed out; a range that left the history reported as LOST; a
    silent scan asked about (its lost last message fetched); a broker
    that does not answer (SILENT); an unknown scan (GONE); a late join
    replayed from the start; a signals-and-events view checked by its
    counts. */
#include "zs_bus.h"
#include "zs_msg.h"

#include <czmq.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

#include "zs_test.h"

static void *s_pub, *s_router;

static void s_result (zs_buf_t *b, const char *scan, uint32_t index,
                      bool signal)
{
    zs_result_t r = {0};
    char sym[16];
    snprintf (sym, sizeof sym, "S%06u", index);
    r.scan = scan;
    r.symbol = sym;
    r.index = index;
    r.signal = signal;
    r.worker = "w";
    r.score = r.price = 0.5;
    char err[128];
    zs_result_encode (&r, b, err, sizeof err);
}

static void s_event (zs_buf_t *b, const char *scan, zs_msg_type_t type)
{
    char err[128];
    if (type == ZS_MSG_EV_FINISHED) {
        zs_ev_finished_t f = {0};
        f.scan = scan;
        f.reason = ZS_END_COMPLETED;
        f.first_result_ms = -1;
        zs_ev_finished_encode (&f, b, err, sizeof err);
    }
    else {
        zs_ev_progress_t p = {0};
        p.scan = scan;
        p.eta = -1;
        zs_ev_progress_encode (&p, b, err, sizeof err);
    }
}

/*  One message of scan: kind, positions pos.. (n records), the counts
    before it.  Results get index = position.  Sent on sock with the
    flags (ZMQ_SNDMORE when more frames follow, for replay pages). */
static void s_message (void *sock, const char *scan, zs_topic_kind_t kind,
                       uint64_t pos, uint32_t n, uint64_t sig, uint64_t ev,
                       int flags)
{
    zs_buf_t body = {0};
    if (kind == ZS_TOPIC_EVENT)
        s_event (&body, scan, n == 2 ? ZS_MSG_EV_FINISHED
                                     : ZS_MSG_EV_PROGRESS);
    else {
        unsigned char h[8];
        if (n > 1)
            zs_buf_append (&body, h, zs_recs_header (n, h));
        for (uint32_t i = 0; i < n; i++)
            s_result (&body, scan, (uint32_t) (pos + i),
                      kind == ZS_TOPIC_RESULT_SIGNAL);
    }
    char topic[ZS_TOPIC_MAX];
    size_t tlen = zs_topic_build (topic, sizeof topic, scan, kind);
    unsigned char pb[ZS_POS_MAX];
    zs_pos_t p = {pos, sig, ev};
    zmq_send (sock, topic, tlen, ZMQ_SNDMORE);
    zmq_send (sock, pb, zs_pos_encode (&p, pb), ZMQ_SNDMORE);
    zmq_send (sock, body.data, body.size, flags);
    zs_buf_free (&body);
}

#define FINISHED 2 /* s_message's n for an event: a finished one */

/*  Waits for a replay request; returns its after and fills id/req. */
static int s_want_replay (zmq_msg_t *id, zs_replay_t *req, int ms)
{
    zmq_pollitem_t it[] = {{s_router, 0, ZMQ_POLLIN, 0}};
    if (zmq_poll (it, 1, ms) <= 0)
        return -1;
    zmq_msg_init (id);
    zmq_msg_recv (id, s_router, 0);
    zmq_msg_t body;
    zmq_msg_init (&body);
    zmq_msg_recv (&body, s_router, 0);
    char err[128];
    int rc = zs_replay_decode (zmq_msg_data (&body), zmq_msg_size (&body),
                               req, err, sizeof err);
    if (rc != 0)
        fprintf (stderr, "test: not a replay: %s\n", err);
    zmq_msg_close (&body);
    return rc;
}

/*  The page header; count messages must follow (s_message with
    ZMQ_SNDMORE on all but the last). */
static void s_page (zmq_msg_t *id, const zs_replay_t *req, uint64_t first,
                    uint64_t head, uint64_t next, uint32_t count, bool done)
{
    zs_replay_page_t p = {0};
    p.req = req->req;
    p.scan = req->scan;
    p.broker = "fakebroker1";
    p.state = done ? ZS_STATE_FINISHED : ZS_STATE_RUNNING;
    p.first = first;
    p.head = head;
    p.next = next;
    p.count = count;
    p.done = done;
    zs_buf_t b = {0};
    char err[128];
    zs_replay_page_encode (&p, &b, err, sizeof err);
    zmq_msg_send (id, s_router, ZMQ_SNDMORE);
    zmq_send (s_router, b.data, b.size, count ? ZMQ_SNDMORE : 0);
    zs_buf_free (&b);
}

/*  Collects what the bus hands out within ms into a string of tokens:
    "5" a record at position 5 ("5r" when replayed), "L7-9" lost, "G"
    gone, "S" silent. */
static void s_collect (zs_bus_t *bus, int ms, char *out, size_t cap)
{
    out[0] = 0;
    zs_bus_event_t ev;
    int64_t until = zclock_mono () + ms;
    while (zclock_mono () < until) {
        if (zs_bus_next (bus, 20, &ev) != 1)
            continue;
        char tok[64];
        if (ev.what == ZS_BUS_RECORD)
            snprintf (tok, sizeof tok, "%llu%s ",
                      (unsigned long long) ev.rec.pos,
                      ev.replayed ? "r" : "");
        else if (ev.what == ZS_BUS_LOST)
            snprintf (tok, sizeof tok, "L%llu-%llu ",
                      (unsigned long long) ev.lost_from,
                      (unsigned long long) ev.lost_to);
        else
            snprintf (tok, sizeof tok, "%s ",
                      ev.what == ZS_BUS_GONE ? "G" : "S");
        strncat (out, tok, cap - strlen (out) - 1);
    }
}

int main (void)
{
    void *ctx = zmq_ctx_new ();
    s_pub = zmq_socket (ctx, ZMQ_XPUB);
    s_router = zmq_socket (ctx, ZMQ_ROUTER);
    zmq_bind (s_pub, "inproc://out");
    zmq_bind (s_router, "inproc://api");
    zs_bus_config_t cfg = {0};
    cfg.api = "inproc://api";
    cfg.results = "inproc://out";
    cfg.idle_ms = 300;
    cfg.answer_ms = 400;
    char err[256], got[1024];
    zs_bus_t *bus = zs_bus_new (ctx, &cfg, err, sizeof err);
    CHECK (bus != NULL, "bus: %s", err);
    CHECK (zs_bus_subscribe (bus, "a1", ZS_VIEW_ALL) == 0, "subscribe");
    char sb[16];
    CHECK (zmq_recv (s_pub, sb, sizeof sb, 0) > 0 && sb[0] == 1,
           "the subscription reached the publisher");
    CHECK (zs_bus_follow (bus, "a1", ZS_VIEW_ALL, 0, true) == 0, "follow");

    /* 1. in order: 1 (an event), 2..4 (a batch) */
    s_message (s_pub, "a1", ZS_TOPIC_EVENT, 1, 1, 0, 0, 0);
    s_message (s_pub, "a1", ZS_TOPIC_RESULT_PLAIN, 2, 3, 0, 1, 0);
    s_collect (bus, 100, got, sizeof got);
    CHECK (strcmp (got, "1 2 3 4 ") == 0, "in order: '%s'", got);

    /* 2. a hole: 7 arrives after 4; the bus asks after 4, gets 5..6 from
       the history, then hands out 7 and 8, held meanwhile */
    s_message (s_pub, "a1", ZS_TOPIC_RESULT_PLAIN, 7, 1, 0, 1, 0);
    s_message (s_pub, "a1", ZS_TOPIC_RESULT_SIGNAL, 8, 1, 0, 1, 0);
    zmq_msg_t id;
    zs_replay_t req = {0};
    s_collect (bus, 50, got, sizeof got);
    CHECK (strcmp (got, "") == 0, "nothing past the hole yet: '%s'", got);
    CHECK (s_want_replay (&id, &req, 1000) == 0 && req.after == 4
               && strcmp (req.scan, "a1") == 0,
           "a replay after 4: after %llu", (unsigned long long) req.after);
    s_page (&id, &req, 1, 8, 6, 1, false);
    s_message (s_router, "a1", ZS_TOPIC_RESULT_PLAIN, 5, 2, 0, 1, 0);
    zmq_msg_close (&id);
    s_collect (bus, 100, got, sizeof got);
    CHECK (strcmp (got, "5r 6r 7 8 ") == 0, "hole filled: '%s'", got);

    /* 3. a message overlapping what was handed out: 7..10 -> 9 10 */
    s_message (s_pub, "a1", ZS_TOPIC_RESULT_PLAIN, 7, 4, 1, 1, 0);
    s_collect (bus, 100, got, sizeof got);
    CHECK (strcmp (got, "9 10 ") == 0, "overlap: '%s'", got);

    /* 4. a hole that left the history: 20 arrives; the history holds
       from 15: LOST 11..14, then 15..19 and 20 */
    s_message (s_pub, "a1", ZS_TOPIC_RESULT_PLAIN, 20, 1, 1, 1, 0);
    s_collect (bus, 50, got, sizeof got);
    CHECK (s_want_replay (&id, &req, 1000) == 0 && req.after == 10,
           "a replay after 10");
    s_page (&id, &req, 15, 20, 19, 1, false);
    s_message (s_router, "a1", ZS_TOPIC_RESULT_PLAIN, 15, 5, 1, 1, 0);
    zmq_msg_close (&id);
    s_collect (bus, 100, got, sizeof got);
    CHECK (strcmp (got, "L11-14 15r 16r 17r 18r 19r 20 ") == 0,
           "lost range said: '%s'", got);

    /* 5. silence: the last message (21, finished) was dropped; after
       idle_ms the bus asks, and gets it */
    s_collect (bus, 400, got, sizeof got);
    CHECK (s_want_replay (&id, &req, 1000) == 0 && req.after == 20,
           "asked about a silent scan after 20");
    s_page (&id, &req, 1, 21, 21, 1, true);
    s_message (s_router, "a1", ZS_TOPIC_EVENT, 21, FINISHED, 1, 1, 0);
    zmq_msg_close (&id);
    s_collect (bus, 100, got, sizeof got);
    CHECK (strcmp (got, "21r ") == 0, "the lost finished fetched: '%s'",
           got);
    /* finished: no more questions */
    s_collect (bus, 500, got, sizeof got);
    CHECK (s_want_replay (&id, &req, 10) == -1, "a finished scan is quiet");

    /* 6. a broker that does not answer; then an unknown scan */
    CHECK (zs_bus_follow (bus, "b2", ZS_VIEW_ALL, 0, false) == 0, "follow b2");
    CHECK (s_want_replay (&id, &req, 1000) == 0 && req.after == 0,
           "a late join replays from the start");
    zmq_msg_close (&id);
    s_collect (bus, 600, got, sizeof got);
    CHECK (strncmp (got, "S ", 2) == 0, "no answer: SILENT: '%s'", got);
    CHECK (s_want_replay (&id, &req, 10) == 0, "asked again");
    zs_error_t e = {0};
    e.req = req.req;
    e.code = 404;
    e.message = "unknown scan 'b2'";
    zs_buf_t b = {0};
    zs_error_encode (&e, &b, err, sizeof err);
    zmq_msg_send (&id, s_router, ZMQ_SNDMORE);
    zmq_send (s_router, b.data, b.size, 0);
    zs_buf_free (&b);
    s_collect (bus, 100, got, sizeof got);
    CHECK (strcmp (got, "G ") == 0, "unknown scan: GONE: '%s'", got);

    /* 7. a late join of a running scan, live records arriving while the
       history is read: each once, in order */
    CHECK (zs_bus_subscribe (bus, "c3", ZS_VIEW_ALL) == 0, "subscribe c3");
    zmq_recv (s_pub, sb, sizeof sb, 0);
    CHECK (zs_bus_follow (bus, "c3", ZS_VIEW_ALL, 0, false) == 0,
           "follow c3");
    CHECK (s_want_replay (&id, &req, 1000) == 0 && req.after == 0,
           "c3 from the start");
    s_message (s_pub, "c3", ZS_TOPIC_RESULT_PLAIN, 3, 2, 0, 1, 0); /* 3,4 */
    s_collect (bus, 50, got, sizeof got);
    s_page (&id, &req, 1, 3, 3, 2, false);
    s_message (s_router, "c3", ZS_TOPIC_EVENT, 1, 1, 0, 0, ZMQ_SNDMORE);
    s_message (s_router, "c3", ZS_TOPIC_RESULT_PLAIN, 2, 2, 0, 1, 0);
    zmq_msg_close (&id);
    s_collect (bus, 100, got, sizeof got);
    CHECK (strcmp (got, "1r 2r 3r 4 ") == 0, "late join: '%s'", got);

    /* 8. signals and events only: the counts tell a missing signal */
    CHECK (zs_bus_subscribe (bus, "d4", ZS_VIEW_SIGNALS) == 0, "subscribe d4");
    zmq_recv (s_pub, sb, sizeof sb, 0);
    zmq_recv (s_pub, sb, sizeof sb, 0);
    CHECK (zs_bus_follow (bus, "d4", ZS_VIEW_SIGNALS, 0, true) == 0,
           "follow d4");
    s_message (s_pub, "d4", ZS_TOPIC_EVENT, 1, 1, 0, 0, 0);
    s_message (s_pub, "d4", ZS_TOPIC_RESULT_SIGNAL, 9, 1, 0, 1, 0);
    /* the second signal (position 30, one signal before it) is lost */
    s_message (s_pub, "d4", ZS_TOPIC_RESULT_SIGNAL, 40, 1, 2, 1, 0);
    s_collect (bus, 50, got, sizeof got);
    CHECK (strcmp (got, "1 9 ") == 0, "signals view, before the hole: '%s'",
           got);
    CHECK (s_want_replay (&id, &req, 1000) == 0 && req.after == 9
               && req.view == ZS_VIEW_SIGNALS,
           "a signals replay after 9");
    s_page (&id, &req, 1, 40, 30, 1, false);
    s_message (s_router, "d4", ZS_TOPIC_RESULT_SIGNAL, 30, 1, 1, 1, 0);
    zmq_msg_close (&id);
    s_collect (bus, 100, got, sizeof got);
    CHECK (strcmp (got, "30r 40 ") == 0, "signals view: '%s'", got);

    zs_bus_stats_t st;
    zs_bus_stats (bus, &st);
    CHECK (st.gaps >= 3 && st.lost == 4 && st.replayed >= 10,
           "stats: gaps %llu lost %llu replayed %llu",
           (unsigned long long) st.gaps, (unsigned long long) st.lost,
           (unsigned long long) st.replayed);
    zs_msg_free (&req.mem_);
    zs_bus_destroy (&bus);
    zmq_close (s_pub);
    zmq_close (s_router);
    zmq_ctx_term (ctx);
    return ZS_TEST_END ("follow");
}
