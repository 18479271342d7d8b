/*  zs_holders.c - see zs_holders.h. */
#include "zs_holders.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    char *key;
    zs_holders_map_t *map;
    uint64_t used; /* when it was put: the oldest goes first */
} s_kept_t;

struct zs_holders_t {
    s_kept_t kept[ZS_HOLDERS_MAX];
    size_t n;
    uint64_t clock;
};

zs_holders_t *zs_holders_new (void)
{
    return (zs_holders_t *) calloc (1, sizeof (zs_holders_t));
}

void zs_holders_destroy (zs_holders_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zs_holders_t *self = *self_p;
    for (size_t i = 0; i < self->n; i++) {
        free (self->kept[i].key);
        zs_holders_map_destroy (&self->kept[i].map);
    }
    free (self);
    *self_p = NULL;
}

zs_holders_map_t *zs_holders_map_new (uint32_t total)
{
    zs_holders_map_t *map = (zs_holders_map_t *) calloc (1, sizeof *map);
    if (!map)
        return NULL;
    map->slot = (uint8_t *) calloc (total ? total : 1, 1);
    if (!map->slot) {
        free (map);
        return NULL;
    }
    map->total = total;
    return map;
}

void zs_holders_map_destroy (zs_holders_map_t **map_p)
{
    if (map_p && *map_p) {
        free ((*map_p)->slot);
        free (*map_p);
        *map_p = NULL;
    }
}

uint8_t zs_holders_slot (zs_holders_map_t *map, uint64_t seed)
{
    for (size_t k = 1; k <= map->nseeds; k++)
        if (map->seeds[k] == seed)
            return (uint8_t) k;
    if (map->nseeds == ZS_HOLDERS_SEEDS)
        return 0;
    map->seeds[++map->nseeds] = seed;
    return (uint8_t) map->nseeds;
}

zs_holders_map_t *zs_holders_take (zs_holders_t *self, const char *key)
{
    for (size_t i = 0; i < self->n; i++)
        if (strcmp (self->kept[i].key, key) == 0) {
            zs_holders_map_t *map = self->kept[i].map;
            free (self->kept[i].key);
            self->kept[i] = self->kept[--self->n];
            return map;
        }
    return NULL;
}

void zs_holders_put (zs_holders_t *self, const char *key,
                     zs_holders_map_t *map)
{
    zs_holders_map_t *old = zs_holders_take (self, key);
    zs_holders_map_destroy (&old);
    char *copy = strdup (key);
    if (!copy) {
        zs_holders_map_destroy (&map);
        return;
    }
    if (self->n == ZS_HOLDERS_MAX) {
        size_t oldest = 0;
        for (size_t i = 1; i < self->n; i++)
            if (self->kept[i].used < self->kept[oldest].used)
                oldest = i;
        free (self->kept[oldest].key);
        zs_holders_map_destroy (&self->kept[oldest].map);
        self->kept[oldest] = self->kept[--self->n];
    }
    self->kept[self->n].key = copy;
    self->kept[self->n].map = map;
    self->kept[self->n].used = ++self->clock;
    self->n++;
}

size_t zs_holders_symbols (const zs_holders_t *self)
{
    size_t n = 0;
    for (size_t i = 0; i < self->n; i++)
        n += self->kept[i].map->total;
    return n;
}
