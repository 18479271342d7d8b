/*  zs_gwhttp.c - the gateway's small HTTP helpers (see zs_gw_int.h):
    query arguments, the bearer token, status lines and headers, whole
    answers written from the writable callback. */
#include "zs_gw_int.h"
#include "zs_gwjson.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void zs_gw_buf_lit (zs_buf_t *b, const char *s)
{
    zs_buf_append (b, s, strlen (s));
}

/*  Copies the value of query argument name ("after") into buf; NULL when
    absent. */
const char *zs_gw_arg (struct lws *wsi, const char *name, char *buf, int len)
{
    char key[32];
    snprintf (key, sizeof key, "%s=", name);
    return lws_get_urlarg_by_name (wsi, key, buf, len);
}

bool zs_gw_arg_u64 (struct lws *wsi, const char *name, uint64_t *out)
{
    char buf[64];
    const char *v = zs_gw_arg (wsi, name, buf, sizeof buf);
    if (!v || !*v)
        return false;
    char *end = NULL;
    errno = 0;
    unsigned long long u = strtoull (v, &end, 10);
    if (errno || *end || *v == '-')
        return false;
    *out = u;
    return true;
}

bool zs_gw_arg_flag (struct lws *wsi, const char *name)
{
    char buf[16];
    const char *v = zs_gw_arg (wsi, name, buf, sizeof buf);
    return v && (!strcmp (v, "1") || !strcmp (v, "true"));
}

/*  The request's bearer token matches (or none is required). */
bool zs_gw_authorised (zs_gateway_t *self, struct lws *wsi)
{
    if (!self->cfg.token)
        return true;
    char buf[512];
    int n = lws_hdr_copy (wsi, buf, sizeof buf, WSI_TOKEN_HTTP_AUTHORIZATION);
    if (n > 7 && !strncmp (buf, "Bearer ", 7)
        && !strcmp (buf + 7, self->cfg.token))
        return true;
    const char *t = zs_gw_arg (wsi, "token", buf, sizeof buf);
    return t && !strcmp (t, self->cfg.token);
}

/*  Writes the status line and headers (content_len may be
    LWS_ILLEGAL_HTTP_CONTENT_LEN), CORS included; extra: more headers
    ("name:", value pairs, NULL-terminated). */
int zs_gw_headers (zs_gateway_t *self, struct lws *wsi, int status,
                   const char *type, lws_filepos_t content_len,
                   const char *const *extra)
{
    unsigned char buf[LWS_PRE + 2048];
    unsigned char *start = &buf[LWS_PRE], *p = start,
                  *end = &buf[sizeof buf - 1];
    if (lws_add_http_common_headers (wsi, (unsigned) status, type, content_len,
                                     &p, end))
        return -1;
    if (self->cfg.cors
        && lws_add_http_header_by_name (
            wsi, (const unsigned char *) "access-control-allow-origin:",
            (const unsigned char *) self->cfg.cors,
            (int) strlen (self->cfg.cors), &p, end))
        return -1;
    for (int i = 0; extra && extra[i]; i += 2)
        if (lws_add_http_header_by_name (wsi, (const unsigned char *) extra[i],
                                         (const unsigned char *) extra[i + 1],
                                         (int) strlen (extra[i + 1]), &p, end))
            return -1;
    if (lws_finalize_write_http_header (wsi, start, &p, end))
        return -1;
    return 0;
}

/*  Answers with a whole body (pss->out takes a copy): headers and body
    are written from the writable callback. */
int zs_gw_answer (zs_gateway_t *self, zs_gw_pss_t *pss, int status,
                  const char *type, zs_buf_t *body)
{
    if (!pss->out)
        pss->out = (zs_buf_t *) calloc (1, sizeof *pss->out);
    if (!pss->out)
        return -1;
    zs_buf_reset (pss->out);
    zs_buf_append (pss->out, body->data, body->size);
    pss->out_sent = 0;
    pss->status = status;
    pss->ctype = type;
    pss->head_due = true;
    if (status >= 400) {
        int k = status == 400   ? 0
                : status == 401 ? 1
                : status == 404 ? 2
                : status == 405 ? 3
                : status == 413 ? 4
                                : 5;
        self->m.rejected[k]++;
    }
    lws_callback_on_writable (pss->wsi);
    return 0;
}

int zs_gw_error (zs_gateway_t *self, zs_gw_pss_t *pss, int status,
                 const char *message)
{
    zs_buf_reset (&self->tmp);
    zs_gwjson_error (&self->tmp, status, message);
    zs_gw_buf_lit (&self->tmp, "\n");
    return zs_gw_answer (self, pss, status, "application/json", &self->tmp);
}

/*  Sends what pss->out holds (REST answers): the last piece ends the
    transaction. */
int zs_gw_write_out (zs_gateway_t *self, zs_gw_pss_t *pss)
{
    if (pss->head_due) {
        pss->head_due = false;
        if (zs_gw_headers (self, pss->wsi, pss->status, pss->ctype,
                           pss->out->size, NULL))
            return -1;
        if (pss->out->size) {
            lws_callback_on_writable (pss->wsi);
            return 0;
        }
    }
    size_t left = pss->out->size - pss->out_sent;
    size_t n = left < FRAME_MAX ? left : FRAME_MAX;
    memcpy (self->frame + LWS_PRE, pss->out->data + pss->out_sent, n);
    bool last = n == left;
    if (lws_write (pss->wsi, self->frame + LWS_PRE, n,
                   last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP)
        != (int) n)
        return -1;
    pss->out_sent += n;
    self->m.bytes_sent += n;
    if (!last) {
        lws_callback_on_writable (pss->wsi);
        return 0;
    }
    zs_buf_free (pss->out);
    free (pss->out);
    pss->out = NULL;
    return lws_http_transaction_completed (pss->wsi) ? -1 : 0;
}
