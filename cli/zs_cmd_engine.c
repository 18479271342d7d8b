/*  zs_cmd_engine.c - zscan indicators.  */
#include "zs_cmd_engine.h"
#include "zs_bars.h"
#include "zs_cli.h"
#include "zs_import.h"
#include "zs_store.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

enum {
    C_SMA20, C_SMA50, C_SMA200, C_EMA12, C_EMA26, C_RSI14, C_MACD, C_MSIG,
    C_MHIST, C_BBL, C_BBM, C_BBU, C_ATR14, C_ROC10, C_H252, C_L252, C_AV20,
    C_COUNT
};

static void s_num (FILE *out, double v)
{
    if (isnan (v))
        fputc (',', out);
    else
        fprintf (out, ",%.17g", v);
}

int zs_cmd_indicators (int argc, char **argv)
{
    char *data = NULL;
    zs_opt_t opts[] = {
        {"data", 'd', ZS_OPT_STR, "synthetic:", "URI",
         "data source (synthetic:, csv:DIR, store:FILE)", &data},
        {NULL, 0, 0, NULL, NULL, NULL, NULL}};
    int first = 0, code = 0;
    if (!zs_cli_parse ("indicators", "[--data SOURCE] SYMBOL",
                       "Prints every bar of SYMBOL with every indicator as "
                       "CSV (empty where undefined;\nnumbers round-trip with "
                       "17 significant digits), to check a scan against\n"
                       "your charting tool.  Definitions: docs/indicators.md.",
                       opts, argc, argv, &first, &code)) {
        zs_config_free (opts);
        return code;
    }
    if (first != argc - 1) {
        fprintf (stderr, "zscan indicators: give one SYMBOL (see --help)\n");
        zs_config_free (opts);
        return 2;
    }
    const char *symbol = argv[first];
    char err[1024];
    zs_source_t *src = zs_source_open (data, 0, err, sizeof err);
    if (!src) {
        fprintf (stderr, "zscan indicators: %s\n", err);
        zs_config_free (opts);
        return 1;
    }
    zs_bars_ref_t ref;
    if (zs_source_load (src, symbol, &ref, err, sizeof err) != 0) {
        fprintf (stderr, "zscan indicators: %s\n", err);
        zs_source_destroy (&src);
        zs_config_free (opts);
        return 1;
    }
    const zs_bars_t *b = ref.bars;
    size_t n = b->n;
    double *col[C_COUNT];
    bool ok = true;
    for (int c = 0; c < C_COUNT; c++)
        ok &= (col[c] = (double *) malloc ((n ? n : 1) * sizeof (double)))
              != NULL;
    if (ok) {
        zs_ind_sma (b->close, n, 20, col[C_SMA20]);
        zs_ind_sma (b->close, n, 50, col[C_SMA50]);
        zs_ind_sma (b->close, n, 200, col[C_SMA200]);
        zs_ind_ema (b->close, n, 12, col[C_EMA12]);
        zs_ind_ema (b->close, n, 26, col[C_EMA26]);
        zs_ind_rsi (b->close, n, 14, col[C_RSI14]);
        zs_ind_macd (b->close, n, 12, 26, 9, col[C_MACD], col[C_MSIG],
                     col[C_MHIST]);
        zs_ind_bbands (b->close, n, 20, 2, col[C_BBL], col[C_BBM],
                       col[C_BBU]);
        zs_ind_atr (b, 14, col[C_ATR14]);
        zs_ind_roc (b->close, n, 10, col[C_ROC10]);
        zs_ind_highest (b->high, n, 252, col[C_H252]);
        zs_ind_lowest (b->low, n, 252, col[C_L252]);
        zs_ind_sma (b->volume, n, 20, col[C_AV20]);
        printf ("date,open,high,low,close,volume,sma20,sma50,sma200,ema12,"
                "ema26,rsi14,macd,macd_signal,macd_hist,bb_lower,bb_middle,"
                "bb_upper,atr14,roc10,high252,low252,avgvol20\n");
        for (size_t i = 0; i < n; i++) {
            fputs (zs_bars_date (b, i), stdout);
            s_num (stdout, b->open[i]);
            s_num (stdout, b->high[i]);
            s_num (stdout, b->low[i]);
            s_num (stdout, b->close[i]);
            s_num (stdout, b->volume[i]);
            for (int c = 0; c < C_COUNT; c++)
                s_num (stdout, col[c][i]);
            fputc ('\n', stdout);
        }
    }
    else {
        fprintf (stderr, "zscan indicators: out of memory\n");
        code = 1;
    }
    for (int c = 0; c < C_COUNT; c++)
        free (ok || col[c] ? col[c] : NULL);
    zs_bars_release (&ref);
    zs_source_destroy (&src);
    zs_config_free (opts);
    if (fflush (stdout) != 0)
        code = 1;
    return code;
}

int zs_cmd_import (int argc, char **argv)
{
    bool skip_bad = false;
    zs_opt_t opts[] = {
        {"skip-bad", 0, ZS_OPT_BOOL, "false", NULL,
         "leave malformed files out (with a warning) instead of failing",
         &skip_bad},
        {NULL, 0, 0, NULL, NULL, NULL, NULL}};
    int first = 0, code = 0;
    if (!zs_cli_parse ("import", "[--skip-bad] CSVDIR STORE",
                       "Builds the binary store workers memory-map "
                       "(data source store:STORE) from every\nSYMBOL.csv "
                       "in CSVDIR.  The store is written to a temporary "
                       "file and renamed\ninto place, so readers never see "
                       "half of one.",
                       opts, argc, argv, &first, &code)) {
        zs_config_free (opts);
        return code;
    }
    if (first != argc - 2) {
        fprintf (stderr, "zscan import: give CSVDIR and STORE (see --help)\n");
        zs_config_free (opts);
        return 2;
    }
    char err[1024];
    long n = zs_store_import (argv[first], argv[first + 1], skip_bad, err,
                              sizeof err);
    if (n < 0) {
        fprintf (stderr, "zscan import: %s\n", err);
        code = 1;
    }
    else
        printf ("%ld symbols written to %s\n", n, argv[first + 1]);
    zs_config_free (opts);
    return code;
}
