/*  zs_idmap.c - see zs_idmap.h.  */
#include "zs_idmap.h"

#include <stdlib.h>

typedef struct {
    uint64_t id; /* 0 = empty slot */
    void *value;
} s_slot_t;

struct zs_idmap_t {
    s_slot_t *slots; /* capacity is a power of two      */
    size_t mask;     /* capacity - 1                    */
    size_t size;     /* entries in use                  */
};

static size_t s_hash (uint64_t id)
{
    id ^= id >> 33;
    id *= 0xff51afd7ed558ccdULL;
    id ^= id >> 33;
    return (size_t) id;
}

zs_idmap_t *zs_idmap_new (void)
{
    zs_idmap_t *self = (zs_idmap_t *) calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->slots = (s_slot_t *) calloc (64, sizeof (s_slot_t));
    if (!self->slots) {
        free (self);
        return NULL;
    }
    self->mask = 63;
    return self;
}

void zs_idmap_destroy (zs_idmap_t **self_p)
{
    if (self_p && *self_p) {
        free ((*self_p)->slots);
        free (*self_p);
        *self_p = NULL;
    }
}

static int s_grow (zs_idmap_t *self)
{
    size_t cap = (self->mask + 1) * 2;
    s_slot_t *slots = (s_slot_t *) calloc (cap, sizeof (s_slot_t));
    if (!slots)
        return -1;
    for (size_t i = 0; i <= self->mask; i++) {
        if (!self->slots[i].id)
            continue;
        size_t j = s_hash (self->slots[i].id) & (cap - 1);
        while (slots[j].id)
            j = (j + 1) & (cap - 1);
        slots[j] = self->slots[i];
    }
    free (self->slots);
    self->slots = slots;
    self->mask = cap - 1;
    return 0;
}

int zs_idmap_put (zs_idmap_t *self, uint64_t id, void *value)
{
    if (!id || !value)
        return -1;
    if ((self->size + 1) * 4 > (self->mask + 1) * 3 && s_grow (self) != 0)
        return -1;
    size_t i = s_hash (id) & self->mask;
    while (self->slots[i].id && self->slots[i].id != id)
        i = (i + 1) & self->mask;
    if (!self->slots[i].id)
        self->size++;
    self->slots[i].id = id;
    self->slots[i].value = value;
    return 0;
}

void *zs_idmap_get (const zs_idmap_t *self, uint64_t id)
{
    if (!id)
        return NULL;
    size_t i = s_hash (id) & self->mask;
    while (self->slots[i].id) {
        if (self->slots[i].id == id)
            return self->slots[i].value;
        i = (i + 1) & self->mask;
    }
    return NULL;
}

void *zs_idmap_remove (zs_idmap_t *self, uint64_t id)
{
    if (!id)
        return NULL;
    size_t i = s_hash (id) & self->mask;
    while (self->slots[i].id && self->slots[i].id != id)
        i = (i + 1) & self->mask;
    if (!self->slots[i].id)
        return NULL;
    void *value = self->slots[i].value;
    /* backward-shift: pull later members of the run into the hole */
    size_t hole = i;
    size_t j = i;
    for (;;) {
        j = (j + 1) & self->mask;
        if (!self->slots[j].id)
            break;
        size_t home = s_hash (self->slots[j].id) & self->mask;
        /* can slot j move to hole?  only if home is not in (hole, j] */
        if ((j > hole && (home <= hole || home > j))
            || (j < hole && (home <= hole && home > j))) {
            self->slots[hole] = self->slots[j];
            hole = j;
        }
    }
    self->slots[hole].id = 0;
    self->slots[hole].value = NULL;
    self->size--;
    return value;
}

size_t zs_idmap_size (const zs_idmap_t *self)
{
    return self->size;
}
