/*  zs_msgenc.c - the table-driven encoder: packs a message's C struct
    as the msgpack map its table (zs_msgapi.c, zs_msgwork.c, zs_msgres.c)
    describes, checking every value the decoder would (zs_msgdec.c): a
    message this side writes is one the other side reads.  Also any
    message by its type (zs_msg_encode_generic).
*/
#include "zs_msg.h"
#include "zs_msg_int.h"

#include <math.h>
#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* ---------------------------------------------------------------------- */
/*  Encoding                                                               */

typedef struct {
    msgpack_packer pk;
    char *err;
    size_t errlen;
} s_enc_t;

static void s_pack_str (s_enc_t *e, const char *s)
{
    size_t len = strlen (s);
    msgpack_pack_str (&e->pk, len);
    msgpack_pack_str_body (&e->pk, s, len);
}

static const void *s_at (const void *base, size_t off)
{
    return (const char *) base + off;
}

static int s_enc_def (s_enc_t *e, const zs_scan_def_t *d);
static int s_enc_fields (s_enc_t *e, const zs_field_t *fields, size_t n,
                         const void *base, const char *type);

/* True when an optional field holds its "absent" value. */
static bool s_is_empty (const zs_field_t *f, const void *base)
{
    const void *p = s_at (base, f->off);
    switch (f->kind) {
    case K_U64:
        return *(const uint64_t *) p == 0;
    case K_U32:
        return *(const uint32_t *) p == 0;
    case K_BOOL:
        return !*(const bool *) p;
    case K_DBL:
        return *(const double *) p == 0;
    case K_DBLNAN:
        return isnan (*(const double *) p);
    case K_PRIO:
        return *(const zs_priority_t *) p == ZS_PRIO_GIVEN;
    case K_REASON:
        return *(const zs_end_reason_t *) p == ZS_END_NONE;
    case K_STATE:
        return false;
    case K_VIEW:
        return *(const zs_view_t *) p == ZS_VIEW_ALL;
    case K_DEF: {
        const zs_scan_def_t *d = (const zs_scan_def_t *) p;
        return !d->data && !d->strategy && !d->filter && !d->nparams;
    }
    case K_TSYMS:
    case K_USYMS:
    case K_VALUES:
    case K_INFOS:
    case K_WORKERS:
        return *(const size_t *) s_at (base, f->off2) == 0;
    case K_IDX:
        return false;
    default:
        return *(const char *const *) p == NULL;
    }
}

static int s_enc_field (s_enc_t *e, const zs_field_t *f, const void *base)
{
    const void *p = s_at (base, f->off);
    switch (f->kind) {
    case K_U64:
        msgpack_pack_uint64 (&e->pk, *(const uint64_t *) p);
        return 0;
    case K_U32:
        msgpack_pack_uint32 (&e->pk, *(const uint32_t *) p);
        return 0;
    case K_BOOL:
        if (*(const bool *) p)
            msgpack_pack_true (&e->pk);
        else
            msgpack_pack_false (&e->pk);
        return 0;
    case K_DBL: {
        double v = *(const double *) p;
        if (!isfinite (v))
            return zs_msg_fail (e->err, e->errlen, "%s: not a finite number",
                                f->key);
        msgpack_pack_double (&e->pk, v);
        return 0;
    }
    case K_DBLNAN: {
        double v = *(const double *) p;
        if (isinf (v))
            return zs_msg_fail (e->err, e->errlen, "%s: not a finite number",
                                f->key);
        if (isnan (v))
            msgpack_pack_nil (&e->pk);
        else
            msgpack_pack_double (&e->pk, v);
        return 0;
    }
    case K_PRIO: {
        unsigned v = (unsigned) *(const zs_priority_t *) p;
        if (v > ZS_PRIO_SIGNALS)
            return zs_msg_fail (e->err, e->errlen, "%s: bad value", f->key);
        s_pack_str (e, zs_priority_name ((zs_priority_t) v));
        return 0;
    }
    case K_REASON: {
        unsigned v = (unsigned) *(const zs_end_reason_t *) p;
        if (v > ZS_END_FAILED)
            return zs_msg_fail (e->err, e->errlen, "%s: bad value", f->key);
        s_pack_str (e, zs_end_reason_name ((zs_end_reason_t) v));
        return 0;
    }
    case K_STATE: {
        unsigned v = (unsigned) *(const zs_scan_state_t *) p;
        if (v > ZS_STATE_PLANNING)
            return zs_msg_fail (e->err, e->errlen, "%s: bad value", f->key);
        s_pack_str (e, zs_scan_state_name ((zs_scan_state_t) v));
        return 0;
    }
    case K_VIEW: {
        unsigned v = (unsigned) *(const zs_view_t *) p;
        if (v > ZS_VIEW_EVENTS)
            return zs_msg_fail (e->err, e->errlen, "%s: bad value", f->key);
        s_pack_str (e, zs_view_name ((zs_view_t) v));
        return 0;
    }
    case K_DEF:
        return s_enc_def (e, (const zs_scan_def_t *) p);
    case K_TSYMS:
    case K_USYMS: {
        const char *const *syms = *(const char *const *const *) p;
        size_t n = *(const size_t *) s_at (base, f->off2);
        size_t max = f->kind == K_TSYMS ? ZS_TASK_SYMBOLS_MAX
                                        : ZS_UNIVERSE_MAX;
        if (n > max || (f->kind == K_TSYMS && n == 0) || (n && !syms))
            return zs_msg_fail (e->err, e->errlen,
                                "%s: %zu symbols (want %s..%zu)", f->key, n,
                                f->kind == K_TSYMS ? "1" : "0", max);
        msgpack_pack_array (&e->pk, n);
        for (size_t i = 0; i < n; i++) {
            if (!syms[i] || zs_msg_check_str (K_SYM, syms[i], strlen (syms[i])))
                return zs_msg_fail (e->err, e->errlen,
                                    "%s[%zu] is not a symbol", f->key, i);
            s_pack_str (e, syms[i]);
        }
        return 0;
    }
    case K_IDX: {
        const uint32_t *idx = *(const uint32_t *const *) p;
        size_t n = *(const size_t *) s_at (base, f->off2);
        if (n && !idx)
            return zs_msg_fail (e->err, e->errlen, "%s missing", f->key);
        msgpack_pack_array (&e->pk, n);
        for (size_t i = 0; i < n; i++)
            msgpack_pack_uint32 (&e->pk, idx[i]);
        return 0;
    }
    case K_VALUES: {
        const zs_value_t *vals = (const zs_value_t *) p;
        size_t n = *(const size_t *) s_at (base, f->off2);
        if (n > ZS_VALUES_MAX)
            return zs_msg_fail (e->err, e->errlen, "%s: more than %d values",
                                f->key, ZS_VALUES_MAX);
        msgpack_pack_map (&e->pk, n);
        for (size_t i = 0; i < n; i++) {
            if (!vals[i].name
                || zs_msg_check_str (K_NAME, vals[i].name,
                                     strlen (vals[i].name)))
                return zs_msg_fail (e->err, e->errlen, "%s[%zu]: bad name",
                                    f->key, i);
            for (size_t j = 0; j < i; j++)
                if (strcmp (vals[j].name, vals[i].name) == 0)
                    return zs_msg_fail (e->err, e->errlen,
                                        "%s: '%s' given twice", f->key,
                                        vals[i].name);
            if (isinf (vals[i].value))
                return zs_msg_fail (e->err, e->errlen,
                                    "%s.%s: not a finite "
                                    "number",
                                    f->key, vals[i].name);
            s_pack_str (e, vals[i].name);
            if (isnan (vals[i].value))
                msgpack_pack_nil (&e->pk);
            else
                msgpack_pack_double (&e->pk, vals[i].value);
        }
        return 0;
    }
    case K_INFOS:
    case K_WORKERS: {
        const char *items = *(const char *const *) p;
        size_t n = *(const size_t *) s_at (base, f->off2);
        const zs_field_t *sub;
        size_t nsub, size;
        zs_msg_entry_table ((zs_fkind_t) f->kind, &sub, &nsub, &size);
        if (n > ZS_LIST_MAX || (n && !items))
            return zs_msg_fail (e->err, e->errlen, "%s: %zu entries (max %d)",
                                f->key, n, ZS_LIST_MAX);
        msgpack_pack_array (&e->pk, n);
        for (size_t i = 0; i < n; i++)
            if (s_enc_fields (e, sub, nsub, items + i * size, NULL) != 0)
                return -1;
        return 0;
    }
    default: {
        const char *s = *(const char *const *) p;
        if (!s)
            return zs_msg_fail (e->err, e->errlen, "%s is required", f->key);
        const char *why =
            zs_msg_check_str ((zs_fkind_t) f->kind, s, strlen (s));
        if (why)
            return zs_msg_fail (e->err, e->errlen, "%s %s", f->key, why);
        s_pack_str (e, s);
        return 0;
    }
    }
}

static int s_enc_def (s_enc_t *e, const zs_scan_def_t *d)
{
    if (d->strategy && d->filter)
        return zs_msg_fail (e->err, e->errlen,
                            "def: strategy and filter are exclusive");
    if (d->nparams > ZS_PARAMS_MAX)
        return zs_msg_fail (e->err, e->errlen, "def: more than %d params",
                            ZS_PARAMS_MAX);
    size_t n = (d->data != NULL) + (d->strategy != NULL) + (d->filter != NULL)
               + (d->nparams > 0);
    msgpack_pack_map (&e->pk, n);
    const char *why;
    if (d->data) {
        if ((why = zs_msg_check_str (K_TEXT, d->data, strlen (d->data))))
            return zs_msg_fail (e->err, e->errlen, "def.data %s", why);
        s_pack_str (e, "data");
        s_pack_str (e, d->data);
    }
    if (d->strategy) {
        if ((why =
                 zs_msg_check_str (K_NAME, d->strategy, strlen (d->strategy))))
            return zs_msg_fail (e->err, e->errlen, "def.strategy %s", why);
        s_pack_str (e, "strategy");
        s_pack_str (e, d->strategy);
    }
    if (d->filter) {
        if ((why = zs_msg_check_str (K_FILTER, d->filter, strlen (d->filter))))
            return zs_msg_fail (e->err, e->errlen, "def.filter %s", why);
        s_pack_str (e, "filter");
        s_pack_str (e, d->filter);
    }
    if (d->nparams) {
        s_pack_str (e, "params");
        msgpack_pack_map (&e->pk, d->nparams);
        for (size_t i = 0; i < d->nparams; i++) {
            if (!d->pnames[i]
                || zs_msg_check_str (K_NAME, d->pnames[i],
                                     strlen (d->pnames[i])))
                return zs_msg_fail (e->err, e->errlen,
                                    "def.params[%zu]: bad name", i);
            if (!isfinite (d->pvalues[i]))
                return zs_msg_fail (e->err, e->errlen,
                                    "def.params.%s: not a finite number",
                                    d->pnames[i]);
            for (size_t j = 0; j < i; j++)
                if (strcmp (d->pnames[i], d->pnames[j]) == 0)
                    return zs_msg_fail (e->err, e->errlen,
                                        "def.params: '%s' given twice",
                                        d->pnames[i]);
            s_pack_str (e, d->pnames[i]);
            msgpack_pack_double (&e->pk, d->pvalues[i]);
        }
    }
    return 0;
}

/*  Packs a map of the fields (plus v and type when type is not NULL). */
static int s_enc_fields (s_enc_t *e, const zs_field_t *fields, size_t n,
                         const void *base, const char *type)
{
    size_t count = type ? 2 : 0;
    for (size_t i = 0; i < n; i++)
        if (fields[i].required || !s_is_empty (&fields[i], base))
            count++;
    msgpack_pack_map (&e->pk, count);
    if (type) {
        s_pack_str (e, "v");
        msgpack_pack_uint32 (&e->pk, ZS_PROTO_VERSION);
        s_pack_str (e, "type");
        s_pack_str (e, type);
    }
    for (size_t i = 0; i < n; i++) {
        const zs_field_t *f = &fields[i];
        if (!f->required && s_is_empty (f, base))
            continue;
        s_pack_str (e, f->key);
        if (s_enc_field (e, f, base) != 0)
            return -1;
    }
    return 0;
}

int zs_msg_encode_desc (const zs_desc_t *desc, const void *m, zs_buf_t *out,
                     char *err, size_t errlen)
{
    s_enc_t e;
    e.err = err;
    e.errlen = errlen;
    msgpack_packer_init (&e.pk, out, zs_msg_buf_write);
    size_t start = out->size;
    if (s_enc_fields (&e, desc->fields, desc->nfields, m,
                      zs_msg_type_name (desc->type))
        != 0) {
        out->size = start;
        return -1;
    }
    if (out->size - start > ZS_MSG_MAX) {
        out->size = start;
        return zs_msg_fail (err, errlen, "message larger than %u bytes",
                            (unsigned) ZS_MSG_MAX);
    }
    return 0;
}

/* ---------------------------------------------------------------------- */
/*  Any message by its type                                                */

int zs_msg_encode_generic (zs_msg_type_t type, const void *m, zs_buf_t *out,
                           char *err, size_t errlen)
{
    const zs_desc_t *const *lists[] = {zs_msg_api_descs, zs_msg_work_descs,
                                       zs_msg_res_descs};
    const size_t counts[] = {zs_msg_api_ndescs, zs_msg_work_ndescs,
                             zs_msg_res_ndescs};
    for (size_t l = 0; l < 3; l++)
        for (size_t i = 0; i < counts[l]; i++)
            if (lists[l][i]->type == type)
                return zs_msg_encode_desc (lists[l][i], m, out, err, errlen);
    return zs_msg_fail (err, errlen, "no such message type");
}
