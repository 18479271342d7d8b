/*  zs_idmap.h - a map from non-zero 64-bit ids to pointers: open
    addressing with linear probing and backward-shift deletion, so lookups
    stay short without tombstones.  O(1) expected per operation. */
#ifndef ZS_IDMAP_H
#define ZS_IDMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct zs_idmap_t zs_idmap_t;

/* Returns a new empty map, or NULL when out of memory. */
zs_idmap_t *zs_idmap_new (void);
/* Frees the map (not the values); sets *self_p to NULL. */
void zs_idmap_destroy (zs_idmap_t **self_p);
/* Inserts or replaces id -> value (id != 0, value != NULL); 0 or -1 (OOM). */
int zs_idmap_put (zs_idmap_t *self, uint64_t id, void *value);
/* Returns the value for id, or NULL. */
void *zs_idmap_get (const zs_idmap_t *self, uint64_t id);
/* Removes id; returns its value, or NULL when absent. */
void *zs_idmap_remove (zs_idmap_t *self, uint64_t id);
/* Number of entries. */
size_t zs_idmap_size (const zs_idmap_t *self);

#endif
