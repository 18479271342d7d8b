/*  zs_bus.c - reading the broker's results-out record by record.  */
#include "zs_bus.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

void zs_bus_reader_init (zs_bus_reader_t *r, void *sub)
{
    memset (r, 0, sizeof *r);
    r->sub = sub;
}

void zs_bus_reader_close (zs_bus_reader_t *r)
{
    if (r->has_body) {
        zmq_msg_close (&r->body);
        r->has_body = false;
    }
}

/*  Reads one whole message and takes its body in hand.  1, 0 (nothing
    came) or -1 (malformed: dropped, every frame read). */
static int s_next_message (zs_bus_reader_t *r, int flags, char *err,
                           size_t errlen)
{
    zmq_msg_t parts[3];
    int n = 0, more = 1;
    while (more) {
        zmq_msg_t part;
        zmq_msg_init (&part);
        /* the frames of a message arrive together: only the first waits */
        if (zmq_msg_recv (&part, r->sub, n ? ZMQ_DONTWAIT : flags) < 0) {
            zmq_msg_close (&part);
            if (n == 0)
                return 0;
            break;
        }
        more = zmq_msg_more (&part);
        if (n < 3) {
            zmq_msg_init (&parts[n]);
            zmq_msg_move (&parts[n], &part);
        }
        n++;
        zmq_msg_close (&part);
    }
    int kept = n < 3 ? n : 3, rc = -1;
    size_t tlen = kept > 0 ? zmq_msg_size (&parts[0]) : 0;
    if (n != 3)
        snprintf (err, errlen, "a message of %d frames (want topic, seq, "
                  "body)", n);
    else if (tlen >= sizeof r->topic
             || zs_topic_parse (zmq_msg_data (&parts[0]), tlen, r->scan,
                                &r->kind)
                    != 0)
        snprintf (err, errlen, "not a results topic");
    else if (zs_seq_decode (zmq_msg_data (&parts[1]),
                            zmq_msg_size (&parts[1]), &r->seq)
             != 0)
        snprintf (err, errlen, "the seq frame is not one msgpack uint");
    else if (zs_recs_init (&r->recs, zmq_msg_data (&parts[2]),
                           zmq_msg_size (&parts[2]), err, errlen)
             > 0) {
        memcpy (r->topic, zmq_msg_data (&parts[0]), tlen);
        r->topic[tlen] = 0;
        zmq_msg_init (&r->body);
        zmq_msg_move (&r->body, &parts[2]);
        r->has_body = true;
        r->messages++;
        rc = 1;
    }
    for (int i = 0; i < kept; i++)
        zmq_msg_close (&parts[i]);
    if (rc < 0)
        r->bad++;
    return rc;
}

int zs_bus_reader_next (zs_bus_reader_t *r, int flags, zs_bus_rec_t *rec,
                        char *err, size_t errlen)
{
    for (;;) {
        if (r->has_body) {
            int rc = zs_recs_next (&r->recs, &rec->data, &rec->size, err,
                                   errlen);
            if (rc > 0) {
                rec->topic = r->topic;
                rec->scan = r->scan;
                rec->kind = r->kind;
                rec->seq = r->seq++;
                return 1;
            }
            zs_bus_reader_close (r);
            if (rc < 0) {
                r->bad++;
                return -1;
            }
        }
        int got = s_next_message (r, flags, err, errlen);
        if (got <= 0)
            return got;
    }
}
