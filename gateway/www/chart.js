/* zscan dashboard: a symbol's chart on a canvas - candles (or a line) with
   volume, the price-scale indicators overlaid (moving averages, bands,
   highs and lows), the others in panes of their own below (RSI, MACD,
   ...).  Data: GET /chart/SYMBOL (columns of numbers, null where
   undefined). */
'use strict';

(function () {
  const COLORS = ['#f5b94a', '#4aa3ff', '#c678dd', '#56d4c8', '#e06c75',
                  '#98c379', '#d19a66', '#61afef'];
  const UP = '#26a65b', DOWN = '#e05252', GRID = '#26303b',
        TEXT = '#7d8a97';

  /* Which pane an indicator goes to: price overlays, or its own kind. */
  function paneOf(name) {
    const f = name.replace(/\(.*$/, '');
    if (['close', 'open', 'high', 'low', 'sma', 'ema', 'bb_upper',
         'bb_middle', 'bb_lower', 'highest', 'lowest'].includes(f))
      return 'price';
    if (f === 'volume' || f === 'avgvol') return 'volume';
    if (f.startsWith('macd')) return 'macd';
    return f;                      /* rsi, atr, roc, volratio: one each */
  }

  function range(arrays) {
    let lo = Infinity, hi = -Infinity;
    for (const a of arrays)
      for (const v of a)
        if (v !== null && v !== undefined) {
          if (v < lo) lo = v;
          if (v > hi) hi = v;
        }
    if (lo === Infinity) return [0, 1];
    if (lo === hi) return [lo - 1, hi + 1];
    const pad = (hi - lo) * 0.05;
    return [lo - pad, hi + pad];
  }

  function last(a) {
    for (let i = a.length - 1; i >= 0; i--)
      if (a[i] !== null && a[i] !== undefined) return a[i];
    return null;
  }

  function draw(canvas, legend, c, style) {
    const dpr = window.devicePixelRatio || 1;
    const W = canvas.clientWidth || 800, H = canvas.clientHeight || 420;
    canvas.width = Math.round(W * dpr);
    canvas.height = Math.round(H * dpr);
    const g = canvas.getContext('2d');
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, W, H);
    g.font = '11px system-ui, sans-serif';

    const n = c.close.length;
    const names = Object.keys(c.series || {});
    const panes = [{id: 'price', lines: [], weight: 5},
                   {id: 'volume', lines: [], weight: 1.3}];
    names.forEach((name, k) => {
      const id = paneOf(name);
      let p = panes.find((x) => x.id === id);
      if (!p) {
        p = {id, lines: [], weight: 1.8};
        panes.push(p);
      }
      p.lines.push({name, data: c.series[name], color: COLORS[k %
                                                          COLORS.length]});
    });
    const total = panes.reduce((s, p) => s + p.weight, 0);
    const axisW = 56, left = 4, right = W - axisW, plotW = right - left;
    const step = n ? plotW / n : 1;
    const x = (i) => left + (i + 0.5) * step;
    let top = 4;
    const gap = 6;
    const usable = H - 4 - gap * (panes.length - 1) - 14;
    for (const p of panes) {
      p.top = top;
      p.h = usable * p.weight / total;
      top += p.h + gap;
    }

    /* legend: each series' last plotted value */
    legend.textContent = '';
    for (const p of panes)
      for (const l of p.lines) {
        const s = document.createElement('span');
        const v = last(l.data);
        s.dataset.name = l.name;
        if (v !== null) s.dataset.last = v;
        s.style.color = l.color;
        s.textContent = l.name + ' ' + (v === null ? '–' : v.toFixed(2));
        legend.appendChild(s);
      }

    for (const p of panes) {
      let lo, hi;
      if (p.id === 'price') {
        const arrays = [c.low, c.high].concat(p.lines.map((l) => l.data));
        [lo, hi] = range(style === 'line' ? [c.close].concat(
          p.lines.map((l) => l.data)) : arrays);
      } else if (p.id === 'volume') {
        [lo, hi] = range([c.volume].concat(p.lines.map((l) => l.data)));
        lo = 0;
      } else if (p.id === 'rsi') {
        lo = 0;
        hi = 100;
      } else {
        [lo, hi] = range(p.lines.map((l) => l.data));
        if (p.id === 'macd') {
          const m = Math.max(Math.abs(lo), Math.abs(hi));
          lo = -m;
          hi = m;
        }
      }
      const y = (v) => p.top + p.h - (v - lo) / (hi - lo) * p.h;
      /* frame, grid, axis labels */
      g.strokeStyle = GRID;
      g.lineWidth = 1;
      g.strokeRect(left + 0.5, p.top + 0.5, plotW, p.h);
      g.fillStyle = TEXT;
      const ticks = p.id === 'rsi' ? [30, 70] : [lo + (hi - lo) * 0.1,
                                                 (lo + hi) / 2,
                                                 hi - (hi - lo) * 0.1];
      for (const t of ticks) {
        const ty = Math.round(y(t)) + 0.5;
        g.beginPath();
        g.moveTo(left, ty);
        g.lineTo(right, ty);
        g.stroke();
        const a = Math.abs(t);
        g.fillText(a >= 1e6 ? (t / 1e6).toFixed(1) + 'M'
                   : a >= 1000 ? t.toFixed(0) : t.toFixed(2),
                   right + 4, ty + 4);
      }
      g.fillText(p.id, left + 4, p.top + 12);

      if (p.id === 'price') {
        if (style === 'line') {
          g.strokeStyle = '#d7dde4';
          g.lineWidth = 1.5;
          g.beginPath();
          c.close.forEach((v, i) => (i ? g.lineTo(x(i), y(v))
                                       : g.moveTo(x(i), y(v))));
          g.stroke();
        } else {
          const bw = Math.max(1, step * 0.7);
          for (let i = 0; i < n; i++) {
            const o = c.open[i], cl = c.close[i];
            g.strokeStyle = g.fillStyle = cl >= o ? UP : DOWN;
            g.beginPath();
            g.moveTo(Math.round(x(i)) + 0.5, y(c.high[i]));
            g.lineTo(Math.round(x(i)) + 0.5, y(c.low[i]));
            g.stroke();
            const yt = y(Math.max(o, cl)), yb = y(Math.min(o, cl));
            g.fillRect(x(i) - bw / 2, yt, bw, Math.max(1, yb - yt));
          }
        }
      }
      if (p.id === 'volume') {
        const bw = Math.max(1, step * 0.7);
        for (let i = 0; i < n; i++) {
          g.fillStyle = c.close[i] >= c.open[i] ? '#1d5c3a' : '#6b2a2a';
          const yt = y(c.volume[i]);
          g.fillRect(x(i) - bw / 2, yt, bw, p.top + p.h - yt);
        }
      }
      for (const l of p.lines) {
        if (l.name.startsWith('macd_hist')) {
          const bw = Math.max(1, step * 0.7), y0 = y(0);
          l.data.forEach((v, i) => {
            if (v === null) return;
            g.fillStyle = v >= 0 ? '#1d5c3a' : '#6b2a2a';
            g.fillRect(x(i) - bw / 2, Math.min(y0, y(v)), bw,
                       Math.abs(y(v) - y0));
          });
          continue;
        }
        g.strokeStyle = l.color;
        g.lineWidth = 1.3;
        g.beginPath();
        let pen = false;
        l.data.forEach((v, i) => {
          if (v === null) {
            pen = false;
            return;
          }
          if (pen) g.lineTo(x(i), y(v));
          else g.moveTo(x(i), y(v));
          pen = true;
        });
        g.stroke();
      }
    }
    /* dates under the last pane */
    g.fillStyle = TEXT;
    if (n) {
      const marks = 5;
      for (let k = 0; k < marks; k++) {
        const i = Math.min(n - 1, Math.round(k * (n - 1) / (marks - 1)));
        const label = c.time[i];
        const w = g.measureText(label).width;
        g.fillText(label, Math.min(right - w, Math.max(left, x(i) - w / 2)),
                   H - 3);
      }
    }
  }

  window.ZscanChart = {draw};
})();
