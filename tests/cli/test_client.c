/*  test_client.c - the CLI's request/reply client (cli/zs_client.c)
    against a fake broker (a ROUTER on 127.0.0.1): a reply is matched to
    its request by "req", so a late answer to an earlier call that timed
    out is dropped, not taken for the answer to the next one. */
#include "zs_client.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

#include "zs_test.h"

/* the fake broker: receives one request [id, body]; returns its req */
static int s_take (void *router, zmq_msg_t *id, uint64_t *req)
{
    zmq_msg_init (id);
    if (zmq_msg_recv (id, router, 0) < 0)
        return -1;
    zmq_msg_t body;
    zmq_msg_init (&body);
    int rc = zmq_msg_recv (&body, router, 0) < 0
                 ? -1
                 : zs_msg_peek_req (zmq_msg_data (&body),
                                    zmq_msg_size (&body), req);
    zmq_msg_close (&body);
    return rc;
}

/* answers on id a scans reply carrying req (0: none) and n entries */
static void s_answer (void *router, zmq_msg_t *id, uint64_t req, size_t n)
{
    zs_scan_info_t infos[3];
    memset (infos, 0, sizeof infos);
    for (size_t i = 0; i < n; i++) {
        infos[i].scan = "s1";
        infos[i].first_result_ms = -1;
        infos[i].eta = -1;
    }
    zs_scans_t m = {0};
    m.req = req;
    m.nscans = n;
    m.scans = infos;
    zs_buf_t b = {0};
    char err[256];
    CHECK (zs_scans_encode (&m, &b, err, sizeof err) == 0, "encode: %s", err);
    zmq_msg_t copy;
    zmq_msg_init (&copy);
    zmq_msg_copy (&copy, id);
    zmq_msg_send (&copy, router, ZMQ_SNDMORE);
    zmq_send (router, b.data, b.size, 0);
    zs_buf_free (&b);
}

/* the scans count of a reply, or -1 */
static long s_count (zmq_msg_t *reply)
{
    zs_scans_t m = {0};
    char err[256];
    long n = zs_scans_decode (zmq_msg_data (reply), zmq_msg_size (reply), &m,
                              err, sizeof err) == 0
                 ? (long) m.nscans
                 : -1;
    zs_msg_free (&m.mem_);
    return n;
}

static void s_request (zs_client_t *c)
{
    zs_scan_list_t q = {0};
    q.req = c->next_req++;
    char err[256];
    zs_buf_reset (&c->buf);
    zs_scan_list_encode (&q, &c->buf, err, sizeof err);
}

/*  The fake broker, in a thread: req 1 gets no answer; req 2 gets the
    late answer to req 1 (one entry), then its own (two); req 3 an answer
    without req (three).  Records what it saw. */
typedef struct {
    void *router;
    uint64_t seen[3];
} s_fake_t;

static void *s_fake_main (void *arg)
{
    s_fake_t *f = (s_fake_t *) arg;
    zmq_msg_t id1, id2, id3;
    if (s_take (f->router, &id1, &f->seen[0]) != 0)
        return NULL;
    if (s_take (f->router, &id2, &f->seen[1]) == 0) {
        s_answer (f->router, &id1, f->seen[0], 1);
        s_answer (f->router, &id2, f->seen[1], 2);
    }
    if (s_take (f->router, &id3, &f->seen[2]) == 0)
        s_answer (f->router, &id3, 0, 3);
    zmq_msg_close (&id1);
    zmq_msg_close (&id2);
    zmq_msg_close (&id3);
    return NULL;
}

int main (void)
{
    void *ctx = zmq_ctx_new ();
    s_fake_t fake = {0};
    fake.router = zmq_socket (ctx, ZMQ_ROUTER);
    CHECK (zmq_bind (fake.router, "tcp://127.0.0.1:*") == 0, "bind");
    char ep[128];
    size_t eplen = sizeof ep;
    zmq_getsockopt (fake.router, ZMQ_LAST_ENDPOINT, ep, &eplen);
    char err[512];
    zs_client_t *c = zs_client_new (ep, "tcp://127.0.0.1:1", NULL, err, sizeof err);
    CHECK (c != NULL, "client: %s", err);
    if (!c)
        return ZS_TEST_END ("client");
    pthread_t th;
    pthread_create (&th, NULL, s_fake_main, &fake);

    /* 1: no answer within the timeout: -1 with a reason */
    zmq_msg_t reply;
    s_request (c);
    zmq_msg_init (&reply);
    CHECK (zs_client_call (c, &reply, 200, err, sizeof err) == -1
               && strstr (err, "no answer"),
           "a call without an answer times out: '%s'", err);
    zmq_msg_close (&reply);

    /* 2: the late answer to 1 arrives first: the call returns its own */
    s_request (c);
    zmq_msg_init (&reply);
    CHECK (zs_client_call (c, &reply, 5000, err, sizeof err) == 0,
           "call 2: %s", err);
    long n2 = s_count (&reply);
    CHECK (n2 == 2, "the answer to req 2 has 2 entries, got %ld (the late "
           "answer to req 1 has 1)", n2);
    zmq_msg_close (&reply);

    /* 3: an answer without req (a broker before req matching) is taken */
    s_request (c);
    zmq_msg_init (&reply);
    CHECK (zs_client_call (c, &reply, 5000, err, sizeof err) == 0
               && s_count (&reply) == 3,
           "an answer without req is taken: %s", err);
    zmq_msg_close (&reply);

    pthread_join (th, NULL);
    CHECK (fake.seen[0] == 1 && fake.seen[1] == 2 && fake.seen[2] == 3,
           "the broker saw reqs %llu %llu %llu",
           (unsigned long long) fake.seen[0],
           (unsigned long long) fake.seen[1],
           (unsigned long long) fake.seen[2]);
    zs_client_destroy (&c);
    int linger = 0;
    zmq_setsockopt (fake.router, ZMQ_LINGER, &linger, sizeof linger);
    zmq_close (fake.router);
    zmq_ctx_term (ctx);
    return ZS_TEST_END ("client");
}
