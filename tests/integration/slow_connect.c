/* A test shim, preloaded into one process (LD_PRELOAD): every
   zmq_connect returns only after ZS_SLOW_CONNECT_MS milliseconds, as if
   the calling thread were preempted just after connecting.  The
   connection itself goes ahead at once in ZeroMQ's I/O thread, so what
   the caller does after zmq_connect happens after the handshake.  Used by
   test_curve.py: a worker whose key is refused must still notice. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef int (*connect_fn) (void *, const char *);

int zmq_connect (void *socket, const char *endpoint);

int zmq_connect (void *socket, const char *endpoint)
{
    static connect_fn real;
    if (!real) {
        void *sym = dlsym (RTLD_NEXT, "zmq_connect");
        if (!sym)
            return -1;
        memcpy (&real, &sym, sizeof real);
    }
    int rc = real (socket, endpoint);
    const char *ms = getenv ("ZS_SLOW_CONNECT_MS");
    long delay = ms ? strtol (ms, NULL, 10) : 0;
    if (delay > 0) {
        struct timespec ts = {delay / 1000, (delay % 1000) * 1000000L};
        nanosleep (&ts, NULL);
    }
    return rc;
}
