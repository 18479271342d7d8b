/*  make_corpus.c - writes every sample encoding (full and minimal) into a
    directory: the fuzzers' seed corpus.  Usage: make_corpus DIR */
#include "samples.h"

#include <stdio.h>

int main (int argc, char **argv)
{
    if (argc != 2) {
        fprintf (stderr, "usage: make_corpus DIR\n");
        return 2;
    }
    for (const zs_sample_t *s = zs_samples; s->name; s++)
        for (int full = 0; full < 2; full++) {
            zs_buf_t buf = {0};
            char err[256], path[4096];
            if (s->encode_sample (full, &buf, err, sizeof err) != 0) {
                fprintf (stderr, "%s: %s\n", s->name, err);
                return 1;
            }
            snprintf (path, sizeof path, "%s/%s-%s", argv[1], s->name,
                      full ? "full" : "min");
            FILE *f = fopen (path, "wb");
            if (!f || fwrite (buf.data, 1, buf.size, f) != buf.size) {
                fprintf (stderr, "cannot write %s\n", path);
                return 1;
            }
            fclose (f);
            zs_buf_free (&buf);
        }
    return 0;
}
