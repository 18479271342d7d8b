/*  zs_msg_int.h - what proto's message files share: the kinds of field
    the tables know (zs_msg.c: the table-driven codec of every message),
    and the checks and errors the results channel's own codec
    (zs_msgres.c) makes the very same way.  Not for other modules. */
#ifndef ZS_MSG_INT_H
#define ZS_MSG_INT_H

#include <stddef.h>

/* nesting a reader skips through (an unknown key's value) */
#define MAX_SKIP_DEPTH 8

typedef enum {
    K_U64,    /* uint64_t                                                */
    K_U32,    /* uint32_t                                                */
    K_BOOL,   /* bool                                                    */
    K_DBL,    /* double, finite                                          */
    K_DBLNAN, /* double; nil or absent = NAN                             */
    K_ID,     /* scan id / broker id                                     */
    K_SYM,    /* symbol                                                  */
    K_NAME,   /* 1..ZS_NAME_MAX bytes                                    */
    K_WID,    /* 1..ZS_WORKER_ID_MAX bytes                               */
    K_TEXT,   /* 0..ZS_TEXT_MAX bytes                                    */
    K_FILTER, /* 1..ZS_FILTER_MAX bytes                                  */
    K_PRIO,   /* zs_priority_t as a string                               */
    K_REASON, /* zs_end_reason_t as a string                             */
    K_STATE,  /* zs_scan_state_t as a string                             */
    K_VIEW,   /* zs_view_t as a string                                   */
    K_DEF,    /* zs_scan_def_t as a map                                  */
    K_TSYMS,  /* const char ** + size_t count (off2): 1..TASK max       */
    K_USYMS,  /* const char ** + size_t count (off2): 0..UNIVERSE max   */
    K_IDX,    /* uint32_t * whose count must equal the symbols'          */
    K_VALUES, /* zs_value_t[] + size_t count (off2)                      */
    K_INFOS,  /* zs_scan_info_t * + size_t count (off2)                  */
    K_WORKERS /* zs_worker_info_t * + size_t count (off2)                */
} zs_fkind_t;

/*  Writes the message into err (when given) and returns -1. */
int zs_msg_fail (char *err, size_t errlen, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

/*  Checks a string of kind (len bytes, not NUL-terminated) against its
    limits and charset, and that it holds no NUL byte: NULL when fine, or
    what is wrong. */
const char *zs_msg_check_str (zs_fkind_t kind, const char *s, size_t len);

/*  Checks a C string of kind (its length from strlen: it holds no NUL)
    against its limits and charset: NULL when fine, or what is wrong. */
const char *zs_msg_check_chars (zs_fkind_t kind, const char *s, size_t len);

#endif
