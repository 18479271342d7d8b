/*  zs_history.c - see zs_history.h.

    Each scan's log is a ring of entries (kind, position frame, count, a
    reference to the body), oldest first, so eviction from the front and
    appending at the back are O(1) and a replay finds its start by binary
    search.  Logs sit on one of two lists: running (in the order they
    started) and finished (in the order they finished), which is the order
    of eviction.
*/
#include "zs_history.h"

#include <czmq.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    zs_pos_t pos;
    uint32_t count;
    uint8_t kind;
    zmq_msg_t body;
} s_entry_t;

typedef struct s_log_t s_log_t;
struct s_log_t {
    char id[ZS_ID_MAX + 1];
    s_entry_t *ring;        /* cap entries; len used from start         */
    size_t cap, start, len;
    size_t bytes;           /* bodies and entries                       */
    uint64_t last;          /* last position appended (0: none)         */
    uint64_t evicted_to;    /* every position up to this is gone        */
    bool finished;
    s_log_t *prev, *next;   /* on the running or the finished list      */
};

typedef struct {
    s_log_t *head, *tail;
} s_list_t;

struct zs_history_t {
    size_t budget;
    size_t bytes;
    zhashx_t *logs;         /* id -> s_log_t*                           */
    s_list_t running;
    s_list_t finished;
    uint64_t evicted_msgs, evicted_scans;
};

#define ENTRY_COST (sizeof (s_entry_t))

static void s_list_add (s_list_t *l, s_log_t *g)
{
    g->prev = l->tail;
    g->next = NULL;
    if (l->tail)
        l->tail->next = g;
    else
        l->head = g;
    l->tail = g;
}

static void s_list_remove (s_list_t *l, s_log_t *g)
{
    if (g->prev)
        g->prev->next = g->next;
    else if (l->head == g)
        l->head = g->next;
    if (g->next)
        g->next->prev = g->prev;
    else if (l->tail == g)
        l->tail = g->prev;
    g->prev = g->next = NULL;
}

static s_entry_t *s_at (s_log_t *g, size_t i)
{
    return &g->ring[(g->start + i) % g->cap];
}

static size_t s_body_cost (zmq_msg_t *body)
{
    return zmq_msg_size (body) + ENTRY_COST;
}

/*  Evicts the oldest entry of g. */
static void s_evict_one (zs_history_t *self, s_log_t *g)
{
    s_entry_t *e = s_at (g, 0);
    size_t cost = s_body_cost (&e->body);
    g->evicted_to = e->pos.pos + e->count - 1;
    zmq_msg_close (&e->body);
    g->start = (g->start + 1) % g->cap;
    g->len--;
    g->bytes -= cost;
    self->bytes -= cost;
    self->evicted_msgs++;
}

static void s_evict_all (zs_history_t *self, s_log_t *g)
{
    bool had = g->len > 0;
    while (g->len)
        s_evict_one (self, g);
    free (g->ring);
    g->ring = NULL;
    g->cap = g->start = 0;
    if (had)
        self->evicted_scans++;
}

/*  Makes room: finished scans first, oldest first; then the oldest
    messages of the running scan holding the most. */
static void s_trim (zs_history_t *self)
{
    while (self->bytes > self->budget) {
        s_log_t *g = self->finished.head;
        while (g && !g->len)
            g = g->next;
        if (g) {
            s_evict_all (self, g);
            continue;
        }
        s_log_t *big = NULL;
        for (g = self->running.head; g; g = g->next)
            if (g->len && (!big || g->bytes > big->bytes))
                big = g;
        if (!big)
            return; /* nothing left to evict */
        s_evict_one (self, big);
    }
}

static void s_log_free (void **item)
{
    s_log_t *g = (s_log_t *) *item;
    if (g) {
        for (size_t i = 0; i < g->len; i++)
            zmq_msg_close (&s_at (g, i)->body);
        free (g->ring);
        free (g);
    }
    *item = NULL;
}

zs_history_t *zs_history_new (size_t budget)
{
    zs_history_t *self = (zs_history_t *) calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->budget = budget;
    self->logs = zhashx_new ();
    if (!self->logs) {
        free (self);
        return NULL;
    }
    zhashx_set_destructor (self->logs, s_log_free);
    return self;
}

void zs_history_destroy (zs_history_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zhashx_destroy (&(*self_p)->logs);
    free (*self_p);
    *self_p = NULL;
}

static s_log_t *s_log (zs_history_t *self, const char *scan, bool make)
{
    s_log_t *g = (s_log_t *) zhashx_lookup (self->logs, scan);
    if (g || !make)
        return g;
    if (strlen (scan) > ZS_ID_MAX)
        return NULL;
    g = (s_log_t *) calloc (1, sizeof *g);
    if (!g)
        return NULL;
    strcpy (g->id, scan);
    zhashx_insert (self->logs, g->id, g);
    s_list_add (&self->running, g);
    return g;
}

int zs_history_append (zs_history_t *self, const char *scan,
                       zs_topic_kind_t kind, const zs_pos_t *pos,
                       uint32_t count, zmq_msg_t *body)
{
    s_log_t *g = s_log (self, scan, true);
    if (!g || count == 0 || pos->pos != g->last + 1)
        return -1;
    if (g->len == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 64;
        s_entry_t *ring = (s_entry_t *) malloc (cap * sizeof *ring);
        if (!ring)
            return -1;
        /* unroll the ring (bodies moved, not copied) */
        for (size_t i = 0; i < g->len; i++) {
            s_entry_t *old = s_at (g, i);
            ring[i] = *old;
            zmq_msg_init (&ring[i].body);
            zmq_msg_move (&ring[i].body, &old->body);
            zmq_msg_close (&old->body);
        }
        free (g->ring);
        g->ring = ring;
        g->cap = cap;
        g->start = 0;
    }
    s_entry_t *e = &g->ring[(g->start + g->len) % g->cap];
    zmq_msg_init (&e->body);
    if (zmq_msg_copy (&e->body, body) != 0) {
        zmq_msg_close (&e->body);
        return -1;
    }
    e->pos = *pos;
    e->count = count;
    e->kind = (uint8_t) kind;
    g->len++;
    g->last = pos->pos + count - 1;
    size_t cost = s_body_cost (&e->body);
    g->bytes += cost;
    self->bytes += cost;
    if (self->bytes > self->budget)
        s_trim (self);
    return 0;
}

void zs_history_finish (zs_history_t *self, const char *scan)
{
    s_log_t *g = s_log (self, scan, false);
    if (!g || g->finished)
        return;
    s_list_remove (&self->running, g);
    g->finished = true;
    s_list_add (&self->finished, g);
}

void zs_history_drop (zs_history_t *self, const char *scan)
{
    s_log_t *g = s_log (self, scan, false);
    if (!g)
        return;
    s_list_remove (g->finished ? &self->finished : &self->running, g);
    self->bytes -= g->bytes;
    zhashx_delete (self->logs, scan);
}

static uint64_t s_first (s_log_t *g)
{
    return g->len ? s_at (g, 0)->pos.pos : g->last + 1;
}

bool zs_history_bounds (zs_history_t *self, const char *scan,
                        uint64_t *first, uint64_t *last)
{
    s_log_t *g = s_log (self, scan, false);
    if (!g)
        return false;
    *first = s_first (g);
    *last = g->last;
    return true;
}

static bool s_in_view (zs_view_t view, uint8_t kind)
{
    if (view == ZS_VIEW_SIGNALS)
        return kind != ZS_TOPIC_RESULT_PLAIN;
    if (view == ZS_VIEW_EVENTS)
        return kind == ZS_TOPIC_EVENT;
    return true;
}

int zs_history_page (zs_history_t *self, const char *scan, uint64_t after,
                     zs_view_t view, uint32_t max_records, size_t max_bytes,
                     uint32_t max_msgs, zs_hist_fn *fn, void *arg,
                     uint64_t *first, uint64_t *next)
{
    s_log_t *g = s_log (self, scan, false);
    if (!g)
        return -1;
    *first = s_first (g);
    *next = after > g->last ? g->last : after;
    if (!max_records)
        max_records = 1;
    /* the first entry holding a position after `after` */
    size_t lo = 0, hi = g->len;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        s_entry_t *e = s_at (g, mid);
        if (e->pos.pos + e->count - 1 <= after)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0 && g->len && after < *first - 1)
        *next = *first - 1; /* the range before first is gone */
    int sent = 0;
    uint64_t records = 0, passed = 0;
    size_t bytes = 0;
    uint64_t pass_max = (uint64_t) max_records * 16;
    for (size_t i = lo; i < g->len; i++) {
        s_entry_t *e = s_at (g, i);
        if (sent
            && (records >= max_records || bytes >= max_bytes
                || (uint32_t) sent >= max_msgs))
            break;
        if (!s_in_view (view, e->kind)) {
            if (passed >= pass_max)
                break;
            passed += e->count;
        }
        else {
            zs_hist_msg_t m = {(zs_topic_kind_t) e->kind, e->pos, e->count,
                               &e->body};
            fn (arg, &m);
            sent++;
            records += e->count;
            bytes += zmq_msg_size (&e->body);
        }
        *next = e->pos.pos + e->count - 1;
    }
    if (lo >= g->len)
        *next = g->last > after ? g->last : *next;
    return sent;
}

void zs_history_stats (const zs_history_t *self, zs_history_stats_t *st)
{
    st->bytes = self->bytes;
    st->budget = self->budget;
    st->scans = zhashx_size (self->logs);
    st->evicted_msgs = self->evicted_msgs;
    st->evicted_scans = self->evicted_scans;
}
