/* zscan dashboard: a client of the gateway's HTTP API and nothing else.

   Records arrive over a WebSocket (/ws/results/ID?after=N) into a queue;
   once per animation frame the queue is applied: results merged into the
   ranked table (sorted batch merged into the sorted rows: no full sort per
   message), progress and the end shown, and only the rows in view are
   drawn (virtual scrolling).  A dropped connection reconnects by itself
   after the last record it had; a reload opens the scan in the address
   (#ID) and replays it from the start. */
'use strict';

(function () {
  const $ = (sel) => document.querySelector(sel);
  const qs = new URLSearchParams(location.search);
  const TOKEN = qs.get('token') || '';
  const ROW_H = 24;
  const FIXED = [
    {key: 'rank', label: '#'},
    {key: 'symbol', label: 'symbol', cls: 'sym'},
    {key: 'signal', label: 'signal'},
    {key: 'score', label: 'score'},
    {key: 'price', label: 'price'},
    {key: 'time', label: 'bar'},
  ];

  function withToken(url) {
    if (!TOKEN) return url;
    return url + (url.includes('?') ? '&' : '?') + 'token=' +
      encodeURIComponent(TOKEN);
  }

  async function api(method, path, body) {
    const opts = {method, headers: {}};
    if (TOKEN) opts.headers.authorization = 'Bearer ' + TOKEN;
    if (body !== undefined) {
      opts.headers['content-type'] = 'application/json';
      opts.body = JSON.stringify(body);
    }
    const r = await fetch(path, opts);
    let j = null;
    try { j = await r.json(); } catch (e) { j = null; }
    if (!r.ok) {
      const e = new Error(j && j.error ? j.error.message : r.status + ' ' +
                          r.statusText);
      e.status = r.status;
      throw e;
    }
    return j;
  }

  function fmt(v, digits) {
    if (v === null || v === undefined || Number.isNaN(v)) return '';
    if (typeof v !== 'number') return String(v);
    const a = Math.abs(v);
    const d = digits !== undefined ? digits : a >= 1000 ? 0 : a >= 1 ? 2 : 4;
    return v.toFixed(d);
  }

  function fmtSecs(s) {
    if (s === null || s === undefined || !(s >= 0)) return '–';
    if (s < 60) return s.toFixed(1) + ' s';
    return Math.floor(s / 60) + ' m ' + Math.round(s % 60) + ' s';
  }

  /* ------------------------------------------------------------------ */
  /*  The ranked table                                                  */

  function valueOf(r, key) {
    switch (key) {
      case 'rank': case 'score': return r.score;
      case 'symbol': return r.symbol;
      case 'signal': return r.signal ? 1 : 0;
      case 'price': return r.price;
      case 'time': return r.time;
      default: return r.values ? r.values[key] : null;
    }
  }

  class Table {
    constructor() {
      this.wrap = $('#table-wrap');
      this.body = $('#rows');
      this.head = $('#head-row');
      this.all = [];          /* every result, arrival order */
      this.view = [];         /* shown: filtered and sorted */
      this.valueCols = [];
      this.sortKey = 'score';
      this.desc = true;
      this.signalsOnly = false;
      this.pool = [];
      this.drawn = '';
      this.wrap.addEventListener('scroll', () => this.render());
      this.head.addEventListener('click', (ev) => {
        const th = ev.target.closest('th');
        if (!th) return;
        const key = th.dataset.key;
        if (key === this.sortKey) this.desc = !this.desc;
        else {
          this.sortKey = key;
          this.desc = !(key === 'symbol' || key === 'time');
        }
        this.rebuild();
      });
      this.body.addEventListener('click', (ev) => {
        const tr = ev.target.closest('tr[data-i]');
        if (tr && this.onpick) this.onpick(this.view[+tr.dataset.i]);
      });
      this.cmp = this.makeCmp();
      this.header();
    }

    reset() {
      this.all = [];
      this.view = [];
      this.valueCols = [];
      this.header();
      this.wrap.scrollTop = 0;
      this.render(true);
    }

    makeCmp() {
      const key = this.sortKey, sign = this.desc ? -1 : 1;
      return (a, b) => {
        const x = valueOf(a, key), y = valueOf(b, key);
        const xn = x === null || x === undefined || Number.isNaN(x);
        const yn = y === null || y === undefined || Number.isNaN(y);
        if (xn || yn) {
          if (xn && !yn) return 1;     /* undefined last, either way */
          if (yn && !xn) return -1;
          return a.seq - b.seq;
        }
        if (x < y) return -sign;
        if (x > y) return sign;
        return a.seq - b.seq;
      };
    }

    header() {
      const cols = FIXED.concat(this.valueCols.map((k) => ({key: k,
                                                            label: k})));
      this.cols = cols;
      this.head.textContent = '';
      for (const c of cols) {
        const th = document.createElement('th');
        th.textContent = c.label;
        th.dataset.key = c.key;
        if (c.cls) th.className = c.cls;
        if (c.key === this.sortKey ||
            (c.key === 'rank' && this.sortKey === 'score')) {
          th.classList.add('sorted');
          if (!this.desc) th.classList.add('asc');
        }
        this.head.appendChild(th);
      }
      this.drawn = '';
    }

    /* A batch of new results: sorted, then merged into the view. */
    add(batch) {
      let fresh = false;
      for (const r of batch) {
        this.all.push(r);
        if (r.values)
          for (const k of Object.keys(r.values))
            if (!this.valueCols.includes(k)) {
              this.valueCols.push(k);
              fresh = true;
            }
      }
      if (fresh) this.header();
      const keep = this.signalsOnly ? batch.filter((r) => r.signal) : batch;
      if (!keep.length) return;
      keep.sort(this.cmp);
      /* each new row's place by binary search (the batch is sorted, so
         the places only grow), then one copy: comparisons grow with the
         batch, not with the rows already held */
      const a = this.view, cmp = this.cmp;
      const out = new Array(a.length + keep.length);
      let lo = 0, from = 0, k = 0;
      for (const r of keep) {
        let hi = a.length;
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          if (cmp(a[mid], r) <= 0) lo = mid + 1;
          else hi = mid;
        }
        while (from < lo) out[k++] = a[from++];
        out[k++] = r;
      }
      while (from < a.length) out[k++] = a[from++];
      this.view = out;
      this.drawn = '';
    }

    rebuild() {
      this.cmp = this.makeCmp();
      this.view = (this.signalsOnly ? this.all.filter((r) => r.signal)
                                    : this.all.slice());
      this.view.sort(this.cmp);
      this.header();
      this.render(true);
    }

    /* Draws the rows in view (and a padding row above and below). */
    render(force) {
      const h = this.wrap.clientHeight || 400;
      const first = Math.max(0, Math.floor(this.wrap.scrollTop / ROW_H) - 5);
      const count = Math.ceil(h / ROW_H) + 10;
      const last = Math.min(this.view.length, first + count);
      const sig = first + ':' + last + ':' + this.view.length;
      if (!force && sig === this.drawn) return;
      this.drawn = sig;
      const frag = document.createDocumentFragment();
      const top = document.createElement('tr');
      top.className = 'pad';
      const topTd = document.createElement('td');
      topTd.colSpan = this.cols.length;
      topTd.style.height = (first * ROW_H) + 'px';
      top.appendChild(topTd);
      frag.appendChild(top);
      for (let i = first; i < last; i++) {
        const r = this.view[i];
        const tr = document.createElement('tr');
        tr.dataset.i = i;
        tr.dataset.symbol = r.symbol;
        tr.dataset.seq = r.seq;
        if (r.signal) tr.className = 'signal';
        if (r.error) tr.className = 'failed';
        for (const c of this.cols) {
          const td = document.createElement('td');
          let v;
          if (c.key === 'rank') v = String(i + 1);
          else if (c.key === 'signal') v = r.signal ? '●' : '';
          else if (c.key === 'symbol') v = r.symbol;
          else if (c.key === 'time') v = r.time || '';
          else {
            const raw = valueOf(r, c.key);
            v = fmt(raw);
            if (raw !== null && raw !== undefined) td.dataset.v = raw;
            td.dataset.key = c.key;
          }
          if (c.cls) td.className = c.cls;
          if (r.error && c.key === 'score') {
            v = 'failed';
            td.title = r.error;
          }
          td.textContent = v;
          tr.appendChild(td);
        }
        frag.appendChild(tr);
      }
      const bottom = document.createElement('tr');
      bottom.className = 'pad';
      const botTd = document.createElement('td');
      botTd.colSpan = this.cols.length;
      botTd.style.height = ((this.view.length - last) * ROW_H) + 'px';
      bottom.appendChild(botTd);
      frag.appendChild(bottom);
      this.body.textContent = '';
      this.body.appendChild(frag);
    }
  }

  /* ------------------------------------------------------------------ */
  /*  One scan, followed                                                */

  const table = new Table();
  let current = null;
  /* for tests and the console: the rows held, and how many are shown */
  window.zscanRows = () => table.all;
  window.zscanShown = () => table.view.length;

  class ScanView {
    constructor(id) {
      this.id = id;
      this.last = 0;          /* position of the last record received */
      this.queue = [];
      this.meta = {};
      this.total = 0;
      this.done = 0;
      this.signals = 0;
      this.complete = null;
      this.closed = false;
      this.retry = 250;
      this.scheduled = false;
      table.reset();
      $('#empty').hidden = true;
      $('#scan').hidden = false;
      $('#scan-title').textContent = id;
      $('#final').hidden = true;
      $('#notice').hidden = true;
      $('#scan-def').textContent = '';
      this.setState('connecting');
      for (const f of ['csv', 'ndjson']) {
        const a = $('#export-' + f);
        a.href = withToken('/scan/export/' + id + '?format=' + f);
        a.download = id + '.' + f;
      }
      this.show();
      this.connect();
      this.statsTimer = setInterval(() => this.pollStats(), 1000);
      this.pollStats();
    }

    setState(s) {
      const b = $('#scan-state');
      b.textContent = s;
      b.className = 'badge ' + s;
      $('#stop').disabled = !(s === 'running' || s === 'planning' ||
                              s === 'connecting');
    }

    connect() {
      if (this.closed) return;
      const proto = location.protocol === 'https:' ? 'wss://' : 'ws://';
      const url = withToken(proto + location.host + '/ws/results/' +
                            encodeURIComponent(this.id) + '?after=' +
                            this.last);
      const ws = new WebSocket(url);
      this.ws = ws;
      ws.onopen = () => {
        this.retry = 250;
        setConn(true);
      };
      ws.onmessage = (ev) => {
        const lines = ev.data.split('\n');
        for (const line of lines) {
          let rec;
          try { rec = JSON.parse(line); } catch (e) { continue; }
          if (rec.seq <= this.last && rec.type !== 'lost') continue;
          if (rec.type !== 'lost') this.last = rec.seq;
          this.queue.push(rec);
        }
        this.schedule();
      };
      ws.onclose = (ev) => {
        if (this.closed || this.ws !== ws) return;
        if (this.complete) return;      /* ended: nothing more will come */
        if (ev.code === 1008 || ev.code === 1003) {
          this.notice('the gateway ended the stream: ' + (ev.reason ||
                      ev.code) + '; reconnecting');
        }
        setConn(false);
        setTimeout(() => this.connect(), this.retry);
        this.retry = Math.min(this.retry * 2, 5000);
      };
    }

    /* The network's own end of the connection, as a dropped link would
       (tests use it). */
    drop() {
      if (this.ws) this.ws.close(4000, 'dropped');
    }

    schedule() {
      if (this.scheduled) return;
      this.scheduled = true;
      requestAnimationFrame(() => {
        this.scheduled = false;
        this.apply();
      });
    }

    apply() {
      if (this.closed) return;
      const q = this.queue;
      this.queue = [];
      const batch = [];
      for (const rec of q) {
        const d = rec.data || {};
        switch (rec.type) {
          case 'started':
            this.meta = d;
            this.total = d.total || 0;
            this.describe();
            this.setState('running');
            break;
          case 'result':
            d.seq = rec.seq;
            batch.push(d);
            if (d.signal) this.signals++;
            this.done++;
            break;
          case 'progress':
            this.total = d.total;
            if (d.done > this.done) this.done = d.done;
            this.rate = d.rate;
            this.eta = d.eta;
            break;
          case 'complete':
            this.complete = d;
            break;
          case 'lost':
            this.notice('records ' + d.from + '–' + d.to +
                        ' are no longer held by the broker: ' + d.reason);
            break;
        }
      }
      if (batch.length) table.add(batch);
      table.render();
      this.show();
      if (this.complete) this.finish();
    }

    describe() {
      const m = this.meta;
      const parts = [];
      if (m.universe) parts.push(m.universe);
      if (m.strategy) {
        let p = '';
        if (m.params)
          p = '(' + Object.entries(m.params).map(([k, v]) => k + '=' + v)
                .join(', ') + ')';
        parts.push(m.strategy + p);
      }
      if (m.filter) parts.push(m.filter);
      if (m.data) parts.push('data ' + m.data);
      if (m.max_signals) parts.push('max ' + m.max_signals + ' signals');
      if (m.timeout_seconds) parts.push('timeout ' + m.timeout_seconds +
                                        ' s');
      $('#scan-def').textContent = parts.join(' · ');
    }

    show() {
      const total = this.complete ? this.complete.total : this.total;
      const done = this.complete ? this.complete.scanned : this.done;
      $('#st-done').textContent = done;
      $('#st-total').textContent = total;
      $('#st-signals').textContent = this.complete ? this.complete.signals
                                                   : this.signals;
      $('#st-rows').textContent = table.view.length;
      $('#st-rate').textContent = this.rate ? Math.round(this.rate) : '–';
      $('#st-eta').textContent = this.complete ? '–' : fmtSecs(this.eta);
      const pct = total ? Math.min(100, 100 * done / total) : 0;
      $('#progress-bar').style.width = pct + '%';
    }

    finish() {
      const c = this.complete;
      this.setState('finished');
      $('#final').hidden = false;
      $('#final-reason').textContent = c.reason;
      $('#final-saved').textContent = c.unscanned + ' symbols (' +
        (100 * (c.work_saved || 0)).toFixed(1) + '%)';
      if (c.first_result_ms !== null && c.first_result_ms !== undefined)
        $('#st-first').textContent = fmt(c.first_result_ms, 1) + ' ms';
      clearInterval(this.statsTimer);
      if (this.ws) this.ws.close(1000, 'complete');
      refreshList();
    }

    async pollStats() {
      if (this.closed || this.complete) return;
      try {
        const s = await api('GET', '/scan/stats/' +
                            encodeURIComponent(this.id));
        if (this.closed) return;
        if (s.first_result_ms !== null && s.first_result_ms !== undefined &&
            s.first_result_ms >= 0)
          $('#st-first').textContent = fmt(s.first_result_ms, 1) + ' ms';
        if (s.rate) this.rate = s.rate;
        if (s.eta !== undefined) this.eta = s.eta;
        if (!this.complete && (s.state === 'planning'))
          this.setState(s.state);
        this.show();
      } catch (e) {
        if (e.status === 404) this.notice('the gateway does not know ' +
                                          this.id);
      }
    }

    notice(text) {
      const n = $('#notice');
      n.textContent = text;
      n.hidden = false;
    }

    close() {
      this.closed = true;
      clearInterval(this.statsTimer);
      if (this.ws) this.ws.close(1000, 'closed');
    }
  }

  function open(id) {
    if (current && current.id === id) return;
    if (current) current.close();
    closeChart();
    current = new ScanView(id);
    window.zscanView = current;     /* for tests and the console */
    if (location.hash !== '#' + id) history.replaceState(null, '', '#' + id);
    for (const li of document.querySelectorAll('#scan-list li'))
      li.classList.toggle('current', li.dataset.id === id);
  }

  function setConn(ok) {
    const c = $('#conn');
    c.textContent = ok ? 'connected' : 'reconnecting…';
    c.className = 'conn ' + (ok ? 'ok' : 'bad');
  }

  $('#stop').addEventListener('click', async () => {
    if (!current) return;
    try {
      await api('POST', '/scan/stop/' + encodeURIComponent(current.id));
    } catch (e) {
      current.notice('stop: ' + e.message);
    }
  });

  $('#signals-only').addEventListener('change', (ev) => {
    table.signalsOnly = ev.target.checked;
    table.rebuild();
    if (current) current.show();
  });

  /* ------------------------------------------------------------------ */
  /*  The scans list                                                    */

  async function refreshList() {
    let list;
    try {
      list = await api('GET', '/scans/active?all=1');
      setConn(true);
    } catch (e) {
      setConn(false);
      return;
    }
    const ul = $('#scan-list');
    ul.textContent = '';
    const scans = (list.scans || []).slice().reverse();
    for (const s of scans) {
      const li = document.createElement('li');
      li.dataset.id = s.scan_id;
      if (current && current.id === s.scan_id) li.className = 'current';
      const name = document.createElement('span');
      name.textContent = s.scan_id;
      const st = document.createElement('span');
      st.className = 'state-' + s.state;
      st.textContent = s.state + ' ' + (s.signals || 0) + '/' +
        (s.done || 0) + '/' + (s.total || 0);
      li.appendChild(name);
      li.appendChild(st);
      li.addEventListener('click', () => open(s.scan_id));
      ul.appendChild(li);
    }
  }

  async function refreshWorkers() {
    try {
      const w = await api('GET', '/workers');
      const n = (w.workers || []).length;
      $('#workers').textContent = n + ' worker' + (n === 1 ? '' : 's');
    } catch (e) {
      $('#workers').textContent = '';
    }
  }

  /* ------------------------------------------------------------------ */
  /*  The form                                                          */

  let strategies = [];

  async function loadStrategies() {
    const s = await api('GET', '/strategies');
    strategies = s.strategies;
    const sel = $('#strategy');
    sel.textContent = '';
    for (const st of strategies) {
      const o = document.createElement('option');
      o.value = st.name;
      o.textContent = st.name;
      if (st.name === s.default) o.selected = true;
      sel.appendChild(o);
    }
    showParams();
  }

  function showParams() {
    const st = strategies.find((x) => x.name === $('#strategy').value);
    const box = $('#params');
    box.textContent = '';
    if (!st) return;
    $('#strategy-expr').textContent = st.expression;
    for (const p of st.params) {
      const row = document.createElement('label');
      row.className = 'param';
      const name = document.createElement('span');
      name.textContent = p.name;
      const input = document.createElement('input');
      input.type = 'number';
      input.step = 'any';
      input.value = p.default;
      input.dataset.param = p.name;
      input.dataset.default = p.default;
      row.appendChild(name);
      row.appendChild(input);
      box.appendChild(row);
    }
  }

  function mode() {
    return document.querySelector('input[name=mode]:checked').value;
  }

  for (const r of document.querySelectorAll('input[name=mode]'))
    r.addEventListener('change', () => {
      $('#strategy-box').hidden = mode() !== 'strategy';
      $('#filter-box').hidden = mode() !== 'filter';
    });
  $('#strategy').addEventListener('change', showParams);
  $('#universe-kind').addEventListener('change', () => {
    const k = $('#universe-kind').value;
    const v = $('#universe-value');
    v.hidden = k === 'all';
    v.placeholder = k === 'synthetic' ? 'how many' : k === 'list'
      ? 'AAPL, MSFT, …' : 'NAME under --list-dir';
    if (k === 'synthetic') v.value = '10000';
    else if (v.value === '10000') v.value = '';
  });

  function formError(msg, expr) {
    $('#form-error').hidden = false;
    $('#form-error-msg').textContent = msg;
    const m = /position (\d+)/.exec(msg);
    if (expr && m) {
      const pos = +m[1];
      $('#form-error-expr').textContent = expr + '\n' +
        ' '.repeat(Math.max(0, pos - 1)) + '^';
      $('#form-error-expr').hidden = false;
    } else {
      $('#form-error-expr').textContent = '';
      $('#form-error-expr').hidden = true;
    }
  }

  $('#scan-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    $('#form-error').hidden = true;
    const body = {};
    const kind = $('#universe-kind').value;
    const val = $('#universe-value').value.trim();
    if (kind === 'synthetic') body.universe = 'synthetic:' + (val || '1000');
    else if (kind === 'list')
      body.symbols = val.split(/[\s,;]+/).filter((x) => x);
    else if (kind === 'file') body.universe = 'file:' + val;
    else body.universe = 'all';
    const data = $('#data').value.trim();
    if (data) body.data = data;
    let expr = null;
    if (mode() === 'filter') {
      expr = $('#filter').value;
      body.filter = expr;
    } else {
      body.strategy = $('#strategy').value;
      const params = {};
      for (const input of document.querySelectorAll('#params input')) {
        if (input.value !== '' && +input.value !== +input.dataset.default)
          params[input.dataset.param] = +input.value;
      }
      if (Object.keys(params).length) body.params = params;
    }
    body.priority = $('#priority').value;
    const tc = {};
    const ms = $('#max-signals').value;
    if (ms !== '' && +ms > 0) tc.max_signals = +ms;
    const to = $('#timeout').value;
    if (to !== '' && +to > 0) tc.timeout_seconds = +to;
    if (Object.keys(tc).length) body.termination_criteria = tc;
    $('#start').disabled = true;
    try {
      const r = await api('POST', '/scan/stream', body);
      open(r.scan_id);
      refreshList();
    } catch (e) {
      formError(e.message, expr);
    } finally {
      $('#start').disabled = false;
    }
  });

  /* ------------------------------------------------------------------ */
  /*  Charts                                                            */

  function closeChart() {
    $('#chart-panel').hidden = true;
  }

  let lastChart = null;

  async function showChart(row) {
    if (!row || !current) return;
    const names = Object.keys(row.values || {});
    const data = current.meta.data || '';
    const url = '/chart/' + encodeURIComponent(row.symbol) + '?bars=250' +
      (data ? '&data=' + encodeURIComponent(data) : '') +
      (names.length ? '&values=' + encodeURIComponent(names.join(';'))
                    : '');
    $('#chart-panel').hidden = false;
    $('#chart-title').textContent = row.symbol;
    $('#chart-error').hidden = true;
    try {
      const c = await api('GET', url);
      lastChart = c;
      window.ZscanChart.draw($('#chart'), $('#chart-legend'), c,
                             $('#chart-style').value);
    } catch (e) {
      $('#chart-error').textContent = 'chart: ' + e.message;
      $('#chart-error').hidden = false;
    }
  }

  table.onpick = showChart;
  $('#chart-close').addEventListener('click', closeChart);
  $('#chart-style').addEventListener('change', () => {
    if (lastChart)
      window.ZscanChart.draw($('#chart'), $('#chart-legend'), lastChart,
                             $('#chart-style').value);
  });
  window.addEventListener('resize', () => {
    table.render(true);
    if (lastChart && !$('#chart-panel').hidden)
      window.ZscanChart.draw($('#chart'), $('#chart-legend'), lastChart,
                             $('#chart-style').value);
  });

  /* ------------------------------------------------------------------ */

  window.addEventListener('hashchange', () => {
    const id = location.hash.slice(1);
    if (id) open(id);
  });

  loadStrategies().catch((e) => formError('strategies: ' + e.message));
  refreshList();
  refreshWorkers();
  setInterval(refreshList, 2000);
  setInterval(refreshWorkers, 5000);
  if (location.hash.length > 1) open(location.hash.slice(1));
})();
