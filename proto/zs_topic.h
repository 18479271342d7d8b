/*  zs_topic.h - topic names on the results bus and the control channel.

    Results bus (first frame of every message on the broker's XPUB, and of
    every result a worker publishes):

        <scan>.r1     a result that is a signal
        <scan>.r0     a result that is not a signal (or a failed symbol)
        <scan>.ev     a lifecycle event: started, progress, finished

    A scan id never contains '.', so prefixes select exactly:
        "<scan>."     everything of one scan
        "<scan>.r"    every result of one scan
        "<scan>.r1"   its signals only
        "<scan>.ev"   its lifecycle events only
        ""            everything

    Control channel (broker PUB -> workers): "cancel", "shutdown", "hb".
*/
#ifndef ZS_TOPIC_H
#define ZS_TOPIC_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ZS_TOPIC_MAX 72 /* longest topic with its NUL: id + ".r1" + NUL */

typedef enum {
    ZS_TOPIC_RESULT_SIGNAL,  /* <scan>.r1 */
    ZS_TOPIC_RESULT_PLAIN,   /* <scan>.r0 */
    ZS_TOPIC_EVENT           /* <scan>.ev */
} zs_topic_kind_t;

#define ZS_CTL_CANCEL   "cancel"
#define ZS_CTL_SHUTDOWN "shutdown"
#define ZS_CTL_HB       "hb"

/*  Writes the topic of kind for scan into buf (NUL-terminated) and returns
    its length (without the NUL), or 0 when the scan id is invalid or cap
    is too small. */
size_t zs_topic_build (char *buf, size_t cap, const char *scan,
                       zs_topic_kind_t kind);

/*  Same, for a result: r1 when signal, else r0. */
size_t zs_topic_result (char *buf, size_t cap, const char *scan, bool signal);

/*  Subscription prefixes for clients: everything of a scan ("<scan>."),
    its results ("<scan>.r"), signals ("<scan>.r1"), events ("<scan>.ev").
    Return the length written, or 0 on an invalid id / small buffer. */
size_t zs_topic_prefix_scan (char *buf, size_t cap, const char *scan);
size_t zs_topic_prefix_results (char *buf, size_t cap, const char *scan);

/*  Parses a results-bus topic (size bytes, not NUL-terminated).  Writes the
    scan id (NUL-terminated) into scan (at least ZS_ID_MAX + 1 bytes) and
    the kind.  Returns 0, or -1 when it is not a valid topic. */
int zs_topic_parse (const void *data, size_t size, char *scan,
                    zs_topic_kind_t *kind);

#ifdef __cplusplus
}
#endif

#endif
