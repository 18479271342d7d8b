#!/usr/bin/env bash
# zscan's indicators against R's TTR 0.24 on real daily data (TTR's own
# ttrc dataset): every defined value within 1e-9 relative, and the same
# first defined bar, for every column of `zscan indicators`.
# Usage: ttr_check.sh ZSCAN_BINARY
# Skips (exit 77) when R or TTR is missing, unless ZS_REQUIRE_TTR=1.
set -euo pipefail
zscan=$1
if ! command -v Rscript >/dev/null 2>&1 \
   || ! Rscript -e 'suppressMessages(library(TTR))' >/dev/null 2>&1; then
  if [ "${ZS_REQUIRE_TTR:-0}" = 1 ]; then
    echo "FAIL: Rscript with TTR is required (apt-get install r-cran-ttr)"
    exit 1
  fi
  echo "SKIP: R's TTR is not installed"
  exit 77
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir "$dir/data"
Rscript - "$dir" <<'R'
suppressMessages(library(TTR))
args <- commandArgs(trailingOnly = TRUE)
dir <- args[1]
data(ttrc)
d <- ttrc
f <- function(x) ifelse(is.na(x), "", sprintf("%.17g", x))
bars <- data.frame(Date = format(d$Date, "%Y-%m-%d"), Open = f(d$Open),
                   High = f(d$High), Low = f(d$Low), Close = f(d$Close),
                   Volume = f(d$Volume))
write.csv(bars, file.path(dir, "data", "TTRC.csv"), row.names = FALSE,
          quote = FALSE)
C <- d$Close; H <- d$High; L <- d$Low; V <- d$Volume
macd <- MACD(C, 12, 26, 9, maType = "EMA", percent = FALSE)
bb <- BBands(C, n = 20, sd = 2)
atr <- ATR(cbind(H, L, C), n = 14)
ref <- data.frame(
  sma20 = f(SMA(C, 20)), sma50 = f(SMA(C, 50)), sma200 = f(SMA(C, 200)),
  ema12 = f(EMA(C, 12)), ema26 = f(EMA(C, 26)), rsi14 = f(RSI(C, 14)),
  macd = f(macd[, "macd"]), macd_signal = f(macd[, "signal"]),
  macd_hist = f(macd[, "macd"] - macd[, "signal"]),
  bb_lower = f(bb[, "dn"]), bb_middle = f(bb[, "mavg"]),
  bb_upper = f(bb[, "up"]), atr14 = f(atr[, "atr"]),
  roc10 = f(ROC(C, 10, type = "discrete")),
  high252 = f(runMax(H, 252)), low252 = f(runMin(L, 252)),
  avgvol20 = f(SMA(V, 20)))
write.csv(ref, file.path(dir, "ttr.csv"), row.names = FALSE, quote = FALSE)
R
"$zscan" indicators --data "csv:$dir/data" TTRC >"$dir/ours.csv"
/usr/bin/python3 - "$dir/ours.csv" "$dir/ttr.csv" <<'PY'
import csv, sys
ours = list(csv.DictReader(open(sys.argv[1])))
ttr = list(csv.DictReader(open(sys.argv[2])))
assert len(ours) == len(ttr), (len(ours), len(ttr))
bad = 0
checked = 0
for col in ttr[0].keys():
    first_o = next((i for i, r in enumerate(ours) if r[col] != ""), None)
    first_t = next((i for i, r in enumerate(ttr) if r[col] != ""), None)
    if first_o != first_t:
        print("FAIL %s: first defined bar %s, TTR %s" % (col, first_o,
                                                          first_t))
        bad += 1
    worst = 0.0
    for i, (o, t) in enumerate(zip(ours, ttr)):
        if (o[col] == "") != (t[col] == ""):
            if bad < 20:
                print("FAIL %s bar %d: ours %r, TTR %r" % (col, i, o[col],
                                                           t[col]))
            bad += 1
            continue
        if o[col] == "":
            continue
        a, b = float(o[col]), float(t[col])
        err = abs(a - b) / max(1.0, abs(b))
        worst = max(worst, err)
        checked += 1
        if err > 1e-9:
            if bad < 20:
                print("FAIL %s bar %d: ours %.17g, TTR %.17g" % (col, i, a, b))
            bad += 1
    print("%-12s first bar %5s  worst relative difference %.2e"
          % (col, first_o, worst))
print("%d values of %d bars checked against TTR, %d bad" % (checked,
                                                           len(ours), bad))
sys.exit(1 if bad else 0)
PY
