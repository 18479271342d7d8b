/*  zs_bshared.c - what the broker's roles share, beneath all of them:
    finding a worker's lane, releasing a task that leaves flight, naming
    the peer a message came from, and rate-limiting complaints about
    peers.  It calls no role: the forwarder, the work and a scan's life
    use it without using each other through it. */
#include "zs_broker_int.h"

#include <stdio.h>

/* ---------------------------------------------------------------------- */
/*  Lanes and tasks                                                        */

zs_blane_t *zs_shared_lane_find (zs_broker_t *self, const char *worker,
                                 uint32_t lane)
{
    char key[ZS_WORKER_ID_MAX + 16];
    snprintf (key, sizeof key, "%s/%u", worker, lane);
    return (zs_blane_t *) zhashx_lookup (self->lanes, key);
}

void zs_shared_task_release (zs_broker_t *self, zs_btask_t *task)
{
    zs_idmap_remove (self->tasks_by_id, task->id);
    zs_blane_t *lane = (zs_blane_t *) task->lane;
    if (lane && lane->holding)
        lane->holding--;
    if (task->state == ZS_TASK_STARTED && task->scan->busy)
        task->scan->busy--;
    task->lane = NULL;
}

/* ---------------------------------------------------------------------- */
/*  Peers: a flood of garbage must not flood the logs                      */

bool zs_shared_may_complain (zs_broker_t *self)
{
    int64_t now = zs_clock_us ();
    if (now - self->log_window_us > 1000000) {
        self->log_window_us = now;
        self->log_budget = 20;
    }
    self->bad_messages++;
    return self->log_budget-- > 0;
}

void zs_shared_peer (zmq_msg_t *msg, char *buf, size_t cap)
{
    const char *addr = zmq_msg_gets (msg, "Peer-Address");
    snprintf (buf, cap, "%s", addr ? addr : "?");
}
