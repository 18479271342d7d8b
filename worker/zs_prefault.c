/*  zs_prefault.c - see zs_prefault.h.

    The memory is taken with malloc, in pieces below glibc's mmap
    threshold (128 KB), so that it comes from the calling thread's own
    heap (a lane's arena: where the bars it makes are allocated), and is
    freed in one go: the pieces join into one free block at the top of
    that heap, which later allocations split.  With the trim threshold
    out of reach (zs_mem_keep_freed) glibc never shrinks a heap, so the
    pages stay. */
#include "zs_prefault.h"

#include <stdlib.h>
#include <string.h>

#define PIECE ((size_t) 60 << 10) /* below the 128 KB mmap threshold   */
#define STEP_PIECES 16            /* ~1 MB a step                        */

struct zs_prefault_t {
    void **pieces;
    size_t n, cap;   /* held, room for                                  */
    size_t done;     /* bytes touched                                   */
    bool over;
};

zs_prefault_t *zs_prefault_new (size_t bytes)
{
    size_t cap = bytes / PIECE;
    if (cap == 0)
        return NULL;
    zs_prefault_t *self = (zs_prefault_t *) calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->pieces = (void **) calloc (cap, sizeof (void *));
    if (!self->pieces) {
        free (self);
        return NULL;
    }
    self->cap = cap;
    return self;
}

static void s_give_back (zs_prefault_t *self)
{
    while (self->n > 0)
        free (self->pieces[--self->n]);
    self->over = true;
}

bool zs_prefault_step (zs_prefault_t *self)
{
    if (!self || self->over)
        return false;
    for (int k = 0; k < STEP_PIECES && self->n < self->cap; k++) {
        void *p = malloc (PIECE);
        if (!p)
            break; /* what is held goes back now */
        /* the page faults happen here, now (not zeros: GCC would make
           malloc and a memset of 0 a calloc, which touches nothing) */
        memset (p, 0x5a, PIECE);
        self->pieces[self->n++] = p;
        self->done += PIECE;
        if (k == STEP_PIECES - 1 && self->n < self->cap)
            return true;
    }
    s_give_back (self);
    return false;
}

void zs_prefault_stop (zs_prefault_t *self)
{
    if (self && !self->over)
        s_give_back (self);
}

size_t zs_prefault_done (const zs_prefault_t *self)
{
    return self ? self->done : 0;
}

void zs_prefault_destroy (zs_prefault_t **self_p)
{
    if (self_p && *self_p) {
        s_give_back (*self_p);
        free ((*self_p)->pieces);
        free (*self_p);
        *self_p = NULL;
    }
}
