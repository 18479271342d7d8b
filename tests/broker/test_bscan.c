/*  test_bscan.c - the broker's per-scan bookkeeping (broker/zs_bscan.c):
    batch sizes (the first small, then sized from the measured rate, the
    rate remembered from a previous scan of the same definition, a fair
    share with several lanes but never below a quarter of a full batch, the
    caps), every symbol dispatched once, retries first, marks. */
#include "zs_bscan.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "zs_test.h"

static zs_bscan_t *s_scan (const char *universe, zs_source_t *src,
                           zhashx_t *liq, zhashx_t *hist, uint32_t hint)
{
    zs_scan_start_t req = {0};
    req.scan = "t1";
    req.universe = universe;
    req.batch = hint;
    zs_bscan_params_t p = {0};
    p.id = "t1";
    p.req = &req;
    p.default_universe = "synthetic:100";
    p.source = src;
    p.history = hist;
    char err[256] = "";
    zs_bscan_t *s = zs_bscan_new (&p, err, sizeof err);
    CHECK (s != NULL, "scan: %s", err);
    return s;
}

/* hands out every task; returns how many; sizes in sizes[] */
static int s_drain (zs_bscan_t *s, size_t lanes, uint32_t *sizes, int cap,
                    double us_per_symbol_reported)
{
    int n = 0;
    zs_btask_t *t;
    uint64_t id = 100;
    while ((t = zs_bscan_next_task (s, id++, lanes, 5.0, 8, 4096, NULL)) != NULL) {
        if (n < cap)
            sizes[n] = t->n;
        n++;
        if (us_per_symbol_reported > 0)
            zs_bscan_observe_rate (s, t->n, t->n * us_per_symbol_reported);
    }
    return n;
}

/*  Which of two seeds a symbol belongs to under rendezvous hashing (the
    broker's rule, written again here: mix each (symbol, seed), highest
    wins). */
static uint64_t s_mix (uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static int s_owner (const char *symbol, const uint64_t seeds[2])
{
    uint64_t h = zs_bscan_hash (symbol);
    uint64_t a = s_mix (h ^ seeds[0]), b = s_mix (h ^ seeds[1]);
    if (a != b)
        return a > b ? 0 : 1;
    return seeds[0] < seeds[1] ? 0 : 1;
}

int main (void)
{
    char err[256];
    zs_source_t *src = zs_source_open ("synthetic:bars=60", 0, err,
                                       sizeof err);
    CHECK (src != NULL, "source: %s", err);
    zhashx_t *liq = zhashx_new (), *hist = zhashx_new ();

    /* 1. nothing known: the first batch is batch_min; once a rate is
       reported, batches are batch_ms of work: 5 ms at 10 us = 500 */
    zs_bscan_t *s = s_scan ("synthetic:10000", src, liq, hist, 0);
    uint32_t sizes[64];
    zs_btask_t *t = zs_bscan_next_task (s, 1, 1, 5.0, 8, 4096, NULL);
    CHECK (t && t->n == 8 && t->index[0] == 0 && t->index[7] == 7,
           "first batch: %u symbols", t ? t->n : 0);
    zs_bscan_observe_rate (s, 8, 8 * 10.0);
    CHECK (fabs (s->us_per_symbol - 10.0) < 1e-9, "rate %.3f",
           s->us_per_symbol);
    t = zs_bscan_next_task (s, 2, 1, 5.0, 8, 4096, NULL);
    CHECK (t && t->n == 500 && t->index[0] == 8, "second batch: %u", t->n);
    /* reports weigh by symbols: 500 at 20 us and the 8 at 10 */
    zs_bscan_observe_rate (s, 500, 500 * 20.0);
    double want = (80.0 + 10000.0) / 508.0;
    CHECK (fabs (s->us_per_symbol - want) < 1e-9, "weighted rate %.4f, "
           "want %.4f", s->us_per_symbol, want);
    /* the rest, one lane: every symbol once, in order */
    uint32_t total = 8 + 500;
    int n = s_drain (s, 1, sizes, 64, 0);
    for (int i = 0; i < n && i < 64; i++)
        total += sizes[i];
    CHECK (total == 10000, "%u symbols dispatched of 10000", total);
    CHECK (!zs_bscan_has_work (s), "no work left");
    zs_bscan_destroy (&s);

    /* 2. the rate remembered from the last scan of the definition: the
       first batch is full size at once (5 ms at 2.5 us = 2000) */
    s = s_scan ("synthetic:10000", src, liq, hist, 0);
    zs_bscan_set_prior (s, 2.5);
    t = zs_bscan_next_task (s, 1, 1, 5.0, 8, 4096, NULL);
    CHECK (t && t->n == 2000, "first batch with a prior: %u", t->n);
    /* a report moves the estimate by its weight against 2,000 symbols of
       the prior: 2000 at 5 us -> (10000 + 5000) / 4000 = 3.75 */
    zs_bscan_observe_rate (s, 2000, 2000 * 5.0);
    CHECK (fabs (s->us_per_symbol - 3.75) < 1e-9, "rate with a prior "
           "%.4f", s->us_per_symbol);
    /* nonsense from a worker changes nothing */
    zs_bscan_observe_rate (s, 10, -5);
    zs_bscan_observe_rate (s, 10, NAN);
    zs_bscan_observe_rate (s, 0, 100);
    zs_bscan_set_prior (s, INFINITY);
    CHECK (fabs (s->us_per_symbol - 3.75) < 1e-9, "rate kept: %.4f",
           s->us_per_symbol);
    zs_bscan_destroy (&s);

    /* 3. several lanes: a batch is at most the fair share of what is left
       (left / (2 lanes)), but never below a quarter of a full batch:
       10,000 symbols, 1 us each (full batch 5000), 4 lanes */
    s = s_scan ("synthetic:10000", src, liq, hist, 0);
    zs_bscan_set_prior (s, 1.0);
    n = s_drain (s, 4, sizes, 64, 0);
    CHECK (n >= 4 && sizes[0] == 1250, "first of 4 lanes: %u (share of "
           "10000 / 8)", sizes[0]);
    bool floor_kept = true;
    uint32_t sum = 0;
    for (int i = 0; i < n && i < 64; i++) {
        sum += sizes[i];
        /* the last batch may be what is left; the others >= 5000 / 4 */
        if (i + 1 < n && sizes[i] < 1250)
            floor_kept = false;
    }
    CHECK (floor_kept, "no batch below a quarter of a full one but the "
           "last (%d batches)", n);
    CHECK (sum == 10000, "%u dispatched", sum);
    zs_bscan_destroy (&s);

    /* 4. caps: batch_max, and a hint given in the request wins over the
       rate and the share */
    s = s_scan ("synthetic:10000", src, liq, hist, 0);
    zs_bscan_set_prior (s, 0.01); /* 500,000 symbols in 5 ms */
    t = zs_bscan_next_task (s, 1, 1, 5.0, 8, 3000, NULL);
    CHECK (t && t->n == 3000, "batch_max: %u", t->n);
    zs_bscan_destroy (&s);
    s = s_scan ("synthetic:1000", src, liq, hist, 77);
    n = s_drain (s, 4, sizes, 64, 1.0);
    CHECK (sizes[0] == 77 && sizes[1] == 77 && sizes[n - 1] == 1000 % 77,
           "hint 77: %u %u ... %u", sizes[0], sizes[1], sizes[n - 1]);
    zs_bscan_destroy (&s);

    /* 5. retries first, with a new id; marks lower what a task still owes */
    s = s_scan ("synthetic:100", src, liq, hist, 0);
    zs_btask_t *a = zs_bscan_next_task (s, 1, 1, 5.0, 8, 4096, NULL);
    zs_btask_t *b = zs_bscan_next_task (s, 2, 1, 5.0, 8, 4096, NULL);
    CHECK (a && b && a->n == 8 && b->index[0] == 8, "two batches");
    CHECK (zs_bscan_mark (s, 3, true, false) == a && a->remaining == 7
               && zs_bscan_delivered (s, 3) && s->signals == 1,
           "a mark: remaining %u", a->remaining);
    zs_bscan_task_compact (s, a);
    CHECK (a->n == 7 && a->index[3] == 4, "compacted: %u", a->n);
    zs_bscan_requeue_front (s, a);
    t = zs_bscan_next_task (s, 9, 1, 5.0, 8, 4096, NULL);
    CHECK (t == a && t->id == 9 && t->n == 7, "the retry goes first");
    zs_bscan_destroy (&s);

    /* 6. cache affinity: a worker far ahead of the other (here the other
       never asks) still takes only its own symbols until its share is
       all taken, however far into the universe they lie (its search
       goes on from where it stopped; a window from the front ran dry
       after 8,192 symbols and it took the other's), then the other's */
    s = s_scan ("synthetic:50000", src, liq, hist, 0);
    zs_bscan_set_prior (s, 1.0);
    uint64_t seeds[2] = {zs_bscan_hash ("wa"), zs_bscan_hash ("wb")};
    zs_affinity_t aff = {seeds, 2, seeds[0]};
    uint32_t own = 0, others = 0, first_other = 0;
    uint64_t tid = 1000;
    while ((t = zs_bscan_next_task (s, tid++, 2, 5.0, 8, 512, &aff))
           != NULL)
        for (uint32_t i = 0; i < t->n; i++) {
            bool mine = s_owner (s->symlist.items[t->index[i]], seeds) == 0;
            if (mine)
                CHECK (others == 0, "own symbol %u after %u of the other's",
                       t->index[i], others);
            else if (others++ == 0)
                first_other = own;
            own += mine;
        }
    CHECK (own > 20000 && own + others == 50000 && first_other == own,
           "own %u then the other's %u (first after %u)", own, others,
           first_other);
    zs_bscan_destroy (&s);

    /* 7. the next scan of the universe, with the same workers, gives each
       symbol to the worker that held it after the last one: wb takes
       three batches of its own, then wa takes everything else (its own
       and, when they are all taken, wb's); next time wa's share is all
       it took (rendezvous would give it half).  With another set
       of workers the map does not count (rendezvous again). */
    s = s_scan ("synthetic:20000", src, liq, hist, 0);
    zs_bscan_set_prior (s, 1.0);
    zs_affinity_t fa = {seeds, 2, seeds[0]}, fb = {seeds, 2, seeds[1]};
    uint32_t first_b = 0;
    for (int i = 0; i < 3; i++) {
        t = zs_bscan_next_task (s, tid++, 2, 5.0, 8, 512, &fb);
        first_b += t ? t->n : 0;
    }
    while ((t = zs_bscan_next_task (s, tid++, 2, 5.0, 8, 512, &fa)) != NULL)
        ;
    zs_holders_map_t *held = zs_bscan_take_holders (s);
    CHECK (held && held->total == 20000, "a record of who held what");
    uint32_t held_b = 0;
    for (uint32_t i = 0; held && i < 20000; i++)
        held_b += held->seeds[held->slot[i]] == seeds[1];
    CHECK (held_b == first_b, "wb held %u, took %u", held_b, first_b);
    zs_bscan_destroy (&s);
    s = s_scan ("synthetic:20000", src, liq, hist, 0);
    zs_bscan_set_prior (s, 1.0);
    zs_bscan_set_prior_holders (s, held);
    /* wa alone asks: everything wa held (its own and what it took of
       wb's, 20,000 - held_b) before any of wb's */
    uint32_t got_a = 0, before_b = 0;
    bool seen_b = false;
    while ((t = zs_bscan_next_task (s, tid++, 2, 5.0, 8, 512, &fa)) != NULL)
        for (uint32_t i = 0; i < t->n; i++) {
            got_a++;
            if (s->prior->seeds[s->prior->slot[t->index[i]]] == seeds[1])
                seen_b = true;
            else if (!seen_b)
                before_b++;
        }
    CHECK (got_a == 20000 && before_b == 20000 - held_b,
           "wa took %u of its own before wb's, want %u", before_b,
           20000 - held_b);
    zs_bscan_destroy (&s);
    /* a third worker: the old map does not count */
    uint64_t three[3] = {seeds[0], seeds[1], zs_bscan_hash ("wc")};
    s = s_scan ("synthetic:20000", src, liq, hist, 0);
    zs_bscan_set_prior (s, 1.0);
    zs_holders_map_t *m = zs_holders_map_new (20000);
    m->set = 1; /* some other set */
    zs_bscan_set_prior_holders (s, m);
    zs_affinity_t fc = {three, 3, three[2]};
    t = zs_bscan_next_task (s, tid++, 3, 5.0, 8, 512, &fc);
    CHECK (t && !s->prior_on, "another set: rendezvous");
    zs_bscan_destroy (&s);

    zhashx_destroy (&liq);
    zhashx_destroy (&hist);
    zs_source_destroy (&src);
    return ZS_TEST_END ("bscan");
}
