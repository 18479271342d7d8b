/*  zs_bars.c - the containers every data source fills and the engine
    reads: a list of strings (universes) and a symbol's bars.  Below the
    sources (synthetic, CSV, store) and the cache, used by all of them:
    nothing here knows where bars come from. */
#include "zs_bars.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------- */
/*  Lists and bars                                                         */

typedef struct s_chunk_t {
    struct s_chunk_t *next;
    size_t used, cap;
    char data[];
} s_chunk_t;

#define CHUNK_BYTES 65536

int zs_strlist_push (zs_strlist_t *self, const char *s)
{
    if (self->size == self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 64;
        char **items = (char **) realloc (self->items, cap * sizeof (char *));
        if (!items)
            return -1;
        self->items = items;
        self->cap = cap;
    }
    size_t len = strlen (s) + 1;
    s_chunk_t *chunk = (s_chunk_t *) self->arena;
    if (!chunk || chunk->cap - chunk->used < len) {
        size_t cap = len > CHUNK_BYTES ? len : CHUNK_BYTES;
        s_chunk_t *fresh = (s_chunk_t *) malloc (sizeof *fresh + cap);
        if (!fresh)
            return -1;
        fresh->next = chunk;
        fresh->used = 0;
        fresh->cap = cap;
        self->arena = chunk = fresh;
    }
    char *copy = chunk->data + chunk->used;
    memcpy (copy, s, len);
    chunk->used += len;
    self->items[self->size++] = copy;
    return 0;
}

void zs_strlist_clear (zs_strlist_t *self)
{
    s_chunk_t *chunk = (s_chunk_t *) self->arena;
    while (chunk) {
        s_chunk_t *next = chunk->next;
        free (chunk);
        chunk = next;
    }
    self->arena = NULL;
    free (self->items);
    self->items = NULL;
    self->size = self->cap = 0;
}

zs_bars_t *zs_bars_new (size_t n)
{
    return zs_bars_new_dated (n, NULL);
}

zs_bars_t *zs_bars_new_dated (size_t n, const char *dates)
{
    return zs_bars_new_cols (n, dates, false);
}

zs_bars_t *zs_bars_new_cols (size_t n, const char *dates, bool close_only)
{
    zs_bars_t *b = (zs_bars_t *) calloc (1, sizeof *b);
    if (!b)
        return NULL;
    size_t m = n ? n : 1;
    size_t ncols = close_only ? 1 : 5;
    /* one block: the five columns (or close alone) */
    double *block = (double *) malloc (ncols * m * sizeof (double));
    b->dates = dates ? (char *) dates : (char *) calloc (m, ZS_DATE_SLOT);
    b->dates_shared = dates != NULL;
    if (!block || !b->dates) {
        free (block);
        if (!dates)
            free (b->dates);
        free (b);
        return NULL;
    }
    b->n = n;
    b->close_only = close_only;
    if (close_only)
        b->close = block;
    else {
        b->open = block;
        b->high = block + m;
        b->low = block + 2 * m;
        b->close = block + 3 * m;
        b->volume = block + 4 * m;
    }
    b->bytes = sizeof *b + ncols * m * sizeof (double)
               + (dates ? 0 : m * ZS_DATE_SLOT);
    return b;
}

void zs_bars_destroy (zs_bars_t **self_p)
{
    if (self_p && *self_p) {
        zs_bars_t *b = *self_p;
        if (!b->borrowed)
            free (b->close_only ? b->close : b->open);
        if (!b->dates_shared)
            free (b->dates);
        free (b);
        *self_p = NULL;
    }
}

const char *zs_bars_date (const zs_bars_t *self, size_t i)
{
    return self->dates + i * ZS_DATE_SLOT;
}

bool zs_symbol_valid (const char *s)
{
    size_t len = s ? strlen (s) : 0;
    if (len < 1 || len > ZS_SYMBOL_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!(isalnum ((unsigned char) c) || c == '.' || c == '_' || c == '-'
              || c == '^'))
            return false;
    }
    /* never a path component */
    return strcmp (s, ".") != 0 && strcmp (s, "..") != 0;
}

