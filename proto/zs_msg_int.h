/*  zs_msg_int.h - what proto's message files share: the field tables'
    types, which each channel's file fills for its messages (zs_msgapi.c,
    zs_msgwork.c, zs_msgres.c), the table-driven codec that reads them
    (zs_msgenc.c, zs_msgdec.c, with what they share in zs_msg.c), and the
    checks and errors the results channel's own codec makes the very same
    way.  Not for other modules. */
#ifndef ZS_MSG_INT_H
#define ZS_MSG_INT_H

#include "zs_msg.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/*  A field of a message: its key, its kind, whether it is required, and
    where it lives in the C struct (off2: an array's count). */
typedef struct {
    const char *key;
    uint8_t kind;
    uint8_t required;
    uint16_t off;
    uint16_t off2;
} zs_field_t;

#define REQ 1
#define OPT 0
#define F(T, key, kind, req, member) {key, kind, req, offsetof (T, member), 0}
#define FN(T, key, kind, req, member, count)                               \
    {key, kind, req, offsetof (T, member), offsetof (T, count)}

/*  A message type: its fields and its struct. */
typedef struct {
    zs_msg_type_t type;
    const zs_field_t *fields;
    size_t nfields;
    size_t size;      /* sizeof the struct                               */
    size_t mem_off;   /* offsetof mem_                                   */
    bool arrays;      /* needs the measuring pass                        */
} zs_desc_t;

#define DESC(type, name, arrays)                                           \
    {type, s_##name##_fields,                                              \
     sizeof s_##name##_fields / sizeof s_##name##_fields[0],               \
     sizeof (zs_##name##_t), offsetof (zs_##name##_t, mem_), arrays}

/*  What the encoder and the decoder share (zs_msg.c): msgpack's writer
    into a zs_buf_t; the table of the entries of an array-of-maps field
    (K_INFOS, K_WORKERS); an enum field's value (K_PRIO, K_REASON,
    K_STATE, K_VIEW) from its name on the wire, or -1. */
int zs_msg_buf_write (void *data, const char *buf, size_t len);
void zs_msg_entry_table (zs_fkind_t kind, const zs_field_t **fields,
                         size_t *n, size_t *size);
int zs_msg_enum_find (zs_fkind_t kind, const char *s, size_t len);

/*  The table-driven codec: every check, every message (the encoder in
    zs_msgenc.c, the decoder in zs_msgdec.c). */
int zs_msg_encode_desc (const zs_desc_t *desc, const void *m, zs_buf_t *out,
                        char *err, size_t errlen);
int zs_msg_decode_desc (const zs_desc_t *desc, const void *data, size_t size,
                        void *m, char *err, size_t errlen);

/*  zs_<name>_encode and _decode of a type whose table is s_desc_<name>. */
#define ZS_CODEC_IMPL(name)                                                \
    int zs_##name##_encode (const zs_##name##_t *m, zs_buf_t *out,         \
                            char *err, size_t errlen)                      \
    {                                                                      \
        return zs_msg_encode_desc (&s_desc_##name, m, out, err, errlen);   \
    }                                                                      \
    int zs_##name##_decode (const void *data, size_t size,                 \
                            zs_##name##_t *m, char *err, size_t errlen)    \
    {                                                                      \
        return zs_msg_decode_desc (&s_desc_##name, data, size, m, err,     \
                                   errlen);                                \
    }

/*  The entries of the arrays of maps (zs_msgapi.c): a scan's info, a
    worker's. */
extern const zs_field_t zs_msg_info_fields[];
extern const size_t zs_msg_info_nfields;
extern const zs_field_t zs_msg_worker_info_fields[];
extern const size_t zs_msg_worker_info_nfields;

/*  Each channel's message types (for zs_msg_encode_generic): the api's
    (zs_msgapi.c), the workers' tasks, reports and control (zs_msgwork.c),
    the results' (zs_msgres.c). */
extern const zs_desc_t *const zs_msg_api_descs[];
extern const size_t zs_msg_api_ndescs;
extern const zs_desc_t *const zs_msg_work_descs[];
extern const size_t zs_msg_work_ndescs;
extern const zs_desc_t *const zs_msg_res_descs[];
extern const size_t zs_msg_res_ndescs;

#endif
