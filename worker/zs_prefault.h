/*  zs_prefault.h - memory a lane touches ahead, while it has no work, for
    the bars it will cache.

    A worker's first scan of a universe makes its bars and keeps them:
    fresh memory, which the kernel supplies one page fault at a time
    (measured on these virtual machines: 35-50 ms per 100 MB, as much
    as making the closes that fill it).  An idle lane instead asks for
    that memory in small steps (a step is about a millisecond: work that
    comes waits no longer), writes to it, and when it has its share, or
    when work comes, gives it back to its own thread's heap, which keeps
    it (zs_mem_keep_freed): the bars the lane then makes land in pages
    that are already there.  The worker holds the memory from then on;
    its cache would have taken it at its first scan. */
#ifndef ZS_PREFAULT_H
#define ZS_PREFAULT_H

#include <stdbool.h>
#include <stddef.h>

typedef struct zs_prefault_t zs_prefault_t;

/*  A lane's share: bytes to touch ahead (0: nothing; NULL then). */
zs_prefault_t *zs_prefault_new (size_t bytes);

/*  Touches one more step (about 1 MB): true while there is more to do.
    When the share is complete it is given back to the heap. */
bool zs_prefault_step (zs_prefault_t *self);

/*  Work came: what is touched so far goes to the heap now, the rest is
    not touched. */
void zs_prefault_stop (zs_prefault_t *self);

/*  Bytes touched and given back so far. */
size_t zs_prefault_done (const zs_prefault_t *self);

void zs_prefault_destroy (zs_prefault_t **self_p);

#endif
