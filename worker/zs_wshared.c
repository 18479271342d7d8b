/*  zs_wshared.c - the cancel table and the shared data sources.  */
#include "zs_wshared.h"

#include "zs_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void zs_wshared_cancel (zs_wshared_t *self, const char *scan)
{
    pthread_mutex_lock (&self->lock);
    snprintf (self->cancelled[self->cancel_next],
              sizeof self->cancelled[0], "%s", scan);
    self->cancel_next = (self->cancel_next + 1) % ZS_CANCEL_SLOTS;
    pthread_mutex_unlock (&self->lock);
    atomic_fetch_add (&self->cancel_gen, 1);
}

bool zs_wshared_is_cancelled (zs_wshared_t *self, const char *scan)
{
    bool found = false;
    pthread_mutex_lock (&self->lock);
    for (size_t i = 0; i < ZS_CANCEL_SLOTS && !found; i++)
        found = self->cancelled[i][0] && strcmp (self->cancelled[i], scan) == 0;
    pthread_mutex_unlock (&self->lock);
    return found;
}

/*  Closes idle sources past the limits (under the lock). */
static void s_trim (zs_wshared_t *self, int64_t now)
{
    size_t idle = 0;
    for (zs_wsource_t *w = (zs_wsource_t *) zlistx_last (self->sources); w;
         w = (zs_wsource_t *) zlistx_prev (self->sources))
        if (w->users == 0)
            idle++;
    zs_wsource_t *w = (zs_wsource_t *) zlistx_first (self->sources);
    while (w) {
        zs_wsource_t *next = (zs_wsource_t *) zlistx_next (self->sources);
        if (w->users == 0
            && (idle > ZS_IDLE_SOURCES
                || now - w->used_us > ZS_SOURCE_IDLE_US)) {
            void *cursor = zlistx_find (self->sources, w);
            if (cursor)
                zlistx_detach (self->sources, cursor);
            zs_debug ("closing data source %s (unused)", w->uri);
            zs_source_destroy (&w->src);
            free (w->uri);
            free (w);
            idle--;
            /* the list changed under the cursor: start over */
            next = (zs_wsource_t *) zlistx_first (self->sources);
        }
        w = next;
    }
}

zs_source_t *zs_wshared_source (zs_wshared_t *self, const char *uri,
                                char *err, size_t errlen)
{
    if (!uri || !*uri
        || strcmp (uri, zs_source_uri (self->default_source)) == 0)
        return self->default_source;
    int64_t now = zs_clock_us ();
    pthread_mutex_lock (&self->lock);
    zs_wsource_t *w;
    for (w = (zs_wsource_t *) zlistx_first (self->sources); w;
         w = (zs_wsource_t *) zlistx_next (self->sources))
        if (strcmp (w->uri, uri) == 0)
            break;
    if (w)
        zlistx_move_end (self->sources, zlistx_cursor (self->sources));
    else {
        zs_source_t *src = zs_source_open_in (uri, self->cache, err, errlen);
        w = src ? (zs_wsource_t *) calloc (1, sizeof *w) : NULL;
        if (w && !(w->uri = strdup (uri))) {
            free (w);
            w = NULL;
        }
        if (!w) {
            if (src)
                snprintf (err, errlen, "out of memory");
            zs_source_destroy (&src);
            pthread_mutex_unlock (&self->lock);
            return NULL;
        }
        w->src = src;
        zlistx_add_end (self->sources, w);
    }
    w->users++;
    w->used_us = now;
    zs_source_t *src = w->src;
    s_trim (self, now);
    pthread_mutex_unlock (&self->lock);
    return src;
}

void zs_wshared_source_done (zs_wshared_t *self, zs_source_t *src)
{
    if (!src || src == self->default_source)
        return;
    int64_t now = zs_clock_us ();
    pthread_mutex_lock (&self->lock);
    for (zs_wsource_t *w = (zs_wsource_t *) zlistx_first (self->sources); w;
         w = (zs_wsource_t *) zlistx_next (self->sources))
        if (w->src == src) {
            w->users--;
            w->used_us = now;
            break;
        }
    s_trim (self, now);
    pthread_mutex_unlock (&self->lock);
}

void zs_wshared_sources_close (zs_wshared_t *self)
{
    pthread_mutex_lock (&self->lock);
    zs_wsource_t *w;
    while ((w = (zs_wsource_t *) zlistx_detach (self->sources, NULL))) {
        zs_source_destroy (&w->src);
        free (w->uri);
        free (w);
    }
    pthread_mutex_unlock (&self->lock);
}
