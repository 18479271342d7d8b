/*  zs_gwmetrics.c - the gateway's own figures (see zs_gw_int.h):
    GET /metrics in Prometheus text (connections, records, drops, the
    bridge, the heap, the relay's latency), GET /health. */
#include "zs_gw_int.h"

#include <malloc.h>
#include <stdio.h>
#include <string.h>

int zs_gw_metrics (zs_gateway_t *self, zs_gw_pss_t *pss)
{
    zs_bridge_stats_t bs;
    zs_bridge_stats (self->bridge, &bs);
    zs_logset_stats_t ls;
    zs_logset_lock (self->logs);
    zs_logset_stats (self->logs, &ls);
    zs_logset_unlock (self->logs);
    zs_buf_t *b = &self->tmp;
    zs_buf_reset (b);
    char line[256];
#define M(fmt, ...)                                                            \
    do {                                                                       \
        snprintf (line, sizeof line, fmt "\n", __VA_ARGS__);                   \
        zs_gw_buf_lit (b, line);                                               \
    } while (0)
    M ("# TYPE zscan_gateway_uptime_seconds gauge\n"
       "zscan_gateway_uptime_seconds %.3f",
       zs_wall () - self->started_at);
    zs_gw_buf_lit (b, "# HELP zscan_gateway_connections Open connections by "
                      "kind.\n# TYPE zscan_gateway_connections gauge\n");
    for (int k = K_WS; k <= K_EXPORT; k++)
        M ("zscan_gateway_connections{kind=\"%s\"} %llu", zs_gw_kind_names[k],
           (unsigned long long) self->m.conns[k]);
    zs_gw_buf_lit (b, "# TYPE zscan_gateway_connections_total counter\n");
    for (int k = K_REST; k <= K_EXPORT; k++)
        M ("zscan_gateway_connections_total{kind=\"%s\"} %llu",
           zs_gw_kind_names[k], (unsigned long long) self->m.opened[k]);
    M ("# TYPE zscan_gateway_records_sent_total counter\n"
       "zscan_gateway_records_sent_total %llu",
       (unsigned long long) self->m.records_sent);
    M ("# TYPE zscan_gateway_bytes_sent_total counter\n"
       "zscan_gateway_bytes_sent_total %llu",
       (unsigned long long) self->m.bytes_sent);
    M ("# TYPE zscan_gateway_frames_sent_total counter\n"
       "zscan_gateway_frames_sent_total %llu",
       (unsigned long long) self->m.frames_sent);
    M ("# TYPE zscan_gateway_writes_buffered_total counter\n"
       "zscan_gateway_writes_buffered_total %llu",
       (unsigned long long) self->m.writes_buffered);
    zs_gw_buf_lit (b, "# TYPE zscan_gateway_clients_dropped_total counter\n");
    M ("zscan_gateway_clients_dropped_total{reason=\"behind\"} %llu",
       (unsigned long long) self->m.dropped_behind);
    M ("zscan_gateway_clients_dropped_total{reason=\"evicted\"} %llu",
       (unsigned long long) self->m.dropped_evicted);
    M ("zscan_gateway_clients_dropped_total{reason=\"stalled\"} %llu",
       (unsigned long long) self->m.dropped_stall);
    static const char *codes[] = {"400", "401", "404", "405", "413", "other"};
    zs_gw_buf_lit (b, "# TYPE zscan_gateway_requests_rejected_total counter\n");
    for (int k = 0; k < 6; k++)
        M ("zscan_gateway_requests_rejected_total{code=\"%s\"} %llu", codes[k],
           (unsigned long long) self->m.rejected[k]);
    M ("# TYPE zscan_gateway_files_served_total counter\n"
       "zscan_gateway_files_served_total %llu",
       (unsigned long long) self->m.files);
    M ("# TYPE zscan_gateway_bad_frames_total counter\n"
       "zscan_gateway_bad_frames_total %llu",
       (unsigned long long) self->m.bad_frames);
    M ("# TYPE zscan_gateway_log_bytes gauge\nzscan_gateway_log_bytes %zu",
       ls.bytes);
    M ("# TYPE zscan_gateway_log_scans gauge\nzscan_gateway_log_scans %zu",
       ls.logs);
    M ("# TYPE zscan_gateway_stream_buffer_bytes gauge\n"
       "zscan_gateway_stream_buffer_bytes %zu",
       self->m.wbuf_bytes);
    /* the process's heap as malloc sees it: held by live allocations,
       free inside the heap (fragments it cannot give back), and mapped
       on its own (large blocks) */
    struct mallinfo2 mi = mallinfo2 ();
    zs_gw_buf_lit (b, "# TYPE zscan_gateway_heap_bytes gauge\n");
    M ("zscan_gateway_heap_bytes{state=\"in_use\"} %zu", mi.uordblks);
    M ("zscan_gateway_heap_bytes{state=\"free\"} %zu", mi.fordblks);
    M ("zscan_gateway_heap_bytes{state=\"mapped\"} %zu", mi.hblkhd);
    M ("# TYPE zscan_bus_records_total counter\nzscan_bus_records_total "
       "%llu",
       (unsigned long long) bs.records);
    M ("# TYPE zscan_bus_results_total counter\nzscan_bus_results_total "
       "%llu",
       (unsigned long long) bs.results);
    M ("# TYPE zscan_bus_signals_total counter\nzscan_bus_signals_total "
       "%llu",
       (unsigned long long) bs.signals);
    M ("# TYPE zscan_scans_started_total counter\n"
       "zscan_scans_started_total %llu",
       (unsigned long long) bs.started);
    M ("# TYPE zscan_scans_finished_total counter\n"
       "zscan_scans_finished_total %llu",
       (unsigned long long) bs.finished);
    M ("# TYPE zscan_bus_gaps_total counter\nzscan_bus_gaps_total %llu",
       (unsigned long long) bs.bus.gaps);
    M ("# TYPE zscan_bus_replayed_records_total counter\n"
       "zscan_bus_replayed_records_total %llu",
       (unsigned long long) bs.bus.replayed);
    M ("# TYPE zscan_bus_lost_records_total counter\n"
       "zscan_bus_lost_records_total %llu",
       (unsigned long long) bs.bus.lost);
    M ("# TYPE zscan_bus_bad_records_total counter\n"
       "zscan_bus_bad_records_total %llu",
       (unsigned long long) (bs.bad + bs.bus.bad));
    M ("# TYPE zscan_broker_up gauge\nzscan_broker_up %d",
       bs.broker_ok ? 1 : 0);
    zs_gw_buf_lit (b, "# HELP zscan_gateway_relay_seconds From the gateway "
                      "receiving a record to writing it to a client.\n"
                      "# TYPE zscan_gateway_relay_seconds histogram\n");
    static const char *le[] = {"0.0001", "0.00025", "0.0005", "0.001", "0.0025",
                               "0.005",  "0.01",    "0.05",   "+Inf"};
    uint64_t cum = 0;
    for (int k = 0; k < 9; k++) {
        cum += self->m.latency[k];
        M ("zscan_gateway_relay_seconds_bucket{le=\"%s\"} %llu", le[k],
           (unsigned long long) cum);
    }
    M ("zscan_gateway_relay_seconds_count %llu", (unsigned long long) cum);
#undef M
    return zs_gw_answer (self, pss, 200, "text/plain; version=0.0.4", b);
}

int zs_gw_health (zs_gateway_t *self, zs_gw_pss_t *pss)
{
    zs_bridge_stats_t bs;
    zs_bridge_stats (self->bridge, &bs);
    char b[512];
    snprintf (b, sizeof b,
              "{\"status\":\"%s\",\"version\":\"%s\",\"uptime\":%.3f,"
              "\"broker\":{\"reachable\":%s,\"instance\":\"%s\","
              "\"silent_s\":%.3f}}\n",
              bs.broker_ok ? "ok" : "broker unreachable", ZS_VERSION,
              zs_wall () - self->started_at, bs.broker_ok ? "true" : "false",
              bs.broker, bs.broker_silent_s);
    zs_buf_reset (&self->tmp);
    zs_gw_buf_lit (&self->tmp, b);
    return zs_gw_answer (self, pss, bs.broker_ok ? 200 : 503,
                         "application/json", &self->tmp);
}
