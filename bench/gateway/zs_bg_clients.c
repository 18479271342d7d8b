/*  zs_bg_clients.c - the gateway bench's clients by hand: HTTP requests,
    WebSocket and SSE streams (many at once, read with epoll on one
    thread, frames parsed as they come), and the tap on results-out that
    notes when each record left the broker, for the relay's latency.
*/
#include "zs_bg.h"
#include "zs_bus.h"
#include "zs_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

double bg_now (void)
{
    return (double) zs_clock_us () / 1e6;
}

/* ---------------------------------------------------------------------- */
/*  HTTP and WebSocket clients by hand                                     */

/*  The source address for the next connection: 127.0.0.1, or 127.0.0.N
    (N > 1: many connections to one port need more than one source
    address's ephemeral ports). */
int bg_source = 1;

int bg_connect (int port)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    if (fd >= 0 && bg_source > 1) {
        int one = 1;
        /* the port is chosen at connect, per 4-tuple */
        setsockopt (fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
        struct sockaddr_in src = {0};
        src.sin_family = AF_INET;
        src.sin_addr.s_addr = htonl (0x7f000000u | (uint32_t) bg_source);
        if (bind (fd, (struct sockaddr *) &src, sizeof src) != 0) {
            close (fd);
            return -1;
        }
    }
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons ((uint16_t) port);
    a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    if (fd < 0 || connect (fd, (struct sockaddr *) &a, sizeof a) != 0) {
        if (fd >= 0)
            close (fd);
        return -1;
    }
    int one = 1;
    setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

/*  One HTTP request; the body of the answer into out (cap bytes).
    Returns the status, or -1. */
int bg_http (int port, const char *method, const char *path, const char *body,
             char *out, size_t cap)
{
    int fd = bg_connect (port);
    if (fd < 0)
        return -1;
    char req[2048];
    int n = snprintf (req, sizeof req,
                      "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: "
                      "close\r\nContent-Type: application/json\r\n"
                      "Content-Length: %zu\r\n\r\n%s",
                      method, path, body ? strlen (body) : 0, body ? body : "");
    if (write (fd, req, (size_t) n) != n) {
        close (fd);
        return -1;
    }
    size_t got = 0;
    ssize_t r;
    char buf[65536];
    while ((r = read (fd, buf + got, sizeof buf - 1 - got)) > 0)
        got += (size_t) r;
    close (fd);
    buf[got] = 0;
    int status = -1;
    sscanf (buf, "HTTP/1.%*d %d", &status);
    const char *b = strstr (buf, "\r\n\r\n");
    snprintf (out, cap, "%s", b ? b + 4 : "");
    return status;
}

int bg_cmp (const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

/* ---------------------------------------------------------------------- */
/*  Relay latency: a tap of the bench's own on results-out notes when each
    position of the scan reached it (when the gateway's SUB got it too, to
    within two sockets' wake-ups); sampled WebSocket clients note when
    each record reached them.  One scan at a time in the tapped cluster. */

static bg_tap_t *s_tap;

static void *s_tap_run (void *arg)
{
    bg_tap_t *tap = (bg_tap_t *) arg;
    zs_bus_reader_t r;
    zs_bus_reader_init (&r, tap->sub);
    while (!atomic_load (&tap->stop)) {
        zs_bus_rec_t rec;
        char err[256];
        if (zs_bus_reader_next (&r, 0, &rec, err, sizeof err) == 1
            && rec.pos < tap->n)
            atomic_store (&tap->t_us[rec.pos], (uint64_t) zs_clock_us ());
    }
    zs_bus_reader_close (&r);
    return NULL;
}

int bg_tap_start (bg_tap_t *tap, int base, size_t n)
{
    memset (tap, 0, sizeof *tap);
    tap->n = n + 1;
    tap->t_us = calloc (tap->n, sizeof *tap->t_us);
    tap->ctx = zmq_ctx_new ();
    tap->sub = zmq_socket (tap->ctx, ZMQ_SUB);
    char ep[64];
    snprintf (ep, sizeof ep, "tcp://127.0.0.1:%d", base + 5);
    int timeo = 100, zero = 0, hwm = 0;
    zmq_setsockopt (tap->sub, ZMQ_RCVTIMEO, &timeo, sizeof timeo);
    zmq_setsockopt (tap->sub, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt (tap->sub, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt (tap->sub, ZMQ_SUBSCRIBE, "", 0);
    if (!tap->t_us || zmq_connect (tap->sub, ep) != 0)
        return -1;
    usleep (300000); /* the subscription reaches the broker */
    s_tap = tap;
    return pthread_create (&tap->thread, NULL, s_tap_run, tap);
}

void bg_tap_stop (bg_tap_t *tap)
{
    atomic_store (&tap->stop, true);
    pthread_join (tap->thread, NULL);
    zmq_close (tap->sub);
    zmq_ctx_term (tap->ctx);
    free (tap->t_us);
    s_tap = NULL;
}

/*  A sampled client's frame: each record's "seq", its latency from the
    tap (records the tap has not seen yet count as 0). */
static void s_ws_sample (bg_ws_t *c, const char *p, uint64_t len)
{
    uint64_t now = (uint64_t) zs_clock_us ();
    const char *end = p + len;
    while (p < end) {
        const char *q = memmem (p, (size_t) (end - p), "\"seq\":", 6);
        if (!q)
            break;
        uint64_t pos = strtoull (q + 6, NULL, 10);
        if (pos < s_tap->n) {
            uint64_t t = atomic_load (&s_tap->t_us[pos]);
            if (c->nlat == c->lcap) {
                c->lcap = c->lcap ? c->lcap * 2 : 4096;
                c->lat = realloc (c->lat, c->lcap * sizeof *c->lat);
            }
            c->lat[c->nlat++] = t && now > t ? (double) (now - t) / 1e3 : 0;
        }
        p = q + 6;
    }
}

/*  A GET of path with the extra headers, the socket left non-blocking
    (its answer is read by the caller's loop); -1 when it fails. */
static int s_get_open (int port, const char *path, const char *headers)
{
    int fd = bg_connect (port);
    if (fd < 0)
        return -1;
    char req[512];
    int n = snprintf (req, sizeof req,
                      "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\n", path,
                      headers);
    if (n < 0 || (size_t) n >= sizeof req || write (fd, req, (size_t) n) != n) {
        close (fd);
        return -1;
    }
    fcntl (fd, F_SETFL, fcntl (fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

int bg_ws_open (int port, const char *path)
{
    return s_get_open (port, path,
                       "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                       "Sec-WebSocket-Version: 13\r\n");
}

/*  An SSE stream of path, left unread (idle). */
int bg_sse_open (int port, const char *path)
{
    return s_get_open (port, path, "Accept: text/event-stream\r\n");
}

/*  Reads (and drops) what n idle clients were sent, without waiting: as
    a dashboard watching a quiet scan reads its few records.  A client
    that never reads is a slow client, whose unsent records the gateway
    holds up to its bound (--max-behind), not an idle one. */
void bg_drain (const bg_ws_t *cl, int n)
{
    char buf[16384];
    for (int i = 0; i < n; i++)
        while (cl[i].fd >= 0
               && recv (cl[i].fd, buf, sizeof buf, MSG_DONTWAIT) > 0)
            ;
}

/*  Consumes what c->buf holds: the handshake, then frames.  A frame's
    records are its lines; done when one says "complete" (zscan) or when
    `want` records came (nchan: 0 = zscan mode). */
static void s_ws_parse (bg_ws_t *c, uint64_t want)
{
    size_t off = 0;
    if (!c->upgraded) {
        char *end = memmem (c->buf, c->len, "\r\n\r\n", 4);
        if (!end)
            return;
        c->upgraded = true;
        off = (size_t) (end - c->buf) + 4;
    }
    while (c->len - off >= 2) {
        unsigned char *h = (unsigned char *) c->buf + off;
        uint64_t plen = h[1] & 0x7f;
        size_t hl = 2;
        if (plen == 126) {
            if (c->len - off < 4)
                break;
            plen = (uint64_t) h[2] << 8 | h[3];
            hl = 4;
        } else if (plen == 127) {
            if (c->len - off < 10)
                break;
            plen = 0;
            for (int i = 0; i < 8; i++)
                plen = plen << 8 | h[2 + i];
            hl = 10;
        }
        if (c->len - off < hl + plen)
            break;
        int op = h[0] & 0x0f;
        const char *p = (const char *) h + hl;
        if (op == 1 || op == 2) {
            uint64_t recs = 1;
            for (uint64_t i = 0; i < plen; i++)
                if (p[i] == '\n')
                    recs++;
            if (!c->records)
                c->first_at = bg_now ();
            if (c->lat && s_tap)
                s_ws_sample (c, p, plen);
            c->records += recs;
            if (want ? c->records >= want
                     : memmem (p, plen, "\"type\":\"complete\"", 17) != NULL)
                c->done = true;
        } else if (op == 8)
            c->done = true;
        off += hl + plen;
    }
    memmove (c->buf, c->buf + off, c->len - off);
    c->len -= off;
}

/*  Reads every client until each is done, or nothing came for idle
    seconds (0: no such limit), or timeout; returns the time the last
    record came, -1 when the timeout hit. */
double bg_ws_run (bg_ws_t *cl, int n, uint64_t want, double timeout)
{
    return bg_ws_run_idle (cl, n, want, timeout, 0);
}

double bg_ws_run_idle (bg_ws_t *cl, int n, uint64_t want, double timeout,
                       double idle)
{
    int ep = epoll_create1 (0);
    for (int i = 0; i < n; i++) {
        struct epoll_event ev = {EPOLLIN, {.u32 = (uint32_t) i}};
        epoll_ctl (ep, EPOLL_CTL_ADD, cl[i].fd, &ev);
    }
    int left = 0;
    for (int i = 0; i < n; i++)
        left += !cl[i].done;
    double end = bg_now () + timeout, last = bg_now ();
    struct epoll_event evs[256];
    while (left > 0 && bg_now () < end) {
        if (idle > 0 && bg_now () - last > idle) {
            left = 0; /* what will not come is not delivered */
            break;
        }
        int k = epoll_wait (ep, evs, 256, 100);
        for (int j = 0; j < k; j++) {
            bg_ws_t *c = &cl[evs[j].data.u32];
            for (;;) {
                if (c->cap - c->len < 65536) {
                    c->cap = c->cap ? c->cap * 2 : 262144;
                    c->buf = realloc (c->buf, c->cap);
                }
                ssize_t r = read (c->fd, c->buf + c->len, c->cap - c->len);
                if (r <= 0) {
                    if (r == 0 && !c->done) {
                        c->done = true;
                        left--;
                    }
                    break;
                }
                c->len += (size_t) r;
                last = bg_now ();
                bool was = c->done;
                s_ws_parse (c, want);
                if (c->done && !was) {
                    left--;
                    last = bg_now ();
                    epoll_ctl (ep, EPOLL_CTL_DEL, c->fd, NULL);
                    break;
                }
            }
        }
    }
    close (ep);
    return left ? -1 : last;
}

void bg_ws_close_all (bg_ws_t *cl, int n)
{
    for (int i = 0; i < n; i++) {
        if (cl[i].fd >= 0)
            close (cl[i].fd);
        free (cl[i].buf);
        free (cl[i].lat);
    }
}
