/*  zs_scan.c - compiled scans: the filter expression language, the
    built-in strategies (each is an expression plus a score), and the
    scanner that runs one over symbols.

    Grammar (keywords and names are case-insensitive):
        expr    := or
        or      := and ("or" and)*
        and     := not ("and" not)*
        not     := "not" not | cmp
        cmp     := sum (("<" | "<=" | ">" | ">=" | "==" | "!=") sum)?
        sum     := product (("+" | "-") product)*
        product := unary (("*" | "/") unary)*
        unary   := "-" unary | primary
        primary := NUMBER | "(" expr ")" | NAME | NAME "(" args ")"
    Names: close open high low volume; sma(n) ema(n) rsi(n) atr(n) roc(n)
    highest(n) lowest(n) avgvol(n) volratio(n); macd macd_signal macd_hist
    (optionally (fast, slow, signal)); bb_upper(n[, k]) bb_middle(n)
    bb_lower(n[, k]); prev(x): x one bar earlier; crosses_above(a, b),
    crosses_below(a, b): a moved from <= b to > b (resp. >= to <) over the
    last two bars.  An undefined value makes every comparison false.
*/
#include "zs_kernels.h"
#include "zs_strategy.h"
#include "zs_term.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_NODES 256
#define MAX_OFFSET (ZS_TERM_DEPTH - 1)

typedef enum {
    N_NUM, N_TERM, N_NEG, N_ADD, N_SUB, N_MUL, N_DIV,
    N_LT, N_LE, N_GT, N_GE, N_EQ, N_NE,
    N_AND, N_OR, N_NOT, N_PREV, N_XABOVE, N_XBELOW
} s_op_t;

typedef struct {
    s_op_t op;
    int a, b;       /* children (node indices)                           */
    int term;       /* N_TERM                                            */
    double num;     /* N_NUM                                             */
} s_node_t;

struct zs_scan_t {
    s_node_t nodes[MAX_NODES];
    int nnodes;
    int root;
    zs_term_t terms[ZS_SCAN_MAX_VALUES];
    size_t nterms;
    size_t nshown;           /* terms reported in results (first nshown)  */
    size_t warmup;           /* bars every term needs                     */
    int lookback;            /* bars prev/crosses look back               */
    zs_score_fn *score;      /* strategy score, or NULL for filters       */
    double params[8];
};

/* ---------------------------------------------------------------------- */
/*  Parser                                                                 */

typedef struct {
    const char *src;
    const char *p;
    zs_scan_t *scan;
    char *err;
    size_t errlen;
    bool failed;
    int depth;
} s_parser_t;

static int s_error (s_parser_t *ps, const char *at, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

static int s_error (s_parser_t *ps, const char *at, const char *fmt, ...)
{
    if (ps->failed)
        return -1;
    ps->failed = true;
    char msg[256];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (msg, sizeof msg, fmt, ap);
    va_end (ap);
    snprintf (ps->err, ps->errlen, "position %d: %s",
              (int) (at - ps->src) + 1, msg);
    return -1;
}

static void s_skip_space (s_parser_t *ps)
{
    while (isspace ((unsigned char) *ps->p))
        ps->p++;
}

static int s_node (s_parser_t *ps, s_op_t op, int a, int b)
{
    zs_scan_t *s = ps->scan;
    if (s->nnodes >= MAX_NODES)
        return s_error (ps, ps->p, "expression too long");
    s_node_t *n = &s->nodes[s->nnodes];
    memset (n, 0, sizeof *n);
    n->op = op;
    n->a = a;
    n->b = b;
    return s->nnodes++;
}

/* True (and consumed) when the next word is kw. */
static bool s_keyword (s_parser_t *ps, const char *kw)
{
    s_skip_space (ps);
    size_t len = strlen (kw);
    if (strncasecmp (ps->p, kw, len) == 0
        && !isalnum ((unsigned char) ps->p[len]) && ps->p[len] != '_') {
        ps->p += len;
        return true;
    }
    return false;
}

static bool s_punct (s_parser_t *ps, const char *tok)
{
    s_skip_space (ps);
    size_t len = strlen (tok);
    if (strncmp (ps->p, tok, len) == 0) {
        ps->p += len;
        return true;
    }
    return false;
}

static int s_expr (s_parser_t *ps);

/*  Adds a term (deduplicated) and returns a node reading it. */
static int s_term_node (s_parser_t *ps, const char *at, const zs_term_t *t)
{
    zs_scan_t *s = ps->scan;
    size_t i = 0;
    while (i < s->nterms
           && !(s->terms[i].kind == t->kind && s->terms[i].p1 == t->p1
                && s->terms[i].p2 == t->p2 && s->terms[i].p3 == t->p3
                && s->terms[i].k == t->k))
        i++;
    if (i == s->nterms) {
        if (s->nterms == ZS_SCAN_MAX_VALUES)
            return s_error (ps, at, "more than %d different indicators",
                            ZS_SCAN_MAX_VALUES);
        s->terms[s->nterms++] = *t;
        size_t w = zs_term_warmup (t);
        if (w > s->warmup)
            s->warmup = w;
    }
    int n = s_node (ps, N_TERM, -1, -1);
    if (n >= 0)
        s->nodes[n].term = (int) i;
    return n;
}

/*  Reads a positive integer argument. */
static int s_int_arg (s_parser_t *ps, const char *fname, int *out)
{
    s_skip_space (ps);
    const char *at = ps->p;
    char *end = NULL;
    double v = strtod (ps->p, &end);
    if (end == ps->p || !isfinite (v))
        return s_error (ps, at, "%s wants a period (a whole number)", fname);
    if (v != (double) (int) v || v < 1 || v > 100000)
        return s_error (ps, at, "%s: period must be a whole number in "
                                "1..100000",
                        fname);
    ps->p = end;
    *out = (int) v;
    return 0;
}

static int s_num_arg (s_parser_t *ps, const char *fname, double *out)
{
    s_skip_space (ps);
    const char *at = ps->p;
    char *end = NULL;
    double v = strtod (ps->p, &end);
    if (end == ps->p || !isfinite (v) || v <= 0)
        return s_error (ps, at, "%s wants a positive number", fname);
    ps->p = end;
    *out = v;
    return 0;
}

static int s_close_paren (s_parser_t *ps, const char *fname)
{
    if (!s_punct (ps, ")"))
        return s_error (ps, ps->p, "expected ')' after the arguments of %s",
                        fname);
    return 0;
}

typedef struct {
    const char *name;
    zs_term_kind_t kind;
    int nargs;          /* periods: 0 bare, 1, or 3 (macd)                */
} s_func_t;

static const s_func_t s_funcs[] = {
    {"close", ZS_T_CLOSE, 0},      {"open", ZS_T_OPEN, 0},
    {"high", ZS_T_HIGH, 0},        {"low", ZS_T_LOW, 0},
    {"volume", ZS_T_VOLUME, 0},    {"sma", ZS_T_SMA, 1},
    {"ema", ZS_T_EMA, 1},          {"rsi", ZS_T_RSI, 1},
    {"atr", ZS_T_ATR, 1},          {"roc", ZS_T_ROC, 1},
    {"highest", ZS_T_HIGHEST, 1},  {"lowest", ZS_T_LOWEST, 1},
    {"avgvol", ZS_T_AVGVOL, 1},    {"volratio", ZS_T_VOLRATIO, 1},
    {"macd", ZS_T_MACD, 3},        {"macd_signal", ZS_T_MACD_SIGNAL, 3},
    {"macd_hist", ZS_T_MACD_HIST, 3}, {"bb_upper", ZS_T_BB_UPPER, 2},
    {"bb_middle", ZS_T_BB_MIDDLE, 1}, {"bb_lower", ZS_T_BB_LOWER, 2},
    {NULL, ZS_T_CLOSE, 0}};

/*  Names a term; the longest possible name ("macd_signal(100000,100000,
    100000)") is cut to the limit, which only costs readability. */
static void s_set_name (zs_term_t *t, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

static void s_set_name (zs_term_t *t, const char *fmt, ...)
{
    char buf[128];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (buf, sizeof buf, fmt, ap);
    va_end (ap);
    memcpy (t->name, buf, sizeof t->name - 1);
    t->name[sizeof t->name - 1] = 0;
}

static int s_function (s_parser_t *ps, const char *at, const char *name)
{
    if (strcmp (name, "prev") == 0 || strcmp (name, "crosses_above") == 0
        || strcmp (name, "crosses_below") == 0) {
        bool prev = strcmp (name, "prev") == 0;
        if (!s_punct (ps, "("))
            return s_error (ps, ps->p, "expected '(' after %s", name);
        int a = s_expr (ps);
        if (a < 0)
            return -1;
        int b = -1;
        if (!prev) {
            if (!s_punct (ps, ","))
                return s_error (ps, ps->p, "%s takes two arguments", name);
            b = s_expr (ps);
            if (b < 0)
                return -1;
        }
        if (s_close_paren (ps, name) != 0)
            return -1;
        return s_node (ps, prev ? N_PREV
                           : strcmp (name, "crosses_above") == 0 ? N_XABOVE
                                                                : N_XBELOW,
                       a, b);
    }
    const s_func_t *f = s_funcs;
    while (f->name && strcmp (f->name, name) != 0)
        f++;
    if (!f->name)
        return s_error (ps, at, "unknown name '%s'", name);
    zs_term_t t;
    memset (&t, 0, sizeof t);
    t.kind = f->kind;
    if (f->nargs == 0) {
        s_set_name (&t, "%s", f->name);
        return s_term_node (ps, at, &t);
    }
    if (f->kind >= ZS_T_MACD && f->kind <= ZS_T_MACD_HIST) {
        t.p1 = 12, t.p2 = 26, t.p3 = 9;
        if (s_punct (ps, "(")) {
            if (s_int_arg (ps, name, &t.p1) || !s_punct (ps, ",")
                || s_int_arg (ps, name, &t.p2) || !s_punct (ps, ",")
                || s_int_arg (ps, name, &t.p3))
                return s_error (ps, ps->p, "%s takes (fast, slow, signal)",
                                name);
            if (s_close_paren (ps, name) != 0)
                return -1;
            s_set_name (&t, "%s(%d,%d,%d)", f->name, t.p1, t.p2, t.p3);
        }
        else
            s_set_name (&t, "%s", f->name);
        return s_term_node (ps, at, &t);
    }
    if (!s_punct (ps, "("))
        return s_error (ps, ps->p, "%s needs a period, e.g. %s(14)", name,
                        name);
    if (s_int_arg (ps, name, &t.p1) != 0)
        return -1;
    t.k = 2;
    if (f->nargs == 2 && s_punct (ps, ",")) {
        if (s_num_arg (ps, name, &t.k) != 0)
            return -1;
        s_set_name (&t, "%s(%d,%g)", f->name, t.p1, t.k);
    }
    else
        s_set_name (&t, "%s(%d)", f->name, t.p1);
    if (s_close_paren (ps, name) != 0)
        return -1;
    return s_term_node (ps, at, &t);
}

static int s_primary (s_parser_t *ps)
{
    s_skip_space (ps);
    const char *at = ps->p;
    if (*ps->p == 0)
        return s_error (ps, at, "unexpected end of expression");
    if (isdigit ((unsigned char) *ps->p) || *ps->p == '.') {
        char *end = NULL;
        double v = strtod (ps->p, &end);
        if (end == ps->p || !isfinite (v))
            return s_error (ps, at, "bad number");
        ps->p = end;
        int n = s_node (ps, N_NUM, -1, -1);
        if (n >= 0)
            ps->scan->nodes[n].num = v;
        return n;
    }
    if (*ps->p == '(') {
        ps->p++;
        int n = s_expr (ps);
        if (n < 0)
            return -1;
        if (!s_punct (ps, ")"))
            return s_error (ps, ps->p, "expected ')'");
        return n;
    }
    if (isalpha ((unsigned char) *ps->p) || *ps->p == '_') {
        char name[64];
        size_t len = 0;
        while ((isalnum ((unsigned char) *ps->p) || *ps->p == '_')
               && len + 1 < sizeof name)
            name[len++] = (char) tolower ((unsigned char) *ps->p++);
        name[len] = 0;
        if (strcmp (name, "and") == 0 || strcmp (name, "or") == 0
            || strcmp (name, "not") == 0)
            return s_error (ps, at, "'%s' needs an operand before it", name);
        return s_function (ps, at, name);
    }
    return s_error (ps, at, "unexpected '%c'", *ps->p);
}

static int s_unary (s_parser_t *ps)
{
    if (s_punct (ps, "-")) {
        int a = s_unary (ps);
        return a < 0 ? -1 : s_node (ps, N_NEG, a, -1);
    }
    return s_primary (ps);
}

static int s_product (s_parser_t *ps)
{
    int a = s_unary (ps);
    while (a >= 0) {
        s_op_t op;
        if (s_punct (ps, "*"))
            op = N_MUL;
        else if (s_punct (ps, "/"))
            op = N_DIV;
        else
            break;
        int b = s_unary (ps);
        a = b < 0 ? -1 : s_node (ps, op, a, b);
    }
    return a;
}

static int s_sum (s_parser_t *ps)
{
    int a = s_product (ps);
    while (a >= 0) {
        s_op_t op;
        if (s_punct (ps, "+"))
            op = N_ADD;
        else if (s_punct (ps, "-"))
            op = N_SUB;
        else
            break;
        int b = s_product (ps);
        a = b < 0 ? -1 : s_node (ps, op, a, b);
    }
    return a;
}

static int s_cmp (s_parser_t *ps)
{
    int a = s_sum (ps);
    if (a < 0)
        return -1;
    s_op_t op;
    if (s_punct (ps, "<="))
        op = N_LE;
    else if (s_punct (ps, ">="))
        op = N_GE;
    else if (s_punct (ps, "=="))
        op = N_EQ;
    else if (s_punct (ps, "!="))
        op = N_NE;
    else if (s_punct (ps, "<"))
        op = N_LT;
    else if (s_punct (ps, ">"))
        op = N_GT;
    else
        return a;
    int b = s_sum (ps);
    return b < 0 ? -1 : s_node (ps, op, a, b);
}

static int s_not (s_parser_t *ps)
{
    if (s_keyword (ps, "not")) {
        int a = s_not (ps);
        return a < 0 ? -1 : s_node (ps, N_NOT, a, -1);
    }
    return s_cmp (ps);
}

static int s_and (s_parser_t *ps)
{
    int a = s_not (ps);
    while (a >= 0 && s_keyword (ps, "and")) {
        int b = s_not (ps);
        a = b < 0 ? -1 : s_node (ps, N_AND, a, b);
    }
    return a;
}

static int s_expr (s_parser_t *ps)
{
    if (++ps->depth > 64) {
        ps->depth--;
        return s_error (ps, ps->p, "expression nested too deeply");
    }
    int a = s_and (ps);
    while (a >= 0 && s_keyword (ps, "or")) {
        int b = s_and (ps);
        a = b < 0 ? -1 : s_node (ps, N_OR, a, b);
    }
    ps->depth--;
    return a;
}

/*  The deepest look-back (prev / crosses) below node n, plus offset. */
static int s_lookback (const zs_scan_t *s, int n)
{
    const s_node_t *x = &s->nodes[n];
    int extra = x->op == N_PREV || x->op == N_XABOVE || x->op == N_XBELOW;
    int da = x->a >= 0 ? s_lookback (s, x->a) : 0;
    int db = x->b >= 0 ? s_lookback (s, x->b) : 0;
    return extra + (da > db ? da : db);
}

/* ---------------------------------------------------------------------- */
/*  Evaluation                                                             */

static bool s_truthy (double v)
{
    return !isnan (v) && v != 0;
}

static double s_eval (const zs_scan_t *s, int n,
                      const double (*vals)[ZS_TERM_DEPTH], int off)
{
    const s_node_t *x = &s->nodes[n];
    double a, b;
    switch (x->op) {
    case N_NUM:
        return x->num;
    case N_TERM:
        return vals[x->term][off];
    case N_NEG:
        return -s_eval (s, x->a, vals, off);
    case N_PREV:
        return s_eval (s, x->a, vals, off + 1);
    case N_NOT:
        a = s_eval (s, x->a, vals, off);
        return s_truthy (a) ? 0 : 1;
    case N_AND:
        return s_truthy (s_eval (s, x->a, vals, off))
                       && s_truthy (s_eval (s, x->b, vals, off))
                   ? 1
                   : 0;
    case N_OR:
        return s_truthy (s_eval (s, x->a, vals, off))
                       || s_truthy (s_eval (s, x->b, vals, off))
                   ? 1
                   : 0;
    case N_XABOVE:
    case N_XBELOW: {
        double a0 = s_eval (s, x->a, vals, off);
        double b0 = s_eval (s, x->b, vals, off);
        double a1 = s_eval (s, x->a, vals, off + 1);
        double b1 = s_eval (s, x->b, vals, off + 1);
        if (isnan (a0) || isnan (b0) || isnan (a1) || isnan (b1))
            return 0;
        return x->op == N_XABOVE ? (a1 <= b1 && a0 > b0)
                                 : (a1 >= b1 && a0 < b0);
    }
    default:
        break;
    }
    a = s_eval (s, x->a, vals, off);
    b = s_eval (s, x->b, vals, off);
    switch (x->op) {
    case N_ADD:
        return a + b;
    case N_SUB:
        return a - b;
    case N_MUL:
        return a * b;
    case N_DIV:
        return b == 0 ? NAN : a / b;
    default:
        break;
    }
    if (isnan (a) || isnan (b))
        return 0; /* undefined: every comparison is false */
    switch (x->op) {
    case N_LT:
        return a < b;
    case N_LE:
        return a <= b;
    case N_GT:
        return a > b;
    case N_GE:
        return a >= b;
    case N_EQ:
        return a == b;
    case N_NE:
        return a != b;
    default:
        return NAN;
    }
}

/*  Filter score: how many top-level clauses hold (of an and/or chain). */
static double s_clauses (const zs_scan_t *s, int n,
                         const double (*vals)[ZS_TERM_DEPTH], s_op_t top)
{
    const s_node_t *x = &s->nodes[n];
    if (x->op == top)
        return s_clauses (s, x->a, vals, top) + s_clauses (s, x->b, vals, top);
    return s_truthy (s_eval (s, n, vals, 0)) ? 1 : 0;
}

/* ---------------------------------------------------------------------- */
/*  Compile                                                                */

static int s_parse (zs_scan_t *scan, const char *text, char *err,
                    size_t errlen, int *root)
{
    s_parser_t ps;
    memset (&ps, 0, sizeof ps);
    ps.src = ps.p = text;
    ps.scan = scan;
    ps.err = err;
    ps.errlen = errlen;
    s_skip_space (&ps);
    if (!*ps.p) {
        snprintf (err, errlen, "position 1: empty expression");
        return -1;
    }
    *root = s_expr (&ps);
    if (*root < 0)
        return -1;
    s_skip_space (&ps);
    if (*ps.p) {
        s_error (&ps, ps.p, "unexpected '%.10s' after the expression", ps.p);
        return -1;
    }
    if (s_lookback (scan, *root) > MAX_OFFSET) {
        snprintf (err, errlen, "position 1: looks back more than %d bars "
                               "(prev/crosses nested too deeply)",
                  MAX_OFFSET);
        return -1;
    }
    return 0;
}

zs_scan_t *zs_scan_compile (const char *strategy, const char *const *pnames,
                            const double *pvalues, size_t nparams,
                            const char *expr, char *err, size_t errlen)
{
    zs_scan_t *scan = (zs_scan_t *) calloc (1, sizeof *scan);
    if (!scan) {
        snprintf (err, errlen, "out of memory");
        return NULL;
    }
    if (!strategy && expr) {
        if (nparams) {
            snprintf (err, errlen, "a filter takes no parameters");
            free (scan);
            return NULL;
        }
        if (s_parse (scan, expr, err, errlen, &scan->root) != 0) {
            free (scan);
            return NULL;
        }
        scan->nshown = scan->nterms;
        scan->lookback = s_lookback (scan, scan->root);
        return scan;
    }
    if (!strategy)
        strategy = zs_strategy_default ();
    const zs_strategy_t *st = zs_strategy_find (strategy);
    if (!st) {
        snprintf (err, errlen, "unknown strategy '%.64s'", strategy);
        free (scan);
        return NULL;
    }
    memcpy (scan->params, st->defaults, sizeof st->defaults);
    for (size_t i = 0; i < nparams; i++) {
        int k = 0;
        while (k < 4 && st->pnames[k] && strcmp (st->pnames[k], pnames[i]))
            k++;
        if (k == 4 || !st->pnames[k]) {
            char list[128] = "";
            for (int j = 0; j < 4 && st->pnames[j]; j++)
                snprintf (list + strlen (list), sizeof list - strlen (list),
                          "%s%s", j ? ", " : "", st->pnames[j]);
            snprintf (err, errlen, "%s has no parameter '%.64s' (it takes: %s)",
                      st->name, pnames[i], list);
            free (scan);
            return NULL;
        }
        double v = pvalues[i];
        bool period = strcmp (pnames[i], "period") == 0
                      || strcmp (pnames[i], "fast") == 0
                      || strcmp (pnames[i], "slow") == 0
                      || strcmp (pnames[i], "signal") == 0;
        if (!isfinite (v) || (period && (v != (double) (int) v || v < 1
                                         || v > 100000))) {
            snprintf (err, errlen, "%s: %s must be %s", st->name, pnames[i],
                      period ? "a whole number in 1..100000"
                             : "a finite number");
            free (scan);
            return NULL;
        }
        scan->params[k] = v;
    }
    char text[512];
    zs_strategy_instantiate (st->expr, scan->params, text, sizeof text);
    if (s_parse (scan, text, err, errlen, &scan->root) != 0) {
        free (scan);
        return NULL;
    }
    if (st->extra) {
        int ignored;
        zs_strategy_instantiate (st->extra, scan->params, text, sizeof text);
        if (s_parse (scan, text, err, errlen, &ignored) != 0) {
            free (scan);
            return NULL;
        }
    }
    scan->nshown = scan->nterms;
    scan->score = st->score;
    scan->lookback = s_lookback (scan, scan->root);
    return scan;
}

int zs_term_parse (const char *text, zs_term_t *t, char *err, size_t errlen)
{
    zs_scan_t *scan = (zs_scan_t *) calloc (1, sizeof *scan);
    if (!scan) {
        snprintf (err, errlen, "out of memory");
        return -1;
    }
    int root = -1;
    int rc = s_parse (scan, text, err, errlen, &root);
    if (rc == 0 && (scan->nterms != 1 || scan->nodes[root].op != N_TERM)) {
        snprintf (err, errlen, "not one indicator");
        rc = -1;
    }
    if (rc == 0)
        *t = scan->terms[0];
    free (scan);
    return rc;
}

void zs_scan_destroy (zs_scan_t **self_p)
{
    if (self_p && *self_p) {
        free (*self_p);
        *self_p = NULL;
    }
}

size_t zs_scan_nvalues (const zs_scan_t *self)
{
    return self->nshown;
}

const char *zs_scan_value_name (const zs_scan_t *self, size_t index)
{
    return index < self->nterms ? self->terms[index].name : NULL;
}

/* ---------------------------------------------------------------------- */
/*  Evaluate one symbol                                                    */

/*  Fills r for bars b from the terms' values (vals[term][depth]). */
static void s_evaluate (const zs_scan_t *s, const zs_bars_t *b,
                        double (*vals)[ZS_TERM_DEPTH], zs_symresult_t *r)
{
    r->status = ZS_SYM_OK;
    r->signal = false;
    r->score = NAN;
    r->reason[0] = 0;
    r->nvalues = s->nshown;
    r->price = b->n ? b->close[b->n - 1] : NAN;
    const char *date = b->n ? zs_bars_date (b, b->n - 1) : "";
    size_t dlen = strlen (date);
    if (dlen >= sizeof r->time)
        dlen = sizeof r->time - 1;
    memcpy (r->time, date, dlen);
    r->time[dlen] = 0;
    for (size_t i = 0; i < s->nterms && i < ZS_SCAN_MAX_VALUES; i++)
        r->values[i] = vals[i][0];
    size_t need = s->warmup + (size_t) s->lookback;
    if (b->n < need) {
        r->status = ZS_SYM_SHORT;
        snprintf (r->reason, sizeof r->reason,
                  "insufficient history: %zu bars, the scan needs %zu", b->n,
                  need);
        return;
    }
    const double (*cv)[ZS_TERM_DEPTH] = (const double (*)[ZS_TERM_DEPTH]) vals;
    r->signal = s_truthy (s_eval (s, s->root, cv, 0));
    if (s->score) {
        const double *rows[ZS_SCAN_MAX_VALUES];
        for (size_t i = 0; i < s->nterms; i++)
            rows[i] = vals[i];
        r->score = s->score (rows, s->params, r->price);
        if (!isfinite (r->score))
            r->score = NAN;
    }
    else {
        s_op_t top = s->nodes[s->root].op == N_OR ? N_OR : N_AND;
        r->score = s_clauses (s, s->root, cv, top);
    }
}

/* ---------------------------------------------------------------------- */
/*  The scanner                                                            */

struct zs_scanner_t {
    zs_symresult_t result;
    zs_isa_t isa;      /* vector path for blocks of 8 symbols */
    zs_later_t *later; /* bars made and not kept (zs_scanner_defer) */
    size_t budget;
};

zs_scanner_t *zs_scanner_new (void)
{
    zs_scanner_t *self = (zs_scanner_t *) calloc (1, sizeof (zs_scanner_t));
    if (self)
        self->isa = zs_isa_detect ();
    return self;
}

void zs_scanner_destroy (zs_scanner_t **self_p)
{
    if (self_p && *self_p) {
        free (*self_p);
        *self_p = NULL;
    }
}

const char *zs_scanner_isa (const zs_scanner_t *self)
{
    return zs_isa_name (self->isa);
}

int zs_scanner_set_isa (zs_scanner_t *self, const char *name)
{
    for (int i = 0; i < ZS_ISA_COUNT; i++)
        if (strcmp (name, zs_isa_name ((zs_isa_t) i)) == 0
            && zs_isa_supported ((zs_isa_t) i)) {
            self->isa = (zs_isa_t) i;
            return 0;
        }
    return -1;
}

void zs_scanner_defer (zs_scanner_t *self, zs_later_t *later, size_t budget)
{
    self->later = budget ? later : NULL;
    self->budget = budget;
}

size_t zs_scanner_run (zs_scanner_t *self, const zs_scan_t *scan,
                       zs_source_t *source, const char *const *symbols,
                       size_t n, zs_emit_fn *emit, void *arg)
{
    zs_symresult_t *r = &self->result;
    bool kernels = false, hl = false, close_only = true;
    for (size_t k = 0; k < scan->nterms; k++)
        close_only &= zs_term_close_only (&scan->terms[k]);
    for (size_t k = 0; k < scan->nterms; k++)
        if (zs_kernel_handles (scan->terms[k].kind)) {
            kernels = true;
            hl |= scan->terms[k].kind == ZS_T_ATR;
        }
    double (*bv)[ZS_BLOCK][ZS_TERM_DEPTH] =
        (double (*)[ZS_BLOCK][ZS_TERM_DEPTH]) malloc (
            sizeof (double) * ZS_SCAN_MAX_VALUES * ZS_BLOCK * ZS_TERM_DEPTH);
    if (!bv)
        kernels = false;
    size_t emitted = 0;
    zs_later_t *later = self->later;
    if (later && later->symbols.size && later->close_only != close_only)
        later = NULL; /* one kind of bars a list */
    for (size_t i = 0; i < n; i += ZS_BLOCK) {
        size_t m = n - i < ZS_BLOCK ? n - i : ZS_BLOCK;
        zs_bars_ref_t refs[ZS_BLOCK];
        char reasons[ZS_BLOCK][ZS_REASON_MAX + 1];
        bool ok[ZS_BLOCK];
        bool same = m >= 2;
        /* (bars a synthetic source lacks are made 8 at a time, their
           close column alone when the scan reads nothing else) */
        bool keep = !later || later->bytes >= self->budget;
        zs_source_load_block (source, symbols + i, m, refs, ok, reasons,
                              self->isa, close_only, keep);
        for (size_t j = 0; !keep && j < m; j++)
            if (ok[j] && refs[j].owned) {
                if (zs_strlist_push (&later->symbols, symbols[i + j]) != 0)
                    break; /* out of memory: made again when next asked */
                later->bytes += refs[j].owned->bytes;
                later->close_only = close_only;
            }
        /* the next block's cache entries start from memory while this
           one is scanned (a tenth of a warm scan waited for them) */
        if (n - i > ZS_BLOCK)
            zs_source_prefetch (source, symbols + i + ZS_BLOCK,
                                n - i - ZS_BLOCK < ZS_BLOCK
                                    ? n - i - ZS_BLOCK
                                    : ZS_BLOCK);
        for (size_t j = 0; j < m; j++)
            same &= ok[j] && refs[j].bars->n == refs[0].bars->n;
        /* a block of equal histories goes through the vector path: every
           recursive term in one pass over the block's bars (the lanes of
           a partial block repeat its first symbol) */
        bool vec = kernels && same && self->isa != ZS_ISA_SCALAR
                   && refs[0].bars->n > 0;
        if (vec) {
            const double *c[ZS_BLOCK], *h[ZS_BLOCK], *l[ZS_BLOCK];
            for (size_t lane = 0; lane < ZS_BLOCK; lane++) {
                const zs_bars_t *b = refs[lane < m ? lane : 0].bars;
                c[lane] = b->close;
                h[lane] = b->high;
                l[lane] = b->low;
            }
            zs_kernel_block (self->isa, scan->terms, scan->nterms, c,
                             hl ? h : NULL, hl ? l : NULL, refs[0].bars->n,
                             bv);
        }
        bool stop = false;
        for (size_t j = 0; j < m; j++) {
            if (!stop && !ok[j]) {
                r->status = ZS_SYM_ERROR;
                r->signal = false;
                r->score = NAN;
                r->price = NAN;
                r->time[0] = 0;
                r->nvalues = 0;
                snprintf (r->reason, sizeof r->reason, "%.*s", ZS_REASON_MAX,
                          reasons[j]);
            }
            else if (!stop) {
                double vals[ZS_SCAN_MAX_VALUES][ZS_TERM_DEPTH];
                for (size_t k = 0; k < scan->nterms; k++) {
                    if (vec && zs_kernel_handles (scan->terms[k].kind))
                        memcpy (vals[k], bv[k][j], sizeof vals[k]);
                    else
                        zs_term_eval (&scan->terms[k], refs[j].bars,
                                      vals[k]);
                }
                s_evaluate (scan, refs[j].bars, vals, r);
            }
            if (ok[j])
                zs_bars_release (&refs[j]);
            if (stop)
                continue;
            emitted++;
            if (emit (arg, i + j, symbols[i + j], r) != 0)
                stop = true;
        }
        if (stop)
            break;
    }
    free (bv);
    return emitted;
}
