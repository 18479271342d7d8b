/*  zs_store.c - see zs_store.h.  */
#include "zs_store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC "ZSSTORE1"
#define VERSION 1
#define HEADER_SIZE 64
#define ENTRY_SIZE 64

typedef struct {
    char magic[8];
    uint32_t version;
    uint32_t symbols;
    uint64_t index_off;
    uint64_t data_off;
    uint64_t file_size;
    uint64_t index_sum;
    uint64_t header_sum;   /* of the 48 bytes before index_sum... see s_hsum */
    uint64_t reserved;
} s_header_t;

typedef struct {
    char symbol[32];
    uint64_t offset;
    uint32_t bars;
    uint32_t date_slot;
    double liquidity;
    uint64_t sum;
} s_entry_t;

_Static_assert (sizeof (s_header_t) == HEADER_SIZE, "header layout");
_Static_assert (sizeof (s_entry_t) == ENTRY_SIZE, "index entry layout");

struct zs_store_t {
    unsigned char *map;
    size_t size;
    const s_entry_t *index;
    size_t n;
};

/*  A fast 64-bit checksum of 8-byte words (a multiply-xorshift chain). */
static uint64_t s_sum (const void *data, size_t len)
{
    const unsigned char *p = (const unsigned char *) data;
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ len;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy (&w, p + i, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdULL;
        h ^= h >> 32;
    }
    for (; i < len; i++)
        h = (h ^ p[i]) * 0x100000001b3ULL;
    return h;
}

static uint64_t s_hsum (const s_header_t *h)
{
    return s_sum (h, offsetof (s_header_t, header_sum));
}

static size_t s_block_size (uint32_t bars, uint32_t slot)
{
    size_t size = (size_t) bars * (5 * sizeof (double) + slot);
    return (size + 7) & ~(size_t) 7;
}

/* ---------------------------------------------------------------------- */

zs_store_t *zs_store_open (const char *path, char *err, size_t errlen)
{
    int fd = open (path, O_RDONLY);
    if (fd < 0) {
        snprintf (err, errlen, "store %s: %s", path, strerror (errno));
        return NULL;
    }
    struct stat st;
    if (fstat (fd, &st) != 0 || st.st_size < HEADER_SIZE) {
        snprintf (err, errlen, "store %s: too short to be a store (%lld "
                               "bytes)",
                  path, (long long) st.st_size);
        close (fd);
        return NULL;
    }
    void *map = mmap (NULL, (size_t) st.st_size, PROT_READ, MAP_PRIVATE, fd,
                      0);
    close (fd);
    if (map == MAP_FAILED) {
        snprintf (err, errlen, "store %s: mmap: %s", path, strerror (errno));
        return NULL;
    }
    zs_store_t *self = (zs_store_t *) calloc (1, sizeof *self);
    if (!self) {
        munmap (map, (size_t) st.st_size);
        snprintf (err, errlen, "out of memory");
        return NULL;
    }
    self->map = (unsigned char *) map;
    self->size = (size_t) st.st_size;
    const s_header_t *h = (const s_header_t *) map;
    const char *why = NULL;
    if (memcmp (h->magic, MAGIC, 8) != 0)
        why = "not a zscan store (bad magic)";
    else if (h->version != VERSION)
        why = "unsupported store version";
    else if (s_hsum (h) != h->header_sum)
        why = "corrupt header (checksum)";
    else if (h->file_size != self->size)
        why = "truncated or extended (size differs from the header)";
    else if (h->index_off != HEADER_SIZE
             || h->index_off + (uint64_t) h->symbols * ENTRY_SIZE
                    > h->data_off
             || h->data_off > self->size)
        why = "corrupt header (offsets)";
    else if (s_sum (self->map + h->index_off,
                    (size_t) h->symbols * ENTRY_SIZE)
             != h->index_sum)
        why = "corrupt index (checksum)";
    if (!why) {
        self->index = (const s_entry_t *) (self->map + h->index_off);
        self->n = h->symbols;
        for (size_t i = 0; i < self->n && !why; i++) {
            const s_entry_t *e = &self->index[i];
            if (memchr (e->symbol, 0, sizeof e->symbol) == NULL
                || !zs_symbol_valid (e->symbol))
                why = "corrupt index (symbol)";
            else if (i && strcmp (self->index[i - 1].symbol, e->symbol) >= 0)
                why = "corrupt index (order)";
            else if (e->date_slot != ZS_DATE_SLOT || e->bars == 0
                     || e->offset < h->data_off || (e->offset & 7)
                     || e->offset + s_block_size (e->bars, e->date_slot)
                            > self->size)
                why = "corrupt index (block bounds)";
            else if (s_sum (self->map + e->offset,
                            s_block_size (e->bars, e->date_slot))
                     != e->sum)
                why = "corrupt data (block checksum)";
        }
    }
    if (why) {
        snprintf (err, errlen, "store %s: %s", path, why);
        zs_store_close (&self);
        return NULL;
    }
    return self;
}

void zs_store_close (zs_store_t **self_p)
{
    if (self_p && *self_p) {
        munmap ((*self_p)->map, (*self_p)->size);
        free (*self_p);
        *self_p = NULL;
    }
}

size_t zs_store_size (const zs_store_t *self)
{
    return self->n;
}

const char *zs_store_symbol (const zs_store_t *self, size_t i)
{
    return i < self->n ? self->index[i].symbol : NULL;
}

static const s_entry_t *s_find (const zs_store_t *self, const char *symbol)
{
    size_t lo = 0, hi = self->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp (self->index[mid].symbol, symbol);
        if (c == 0)
            return &self->index[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

int zs_store_bars (const zs_store_t *self, const char *symbol,
                   zs_bars_t *bars, char *err, size_t errlen)
{
    const s_entry_t *e = s_find (self, symbol);
    if (!e) {
        snprintf (err, errlen, "%s: not in the store", symbol);
        return -1;
    }
    double *cols = (double *) (self->map + e->offset);
    size_t n = e->bars;
    memset (bars, 0, sizeof *bars);
    bars->n = n;
    bars->open = cols;
    bars->high = cols + n;
    bars->low = cols + 2 * n;
    bars->close = cols + 3 * n;
    bars->volume = cols + 4 * n;
    bars->dates = (char *) (cols + 5 * n);
    bars->dates_shared = true;
    bars->borrowed = true;
    bars->bytes = 0;
    return 0;
}

int zs_store_liquidity (const zs_store_t *self, const char *symbol,
                        double *adv)
{
    const s_entry_t *e = s_find (self, symbol);
    *adv = e ? e->liquidity : -1;
    return e ? 0 : -1;
}

/* ---------------------------------------------------------------------- */
/*  Import                                                                 */

static int s_write_all (FILE *f, const void *data, size_t len)
{
    return fwrite (data, 1, len, f) == len ? 0 : -1;
}

long zs_store_write (const char *path, const char *const *symbols, size_t n,
                     zs_store_loader_fn *load, void *arg, bool skip_bad,
                     char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++)
        if (!zs_symbol_valid (symbols[i])
            || (i && strcmp (symbols[i - 1], symbols[i]) >= 0)) {
            snprintf (err, errlen, "symbols must be valid, sorted and "
                                   "distinct ('%.40s')",
                      symbols[i]);
            return -1;
        }
    s_entry_t *index = (s_entry_t *) calloc (n ? n : 1, sizeof (s_entry_t));
    char tmp[4200];
    snprintf (tmp, sizeof tmp, "%s.tmp.%d", path, (int) getpid ());
    FILE *f = index ? fopen (tmp, "wb") : NULL;
    if (!f) {
        snprintf (err, errlen, "%s: %s", tmp,
                  index ? strerror (errno) : "out of memory");
        free (index);
        return -1;
    }
    /* room for every index entry first; header and index written last */
    uint64_t data_off = HEADER_SIZE + (uint64_t) n * ENTRY_SIZE;
    int rc = fseeko (f, (off_t) data_off, SEEK_SET);
    uint64_t off = data_off;
    size_t written = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        char why[512];
        zs_bars_t *b = load (arg, symbols[i], why, sizeof why);
        if (!b) {
            if (skip_bad) {
                fprintf (stderr, "zscan import: skipped: %s\n", why);
                continue;
            }
            snprintf (err, errlen, "%s", why);
            rc = -1;
            break;
        }
        size_t bars = b->n;
        size_t block = s_block_size ((uint32_t) bars, ZS_DATE_SLOT);
        unsigned char *buf = (unsigned char *) calloc (1, block);
        if (!buf || bars == 0) {
            snprintf (err, errlen, "%s", buf ? "a symbol without bars"
                                             : "out of memory");
            free (buf);
            zs_bars_destroy (&b);
            rc = -1;
            break;
        }
        const double *cols[5] = {b->open, b->high, b->low, b->close,
                                 b->volume};
        for (int c = 0; c < 5; c++)
            memcpy (buf + (size_t) c * bars * sizeof (double), cols[c],
                    bars * sizeof (double));
        memcpy (buf + 5 * bars * sizeof (double), b->dates,
                bars * ZS_DATE_SLOT);
        s_entry_t *e = &index[written++];
        snprintf (e->symbol, sizeof e->symbol, "%s", symbols[i]);
        e->offset = off;
        e->bars = (uint32_t) bars;
        e->date_slot = ZS_DATE_SLOT;
        size_t k = bars < 20 ? bars : 20;
        double sum = 0;
        for (size_t t = bars - k; t < bars; t++)
            sum += b->close[t] * b->volume[t];
        e->liquidity = sum / (double) k;
        e->sum = s_sum (buf, block);
        if (s_write_all (f, buf, block) != 0) {
            snprintf (err, errlen, "%s: %s", tmp, strerror (errno));
            rc = -1;
        }
        off += block;
        free (buf);
        zs_bars_destroy (&b);
    }
    if (rc == 0 && written == 0) {
        snprintf (err, errlen, "no symbols to write");
        rc = -1;
    }
    if (rc == 0) {
        s_header_t h;
        memset (&h, 0, sizeof h);
        memcpy (h.magic, MAGIC, 8);
        h.version = VERSION;
        h.symbols = (uint32_t) written;
        h.index_off = HEADER_SIZE;
        /* room was reserved for every symbol; skipped ones leave a gap */
        h.data_off = data_off;
        h.index_sum = s_sum (index, written * ENTRY_SIZE);
        h.file_size = off;
        h.header_sum = s_hsum (&h);
        if (fseeko (f, 0, SEEK_SET) != 0 || s_write_all (f, &h, sizeof h)
            || s_write_all (f, index, written * ENTRY_SIZE)) {
            snprintf (err, errlen, "%s: %s", tmp, strerror (errno));
            rc = -1;
        }
    }
    if (fclose (f) != 0 && rc == 0) {
        snprintf (err, errlen, "%s: %s", tmp, strerror (errno));
        rc = -1;
    }
    if (rc == 0 && rename (tmp, path) != 0) {
        snprintf (err, errlen, "%s: %s", path, strerror (errno));
        rc = -1;
    }
    if (rc != 0)
        unlink (tmp);
    free (index);
    return rc == 0 ? (long) written : -1;
}
