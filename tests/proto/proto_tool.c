/*  proto_tool.c - the C side of the cross-language check.
      zs_proto_tool list                 names of every message type
      zs_proto_tool encode NAME full|min the sample's encoding on stdout
      zs_proto_tool decode NAME          decodes stdin with NAME's decoder;
                                         prints its re-encoding on stdout,
                                         or the reason on stderr (exit 1)
      zs_proto_tool batch NAME           reads stdin as a results body (one
                                         record or an array of them), decodes
                                         each with NAME's decoder, prints the
                                         re-encodings as one array */
#include "samples.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const zs_sample_t *s_find (const char *name)
{
    for (const zs_sample_t *s = zs_samples; s->name; s++)
        if (strcmp (s->name, name) == 0)
            return s;
    return NULL;
}

int main (int argc, char **argv)
{
    if (argc == 2 && strcmp (argv[1], "list") == 0) {
        for (const zs_sample_t *s = zs_samples; s->name; s++)
            printf ("%s %s\n", s->name, zs_msg_type_name (s->type));
        return 0;
    }
    const zs_sample_t *s = argc >= 3 ? s_find (argv[2]) : NULL;
    char err[512];
    zs_buf_t out = {0};
    int rc = 2;
    if (s && argc == 4 && strcmp (argv[1], "encode") == 0) {
        rc = s->encode_sample (strcmp (argv[3], "full") == 0, &out, err,
                               sizeof err);
    }
    else if (s && argc == 3
             && (strcmp (argv[1], "decode") == 0
                 || strcmp (argv[1], "batch") == 0)) {
        size_t cap = 1 << 16, n = 0;
        char *in = (char *) malloc (cap);
        size_t got;
        while (in && (got = fread (in + n, 1, cap - n, stdin)) > 0) {
            n += got;
            if (n == cap) {
                char *p = (char *) realloc (in, cap *= 2);
                if (!p)
                    break;
                in = p;
            }
        }
        if (!in)
            rc = -1;
        else if (strcmp (argv[1], "decode") == 0)
            rc = s->reencode (in, n, &out, err, sizeof err);
        else {
            zs_recs_t it;
            const void *rec;
            size_t len;
            int count = zs_recs_init (&it, in, n, err, sizeof err);
            rc = count < 0 ? -1 : 0;
            if (count > 0) {
                unsigned char h[8];
                zs_buf_append (&out, h, zs_recs_header ((uint32_t) count, h));
            }
            int step;
            while (rc == 0
                   && (step = zs_recs_next (&it, &rec, &len, err, sizeof err))
                          != 0)
                rc = step < 0 ? -1
                             : s->reencode (rec, len, &out, err, sizeof err);
        }
        free (in);
    }
    else {
        fprintf (stderr, "usage: zs_proto_tool list | encode NAME full|min | "
                         "decode NAME | batch NAME\n");
        return 2;
    }
    if (rc != 0) {
        fprintf (stderr, "%s\n", err);
        zs_buf_free (&out);
        return 1;
    }
    fwrite (out.data, 1, out.size, stdout);
    zs_buf_free (&out);
    return 0;
}
