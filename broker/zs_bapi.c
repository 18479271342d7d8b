/*  zs_bapi.c - the api: requests and their replies, and replays of a
    scan's history.

    A scan_start is checked for what is cheap (its id, the number of
    scans) and handed to the planner; a stand-in scan in state
    "planning" answers status and list meanwhile and holds its id.  The
    reply goes when the plan is back: scan_started, or the planner's
    error.  A replay is served from the history in one bounded page (at
    most cfg.replay_records records and 1 MiB), the bodies shared with
    the history, not copied: a page costs the loop microseconds.

    Every error reply echoes the request's "req" whenever the request
    carried a readable one, whatever else is wrong with it.
*/
#include "zs_broker_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REPLAY_BYTES (1u << 20) /* bytes of bodies in one replay page    */
#define REPLAY_MSGS 1024        /* messages in one replay page            */

typedef struct {
    zmq_msg_t id;
    bool delimiter;          /* REQ-style empty frame present              */
} s_envelope_t;

/* The request's "req", or 0 when it has no readable one. */
static uint64_t s_req_of (const void *data, size_t size)
{
    uint64_t req = 0;
    if (zs_msg_peek_req (data, size, &req) != 0)
        req = 0;
    return req;
}

/*  Sends the envelope, then the reply frame; more says whether frames
    follow it. */
static int s_api_send (zs_broker_t *self, s_envelope_t *env,
                       const void *data, size_t size, bool more)
{
    zmq_msg_t id;
    zmq_msg_init (&id);
    zmq_msg_copy (&id, &env->id);
    if (zmq_msg_send (&id, self->api, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
        zmq_msg_close (&id);
        return -1;
    }
    if (env->delimiter)
        zmq_send (self->api, "", 0, ZMQ_SNDMORE | ZMQ_DONTWAIT);
    return zmq_send (self->api, data, size,
                     ZMQ_DONTWAIT | (more ? ZMQ_SNDMORE : 0))
                   < 0
               ? -1
               : 0;
}

static void s_api_reply (zs_broker_t *self, s_envelope_t *env,
                         const zs_buf_t *buf)
{
    s_api_send (self, env, buf->data, buf->size, false);
}

static void s_api_error (zs_broker_t *self, s_envelope_t *env, uint64_t req,
                         uint32_t code, const char *message)
{
    zs_error_t e = {0};
    e.req = req;
    e.code = code;
    e.message = message;
    char err[256];
    zs_buf_reset (&self->buf);
    if (zs_error_encode (&e, &self->buf, err, sizeof err) != 0) {
        /* the message itself was unencodable (too long): say less */
        e.message = "error";
        zs_buf_reset (&self->buf);
        if (zs_error_encode (&e, &self->buf, err, sizeof err) != 0)
            return;
    }
    s_api_reply (self, env, &self->buf);
}

/* ---------------------------------------------------------------------- */
/*  Starting: check, stand in, plan, answer                                */

static void s_pending_free (zs_bpending_t *p)
{
    zmq_msg_close (&p->id);
    free (p);
}

static void s_api_start (zs_broker_t *self, s_envelope_t *env,
                         const void *data, size_t size)
{
    zs_scan_start_t *req = (zs_scan_start_t *) calloc (1, sizeof *req);
    char err[ZS_TEXT_MAX];
    uint64_t reqid = s_req_of (data, size);
    if (!req) {
        s_api_error (self, env, reqid, ZS_ERR_INTERNAL, "out of memory");
        return;
    }
    if (zs_scan_start_decode (data, size, req, err, sizeof err) != 0) {
        /* well formed, but a definition no scan can have: that is a bad
           definition (422), as PROTOCOL.md says, not a bad request */
        bool def = strstr (err, "strategy and filter are exclusive") != NULL;
        s_api_error (self, env, reqid,
                     def ? ZS_ERR_UNPROCESSABLE : ZS_ERR_BAD_REQUEST,
                     def ? "def: give a strategy or a filter, not both"
                         : err);
        goto fail;
    }
    char idbuf[ZS_ID_MAX + 1];
    if (req->scan)
        snprintf (idbuf, sizeof idbuf, "%s", req->scan);
    else {
        idbuf[0] = 's';
        zs_random_id (idbuf + 1, 11);
    }
    if (req->def.strategy && req->def.filter) {
        s_api_error (self, env, req->req, ZS_ERR_UNPROCESSABLE,
                     "give a strategy or a filter, not both");
        goto fail;
    }
    zs_bscan_t *known = (zs_bscan_t *) zhashx_lookup (self->scans, idbuf);
    if (known) {
        snprintf (err, sizeof err,
                  "scan id '%s' is already in use (by a %s scan)", idbuf,
                  known->state == ZS_BSCAN_FINISHED ? "finished" : "live");
        s_api_error (self, env, req->req, ZS_ERR_CONFLICT, err);
        goto fail;
    }
    if ((int64_t) zlistx_size (self->running) >= self->cfg.max_scans) {
        snprintf (err, sizeof err, "too many running scans (%lld); stop one "
                                   "or wait",
                  (long long) self->cfg.max_scans);
        s_api_error (self, env, req->req, ZS_ERR_BUSY, err);
        goto fail;
    }
    zs_bscan_t *stub = zs_bscan_stub (idbuf, req, self->cfg.universe);
    zs_bpending_t *p = (zs_bpending_t *) calloc (1, sizeof *p);
    if (!stub || !p) {
        zs_bscan_destroy (&stub);
        free (p);
        s_api_error (self, env, req->req, ZS_ERR_INTERNAL, "out of memory");
        goto fail;
    }
    p->tag = ++self->next_tag;
    zmq_msg_init (&p->id);
    zmq_msg_copy (&p->id, &env->id);
    p->delimiter = env->delimiter;
    p->req = req->req;
    p->sync = req->sync;
    if (zs_planner_submit (self->planner, idbuf, req, p->tag) != 0) {
        zs_bscan_destroy (&stub);
        s_pending_free (p);
        s_api_error (self, env, req->req, ZS_ERR_INTERNAL,
                     "the planner is not taking requests");
        goto fail;
    }
    /* the planner has req now */
    zhashx_insert (self->scans, stub->id, stub);
    zlistx_add_end (self->running, stub);
    zlistx_add_end (self->pending, p);
    zs_debug ("scan %s: planning", stub->id);
    return;
fail:
    zs_msg_free (&req->mem_);
    free (req);
}

void zs_api_plans (zs_broker_t *self)
{
    zs_plan_t plan;
    while (zs_planner_recv (self->planner, &plan) == 1) {
        zs_bpending_t *p = NULL;
        for (zs_bpending_t *q = (zs_bpending_t *) zlistx_first (self->pending);
             q; q = (zs_bpending_t *) zlistx_next (self->pending))
            if (q->tag == plan.tag) {
                p = q;
                zlistx_detach_cur (self->pending);
                break;
            }
        zs_bscan_t *stub = (zs_bscan_t *) zhashx_lookup (self->scans,
                                                         plan.id);
        if (!p || !stub || stub->state != ZS_BSCAN_PLANNING) {
            zs_bscan_destroy (&plan.scan); /* nobody waits for it */
            if (p)
                s_pending_free (p);
            continue;
        }
        s_envelope_t env;
        env.id = p->id;
        env.delimiter = p->delimiter;
        if (!plan.scan) {
            s_api_error (self, &env, p->req, plan.code, plan.err);
            zs_life_discard (self, stub);
            s_pending_free (p);
            continue;
        }
        if (plan.planned_ms > 50)
            zs_info ("scan %s: planned %u symbols in %.0f ms", plan.id,
                     plan.scan->total, plan.planned_ms);
        zs_scan_started_t rep = {0};
        rep.req = p->req;
        rep.scan = plan.scan->id;
        rep.total = plan.scan->total;
        rep.seq = 1;
        rep.broker = self->instance;
        char err[256];
        zs_buf_reset (&self->buf);
        if (zs_scan_started_encode (&rep, &self->buf, err, sizeof err) == 0)
            s_api_reply (self, &env, &self->buf);
        zs_life_adopt (self, stub, plan.scan, p->sync);
        s_pending_free (p);
    }
}

void zs_api_pending_free (zs_broker_t *self)
{
    zs_bpending_t *p;
    while ((p = (zs_bpending_t *) zlistx_detach (self->pending, NULL)))
        s_pending_free (p);
}

/* ---------------------------------------------------------------------- */
/*  Status, stop, lists                                                    */

static void s_api_info_reply (zs_broker_t *self, s_envelope_t *env,
                              uint64_t req, zs_bscan_t *scan)
{
    zs_scan_info_msg_t rep = {0};
    rep.req = req;
    rep.broker = self->instance;
    zs_bscan_info (scan, zs_clock_us (), &rep.info);
    char err[256];
    zs_buf_reset (&self->buf);
    if (zs_scan_info_msg_encode (&rep, &self->buf, err, sizeof err) == 0)
        s_api_reply (self, env, &self->buf);
    else
        s_api_error (self, env, req, ZS_ERR_INTERNAL, err);
}

static void s_api_stop (zs_broker_t *self, s_envelope_t *env,
                        const void *data, size_t size)
{
    zs_scan_stop_t req = {0};
    char err[ZS_TEXT_MAX];
    if (zs_scan_stop_decode (data, size, &req, err, sizeof err) != 0) {
        s_api_error (self, env, s_req_of (data, size), ZS_ERR_BAD_REQUEST,
                     err);
        zs_msg_free (&req.mem_);
        return;
    }
    zs_bscan_t *scan = (zs_bscan_t *) zhashx_lookup (self->scans, req.scan);
    if (!scan) {
        snprintf (err, sizeof err, "unknown scan '%s'", req.scan);
        s_api_error (self, env, req.req, ZS_ERR_NOT_FOUND, err);
        zs_msg_free (&req.mem_);
        return;
    }
    zs_end_reason_t reason = req.reason == ZS_END_NONE
                                     || req.reason == ZS_END_COMPLETED
                                 ? ZS_END_STOPPED
                                 : req.reason;
    zs_life_finish (self, scan, reason);
    zs_scan_stopped_t rep = {0};
    rep.req = req.req;
    rep.scan = scan->id;
    rep.state = scan->state == ZS_BSCAN_PLANNING ? ZS_STATE_PLANNING
                                                 : ZS_STATE_FINISHED;
    rep.reason = scan->state == ZS_BSCAN_PLANNING ? scan->stop_reason
                                                  : scan->reason;
    zs_buf_reset (&self->buf);
    if (zs_scan_stopped_encode (&rep, &self->buf, err, sizeof err) == 0)
        s_api_reply (self, env, &self->buf);
    zs_msg_free (&req.mem_);
}

static void s_api_status (zs_broker_t *self, s_envelope_t *env,
                          const void *data, size_t size)
{
    zs_scan_status_t req = {0};
    char err[ZS_TEXT_MAX];
    if (zs_scan_status_decode (data, size, &req, err, sizeof err) != 0) {
        s_api_error (self, env, s_req_of (data, size), ZS_ERR_BAD_REQUEST,
                     err);
        zs_msg_free (&req.mem_);
        return;
    }
    zs_bscan_t *scan = (zs_bscan_t *) zhashx_lookup (self->scans, req.scan);
    if (!scan) {
        snprintf (err, sizeof err, "unknown scan '%s'", req.scan);
        s_api_error (self, env, req.req, ZS_ERR_NOT_FOUND, err);
    }
    else
        s_api_info_reply (self, env, req.req, scan);
    zs_msg_free (&req.mem_);
}

static void s_api_list (zs_broker_t *self, s_envelope_t *env,
                        const void *data, size_t size)
{
    zs_scan_list_t req = {0};
    char err[ZS_TEXT_MAX];
    if (zs_scan_list_decode (data, size, &req, err, sizeof err) != 0) {
        s_api_error (self, env, s_req_of (data, size), ZS_ERR_BAD_REQUEST,
                     err);
        zs_msg_free (&req.mem_);
        return;
    }
    size_t cap = zlistx_size (self->running)
                 + (req.all ? zlistx_size (self->finished) : 0);
    if (cap > ZS_LIST_MAX)
        cap = ZS_LIST_MAX;
    zs_scans_t rep = {0};
    rep.req = req.req;
    rep.scans = (zs_scan_info_t *) calloc (cap ? cap : 1,
                                           sizeof (zs_scan_info_t));
    if (!rep.scans) {
        s_api_error (self, env, req.req, ZS_ERR_INTERNAL, "out of memory");
        zs_msg_free (&req.mem_);
        return;
    }
    int64_t now = zs_clock_us ();
    zlistx_t *lists[2] = {self->running, req.all ? self->finished : NULL};
    for (int k = 0; k < 2; k++) {
        if (!lists[k])
            continue;
        for (zs_bscan_t *s = (zs_bscan_t *) zlistx_first (lists[k]);
             s && rep.nscans < cap; s = (zs_bscan_t *) zlistx_next (lists[k]))
            zs_bscan_info (s, now, &rep.scans[rep.nscans++]);
    }
    zs_buf_reset (&self->buf);
    if (zs_scans_encode (&rep, &self->buf, err, sizeof err) == 0)
        s_api_reply (self, env, &self->buf);
    else
        s_api_error (self, env, req.req, ZS_ERR_INTERNAL, err);
    free (rep.scans);
    zs_msg_free (&req.mem_);
}

static void s_api_workers (zs_broker_t *self, s_envelope_t *env,
                           const void *data, size_t size)
{
    zs_worker_list_t req = {0};
    char err[ZS_TEXT_MAX];
    if (zs_worker_list_decode (data, size, &req, err, sizeof err) != 0) {
        s_api_error (self, env, s_req_of (data, size), ZS_ERR_BAD_REQUEST,
                     err);
        zs_msg_free (&req.mem_);
        return;
    }
    size_t cap = zhashx_size (self->workers);
    if (cap > ZS_LIST_MAX)
        cap = ZS_LIST_MAX;
    zs_workers_t rep = {0};
    rep.req = req.req;
    rep.workers = (zs_worker_info_t *) calloc (cap ? cap : 1,
                                               sizeof (zs_worker_info_t));
    if (!rep.workers) {
        s_api_error (self, env, req.req, ZS_ERR_INTERNAL, "out of memory");
        zs_msg_free (&req.mem_);
        return;
    }
    int64_t now = zs_clock_us ();
    for (zs_bworker_t *w = (zs_bworker_t *) zhashx_first (self->workers);
         w && rep.nworkers < cap;
         w = (zs_bworker_t *) zhashx_next (self->workers)) {
        zs_worker_info_t *i = &rep.workers[rep.nworkers++];
        i->worker = w->id;
        i->host = w->host[0] ? w->host : "?";
        i->data = w->data;
        i->pid = w->pid;
        i->threads = w->threads;
        i->busy = w->busy;
        i->symbols = w->symbols;
        i->silent_ms = (double) (now - w->last_seen_us) / 1e3;
    }
    /* count lanes per worker (zhashx iteration is not reentrant) */
    for (zs_blane_t *l = (zs_blane_t *) zhashx_first (self->lanes); l;
         l = (zs_blane_t *) zhashx_next (self->lanes))
        for (size_t k = 0; k < rep.nworkers; k++)
            if (rep.workers[k].worker == l->worker->id)
                rep.workers[k].lanes++;
    zs_buf_reset (&self->buf);
    if (zs_workers_encode (&rep, &self->buf, err, sizeof err) == 0)
        s_api_reply (self, env, &self->buf);
    else
        s_api_error (self, env, req.req, ZS_ERR_INTERNAL, err);
    free (rep.workers);
    zs_msg_free (&req.mem_);
}

/* ---------------------------------------------------------------------- */
/*  Replay                                                                 */

typedef struct {
    zs_hist_msg_t msgs[REPLAY_MSGS];
    uint32_t n;
} s_page_t;

static void s_page_add (void *arg, const zs_hist_msg_t *m)
{
    s_page_t *page = (s_page_t *) arg;
    if (page->n < REPLAY_MSGS) /* the walk stops there too */
        page->msgs[page->n++] = *m;
}

static void s_api_replay (zs_broker_t *self, s_envelope_t *env,
                          const void *data, size_t size)
{
    zs_replay_t req = {0};
    char err[ZS_TEXT_MAX];
    if (zs_replay_decode (data, size, &req, err, sizeof err) != 0) {
        s_api_error (self, env, s_req_of (data, size), ZS_ERR_BAD_REQUEST,
                     err);
        zs_msg_free (&req.mem_);
        return;
    }
    zs_bscan_t *scan = (zs_bscan_t *) zhashx_lookup (self->scans, req.scan);
    if (!scan) {
        snprintf (err, sizeof err, "unknown scan '%s'", req.scan);
        s_api_error (self, env, req.req, ZS_ERR_NOT_FOUND, err);
        zs_msg_free (&req.mem_);
        return;
    }
    uint32_t limit = (uint32_t) self->cfg.replay_records;
    if (req.limit && req.limit < limit)
        limit = req.limit;
    s_page_t page; /* about 48 KB */
    page.n = 0;
    uint64_t first = 1, next = req.after;
    int got = zs_history_page (self->history, scan->id, req.after, req.view,
                               limit, REPLAY_BYTES, REPLAY_MSGS, s_page_add,
                               &page, &first, &next);
    if (got < 0) {
        /* nothing published yet (planning, or held for its subscriber) */
        first = 1;
        next = 0;
    }
    zs_replay_page_t rep = {0};
    rep.req = req.req;
    rep.scan = scan->id;
    rep.broker = self->instance;
    zs_scan_info_t info;
    zs_bscan_info (scan, zs_clock_us (), &info);
    rep.state = info.state;
    rep.first = first;
    rep.head = scan->pos;
    rep.next = next;
    rep.count = page.n;
    rep.done = scan->state == ZS_BSCAN_FINISHED && next >= scan->pos;
    zs_buf_reset (&self->buf);
    if (zs_replay_page_encode (&rep, &self->buf, err, sizeof err) != 0) {
        s_api_error (self, env, req.req, ZS_ERR_INTERNAL, err);
        zs_msg_free (&req.mem_);
        return;
    }
    if (s_api_send (self, env, self->buf.data, self->buf.size, page.n > 0)
        != 0) {
        zs_msg_free (&req.mem_);
        return;
    }
    uint64_t records = 0;
    for (uint32_t i = 0; i < page.n; i++) {
        const zs_hist_msg_t *m = &page.msgs[i];
        char topic[ZS_TOPIC_MAX];
        size_t tlen = zs_topic_build (topic, sizeof topic, scan->id, m->kind);
        unsigned char pbuf[ZS_POS_MAX];
        size_t plen = zs_pos_encode (&m->pos, pbuf);
        zmq_msg_t body;
        zmq_msg_init (&body);
        zmq_msg_copy (&body, m->body); /* shared, not copied */
        zmq_send (self->api, topic, tlen, ZMQ_SNDMORE | ZMQ_DONTWAIT);
        zmq_send (self->api, pbuf, plen, ZMQ_SNDMORE | ZMQ_DONTWAIT);
        if (zmq_msg_send (&body, self->api,
                          ZMQ_DONTWAIT | (i + 1 < page.n ? ZMQ_SNDMORE : 0))
            < 0)
            zmq_msg_close (&body);
        records += m->count;
    }
    self->replays++;
    self->replayed += records;
    zs_msg_free (&req.mem_);
}

/* ---------------------------------------------------------------------- */
/*  Reading requests                                                       */

void zs_api_recv (zs_broker_t *self)
{
    zmq_msg_t frames[4];
    int nframes = 0;
    int more = 1;
    bool overflow = false;
    while (more) {
        zmq_msg_t part;
        zmq_msg_init (&part);
        if (zmq_msg_recv (&part, self->api, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&part);
            break;
        }
        more = zmq_msg_more (&part);
        if (nframes < 4) {
            zmq_msg_init (&frames[nframes]);
            zmq_msg_move (&frames[nframes], &part);
            nframes++;
        }
        else
            overflow = true;
        zmq_msg_close (&part);
    }
    s_envelope_t env;
    zmq_msg_init (&env.id);
    env.delimiter = false;
    zmq_msg_t *body = NULL;
    if (nframes == 2 && !overflow)
        body = &frames[1];
    else if (nframes == 3 && !overflow && zmq_msg_size (&frames[1]) == 0) {
        env.delimiter = true;
        body = &frames[2];
    }
    if (nframes >= 1)
        zmq_msg_copy (&env.id, &frames[0]);
    if (!body) {
        if (zs_shared_may_complain (self))
            zs_warn ("api: dropped a request of %d frames (want id, body)",
                     nframes);
    }
    else {
        const void *data = zmq_msg_data (body);
        size_t size = zmq_msg_size (body);
        zs_msg_type_t type;
        zs_role_t role = ZS_ROLE_FULL;
        char err[256];
        if (zs_msg_peek (data, size, &type, err, sizeof err) != 0) {
            char peer[64];
            zs_shared_peer (body, peer, sizeof peer);
            if (zs_shared_may_complain (self))
                zs_warn ("api: bad request from %s: %s", peer, err);
            /* 505 only for a version that is a number but not ours */
            s_api_error (self, &env, s_req_of (data, size),
                         strstr (err, "unsupported protocol version")
                             ? ZS_ERR_VERSION
                             : ZS_ERR_BAD_REQUEST,
                         err);
        }
        else if ((role = zs_bauth_role (self->auth, body)) == ZS_ROLE_NONE
                 || ((type == ZS_MSG_SCAN_START || type == ZS_MSG_SCAN_STOP)
                     && role != ZS_ROLE_FULL)) {
            char key[ZS_KEY_TEXT];
            zs_bauth_key (self->auth, body, key);
            if (zs_shared_may_complain (self))
                zs_warn ("api: %s refused to %s key %s",
                         zs_msg_type_name (type),
                         role == ZS_ROLE_NONE ? "a removed" : "a read-only",
                         key);
            s_api_error (self, &env, s_req_of (data, size),
                         ZS_ERR_FORBIDDEN,
                         role == ZS_ROLE_NONE
                             ? "this key is no longer allowed"
                             : "this key may only read (status, lists, "
                               "replays)");
        }
        else if (type == ZS_MSG_SCAN_START)
            s_api_start (self, &env, data, size);
        else if (type == ZS_MSG_SCAN_STOP)
            s_api_stop (self, &env, data, size);
        else if (type == ZS_MSG_SCAN_STATUS)
            s_api_status (self, &env, data, size);
        else if (type == ZS_MSG_SCAN_LIST)
            s_api_list (self, &env, data, size);
        else if (type == ZS_MSG_WORKER_LIST)
            s_api_workers (self, &env, data, size);
        else if (type == ZS_MSG_REPLAY)
            s_api_replay (self, &env, data, size);
        else {
            snprintf (err, sizeof err, "'%s' is not a request",
                      zs_msg_type_name (type));
            s_api_error (self, &env, s_req_of (data, size),
                         ZS_ERR_BAD_REQUEST, err);
        }
    }
    zmq_msg_close (&env.id);
    for (int i = 0; i < nframes; i++)
        zmq_msg_close (&frames[i]);
}
