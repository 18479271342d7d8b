/*  samples.h - one full (every optional field present) and one minimal
    (every optional field absent) sample of every message type, with a
    uniform encode/decode interface, shared by the proto tests, the
    cross-language tool and the fuzzer's seed corpus. */
#ifndef ZS_TEST_SAMPLES_H
#define ZS_TEST_SAMPLES_H

#include "zs_msg.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    const char *name;          /* wire type name                          */
    zs_msg_type_t type;
    /* encodes the full (full=true) or minimal sample into out */
    int (*encode_sample) (bool full, zs_buf_t *out, char *err, size_t errlen);
    /* decodes data and re-encodes what it decoded into out */
    int (*reencode) (const void *data, size_t size, zs_buf_t *out, char *err,
                     size_t errlen);
} zs_sample_t;

/* Every message type, NULL-terminated. */
extern const zs_sample_t zs_samples[];

/*  Two decoded results hold the same values (strings equal or both absent,
    floats bit for bit or both undefined). */
bool zs_result_same (const zs_result_t *a, const zs_result_t *b);

#endif
