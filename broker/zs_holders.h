/*  zs_holders.h - which worker holds the bars of each symbol of a
    universe, as the last scan of it left them: the broker's own record of
    where it sent each symbol (no lists over the wire).  The next scan of
    the same universe, with the same workers, gives each symbol to the
    worker that scanned it last, so that the symbols one worker took from
    another (work stolen at the end of a scan) are not generated and
    cached a second time by their rendezvous owner.

    A map is one byte per symbol (an index into its table of up to 255
    worker seeds; 0 = nobody known) and the set of workers it was made
    with.  The store keeps the maps of the last ZS_HOLDERS_MAX universes;
    a scan takes its universe's map out while it runs and puts its own
    back when it ends. */
#ifndef ZS_HOLDERS_H
#define ZS_HOLDERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ZS_HOLDERS_MAX 8     /* universes remembered                    */
#define ZS_HOLDERS_SEEDS 255 /* workers one map can name                */

typedef struct {
    uint32_t total;                    /* symbols                         */
    uint8_t *slot;                     /* per symbol: 1..nseeds, 0 = none */
    uint64_t seeds[ZS_HOLDERS_SEEDS + 1]; /* seeds[slot]                  */
    size_t nseeds;
    uint64_t set;                      /* the live workers it was made with */
} zs_holders_map_t;

typedef struct zs_holders_t zs_holders_t;

zs_holders_t *zs_holders_new (void);
void zs_holders_destroy (zs_holders_t **self_p);

/*  A fresh map for total symbols (all unknown); NULL when out of memory. */
zs_holders_map_t *zs_holders_map_new (uint32_t total);
void zs_holders_map_destroy (zs_holders_map_t **map_p);

/*  The slot of seed in the map, added when new; 0 when the table is
    full. */
uint8_t zs_holders_slot (zs_holders_map_t *map, uint64_t seed);

/*  Takes the map kept under key out of the store (the caller owns it), or
    NULL. */
zs_holders_map_t *zs_holders_take (zs_holders_t *self, const char *key);

/*  Keeps map under key (the store owns it), replacing what was there; the
    oldest key goes when ZS_HOLDERS_MAX are kept. */
void zs_holders_put (zs_holders_t *self, const char *key,
                     zs_holders_map_t *map);

/*  Symbols remembered in all the maps kept (for /metrics-like counts and
    tests). */
size_t zs_holders_symbols (const zs_holders_t *self);

#endif
