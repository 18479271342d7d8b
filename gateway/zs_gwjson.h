/*  zs_gwjson.h - the gateway's REST bodies: a scan request in JSON to the
    broker's scan_start, and the broker's replies to JSON.  Requests are
    parsed with jansson (strictly: a field of the wrong type is a 400 that
    names it); replies are written by hand with proto's zs_json. */
#ifndef ZS_GWJSON_H
#define ZS_GWJSON_H

#include "zs_msg.h"

#include <stddef.h>
#include <stdint.h>

/*  POST /scan/stream's body -> a scan_start (msgpack, no req) for scan
    id, appended to out.  0, or -1 with a reason in err (400: not JSON,
    not an object, a field of the wrong type or out of range). */
int zs_gwjson_start (const char *body, size_t len, const char *scan,
                     zs_buf_t *out, char *err, size_t errlen);

/*  A broker reply (msgpack) -> JSON appended to out, and the HTTP status
    it means (200, or the error's code).  extra: for scan_info, the
    number of clients streaming the scan (-1 to leave it out). */
int zs_gwjson_reply (const void *data, size_t size, int64_t clients,
                     zs_buf_t *out, int *status);

/*  {"error":{"code":CODE,"message":"..."}} appended to out. */
void zs_gwjson_error (zs_buf_t *out, int code, const char *message);

#endif
