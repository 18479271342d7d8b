/*  zs_msg.c - what every message's codec shares: buffers, the names of
    message types and of enum values, the checks of ids and symbols,
    errors.  One table per message type (the key, its kind, whether it is
    required and where it lives in the C struct; each channel's tables in
    its own file: zs_msgapi.c, zs_msgwork.c, zs_msgres.c) drives both the
    encoder (zs_msgenc.c) and the strict decoder (zs_msgdec.c), so the two
    cannot disagree.
*/
#include "zs_msg.h"
#include "zs_msg_int.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------- */
/*  Buffers                                                                */

void zs_buf_reset (zs_buf_t *self)
{
    self->size = 0;
}

void zs_buf_free (zs_buf_t *self)
{
    free (self->data);
    self->data = NULL;
    self->size = self->cap = 0;
}

int zs_msg_buf_write (void *data, const char *buf, size_t len)
{
    zs_buf_t *self = (zs_buf_t *) data;
    if (!len)
        return 0; /* (buf may then be NULL: memcpy must not see it) */
    if (self->size + len > self->cap) {
        size_t cap = self->cap ? self->cap : 256;
        while (cap < self->size + len)
            cap *= 2;
        char *p = (char *) realloc (self->data, cap);
        if (!p)
            return -1;
        self->data = p;
        self->cap = cap;
    }
    memcpy (self->data + self->size, buf, len);
    self->size += len;
    return 0;
}

int zs_buf_append (zs_buf_t *self, const void *data, size_t len)
{
    return zs_msg_buf_write (self, (const char *) data, len);
}

void zs_msg_free (zs_mem_t *mem)
{
    if (mem) {
        free (mem->p);
        mem->p = NULL;
        mem->cap = 0;
    }
}

/* ---------------------------------------------------------------------- */
/*  Names                                                                  */

static const char *s_type_names[ZS_MSG_TYPE_COUNT] = {
    "unknown",      "scan_start",   "scan_stop",   "scan_status",
    "scan_list",    "worker_list",  "scan_started", "scan_stopped",
    "scan_info",    "scans",        "workers",     "error",
    "ready",        "task",
    "hello",        "heartbeat",    "task_started", "task_done",
    "task_failed",  "bye",          "cancel",      "shutdown",
    "broker_heartbeat", "result",   "started",     "progress",
    "finished",     "replay",       "replay_page"};

const char *zs_msg_type_name (zs_msg_type_t type)
{
    return (int) type > 0 && type < ZS_MSG_TYPE_COUNT ? s_type_names[type]
                                                      : "unknown";
}

static const char *s_prio_names[] = {"given", "liquidity", "signals"};
static const char *s_reason_names[] = {"",        "completed", "max_signals",
                                       "max_symbols", "timeout", "stopped",
                                       "failed"};
static const char *s_state_names[] = {"running", "finished", "planning"};
static const char *s_view_names[] = {"all", "signals", "events"};

static int s_find_name (const char *const *names, int n, const char *s,
                        size_t len)
{
    for (int i = 0; i < n; i++)
        if (strlen (names[i]) == len && memcmp (names[i], s, len) == 0)
            return i;
    return -1;
}

const char *zs_priority_name (zs_priority_t p)
{
    return (unsigned) p < 3 ? s_prio_names[p] : "?";
}

int zs_priority_parse (const char *s, zs_priority_t *p)
{
    int i = s ? s_find_name (s_prio_names, 3, s, strlen (s)) : -1;
    if (i < 0)
        return -1;
    *p = (zs_priority_t) i;
    return 0;
}

const char *zs_end_reason_name (zs_end_reason_t r)
{
    return (unsigned) r < 7 ? s_reason_names[r] : "?";
}

int zs_end_reason_parse (const char *s, zs_end_reason_t *r)
{
    int i = s ? s_find_name (s_reason_names, 7, s, strlen (s)) : -1;
    if (i < 0)
        return -1;
    *r = (zs_end_reason_t) i;
    return 0;
}

const char *zs_scan_state_name (zs_scan_state_t s)
{
    return (unsigned) s < 3 ? s_state_names[s] : "?";
}

int zs_scan_state_parse (const char *s, zs_scan_state_t *st)
{
    int i = s ? s_find_name (s_state_names, 3, s, strlen (s)) : -1;
    if (i < 0)
        return -1;
    *st = (zs_scan_state_t) i;
    return 0;
}

const char *zs_view_name (zs_view_t v)
{
    return (unsigned) v < 3 ? s_view_names[v] : "?";
}

int zs_view_parse (const char *s, zs_view_t *v)
{
    int i = s ? s_find_name (s_view_names, 3, s, strlen (s)) : -1;
    if (i < 0)
        return -1;
    *v = (zs_view_t) i;
    return 0;
}

int zs_msg_enum_find (zs_fkind_t kind, const char *s, size_t len)
{
    switch (kind) {
    case K_PRIO:
        return s_find_name (s_prio_names, 3, s, len);
    case K_REASON:
        return s_find_name (s_reason_names, 7, s, len);
    case K_STATE:
        return s_find_name (s_state_names, 3, s, len);
    case K_VIEW:
        return s_find_name (s_view_names, 3, s, len);
    default:
        return -1;
    }
}

/* ---------------------------------------------------------------------- */
/*  Validation of strings                                                  */

/*  Character classes: 1 = an id's [A-Za-z0-9_-], 2 = a symbol's
    [A-Za-z0-9._^-] (tasks carry thousands of symbols: one lookup each). */
#define S_ID_SYM 3
static const uint8_t s_char_class[256] = {
    ['0' ... '9'] = S_ID_SYM, ['A' ... 'Z'] = S_ID_SYM,
    ['a' ... 'z'] = S_ID_SYM, ['_'] = S_ID_SYM, ['-'] = S_ID_SYM,
    ['.'] = 2, ['^'] = 2};

static bool s_chars_of (const char *s, size_t len, uint8_t cls)
{
    uint8_t all = cls;
    for (size_t i = 0; i < len; i++)
        all &= s_char_class[(uint8_t) s[i]];
    return all == cls;
}

static bool s_id_chars (const char *s, size_t len)
{
    return s_chars_of (s, len, 1);
}

static bool s_sym_chars (const char *s, size_t len)
{
    return s_chars_of (s, len, 2);
}

bool zs_scan_id_valid (const char *s)
{
    size_t len = s ? strlen (s) : 0;
    return len >= 1 && len <= ZS_ID_MAX && s_id_chars (s, len);
}

bool zs_symbol_ok (const char *s)
{
    size_t len = s ? strlen (s) : 0;
    return len >= 1 && len <= ZS_SYMBOL_LEN_MAX && s_sym_chars (s, len);
}

/* ---------------------------------------------------------------------- */
/*  Field tables                                                           */

void zs_msg_entry_table (zs_fkind_t kind, const zs_field_t **fields,
                         size_t *n, size_t *size)
{
    if (kind == K_WORKERS) {
        *fields = zs_msg_worker_info_fields;
        *n = zs_msg_worker_info_nfields;
        *size = sizeof (zs_worker_info_t);
    }
    else {
        *fields = zs_msg_info_fields;
        *n = zs_msg_info_nfields;
        *size = sizeof (zs_scan_info_t);
    }
}

/* ---------------------------------------------------------------------- */
/*  Errors                                                                 */

int zs_msg_fail (char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start (ap, fmt);
        vsnprintf (err, errlen, fmt, ap);
        va_end (ap);
    }
    return -1;
}

/* ---------------------------------------------------------------------- */
/*  String checks shared by encoder and decoder                            */

const char *zs_msg_check_str (zs_fkind_t kind, const char *s, size_t len)
{
    /* an id's or a symbol's charset holds no NUL byte */
    if (kind != K_ID && kind != K_SYM && memchr (s, 0, len))
        return "contains a NUL byte";
    return zs_msg_check_chars (kind, s, len);
}

/*  zs_msg_check_str without the NUL check: for C strings, whose length strlen
    gave, so they hold no NUL. */
const char *zs_msg_check_chars (zs_fkind_t kind, const char *s, size_t len)
{
    switch (kind) {
    case K_ID:
        if (len < 1 || len > ZS_ID_MAX || !s_id_chars (s, len))
            return "is not an id ([A-Za-z0-9_-]{1,64})";
        return NULL;
    case K_SYM:
        if (len < 1 || len > ZS_SYMBOL_LEN_MAX || !s_sym_chars (s, len))
            return "is not a symbol ([A-Za-z0-9._^-]{1,31})";
        return NULL;
    case K_NAME:
        if (len < 1 || len > ZS_NAME_MAX)
            return "must be 1..64 bytes";
        return NULL;
    case K_WID:
        if (len < 1 || len > ZS_WORKER_ID_MAX)
            return "must be 1..128 bytes";
        return NULL;
    case K_TEXT:
        if (len > ZS_TEXT_MAX)
            return "is longer than 1024 bytes";
        return NULL;
    case K_FILTER:
        if (len < 1 || len > ZS_FILTER_MAX)
            return "must be 1..4096 bytes";
        return NULL;
    default:
        return "is not a string field";
    }
}
