/*  zs_bus.c - reading results-out: the wire reader, and the follower that
    fills gaps from the broker's history (see zs_bus.h).

    The follower keeps, per scan: the last position it covered, how many
    signals and events it accepted (a view that skips plain results
    checks those against each message's position frame), whether a gap
    is open (live messages are then held, in order, until the replay has
    caught up), the replay request in flight, and when it last heard of
    the scan.  Accepted messages go to one out queue, handed out record
    by record; a message that overlaps what was covered is handed out
    from its first new record.
*/
#include "zs_bus.h"
#include "zs_util.h"

#include <czmq.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---------------------------------------------------------------------- */
/*  The wire                                                               */

void zs_bus_reader_init (zs_bus_reader_t *r, void *sub)
{
    memset (r, 0, sizeof *r);
    r->sub = sub;
}

void zs_bus_reader_close (zs_bus_reader_t *r)
{
    if (r->has_body) {
        zmq_msg_close (&r->body);
        r->has_body = false;
    }
}

int zs_bus_parse (zmq_msg_t *frames, char *scan, zs_topic_kind_t *kind,
                  zs_pos_t *pos, uint32_t *count, char *err, size_t errlen)
{
    size_t tlen = zmq_msg_size (&frames[0]);
    zs_recs_t it;
    int n;
    if (tlen >= ZS_TOPIC_MAX
        || zs_topic_parse (zmq_msg_data (&frames[0]), tlen, scan, kind) != 0)
        snprintf (err, errlen, "not a results topic");
    else if (zs_pos_decode (zmq_msg_data (&frames[1]),
                            zmq_msg_size (&frames[1]), pos)
             != 0)
        snprintf (err, errlen, "the position frame is not [pos, signals, "
                               "events]");
    else if ((n = zs_recs_init (&it, zmq_msg_data (&frames[2]),
                                zmq_msg_size (&frames[2]), err, errlen))
             > 0) {
        if (*kind == ZS_TOPIC_EVENT && n != 1) {
            snprintf (err, errlen, "an event message holds %d records", n);
            return -1;
        }
        *count = (uint32_t) n;
        return 0;
    }
    return -1;
}

/*  Reads one whole message into parts (3 frames).  1, 0 (nothing came)
    or -1 (not three frames: dropped, every frame read). */
static int s_recv3 (void *sock, zmq_msg_t *parts, int flags, char *err,
                    size_t errlen)
{
    int n = 0, more = 1;
    while (more) {
        zmq_msg_t part;
        zmq_msg_init (&part);
        /* the frames of a message arrive together: only the first waits */
        if (zmq_msg_recv (&part, sock, n ? ZMQ_DONTWAIT : flags) < 0) {
            zmq_msg_close (&part);
            if (n == 0)
                return 0;
            break;
        }
        more = zmq_msg_more (&part);
        if (n < 3) {
            zmq_msg_init (&parts[n]);
            zmq_msg_move (&parts[n], &part);
        }
        n++;
        zmq_msg_close (&part);
    }
    if (n == 3)
        return 1;
    for (int i = 0; i < n && i < 3; i++)
        zmq_msg_close (&parts[i]);
    snprintf (err, errlen, "a message of %d frames (want topic, position, "
              "body)", n);
    return -1;
}

static int s_next_message (zs_bus_reader_t *r, int flags, char *err,
                           size_t errlen)
{
    zmq_msg_t parts[3];
    int got = s_recv3 (r->sub, parts, flags, err, errlen);
    if (got <= 0) {
        if (got < 0)
            r->bad++;
        return got;
    }
    uint32_t count;
    int rc = -1;
    if (zs_bus_parse (parts, r->scan, &r->kind, &r->mpos, &count, err,
                      errlen)
        == 0) {
        size_t tlen = zmq_msg_size (&parts[0]);
        memcpy (r->topic, zmq_msg_data (&parts[0]), tlen);
        r->topic[tlen] = 0;
        zs_recs_init (&r->recs, zmq_msg_data (&parts[2]),
                      zmq_msg_size (&parts[2]), err, errlen);
        zmq_msg_init (&r->body);
        zmq_msg_move (&r->body, &parts[2]);
        r->has_body = true;
        r->pos = r->mpos.pos;
        r->messages++;
        rc = 1;
    }
    for (int i = 0; i < 3; i++)
        zmq_msg_close (&parts[i]);
    if (rc < 0)
        r->bad++;
    return rc;
}

int zs_bus_reader_next (zs_bus_reader_t *r, int flags, zs_bus_rec_t *rec,
                        char *err, size_t errlen)
{
    for (;;) {
        if (r->has_body) {
            int rc = zs_recs_next (&r->recs, &rec->data, &rec->size, err,
                                   errlen);
            if (rc > 0) {
                rec->topic = r->topic;
                rec->scan = r->scan;
                rec->kind = r->kind;
                rec->pos = r->pos++;
                return 1;
            }
            zs_bus_reader_close (r);
            if (rc < 0) {
                r->bad++;
                return -1;
            }
        }
        int got = s_next_message (r, flags, err, errlen);
        if (got <= 0)
            return got;
    }
}

/* ---------------------------------------------------------------------- */
/*  The follower                                                           */

typedef struct s_msg_t s_msg_t;
struct s_msg_t {
    s_msg_t *next;
    zs_bus_what_t what;
    char scan[ZS_ID_MAX + 1];
    zs_topic_kind_t kind;
    zs_pos_t pos;
    uint32_t count;
    uint32_t skip;          /* records already covered: not handed out   */
    bool replayed;
    bool has_body;
    zmq_msg_t body;
    uint64_t lost_from, lost_to;
    char *reason;           /* notices                                   */
};

typedef struct {
    s_msg_t *head, *tail;
    size_t n;
    size_t bytes;
} s_queue_t;

typedef struct {
    char id[ZS_ID_MAX + 1];
    zs_view_t view;
    bool explicit_;         /* the caller follows it (not follow_all)    */
    bool dormant;           /* subscribed, not followed yet              */
    bool subscribed;        /* we hold its subscription(s)               */
    uint64_t covered;       /* last position accepted or passed over     */
    uint64_t nsig, nev;     /* signals and events before covered+1       */
    bool resync;            /* after a loss: take the next message as is */
    bool finished;          /* its finished event was accepted           */
    bool gap;               /* live messages are held until a replay ends */
    uint64_t req;           /* replay in flight (0: none)                */
    int64_t req_us;
    int64_t heard_us;       /* last message or answer about it           */
    bool silent_said;
    s_queue_t held;
} s_follow_t;

#define FOLLOW_MAX 4096

struct zs_bus_t {
    zs_bus_config_t cfg;
    void *sub;
    void *dealer;
    bool all;               /* following everything                      */
    zhashx_t *follows;      /* id -> s_follow_t*                         */
    s_queue_t out;          /* accepted, to hand out                     */
    s_msg_t *cur;           /* being handed out                          */
    zs_recs_t recs;
    uint32_t cur_index;     /* records of cur handed out or skipped      */
    char cur_topic[ZS_TOPIC_MAX];
    size_t held_bytes;      /* over every scan                           */
    uint64_t next_req;
    int64_t next_timers_us;
    char broker[ZS_ID_MAX + 1];
    zs_buf_t buf;
    zs_bus_stats_t stats;
};

static void s_msg_free (s_msg_t *m)
{
    if (m->has_body)
        zmq_msg_close (&m->body);
    free (m->reason);
    free (m);
}

static void s_push (s_queue_t *q, s_msg_t *m)
{
    m->next = NULL;
    if (q->tail)
        q->tail->next = m;
    else
        q->head = m;
    q->tail = m;
    q->n++;
    q->bytes += m->has_body ? zmq_msg_size (&m->body) : 0;
}

static void s_push_front (s_queue_t *q, s_msg_t *m)
{
    m->next = q->head;
    q->head = m;
    if (!q->tail)
        q->tail = m;
    q->n++;
    q->bytes += m->has_body ? zmq_msg_size (&m->body) : 0;
}

static s_msg_t *s_pop (s_queue_t *q)
{
    s_msg_t *m = q->head;
    if (!m)
        return NULL;
    q->head = m->next;
    if (!q->head)
        q->tail = NULL;
    q->n--;
    q->bytes -= m->has_body ? zmq_msg_size (&m->body) : 0;
    m->next = NULL;
    return m;
}

static void s_queue_clear (s_queue_t *q)
{
    s_msg_t *m;
    while ((m = s_pop (q)))
        s_msg_free (m);
}

/*  A notice (LOST, GONE, SILENT) for the caller, in order with records. */
static void s_notice (zs_bus_t *self, const char *scan, zs_bus_what_t what,
                      uint64_t from, uint64_t to, const char *reason)
{
    s_msg_t *m = (s_msg_t *) calloc (1, sizeof *m);
    if (!m)
        return;
    m->what = what;
    snprintf (m->scan, sizeof m->scan, "%s", scan);
    m->lost_from = from;
    m->lost_to = to;
    m->reason = strdup (reason ? reason : "");
    s_push (&self->out, m);
}

static void s_follow_free (void **item)
{
    s_follow_t *f = (s_follow_t *) *item;
    if (f) {
        s_queue_clear (&f->held);
        free (f);
    }
    *item = NULL;
}

/*  (Un)subscribes the SUB to what view of scan needs. */
static void s_subscription (zs_bus_t *self, const char *scan, zs_view_t view,
                            bool on)
{
    int opt = on ? ZMQ_SUBSCRIBE : ZMQ_UNSUBSCRIBE;
    char topic[ZS_TOPIC_MAX];
    if (view == ZS_VIEW_ALL) {
        size_t n = zs_topic_prefix_scan (topic, sizeof topic, scan);
        zmq_setsockopt (self->sub, opt, topic, n);
        return;
    }
    if (view == ZS_VIEW_SIGNALS) {
        size_t n = zs_topic_build (topic, sizeof topic, scan,
                                   ZS_TOPIC_RESULT_SIGNAL);
        zmq_setsockopt (self->sub, opt, topic, n);
    }
    size_t n = zs_topic_build (topic, sizeof topic, scan, ZS_TOPIC_EVENT);
    zmq_setsockopt (self->sub, opt, topic, n);
}

static void s_forget (zs_bus_t *self, s_follow_t *f)
{
    if (f->subscribed && !self->all)
        s_subscription (self, f->id, f->view, false);
    self->held_bytes -= f->held.bytes;
    zhashx_delete (self->follows, f->id);
}

/*  Asks the broker for f's records after what it covered. */
static void s_ask (zs_bus_t *self, s_follow_t *f, int64_t now)
{
    zs_replay_t m = {0};
    m.req = ++self->next_req;
    m.scan = f->id;
    m.after = f->covered;
    m.limit = self->cfg.page_records;
    m.view = f->view;
    char err[256];
    zs_buf_reset (&self->buf);
    if (zs_replay_encode (&m, &self->buf, err, sizeof err) != 0)
        return;
    /* a DEALER with no broker connected refuses at once: that counts as
       unanswered too (asked again, and said, at the answer timeout) */
    zmq_send (self->dealer, self->buf.data, self->buf.size, ZMQ_DONTWAIT);
    f->req = m.req;
    f->req_us = now;
    self->stats.replays++;
}

/*  Takes message m for f if it is the next of f's view (or overlaps what
    f covered): 0 when taken or dropped as old, 1 when it lies past a gap
    (m is still the caller's). */
static int s_accept (zs_bus_t *self, s_follow_t *f, s_msg_t *m)
{
    uint64_t last = m->pos.pos + m->count - 1;
    if (last <= f->covered) {
        s_msg_free (m);
        return 0;
    }
    uint64_t skip = f->covered >= m->pos.pos ? f->covered - m->pos.pos + 1
                                             : 0;
    bool sig = m->kind == ZS_TOPIC_RESULT_SIGNAL;
    uint64_t sig_before = m->pos.signals + (sig ? skip : 0);
    bool next = f->resync;
    if (f->view == ZS_VIEW_ALL)
        next = next || m->pos.pos + skip == f->covered + 1;
    else if (f->view == ZS_VIEW_SIGNALS)
        next = next
               || (sig_before == f->nsig && m->pos.events == f->nev
                   && m->kind != ZS_TOPIC_RESULT_PLAIN);
    else
        next = next || (m->pos.events == f->nev && m->kind == ZS_TOPIC_EVENT);
    if (!next)
        return 1;
    f->resync = false;
    f->covered = last;
    f->nsig = m->pos.signals + (sig ? m->count : 0);
    f->nev = m->pos.events + (m->kind == ZS_TOPIC_EVENT ? 1 : 0);
    if (m->kind == ZS_TOPIC_EVENT) {
        zs_msg_type_t type;
        char err[64];
        if (zs_msg_peek (zmq_msg_data (&m->body), zmq_msg_size (&m->body),
                         &type, err, sizeof err)
                == 0
            && type == ZS_MSG_EV_FINISHED)
            f->finished = true;
    }
    m->skip = (uint32_t) skip;
    snprintf (m->scan, sizeof m->scan, "%s", f->id);
    s_push (&self->out, m);
    return 0;
}

/*  Hands the held messages of f on while they follow on; a new gap
    among them asks again. */
static void s_drain (zs_bus_t *self, s_follow_t *f, int64_t now)
{
    f->gap = false;
    s_msg_t *m;
    while ((m = s_pop (&f->held))) {
        self->held_bytes -= zmq_msg_size (&m->body);
        if (s_accept (self, f, m) == 1) {
            s_push_front (&f->held, m);
            self->held_bytes += zmq_msg_size (&m->body);
            f->gap = true;
            self->stats.gaps++;
            s_ask (self, f, now);
            return;
        }
    }
}

static s_follow_t *s_follow_new (zs_bus_t *self, const char *scan,
                                 zs_view_t view, bool explicit_)
{
    if (!zs_scan_id_valid (scan))
        return NULL;
    if (zhashx_size (self->follows) >= FOLLOW_MAX) {
        /* make room: a finished scan nobody asked for by name */
        s_follow_t *victim = NULL;
        for (s_follow_t *g = (s_follow_t *) zhashx_first (self->follows); g;
             g = (s_follow_t *) zhashx_next (self->follows))
            if (!g->explicit_ && (g->finished || !victim))
                victim = g;
        if (!victim)
            return NULL;
        s_forget (self, victim);
    }
    s_follow_t *f = (s_follow_t *) calloc (1, sizeof *f);
    if (!f)
        return NULL;
    snprintf (f->id, sizeof f->id, "%s", scan);
    f->view = view;
    f->explicit_ = explicit_;
    f->heard_us = zs_clock_us ();
    zhashx_insert (self->follows, f->id, f);
    return f;
}

/* ---------------------------------------------------------------------- */
/*  What comes in                                                          */

static void s_on_live (zs_bus_t *self, zmq_msg_t *parts, int64_t now)
{
    char scan[ZS_ID_MAX + 1], err[256];
    zs_topic_kind_t kind;
    zs_pos_t pos;
    uint32_t count;
    if (zs_bus_parse (parts, scan, &kind, &pos, &count, err, sizeof err)
        != 0) {
        self->stats.bad++;
        return;
    }
    self->stats.messages++;
    s_follow_t *f = (s_follow_t *) zhashx_lookup (self->follows, scan);
    if (!f && self->all) {
        f = s_follow_new (self, scan, ZS_VIEW_ALL, false);
        if (f)
            f->subscribed = true;
    }
    if (!f)
        return;
    f->heard_us = now;
    s_msg_t *m = (s_msg_t *) calloc (1, sizeof *m);
    if (!m)
        return;
    m->what = ZS_BUS_RECORD;
    m->kind = kind;
    m->pos = pos;
    m->count = count;
    m->has_body = true;
    zmq_msg_init (&m->body);
    zmq_msg_move (&m->body, &parts[2]);
    if (!f->gap && !f->dormant && s_accept (self, f, m) == 0)
        return;
    if (!f->gap && !f->dormant) {
        f->gap = true;
        self->stats.gaps++;
        s_ask (self, f, now);
    }
    if (self->held_bytes + zmq_msg_size (&m->body) > self->cfg.hold_bytes) {
        self->stats.dropped_held++; /* the history has it */
        s_msg_free (m);
        return;
    }
    self->held_bytes += zmq_msg_size (&m->body);
    s_push (&f->held, m);
}

static s_follow_t *s_by_req (zs_bus_t *self, uint64_t req)
{
    for (s_follow_t *f = (s_follow_t *) zhashx_first (self->follows); f;
         f = (s_follow_t *) zhashx_next (self->follows))
        if (f->req == req)
            return f;
    return NULL;
}

/*  Reads the rest of a reply (frames after its header). */
static void s_drain_frames (void *sock)
{
    int more = 1;
    size_t sz = sizeof more;
    while (zmq_getsockopt (sock, ZMQ_RCVMORE, &more, &sz) == 0 && more) {
        zmq_msg_t part;
        zmq_msg_init (&part);
        if (zmq_msg_recv (&part, sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&part);
            break;
        }
        zmq_msg_close (&part);
    }
}

static void s_on_page (zs_bus_t *self, s_follow_t *f,
                       const zs_replay_page_t *page, int64_t now)
{
    char why[256];
    if (self->broker[0] && strcmp (self->broker, page->broker) != 0) {
        snprintf (why, sizeof why,
                  "the broker restarted (instance %s, before %s): scan %s "
                  "is gone",
                  page->broker, self->broker, f->id);
        snprintf (self->broker, sizeof self->broker, "%s", page->broker);
        s_drain_frames (self->dealer);
        s_notice (self, f->id, ZS_BUS_GONE, 0, 0, why);
        s_forget (self, f);
        return;
    }
    snprintf (self->broker, sizeof self->broker, "%s", page->broker);
    f->req = 0;
    f->heard_us = now;
    f->silent_said = false;
    if (page->first > f->covered + 1) {
        snprintf (why, sizeof why,
                  "records %llu..%llu of scan %s left the broker's history "
                  "before they could be fetched",
                  (unsigned long long) (f->covered + 1),
                  (unsigned long long) (page->first - 1), f->id);
        s_notice (self, f->id, ZS_BUS_LOST, f->covered + 1, page->first - 1,
                  why);
        self->stats.lost += page->first - 1 - f->covered;
        f->covered = page->first - 1;
        f->resync = true;
    }
    for (uint32_t i = 0; i < page->count; i++) {
        zmq_msg_t parts[3];
        char err[256];
        int more = 0;
        size_t sz = sizeof more;
        zmq_getsockopt (self->dealer, ZMQ_RCVMORE, &more, &sz);
        if (!more)
            break;
        int got = 0;
        int n = 0;
        for (; n < 3; n++) {
            zmq_msg_init (&parts[n]);
            if (zmq_msg_recv (&parts[n], self->dealer, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close (&parts[n]);
                break;
            }
        }
        if (n == 3)
            got = 1;
        char scan[ZS_ID_MAX + 1];
        zs_topic_kind_t kind;
        zs_pos_t pos;
        uint32_t count;
        if (!got
            || zs_bus_parse (parts, scan, &kind, &pos, &count, err,
                             sizeof err)
                   != 0
            || strcmp (scan, f->id) != 0) {
            for (int k = 0; k < n; k++)
                zmq_msg_close (&parts[k]);
            self->stats.bad++;
            break;
        }
        s_msg_t *m = (s_msg_t *) calloc (1, sizeof *m);
        if (m) {
            m->what = ZS_BUS_RECORD;
            m->kind = kind;
            m->pos = pos;
            m->count = count;
            m->replayed = true;
            m->has_body = true;
            zmq_msg_init (&m->body);
            zmq_msg_move (&m->body, &parts[2]);
            if (s_accept (self, f, m) == 1) {
                /* a hole inside the history's own records: say so and
                   go on from there */
                snprintf (why, sizeof why,
                          "records of scan %s before position %llu are "
                          "missing from the broker's history",
                          f->id, (unsigned long long) pos.pos);
                s_notice (self, f->id, ZS_BUS_LOST, f->covered + 1,
                          pos.pos - 1, why);
                f->resync = true;
                s_accept (self, f, m);
            }
        }
        for (int k = 0; k < 3; k++)
            zmq_msg_close (&parts[k]);
    }
    s_drain_frames (self->dealer);
    if (f->view != ZS_VIEW_ALL && page->next > f->covered
        && page->next <= page->head)
        f->covered = page->next; /* passed over: outside the view */
    /* caught up with what the broker had, or with what came live since:
       the held messages go on from here (one past a new hole asks
       again); otherwise the next page */
    if (page->done || f->covered >= page->head || f->held.head)
        s_drain (self, f, now);
    else
        s_ask (self, f, now);
}

static void s_on_reply (zs_bus_t *self, int64_t now)
{
    zmq_msg_t head;
    zmq_msg_init (&head);
    if (zmq_msg_recv (&head, self->dealer, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close (&head);
        return;
    }
    const void *data = zmq_msg_data (&head);
    size_t size = zmq_msg_size (&head);
    uint64_t req = 0;
    zs_msg_peek_req (data, size, &req);
    s_follow_t *f = req ? s_by_req (self, req) : NULL;
    zs_msg_type_t type = ZS_MSG_UNKNOWN;
    char err[256];
    if (!f || zs_msg_peek (data, size, &type, err, sizeof err) != 0) {
        s_drain_frames (self->dealer); /* a late answer to an old question */
        zmq_msg_close (&head);
        return;
    }
    if (type == ZS_MSG_REPLAY_PAGE) {
        zs_replay_page_t page = {0};
        if (zs_replay_page_decode (data, size, &page, err, sizeof err) == 0)
            s_on_page (self, f, &page, now);
        else {
            self->stats.bad++;
            s_drain_frames (self->dealer);
        }
        zs_msg_free (&page.mem_);
    }
    else if (type == ZS_MSG_ERROR) {
        zs_error_t e = {0};
        char why[256];
        if (zs_error_decode (data, size, &e, err, sizeof err) == 0)
            snprintf (why, sizeof why, "the broker%s%s: %s (%u)",
                      self->broker[0] ? " " : "", self->broker, e.message,
                      e.code);
        else
            snprintf (why, sizeof why, "a bad answer from the broker");
        zs_msg_free (&e.mem_);
        s_drain_frames (self->dealer);
        s_notice (self, f->id, ZS_BUS_GONE, 0, 0, why);
        s_forget (self, f);
    }
    else
        s_drain_frames (self->dealer);
    zmq_msg_close (&head);
}

/*  Silent scans are asked about; unanswered questions asked again. */
static void s_timers (zs_bus_t *self, int64_t now)
{
    if (now < self->next_timers_us)
        return;
    self->next_timers_us = now + 50000;
    int64_t idle = (int64_t) self->cfg.idle_ms * 1000;
    int64_t answer = (int64_t) self->cfg.answer_ms * 1000;
    for (s_follow_t *f = (s_follow_t *) zhashx_first (self->follows); f;
         f = (s_follow_t *) zhashx_next (self->follows)) {
        if (f->dormant || (f->finished && !f->gap && !f->req))
            continue;
        if (f->req) {
            if (now - f->req_us >= answer) {
                if (!f->silent_said) {
                    char why[256];
                    snprintf (why, sizeof why,
                              "the broker has not answered for %.1f s",
                              (double) (now - f->req_us) / 1e6);
                    s_notice (self, f->id, ZS_BUS_SILENT, 0, 0, why);
                    f->silent_said = true;
                }
                s_ask (self, f, now);
            }
        }
        else if (now - f->heard_us >= idle)
            s_ask (self, f, now);
    }
}

/*  Reads what waits on both sockets (a bounded burst) and runs timers. */
static void s_pump (zs_bus_t *self)
{
    int64_t now = zs_clock_us ();
    for (int i = 0; i < 64; i++) {
        zmq_msg_t parts[3];
        char err[256];
        int got = s_recv3 (self->sub, parts, ZMQ_DONTWAIT, err, sizeof err);
        if (got == 0)
            break;
        if (got < 0) {
            self->stats.bad++;
            continue;
        }
        s_on_live (self, parts, now);
        for (int k = 0; k < 3; k++)
            zmq_msg_close (&parts[k]);
    }
    for (int i = 0; i < 16; i++) {
        int ev = 0;
        size_t sz = sizeof ev;
        if (zmq_getsockopt (self->dealer, ZMQ_EVENTS, &ev, &sz) != 0
            || !(ev & ZMQ_POLLIN))
            break;
        s_on_reply (self, now);
    }
    s_timers (self, now);
}

/*  The next event from the out queue, if any. */
static int s_hand_out (zs_bus_t *self, zs_bus_event_t *ev)
{
    for (;;) {
        if (self->cur) {
            s_msg_t *m = self->cur;
            const void *data;
            size_t size;
            char err[128];
            while (m->what == ZS_BUS_RECORD
                   && zs_recs_next (&self->recs, &data, &size, err,
                                    sizeof err)
                          == 1) {
                uint32_t k = self->cur_index++;
                if (k < m->skip)
                    continue;
                ev->what = ZS_BUS_RECORD;
                ev->rec.topic = self->cur_topic;
                ev->rec.scan = m->scan;
                ev->rec.kind = m->kind;
                ev->rec.pos = m->pos.pos + k;
                ev->rec.data = data;
                ev->rec.size = size;
                ev->replayed = m->replayed;
                ev->reason[0] = 0;
                self->stats.records++;
                if (m->replayed)
                    self->stats.replayed++;
                return 1;
            }
            s_msg_free (m);
            self->cur = NULL;
        }
        s_msg_t *m = s_pop (&self->out);
        if (!m)
            return 0;
        if (m->what != ZS_BUS_RECORD) {
            memset (ev, 0, sizeof *ev);
            ev->what = m->what;
            ev->rec.scan = m->scan;
            ev->lost_from = m->lost_from;
            ev->lost_to = m->lost_to;
            snprintf (ev->reason, sizeof ev->reason, "%s",
                      m->reason ? m->reason : "");
            self->cur = m; /* keeps rec.scan valid until the next call */
            return 1;
        }
        self->cur = m;
        self->cur_index = 0;
        char err[128];
        zs_recs_init (&self->recs, zmq_msg_data (&m->body),
                      zmq_msg_size (&m->body), err, sizeof err);
        zs_topic_build (self->cur_topic, sizeof self->cur_topic, m->scan,
                        m->kind);
    }
}

int zs_bus_next (zs_bus_t *self, int timeout_ms, zs_bus_event_t *ev)
{
    int64_t deadline = timeout_ms < 0 ? INT64_MAX
                                      : zs_clock_us ()
                                            + (int64_t) timeout_ms * 1000;
    for (;;) {
        if (s_hand_out (self, ev))
            return 1;
        s_pump (self);
        if (s_hand_out (self, ev))
            return 1;
        int64_t now = zs_clock_us ();
        if (now >= deadline)
            return 0;
        int64_t wait = deadline - now;
        if (wait > 50000)
            wait = 50000; /* timers */
        zmq_pollitem_t items[] = {{self->sub, 0, ZMQ_POLLIN, 0},
                                  {self->dealer, 0, ZMQ_POLLIN, 0}};
        if (zmq_poll (items, 2, (long) ((wait + 999) / 1000)) < 0
            && errno == EINTR)
            return 0;
    }
}

/* ---------------------------------------------------------------------- */
/*  Construction and following                                             */

zs_bus_t *zs_bus_new (void *ctx, const zs_bus_config_t *cfg, char *err,
                      size_t errlen)
{
    zs_bus_t *self = (zs_bus_t *) calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, errlen, "out of memory");
        return NULL;
    }
    self->cfg = *cfg;
    if (self->cfg.idle_ms <= 0)
        self->cfg.idle_ms = 1000;
    if (self->cfg.answer_ms <= 0)
        self->cfg.answer_ms = 3000;
    if (!self->cfg.hold_bytes)
        self->cfg.hold_bytes = (size_t) 64 << 20;
    if (self->cfg.rcvhwm <= 0)
        self->cfg.rcvhwm = 10000;
    self->follows = zhashx_new ();
    self->sub = zmq_socket (ctx, ZMQ_SUB);
    self->dealer = zmq_socket (ctx, ZMQ_DEALER);
    if (!self->follows || !self->sub || !self->dealer) {
        snprintf (err, errlen, "cannot make the bus's sockets");
        zs_bus_destroy (&self);
        return NULL;
    }
    zhashx_set_destructor (self->follows, s_follow_free);
    int zero = 0;
    int64_t max_sub = (int64_t) ZS_RESULTS_MSG_MAX;
    int64_t max_api = (int64_t) ZS_API_MSG_MAX;
    zmq_setsockopt (self->sub, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt (self->dealer, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt (self->sub, ZMQ_RCVHWM, &self->cfg.rcvhwm,
                    sizeof self->cfg.rcvhwm);
    zmq_setsockopt (self->sub, ZMQ_MAXMSGSIZE, &max_sub, sizeof max_sub);
    zmq_setsockopt (self->dealer, ZMQ_MAXMSGSIZE, &max_api, sizeof max_api);
    zs_socket_retry_soon (self->sub); /* a broker starting beside us */
    zs_socket_retry_soon (self->dealer);
    if (zs_curve_client_apply (cfg->curve, self->sub) != 0
        || zs_curve_client_apply (cfg->curve, self->dealer) != 0
        || zmq_connect (self->sub, cfg->results) != 0
        || zmq_connect (self->dealer, cfg->api) != 0) {
        snprintf (err, errlen, "cannot connect to %s / %s: %s", cfg->api,
                  cfg->results, zmq_strerror (errno));
        zs_bus_destroy (&self);
        return NULL;
    }
    return self;
}

void zs_bus_destroy (zs_bus_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zs_bus_t *self = *self_p;
    if (self->cur)
        s_msg_free (self->cur);
    s_queue_clear (&self->out);
    zhashx_destroy (&self->follows);
    if (self->sub)
        zmq_close (self->sub);
    if (self->dealer)
        zmq_close (self->dealer);
    zs_buf_free (&self->buf);
    free (self);
    *self_p = NULL;
}

int zs_bus_subscribe (zs_bus_t *self, const char *scan, zs_view_t view)
{
    s_follow_t *f = (s_follow_t *) zhashx_lookup (self->follows, scan);
    if (f)
        return 0;
    f = s_follow_new (self, scan, view, true);
    if (!f)
        return -1;
    f->dormant = true;
    if (!self->all) {
        s_subscription (self, scan, view, true);
        f->subscribed = true;
    }
    return 0;
}

int zs_bus_follow (zs_bus_t *self, const char *scan, zs_view_t view,
                   uint64_t after, bool fresh)
{
    s_follow_t *f = (s_follow_t *) zhashx_lookup (self->follows, scan);
    if (f && f->view != view) {
        s_forget (self, f);
        f = NULL;
    }
    if (!f && zs_bus_subscribe (self, scan, view) != 0)
        return -1;
    f = (s_follow_t *) zhashx_lookup (self->follows, scan);
    if (!f)
        return -1;
    f->dormant = false;
    f->explicit_ = true;
    f->covered = after;
    f->nsig = f->nev = 0;
    /* from the middle of a partial view its counts are not known: the
       first record the replay brings sets them */
    f->resync = after > 0 && view != ZS_VIEW_ALL;
    f->heard_us = zs_clock_us ();
    if (fresh)
        s_drain (self, f, f->heard_us); /* what came since it subscribed */
    else {
        f->gap = true;
        s_ask (self, f, f->heard_us);
    }
    return 0;
}

int zs_bus_follow_all (zs_bus_t *self)
{
    if (!self->all) {
        self->all = true;
        zmq_setsockopt (self->sub, ZMQ_SUBSCRIBE, "", 0);
    }
    return 0;
}

void zs_bus_unfollow (zs_bus_t *self, const char *scan)
{
    s_follow_t *f = (s_follow_t *) zhashx_lookup (self->follows, scan);
    if (f)
        s_forget (self, f);
}

void zs_bus_pollitems (zs_bus_t *self, zmq_pollitem_t *items)
{
    items[0].socket = self->sub;
    items[0].fd = 0;
    items[0].events = ZMQ_POLLIN;
    items[0].revents = 0;
    items[1].socket = self->dealer;
    items[1].fd = 0;
    items[1].events = ZMQ_POLLIN;
    items[1].revents = 0;
}

const char *zs_bus_broker (const zs_bus_t *self)
{
    return self->broker;
}

void zs_bus_stats (const zs_bus_t *self, zs_bus_stats_t *st)
{
    *st = self->stats;
}
