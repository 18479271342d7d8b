#!/usr/bin/python3
"""The numba peer of the engine bench: the three-term filter
rsi(14) < 30 and close > sma(50) and ema(12) > ema(26) as one fused pass
per symbol, compiled by numba, over the same closes the engine scans.

Usage: numba_peer.py CLOSES_FILE NSYM NBARS
CLOSES_FILE holds NSYM x NBARS float64 in native byte order, symbol after
symbol.  Prints "ready <numba version>" once compiled, then for each line
read on stdin scans every symbol once and prints "<symbols/s> <signals>".
Exits 3 when numba is not installed."""
import sys
import time

try:
    import numba
    import numpy as np
except ImportError:
    sys.exit(3)


@numba.njit(cache=False)
def _scan(closes, nsym, nbars):
    a12 = 2.0 / 13
    a26 = 2.0 / 27
    aw = 1.0 / 14
    signals = 0
    for s in range(nsym):
        c = closes[s]
        e12 = 0.0
        e26 = 0.0
        au = 0.0
        ad = 0.0
        for t in range(nbars):
            x = c[t]
            # the definitions of docs/indicators.md: the first value is
            # the mean of the first p (EMA) or p moves (RSI), then the
            # recursion
            if t < 12:
                e12 += x
                if t == 11:
                    e12 = e12 / 12
            else:
                e12 = a12 * x + (1 - a12) * e12
            if t < 26:
                e26 += x
                if t == 25:
                    e26 = e26 / 26
            else:
                e26 = a26 * x + (1 - a26) * e26
            if t >= 1:
                d = x - c[t - 1]
                up = d if d > 0 else 0.0
                dn = -d if d < 0 else 0.0
                if t <= 14:
                    au += up
                    ad += dn
                    if t == 14:
                        au = au / 14
                        ad = ad / 14
                else:
                    au = aw * up + (1 - aw) * au
                    ad = aw * dn + (1 - aw) * ad
        sum50 = 0.0
        for t in range(nbars - 50, nbars):
            sum50 += c[t]
        rsi = 100 * au / (au + ad)
        if rsi < 30 and c[nbars - 1] > sum50 / 50 and e12 > e26:
            signals += 1
    return signals


def main():
    path, nsym, nbars = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    closes = np.fromfile(path, dtype=np.float64).reshape(nsym, nbars)
    _scan(closes[:8], 8, nbars)  # compiled outside the clock
    print("ready %s" % numba.__version__, flush=True)
    # one timed scan of every symbol per line read, so that the engine's
    # rounds and these alternate
    for _ in sys.stdin:
        t0 = time.perf_counter()
        signals = _scan(closes, nsym, nbars)
        rate = nsym / (time.perf_counter() - t0)
        print("%.0f %d" % (rate, signals), flush=True)


if __name__ == "__main__":
    main()
