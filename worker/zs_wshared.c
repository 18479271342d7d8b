/*  zs_wshared.c - the cancel table and the shared data sources.  */
#include "zs_wshared.h"

#include <stdio.h>
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

zs_source_t *zs_wshared_source (zs_wshared_t *self, const char *uri,
                                char *err, size_t errlen)
{
    if (!uri || !*uri)
        return self->default_source;
    pthread_mutex_lock (&self->lock);
    zs_source_t *src = (zs_source_t *) zhashx_lookup (self->sources, uri);
    if (!src) {
        src = zs_source_open (uri, self->cfg.cache_bytes, err, errlen);
        if (src)
            zhashx_insert (self->sources, uri, src);
    }
    pthread_mutex_unlock (&self->lock);
    return src;
}
