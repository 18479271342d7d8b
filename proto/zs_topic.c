/*  zs_topic.c - see zs_topic.h.  */
#include "zs_topic.h"
#include "zs_msg.h"

#include <stdio.h>
#include <string.h>

static size_t s_build (char *buf, size_t cap, const char *scan,
                       const char *suffix)
{
    if (!zs_scan_id_valid (scan))
        return 0;
    int n = snprintf (buf, cap, "%s%s", scan, suffix);
    if (n < 0 || (size_t) n >= cap)
        return 0;
    return (size_t) n;
}

size_t zs_topic_build (char *buf, size_t cap, const char *scan,
                       zs_topic_kind_t kind)
{
    const char *suffix = kind == ZS_TOPIC_RESULT_SIGNAL  ? ".r1"
                         : kind == ZS_TOPIC_RESULT_PLAIN ? ".r0"
                                                         : ".ev";
    return s_build (buf, cap, scan, suffix);
}

size_t zs_topic_result (char *buf, size_t cap, const char *scan, bool signal)
{
    return zs_topic_build (buf, cap, scan,
                           signal ? ZS_TOPIC_RESULT_SIGNAL
                                  : ZS_TOPIC_RESULT_PLAIN);
}

size_t zs_topic_prefix_scan (char *buf, size_t cap, const char *scan)
{
    return s_build (buf, cap, scan, ".");
}

size_t zs_topic_prefix_results (char *buf, size_t cap, const char *scan)
{
    return s_build (buf, cap, scan, ".r");
}

int zs_topic_parse (const void *data, size_t size, char *scan,
                    zs_topic_kind_t *kind)
{
    const char *t = (const char *) data;
    if (!data || size < 4 || size > ZS_ID_MAX + 3 || memchr (t, 0, size))
        return -1;
    const char *suffix = t + size - 3;
    if (suffix[0] != '.')
        return -1;
    if (suffix[1] == 'r' && suffix[2] == '1')
        *kind = ZS_TOPIC_RESULT_SIGNAL;
    else if (suffix[1] == 'r' && suffix[2] == '0')
        *kind = ZS_TOPIC_RESULT_PLAIN;
    else if (suffix[1] == 'e' && suffix[2] == 'v')
        *kind = ZS_TOPIC_EVENT;
    else
        return -1;
    size_t idlen = size - 3;
    memcpy (scan, t, idlen);
    scan[idlen] = 0;
    if (!zs_scan_id_valid (scan)) {
        scan[0] = 0;
        return -1;
    }
    return 0;
}
