/*  zs_msgres.c - the results channel's wire format (see zs_msg.h): its
    messages' tables (a result, a scan's events, replays), sequence
    frames (a record's position and counts), record batches (one message,
    many records), the result's own encoder and one-pass decoder (a
    result goes once per symbol: written straight into the buffer, read
    in one pass; the table-driven codec (zs_msgenc.c, zs_msgdec.c) has
    the last word on anything unusual and both give the very same bytes
    and values), and the envelopes msgpack clients of the gateway read.
*/
#include "zs_msg.h"
#include "zs_msg_int.h"
#include "zs_mp.h"

#include <assert.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------- */
/*  The tables: a result, a scan's events, replays                         */

static const zs_field_t s_result_fields[] = {
    F (zs_result_t, "scan", K_ID, REQ, scan),
    F (zs_result_t, "index", K_U32, REQ, index),
    F (zs_result_t, "symbol", K_SYM, REQ, symbol),
    F (zs_result_t, "signal", K_BOOL, REQ, signal),
    F (zs_result_t, "score", K_DBLNAN, OPT, score),
    F (zs_result_t, "time", K_NAME, OPT, time),
    F (zs_result_t, "price", K_DBLNAN, OPT, price),
    FN (zs_result_t, "values", K_VALUES, OPT, values, nvalues),
    F (zs_result_t, "error", K_TEXT, OPT, error),
    F (zs_result_t, "note", K_TEXT, OPT, note),
    F (zs_result_t, "worker", K_WID, REQ, worker),
    F (zs_result_t, "lane", K_U32, OPT, lane),
    F (zs_result_t, "wseq", K_U64, OPT, wseq),
    F (zs_result_t, "task", K_U64, OPT, task),
    F (zs_result_t, "attempt", K_U32, OPT, attempt)};

static const zs_field_t s_ev_started_fields[] = {
    F (zs_ev_started_t, "scan", K_ID, REQ, scan),
    F (zs_ev_started_t, "total", K_U64, REQ, total),
    F (zs_ev_started_t, "def", K_DEF, OPT, def),
    F (zs_ev_started_t, "universe", K_TEXT, OPT, universe),
    F (zs_ev_started_t, "priority", K_PRIO, OPT, priority),
    F (zs_ev_started_t, "max_signals", K_U64, OPT, max_signals),
    F (zs_ev_started_t, "max_symbols", K_U64, OPT, max_symbols),
    F (zs_ev_started_t, "timeout_seconds", K_DBL, OPT, timeout_seconds),
    F (zs_ev_started_t, "time", K_DBL, REQ, time)};

static const zs_field_t s_ev_progress_fields[] = {
    F (zs_ev_progress_t, "scan", K_ID, REQ, scan),
    F (zs_ev_progress_t, "total", K_U64, REQ, total),
    F (zs_ev_progress_t, "done", K_U64, REQ, done),
    F (zs_ev_progress_t, "signals", K_U64, REQ, signals),
    F (zs_ev_progress_t, "failed", K_U64, REQ, failed),
    F (zs_ev_progress_t, "busy", K_U32, REQ, busy),
    F (zs_ev_progress_t, "elapsed", K_DBL, REQ, elapsed),
    F (zs_ev_progress_t, "rate", K_DBL, REQ, rate),
    F (zs_ev_progress_t, "eta", K_DBL, REQ, eta)};

static const zs_field_t s_ev_finished_fields[] = {
    F (zs_ev_finished_t, "scan", K_ID, REQ, scan),
    F (zs_ev_finished_t, "reason", K_REASON, REQ, reason),
    F (zs_ev_finished_t, "total", K_U64, REQ, total),
    F (zs_ev_finished_t, "scanned", K_U64, REQ, scanned),
    F (zs_ev_finished_t, "signals", K_U64, REQ, signals),
    F (zs_ev_finished_t, "results", K_U64, REQ, results),
    F (zs_ev_finished_t, "failed", K_U64, REQ, failed),
    F (zs_ev_finished_t, "unscanned", K_U64, REQ, unscanned),
    F (zs_ev_finished_t, "elapsed", K_DBL, REQ, elapsed),
    F (zs_ev_finished_t, "first_result_ms", K_DBL, REQ, first_result_ms)};

static const zs_field_t s_replay_fields[] = {
    F (zs_replay_t, "req", K_U64, OPT, req),
    F (zs_replay_t, "scan", K_ID, REQ, scan),
    F (zs_replay_t, "after", K_U64, OPT, after),
    F (zs_replay_t, "limit", K_U32, OPT, limit),
    F (zs_replay_t, "view", K_VIEW, OPT, view)};

static const zs_field_t s_replay_page_fields[] = {
    F (zs_replay_page_t, "req", K_U64, OPT, req),
    F (zs_replay_page_t, "scan", K_ID, REQ, scan),
    F (zs_replay_page_t, "broker", K_ID, REQ, broker),
    F (zs_replay_page_t, "state", K_STATE, REQ, state),
    F (zs_replay_page_t, "first", K_U64, REQ, first),
    F (zs_replay_page_t, "head", K_U64, REQ, head),
    F (zs_replay_page_t, "next", K_U64, REQ, next),
    F (zs_replay_page_t, "count", K_U32, REQ, count),
    F (zs_replay_page_t, "done", K_BOOL, REQ, done)};

static const zs_desc_t s_desc_result =
    DESC (ZS_MSG_RESULT, result, false);
static const zs_desc_t s_desc_ev_started =
    DESC (ZS_MSG_EV_STARTED, ev_started, false);
static const zs_desc_t s_desc_ev_progress =
    DESC (ZS_MSG_EV_PROGRESS, ev_progress, false);
static const zs_desc_t s_desc_ev_finished =
    DESC (ZS_MSG_EV_FINISHED, ev_finished, false);
static const zs_desc_t s_desc_replay =
    DESC (ZS_MSG_REPLAY, replay, false);
static const zs_desc_t s_desc_replay_page =
    DESC (ZS_MSG_REPLAY_PAGE, replay_page, false);

const zs_desc_t *const zs_msg_res_descs[] = {
    &s_desc_result,
    &s_desc_ev_started,
    &s_desc_ev_progress,
    &s_desc_ev_finished,
    &s_desc_replay,
    &s_desc_replay_page};
const size_t zs_msg_res_ndescs =
    sizeof zs_msg_res_descs / sizeof zs_msg_res_descs[0];

ZS_CODEC_IMPL (ev_started)
ZS_CODEC_IMPL (ev_progress)
ZS_CODEC_IMPL (ev_finished)
ZS_CODEC_IMPL (replay)
ZS_CODEC_IMPL (replay_page)

int zs_result_decode_generic (const void *data, size_t size, zs_result_t *m,
                              char *err, size_t errlen)
{
    return zs_msg_decode_desc (&s_desc_result, data, size, m, err, errlen);
}

/* ---------------------------------------------------------------------- */
/*  Sequence frames                                                        */

static size_t s_put_uint (uint64_t v, unsigned char *buf)
{
    if (v <= 0x7f) {
        buf[0] = (unsigned char) v;
        return 1;
    }
    int n = v <= 0xff ? 1 : v <= 0xffff ? 2 : v <= 0xffffffffULL ? 4 : 8;
    buf[0] = n == 1 ? 0xcc : n == 2 ? 0xcd : n == 4 ? 0xce : 0xcf;
    for (int i = 0; i < n; i++)
        buf[1 + i] = (unsigned char) (v >> (8 * (n - 1 - i)));
    return (size_t) n + 1;
}

size_t zs_pos_encode (const zs_pos_t *pos, unsigned char *buf)
{
    size_t n = 0;
    buf[n++] = 0x93; /* fixarray of 3 */
    n += s_put_uint (pos->pos, buf + n);
    n += s_put_uint (pos->signals, buf + n);
    n += s_put_uint (pos->events, buf + n);
    return n;
}

int zs_pos_decode (const void *data, size_t size, zs_pos_t *pos)
{
    zs_mp_t mp = {(const uint8_t *) data, (const uint8_t *) data + size};
    uint32_t n;
    if (!data || zs_mp_read_array (&mp, &n) != 0 || n != 3
        || zs_mp_read_uint (&mp, &pos->pos) != 0
        || zs_mp_read_uint (&mp, &pos->signals) != 0
        || zs_mp_read_uint (&mp, &pos->events) != 0 || mp.p != mp.end
        || pos->pos == 0 || pos->signals >= pos->pos
        || pos->events >= pos->pos - pos->signals)
        return -1;
    return 0;
}

/* ---------------------------------------------------------------------- */
/*  Record batches                                                         */

int zs_recs_init (zs_recs_t *it, const void *data, size_t size, char *err,
                  size_t errlen)
{
    zs_mp_t mp = {(const uint8_t *) data, (const uint8_t *) data + size};
    it->p = it->end = NULL;
    it->left = 0;
    if (!data || !size) {
        snprintf (err, errlen, "empty body");
        return -1;
    }
    zs_mp_kind_t kind = zs_mp_peek (&mp);
    if (kind == ZS_MP_MAP) {
        it->p = mp.p;
        it->end = mp.end;
        it->left = 1;
        return 1;
    }
    uint32_t n;
    if (kind != ZS_MP_ARRAY || zs_mp_read_array (&mp, &n) != 0) {
        snprintf (err, errlen, "body is %s, want a map or an array of maps",
                  kind == ZS_MP_ARRAY ? "a truncated array"
                                      : zs_mp_kind_name (kind));
        return -1;
    }
    if (n == 0 || n > ZS_BATCH_MAX) {
        snprintf (err, errlen, "a batch of %u records (want 1..%d)", n,
                  ZS_BATCH_MAX);
        return -1;
    }
    it->p = mp.p;
    it->end = mp.end;
    it->left = n;
    return (int) n;
}

int zs_recs_next (zs_recs_t *it, const void **rec, size_t *len, char *err,
                  size_t errlen)
{
    if (!it->left) {
        if (it->p != it->end) {
            snprintf (err, errlen, "%zu bytes after the last record",
                      (size_t) (it->end - it->p));
            it->p = it->end;
            return -1;
        }
        return 0;
    }
    zs_mp_t mp = {it->p, it->end};
    if (zs_mp_peek (&mp) != ZS_MP_MAP) {
        snprintf (err, errlen, "record is %s, want a map",
                  zs_mp_kind_name (zs_mp_peek (&mp)));
        it->left = 0;
        it->p = it->end;
        return -1;
    }
    if (zs_mp_skip (&mp, MAX_SKIP_DEPTH + 1) != 0) {
        snprintf (err, errlen, "record truncated or nested too deep");
        it->left = 0;
        it->p = it->end;
        return -1;
    }
    *rec = it->p;
    *len = (size_t) (mp.p - it->p);
    it->p = mp.p;
    it->left--;
    return 1;
}

size_t zs_recs_header (uint32_t n, unsigned char *buf)
{
    if (n <= 15) {
        buf[0] = (unsigned char) (0x90 | n);
        return 1;
    }
    buf[0] = 0xdc;
    buf[1] = (unsigned char) (n >> 8);
    buf[2] = (unsigned char) n;
    return 3;
}

/* the longest header of ZS_BATCH_MAX records (an array16) */
#define RECS_ROOM 3

int zs_recs_open (zs_buf_t *buf)
{
    static const unsigned char room[RECS_ROOM] = {0};
    zs_buf_reset (buf);
    return zs_buf_append (buf, room, RECS_ROOM);
}

const char *zs_recs_close (zs_buf_t *buf, uint32_t n, size_t *len)
{
    assert (n >= 1 && n <= ZS_BATCH_MAX && buf->size >= RECS_ROOM);
    unsigned char head[8];
    size_t hlen = zs_recs_header (n, head);
    char *start = buf->data + RECS_ROOM - hlen;
    memcpy (start, head, hlen);
    *len = buf->size - (RECS_ROOM - hlen);
    return start;
}

/*  result: the message sent once per symbol, so it has its own encoder:
    the same checks and the very same bytes as the table-driven one
    (zs_msg_encode_generic; tests compare them on many results), written
    straight into the buffer after one capacity check instead of through
    msgpack-c's write callback per item (measured: about 4x faster). */

static uint8_t *s_w_be (uint8_t *p, uint64_t v, int bytes)
{
    for (int i = bytes - 1; i >= 0; i--)
        *p++ = (uint8_t) (v >> (8 * i));
    return p;
}

static uint8_t *s_w_str (uint8_t *p, const char *s, size_t len)
{
    if (len <= 31)
        *p++ = (uint8_t) (0xa0 | len);
    else if (len <= 0xff) {
        *p++ = 0xd9;
        *p++ = (uint8_t) len;
    }
    else if (len <= 0xffff) {
        *p++ = 0xda;
        p = s_w_be (p, len, 2);
    }
    else {
        *p++ = 0xdb;
        p = s_w_be (p, len, 4);
    }
    memcpy (p, s, len);
    return p + len;
}

/* a key: every key of a result is shorter than 32 bytes */
#define S_W_KEY(p, k)                                                          \
    do {                                                                       \
        *(p)++ = (uint8_t) (0xa0 | (sizeof (k) - 1));                          \
        memcpy ((p), (k), sizeof (k) - 1);                                     \
        (p) += sizeof (k) - 1;                                                 \
    } while (0)

static uint8_t *s_w_uint (uint8_t *p, uint64_t v)
{
    if (v <= 0x7f)
        *p++ = (uint8_t) v;
    else if (v <= 0xff) {
        *p++ = 0xcc;
        *p++ = (uint8_t) v;
    }
    else if (v <= 0xffff) {
        *p++ = 0xcd;
        p = s_w_be (p, v, 2);
    }
    else if (v <= 0xffffffffULL) {
        *p++ = 0xce;
        p = s_w_be (p, v, 4);
    }
    else {
        *p++ = 0xcf;
        p = s_w_be (p, v, 8);
    }
    return p;
}

/* a double, or nil for NAN */
static uint8_t *s_w_dblnan (uint8_t *p, double v)
{
    if (isnan (v)) {
        *p++ = 0xc0;
        return p;
    }
    uint64_t bits;
    memcpy (&bits, &v, sizeof bits);
    *p++ = 0xcb;
    return s_w_be (p, bits, 8);
}

/*  The fields a task's results share, checked and written once; a fault of
    the worker id is kept in why when defer_worker (zs_result_encode reports
    it after the other fields', in the table's order). */
static int s_enc_init (zs_result_enc_t *e, const char *scan, const char *worker,
                       uint32_t lane, uint64_t task, uint32_t attempt,
                       bool defer_worker, char *err, size_t errlen)
{
    const char *why;
    size_t ls, lw;
    e->why[0] = 0;
    if (!scan)
        return zs_msg_fail (err, errlen, "scan is required");
    if ((why = zs_msg_check_chars (K_ID, scan, ls = strlen (scan))))
        return zs_msg_fail (err, errlen, "scan %s", why);
    if (!worker)
        why = "is required";
    else
        why = zs_msg_check_chars (K_WID, worker, lw = strlen (worker));
    if (why) {
        if (!defer_worker)
            return zs_msg_fail (err, errlen, "worker %s", why);
        snprintf (e->why, sizeof e->why, "worker %s", why);
        worker = "-";
        lw = 1;
    }
    uint8_t *p = e->head;
    S_W_KEY (p, "v");
    p = s_w_uint (p, ZS_PROTO_VERSION);
    S_W_KEY (p, "type");
    S_W_KEY (p, "result");
    S_W_KEY (p, "scan");
    p = s_w_str (p, scan, ls);
    e->head_len = (uint16_t) (p - e->head);
    p = e->tail;
    S_W_KEY (p, "worker");
    p = s_w_str (p, worker, lw);
    if (lane) {
        S_W_KEY (p, "lane");
        p = s_w_uint (p, lane);
    }
    e->tail_len = (uint16_t) (p - e->tail);
    p = e->task;
    if (task) {
        S_W_KEY (p, "task");
        p = s_w_uint (p, task);
    }
    if (attempt) {
        S_W_KEY (p, "attempt");
        p = s_w_uint (p, attempt);
    }
    e->task_len = (uint16_t) (p - e->task);
    e->fields = (uint8_t) (4 + (lane != 0) + (task != 0) + (attempt != 0));
    return 0;
}

int zs_result_enc_init (zs_result_enc_t *e, const char *scan,
                        const char *worker, uint32_t lane, uint64_t task,
                        uint32_t attempt, char *err, size_t errlen)
{
    return s_enc_init (e, scan, worker, lane, task, attempt, false, err,
                       errlen);
}

int zs_result_encode_with (const zs_result_enc_t *e, const zs_result_t *r,
                           zs_buf_t *out, char *err, size_t errlen)
{
    /* the checks, in the table's field order, with its messages */
    const char *why;
    size_t lsym = 0, lt = 0, le = 0, ln = 0;
    if (!r->symbol)
        return zs_msg_fail (err, errlen, "symbol is required");
    if ((why =
             zs_msg_check_chars (K_SYM, r->symbol, lsym = strlen (r->symbol))))
        return zs_msg_fail (err, errlen, "symbol %s", why);
    if (isinf (r->score))
        return zs_msg_fail (err, errlen, "score: not a finite number");
    if (r->time
        && (why = zs_msg_check_chars (K_NAME, r->time, lt = strlen (r->time))))
        return zs_msg_fail (err, errlen, "time %s", why);
    if (isinf (r->price))
        return zs_msg_fail (err, errlen, "price: not a finite number");
    if (r->nvalues > ZS_VALUES_MAX)
        return zs_msg_fail (err, errlen, "values: more than %d values",
                            ZS_VALUES_MAX);
    size_t lv[ZS_VALUES_MAX], vbytes = 0;
    for (size_t i = 0; i < r->nvalues; i++) {
        const char *name = r->values[i].name;
        if (!name || zs_msg_check_chars (K_NAME, name, lv[i] = strlen (name)))
            return zs_msg_fail (err, errlen, "values[%zu]: bad name", i);
        for (size_t j = 0; j < i; j++)
            if (lv[j] == lv[i] && memcmp (r->values[j].name, name, lv[i]) == 0)
                return zs_msg_fail (err, errlen, "values: '%s' given twice",
                                    name);
        if (isinf (r->values[i].value))
            return zs_msg_fail (err, errlen, "values.%s: not a finite number",
                                name);
        vbytes += lv[i] + 5 + 9;
    }
    if (r->error
        && (why =
                zs_msg_check_chars (K_TEXT, r->error, le = strlen (r->error))))
        return zs_msg_fail (err, errlen, "error %s", why);
    if (r->note
        && (why = zs_msg_check_chars (K_TEXT, r->note, ln = strlen (r->note))))
        return zs_msg_fail (err, errlen, "note %s", why);
    if (e->why[0])
        return zs_msg_fail (err, errlen, "%s", e->why);

    bool has_values = r->nvalues > 0;
    uint32_t count = e->fields + 3 + !isnan (r->score) + (r->time != NULL)
                     + !isnan (r->price) + has_values + (r->error != NULL)
                     + (r->note != NULL) + (r->wseq != 0);
    /* an upper bound: the shared parts, keys (< 16 bytes each with
       header) and headers */
    size_t need = (size_t) e->head_len + e->tail_len + e->task_len + 16 * 11
                  + 9 * 8 + lsym + lt + le + ln + vbytes + 5 * 4 + 3;
    if (out->size + need > out->cap) {
        size_t cap = out->cap ? out->cap : 256;
        while (cap < out->size + need)
            cap *= 2;
        char *np = (char *) realloc (out->data, cap);
        if (!np)
            return zs_msg_fail (err, errlen, "out of memory");
        out->data = np;
        out->cap = cap;
    }
    uint8_t *p0 = (uint8_t *) out->data + out->size, *p = p0;
    *p++ = (uint8_t) (0x80 | count); /* count <= 17: a fixmap or map16 */
    if (count > 15) {
        p[-1] = 0xde;
        p = s_w_be (p, count, 2);
    }
    memcpy (p, e->head, e->head_len);
    p += e->head_len;
    S_W_KEY (p, "index");
    p = s_w_uint (p, r->index);
    S_W_KEY (p, "symbol");
    p = s_w_str (p, r->symbol, lsym);
    S_W_KEY (p, "signal");
    *p++ = r->signal ? 0xc3 : 0xc2;
    if (!isnan (r->score)) {
        S_W_KEY (p, "score");
        p = s_w_dblnan (p, r->score);
    }
    if (r->time) {
        S_W_KEY (p, "time");
        p = s_w_str (p, r->time, lt);
    }
    if (!isnan (r->price)) {
        S_W_KEY (p, "price");
        p = s_w_dblnan (p, r->price);
    }
    if (has_values) {
        S_W_KEY (p, "values");
        if (r->nvalues <= 15)
            *p++ = (uint8_t) (0x80 | r->nvalues);
        else {
            *p++ = 0xde;
            p = s_w_be (p, r->nvalues, 2);
        }
        for (size_t i = 0; i < r->nvalues; i++) {
            p = s_w_str (p, r->values[i].name, lv[i]);
            p = s_w_dblnan (p, r->values[i].value);
        }
    }
    if (r->error) {
        S_W_KEY (p, "error");
        p = s_w_str (p, r->error, le);
    }
    if (r->note) {
        S_W_KEY (p, "note");
        p = s_w_str (p, r->note, ln);
    }
    memcpy (p, e->tail, e->tail_len);
    p += e->tail_len;
    if (r->wseq) {
        S_W_KEY (p, "wseq");
        p = s_w_uint (p, r->wseq);
    }
    memcpy (p, e->task, e->task_len);
    p += e->task_len;
    assert ((size_t) (p - p0) <= need); /* our own bound */
    out->size += (size_t) (p - p0);
    return 0;
}

int zs_result_encode (const zs_result_t *r, zs_buf_t *out, char *err,
                      size_t errlen)
{
    zs_result_enc_t e;
    if (s_enc_init (&e, r->scan, r->worker, r->lane, r->task, r->attempt, true,
                    err, errlen)
        != 0)
        return -1;
    return zs_result_encode_with (&e, r, out, err, errlen);
}

/*  result, decoding: the broker decodes every result it forwards, so the
    common shape has a path of its own - a map of known keys, each once,
    values in the forms a result takes - read in one pass.  Anything else
    (an unknown key, an error of any kind) goes to the table-driven decoder,
    which has the last word: this path only ever accepts what it would
    accept, with the same values (tests compare them on many results and
    their mutations).  Returns 0 with *stop after the map, or 1: "not
    decided here". */

enum {
    R_SCAN,
    R_INDEX,
    R_SYMBOL,
    R_SIGNAL,
    R_SCORE,
    R_TIME,
    R_PRICE,
    R_VALUES,
    R_ERROR,
    R_NOTE,
    R_WORKER,
    R_LANE,
    R_WSEQ,
    R_TASK,
    R_ATTEMPT,
    R_V,
    R_TYPE,
    R_UNKNOWN
};

#define S_KEY_IS(k, klen, lit)                                                 \
    ((klen) == sizeof (lit) - 1 && memcmp ((k), (lit), sizeof (lit) - 1) == 0)

static int s_result_key (const char *k, uint32_t klen)
{
    switch (klen) {
    case 1:
        return k[0] == 'v' ? R_V : R_UNKNOWN;
    case 4:
        return S_KEY_IS (k, klen, "scan")   ? R_SCAN
               : S_KEY_IS (k, klen, "type") ? R_TYPE
               : S_KEY_IS (k, klen, "time") ? R_TIME
               : S_KEY_IS (k, klen, "lane") ? R_LANE
               : S_KEY_IS (k, klen, "wseq") ? R_WSEQ
               : S_KEY_IS (k, klen, "task") ? R_TASK
               : S_KEY_IS (k, klen, "note") ? R_NOTE
                                            : R_UNKNOWN;
    case 5:
        return S_KEY_IS (k, klen, "index")   ? R_INDEX
               : S_KEY_IS (k, klen, "score") ? R_SCORE
               : S_KEY_IS (k, klen, "price") ? R_PRICE
               : S_KEY_IS (k, klen, "error") ? R_ERROR
                                             : R_UNKNOWN;
    case 6:
        return S_KEY_IS (k, klen, "symbol")   ? R_SYMBOL
               : S_KEY_IS (k, klen, "signal") ? R_SIGNAL
               : S_KEY_IS (k, klen, "values") ? R_VALUES
               : S_KEY_IS (k, klen, "worker") ? R_WORKER
                                              : R_UNKNOWN;
    case 7:
        return S_KEY_IS (k, klen, "attempt") ? R_ATTEMPT : R_UNKNOWN;
    default:
        return R_UNKNOWN;
    }
}

/* a string of kind, copied NUL-terminated to *dst; -1 when not one */
static int s_fast_str (zs_mp_t *mp, zs_fkind_t kind, char **dst,
                       const char **out, uint32_t *lenp)
{
    const char *s;
    uint32_t len;
    if (zs_mp_read_str (mp, &s, &len) != 0)
        return -1;
    if (zs_msg_check_str (kind, s, len) != NULL)
        return -1;
    memcpy (*dst, s, len);
    (*dst)[len] = 0;
    *out = *dst;
    *dst += len + 1;
    if (lenp)
        *lenp = len;
    return 0;
}

/* a float?: nil = NAN; never an infinity */
static int s_fast_dblnan (zs_mp_t *mp, double *v)
{
    if (mp->p < mp->end && *mp->p == 0xc0) {
        mp->p++;
        *v = NAN;
        return 0;
    }
    return zs_mp_read_double (mp, v) == 0 && !isinf (*v) ? 0 : -1;
}

static int s_fast_uint (zs_mp_t *mp, uint64_t max, uint64_t *v)
{
    return zs_mp_read_uint (mp, v) == 0 && *v <= max ? 0 : -1;
}

static int s_result_fast (const uint8_t *p, const uint8_t *end, zs_result_t *m,
                          const uint8_t **stop)
{
    zs_mp_t mp = {p, end};
    uint32_t count;
    size_t left = (size_t) (end - p);
    if (left > ZS_MSG_MAX || zs_mp_read_map (&mp, &count) != 0)
        return 1;
    /* every string copied takes at most the bytes it took on the wire */
    zs_mem_t *mem = &m->mem_;
    if (mem->cap < left + 64) {
        char *np = (char *) realloc (mem->p, left + 64);
        if (!np)
            return 1;
        mem->p = np;
        mem->cap = left + 64;
    }
    char *dst = mem->p;
    /* every field but the values array (nvalues says how much of it) */
    m->scan = m->symbol = m->time = m->error = m->note = m->worker = NULL;
    m->index = m->lane = m->attempt = 0;
    m->wseq = m->task = 0;
    m->signal = false;
    m->nvalues = 0;
    m->score = m->price = NAN;
    uint32_t seen = 0;
    uint64_t u;
    for (uint32_t i = 0; i < count; i++) {
        const char *k;
        uint32_t klen;
        if (zs_mp_read_str (&mp, &k, &klen) != 0)
            return 1;
        int f = s_result_key (k, klen);
        if (f == R_UNKNOWN || (seen & (1u << f)))
            return 1;
        seen |= 1u << f;
        int rc = 0;
        switch (f) {
        case R_V:
            rc = zs_mp_read_uint (&mp, &u) == 0 && u == ZS_PROTO_VERSION ? 0
                                                                         : -1;
            break;
        case R_TYPE: {
            const char *t;
            uint32_t tlen;
            rc = zs_mp_read_str (&mp, &t, &tlen) == 0
                         && S_KEY_IS (t, tlen, "result")
                     ? 0
                     : -1;
            break;
        }
        case R_SCAN:
            rc = s_fast_str (&mp, K_ID, &dst, &m->scan, NULL);
            break;
        case R_INDEX:
            rc = s_fast_uint (&mp, UINT32_MAX, &u);
            m->index = (uint32_t) u;
            break;
        case R_SYMBOL:
            rc = s_fast_str (&mp, K_SYM, &dst, &m->symbol, NULL);
            break;
        case R_SIGNAL:
            rc = zs_mp_read_bool (&mp, &m->signal);
            break;
        case R_SCORE:
            rc = s_fast_dblnan (&mp, &m->score);
            break;
        case R_TIME:
            rc = s_fast_str (&mp, K_NAME, &dst, &m->time, NULL);
            break;
        case R_PRICE:
            rc = s_fast_dblnan (&mp, &m->price);
            break;
        case R_VALUES: {
            uint32_t n, lens[ZS_VALUES_MAX];
            if (zs_mp_read_map (&mp, &n) != 0 || n > ZS_VALUES_MAX)
                return 1;
            for (uint32_t j = 0; j < n && rc == 0; j++) {
                zs_value_t *val = &m->values[j];
                rc = s_fast_str (&mp, K_NAME, &dst, &val->name, &lens[j]) == 0
                             && s_fast_dblnan (&mp, &val->value) == 0
                         ? 0
                         : -1;
                for (uint32_t q = 0; q < j && rc == 0; q++)
                    if (lens[q] == lens[j]
                        && m->values[q].name[0] == val->name[0]
                        && memcmp (m->values[q].name, val->name, lens[j]) == 0)
                        rc = -1;
            }
            m->nvalues = n;
            break;
        }
        case R_ERROR:
            rc = s_fast_str (&mp, K_TEXT, &dst, &m->error, NULL);
            break;
        case R_NOTE:
            rc = s_fast_str (&mp, K_TEXT, &dst, &m->note, NULL);
            break;
        case R_WORKER:
            rc = s_fast_str (&mp, K_WID, &dst, &m->worker, NULL);
            break;
        case R_LANE:
            rc = s_fast_uint (&mp, UINT32_MAX, &u);
            m->lane = (uint32_t) u;
            break;
        case R_WSEQ:
            rc = s_fast_uint (&mp, UINT64_MAX, &m->wseq);
            break;
        case R_TASK:
            rc = s_fast_uint (&mp, UINT64_MAX, &m->task);
            break;
        case R_ATTEMPT:
            rc = s_fast_uint (&mp, UINT32_MAX, &u);
            m->attempt = (uint32_t) u;
            break;
        default:
            return 1;
        }
        if (rc != 0)
            return 1;
    }
    const uint32_t required = 1u << R_V | 1u << R_TYPE | 1u << R_SCAN
                              | 1u << R_INDEX | 1u << R_SYMBOL | 1u << R_SIGNAL
                              | 1u << R_WORKER;
    if ((seen & required) != required)
        return 1;
    *stop = mp.p;
    return 0;
}

int zs_result_decode (const void *data, size_t size, zs_result_t *m, char *err,
                      size_t errlen)
{
    const uint8_t *stop;
    if (data
        && s_result_fast ((const uint8_t *) data, (const uint8_t *) data + size,
                          m, &stop)
               == 0
        && stop == (const uint8_t *) data + size)
        return 0;
    return zs_result_decode_generic (data, size, m, err, errlen);
}

int zs_recs_next_result (zs_recs_t *it, zs_result_t *m, const void **rec,
                         size_t *len, char *err, size_t errlen)
{
    const uint8_t *stop;
    if (it->left && s_result_fast (it->p, it->end, m, &stop) == 0) {
        *rec = it->p;
        *len = (size_t) (stop - it->p);
        it->p = stop;
        it->left--;
        return 1;
    }
    int rc = zs_recs_next (it, rec, len, err, errlen);
    if (rc <= 0)
        return rc;
    return zs_result_decode_generic (*rec, *len, m, err, errlen) == 0 ? 1 : -2;
}

/* ---------------------------------------------------------------------- */
/*  Records for msgpack clients                                            */

int zs_envelope_encode (zs_buf_t *out, const char *type, uint64_t pos,
                        const void *record, size_t size)
{
    size_t tlen = strlen (type);
    if (tlen > 31)
        return -1;
    unsigned char head[64];
    unsigned char *p = head;
    *p++ = 0x83; /* fixmap of 3 */
    S_W_KEY (p, "type");
    p = s_w_str (p, type, tlen);
    S_W_KEY (p, "seq");
    p = s_w_uint (p, pos);
    S_W_KEY (p, "data");
    size_t before = out->size;
    if (zs_buf_append (out, head, (size_t) (p - head)) != 0
        || zs_buf_append (out, record, size) != 0) {
        out->size = before;
        return -1;
    }
    return 0;
}

int zs_envelope_lost (zs_buf_t *out, const char *scan, uint64_t from,
                      uint64_t to, const char *reason)
{
    size_t slen = strnlen (scan, ZS_ID_MAX);
    size_t rlen = strnlen (reason, 1024);
    unsigned char *body = (unsigned char *) malloc (slen + rlen + 64);
    if (!body)
        return -1;
    unsigned char *p = body;
    *p++ = 0x84; /* fixmap of 4 */
    S_W_KEY (p, "scan");
    p = s_w_str (p, scan, slen);
    S_W_KEY (p, "from");
    p = s_w_uint (p, from);
    S_W_KEY (p, "to");
    p = s_w_uint (p, to);
    S_W_KEY (p, "reason");
    p = s_w_str (p, reason, rlen);
    int rc = zs_envelope_encode (out, "lost", to, body, (size_t) (p - body));
    free (body);
    return rc;
}
