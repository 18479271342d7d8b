/*  zs_json.h - the JSON form of the records of results-out: one renderer
    for the CLI (`zscan scan --json`, `zscan tail`) and the gateway
    (WebSocket, SSE, polling, export), so every client sees the same
    records with the same fields and the same numbers.

    A record renders as one line of JSON without a newline:

        {"type":"result","seq":7,"data":{...}}

    type is "started", "result", "progress" or "complete" (the finished
    event), seq is the record's position in its scan, data its fields as
    PROTOCOL.md names them (see zs_json.c for each type's).  Undefined
    numbers (NaN, a -1 eta or first_result_ms) are null.  A number is
    written in the shortest form that reads back as the same double.

    Hand-written, not a JSON library's tree: one pass from the msgpack
    bytes to the text, nothing allocated once the buffers are warm.
*/
#ifndef ZS_JSON_H
#define ZS_JSON_H

#include "zs_msg.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*  Reusable decoding space (zero it before the first use; free it with
    zs_json_free). */
typedef struct {
    zs_result_t result;
    zs_ev_started_t started;
    zs_ev_progress_t progress;
    zs_ev_finished_t finished;
} zs_json_t;

void zs_json_free (zs_json_t *self);

/*  The JSON type name of a record's msgpack type ("result", "started",
    "progress", "complete"), or NULL for anything else. */
const char *zs_json_type (zs_msg_type_t type);

/*  Appends the JSON of the record (msgpack bytes) at position pos to
    out.  0, or -1 with a reason when the bytes are not a valid record
    (out is then unchanged). *type is the record's type. */
int zs_json_record (zs_json_t *self, uint64_t pos, const void *data,
                    size_t size, zs_msg_type_t *type, zs_buf_t *out, char *err,
                    size_t errlen);

/*  The shortest decimal form of v that strtod reads back as v exactly
    (v finite), e.g. "0.1", "26", "1e-05", "101.24999999999999".  buf holds
    at least 40 bytes (it may be written past the number's end); returns
    the length written (NUL-terminated). */
size_t zs_json_double (double v, char *buf);

/*  Appends s as a JSON string (quoted, escaped; bytes that are not UTF-8
    become U+FFFD). */
void zs_json_string (zs_buf_t *out, const char *s);

#ifdef __cplusplus
}
#endif

#endif
