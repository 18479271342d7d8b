/*  zs_csv.c - one symbol's daily bars from a CSV file as common exports
    write them: Date,Open,High,Low,Close,Volume with an optional (unused)
    "Adj Close", columns in any order, header in any case, quoted fields,
    CRLF line ends, ascending or descending dates.  Any bad row fails the
    whole file with a reason naming the file and the line. */
#include "zs_bars.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_FIELDS 16
#define MAX_LINE 4096

/*  Splits line into fields (quotes removed, "" inside quotes = one quote).
    Returns the number of fields, or -1 for a field over the limit. */
static int s_split (char *line, char **fields, int max)
{
    int n = 0;
    char *p = line;
    for (;;) {
        if (n == max)
            return -1;
        char *out = p;
        fields[n++] = out;
        if (*p == '"') {
            p++;
            for (;;) {
                if (*p == 0)
                    break;
                if (*p == '"') {
                    if (p[1] == '"') {
                        *out++ = '"';
                        p += 2;
                        continue;
                    }
                    p++;
                    break;
                }
                *out++ = *p++;
            }
            while (*p && *p != ',')
                p++; /* anything after the closing quote is ignored */
        }
        else {
            while (*p && *p != ',')
                *out++ = *p++;
        }
        char sep = *p;
        *out = 0;
        if (sep != ',')
            break;
        p++;
    }
    return n;
}

static void s_trim (char *s)
{
    size_t len = strlen (s);
    while (len && isspace ((unsigned char) s[len - 1]))
        s[--len] = 0;
    size_t k = 0;
    while (s[k] && isspace ((unsigned char) s[k]))
        k++;
    if (k)
        memmove (s, s + k, len - k + 1);
}

static int s_number (const char *s, double *v)
{
    if (!*s)
        return -1;
    char *end = NULL;
    errno = 0;
    *v = strtod (s, &end);
    if (errno || *end || !isfinite (*v))
        return -1;
    return 0;
}

static const char *s_base (const char *path)
{
    const char *slash = strrchr (path, '/');
    return slash ? slash + 1 : path;
}

zs_bars_t *zs_csv_load (const char *path, char *err, size_t errlen)
{
    FILE *f = fopen (path, "rb");
    if (!f) {
        snprintf (err, errlen, "%s: %s", path, strerror (errno));
        return NULL;
    }
    static const char *want[6] = {"date", "open", "high", "low", "close",
                                  "volume"};
    int col[6] = {-1, -1, -1, -1, -1, -1};
    char line[MAX_LINE];
    size_t lineno = 0, cap = 0, n = 0;
    double *v[5] = {NULL, NULL, NULL, NULL, NULL};
    char *dates = NULL;
    int ncols = 0;
    bool ok = true, header = false;
    while (ok && fgets (line, sizeof line, f)) {
        lineno++;
        size_t len = strlen (line);
        if (len == sizeof line - 1 && line[len - 1] != '\n') {
            snprintf (err, errlen, "%s:%zu: line too long", s_base (path),
                      lineno);
            ok = false;
            break;
        }
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = 0;
        if (lineno == 1 && (unsigned char) line[0] == 0xef
            && (unsigned char) line[1] == 0xbb
            && (unsigned char) line[2] == 0xbf)
            memmove (line, line + 3, len - 2); /* UTF-8 byte order mark */
        char *fields[MAX_FIELDS];
        char probe[MAX_LINE];
        snprintf (probe, sizeof probe, "%s", line);
        s_trim (probe);
        if (!probe[0])
            continue; /* blank line */
        int nf = s_split (line, fields, MAX_FIELDS);
        if (nf < 0) {
            snprintf (err, errlen, "%s:%zu: more than %d columns",
                      s_base (path), lineno, MAX_FIELDS);
            ok = false;
            break;
        }
        for (int i = 0; i < nf; i++)
            s_trim (fields[i]);
        if (!header) {
            for (int i = 0; i < nf; i++)
                for (int k = 0; k < 6; k++)
                    if (strcasecmp (fields[i], want[k]) == 0 && col[k] < 0)
                        col[k] = i;
            for (int k = 0; k < 6 && ok; k++)
                if (col[k] < 0) {
                    snprintf (err, errlen,
                              "%s:%zu: header has no '%s' column (want "
                              "Date,Open,High,Low,Close,Volume)",
                              s_base (path), lineno, want[k]);
                    ok = false;
                }
            header = true;
            ncols = nf;
            continue;
        }
        if (nf < ncols) {
            snprintf (err, errlen, "%s:%zu: short row (%d of %d columns)",
                      s_base (path), lineno, nf, ncols);
            ok = false;
            break;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 256;
            for (int k = 0; k < 5; k++) {
                double *p = (double *) realloc (v[k], cap * sizeof (double));
                if (!p)
                    ok = false;
                else
                    v[k] = p;
            }
            char *d = (char *) realloc (dates, cap * ZS_DATE_SLOT);
            if (!d)
                ok = false;
            else
                dates = d;
            if (!ok) {
                snprintf (err, errlen, "%s: out of memory", s_base (path));
                break;
            }
        }
        const char *date = fields[col[0]];
        if (!*date || strlen (date) >= ZS_DATE_SLOT) {
            snprintf (err, errlen, "%s:%zu: bad date '%.40s'", s_base (path),
                      lineno, date);
            ok = false;
            break;
        }
        /* whole slot defined: stores copy slots byte for byte */
        memset (dates + n * ZS_DATE_SLOT, 0, ZS_DATE_SLOT);
        snprintf (dates + n * ZS_DATE_SLOT, ZS_DATE_SLOT, "%s", date);
        for (int k = 0; k < 5 && ok; k++) {
            if (s_number (fields[col[k + 1]], &v[k][n]) != 0) {
                snprintf (err, errlen, "%s:%zu: %s '%.40s' is not a number",
                          s_base (path), lineno, want[k + 1],
                          fields[col[k + 1]]);
                ok = false;
            }
        }
        if (!ok)
            break;
        double o = v[0][n], h = v[1][n], l = v[2][n], c = v[3][n],
               vol = v[4][n];
        if (h < l)
            snprintf (err, errlen, "%s:%zu: high %.17g is below low %.17g",
                      s_base (path), lineno, h, l), ok = false;
        else if (o > h || o < l || c > h || c < l)
            snprintf (err, errlen,
                      "%s:%zu: open/close outside the high-low range",
                      s_base (path), lineno), ok = false;
        else if (vol < 0)
            snprintf (err, errlen, "%s:%zu: negative volume", s_base (path),
                      lineno), ok = false;
        n++;
    }
    if (ok && ferror (f)) {
        snprintf (err, errlen, "%s: read error", s_base (path));
        ok = false;
    }
    fclose (f);
    if (ok && !header) {
        snprintf (err, errlen, "%s: empty file (no header)", s_base (path));
        ok = false;
    }
    if (ok && n == 0) {
        snprintf (err, errlen, "%s: no rows after the header", s_base (path));
        ok = false;
    }
    zs_bars_t *b = ok ? zs_bars_new (n) : NULL;
    if (ok && !b)
        snprintf (err, errlen, "%s: out of memory", s_base (path));
    if (b) {
        /* descending files are reversed; dates compare as text (ISO) */
        bool desc = n > 1
                    && strcmp (dates, dates + (n - 1) * ZS_DATE_SLOT) > 0;
        double *dst[5] = {b->open, b->high, b->low, b->close, b->volume};
        for (size_t i = 0; i < n; i++) {
            size_t src = desc ? n - 1 - i : i;
            for (int k = 0; k < 5; k++)
                dst[k][i] = v[k][src];
            memcpy (b->dates + i * ZS_DATE_SLOT, dates + src * ZS_DATE_SLOT,
                    ZS_DATE_SLOT);
        }
    }
    for (int k = 0; k < 5; k++)
        free (v[k]);
    free (dates);
    return b;
}
