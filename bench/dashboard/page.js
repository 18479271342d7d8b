/* One run of the dashboard bench in chromium (playwright-core): opens the
   dashboard, starts a scan of `total` symbols through the gateway, opens
   it, and while its records stream in presses a key in a text field every
   100 ms, measuring how long each key event waited before the page
   handled it (performance.now() - event.timeStamp).  Prints one JSON
   line: records/s that reached the page, rows/s the table took, the lag
   between the last record and the table showing it, and the input delay
   p50, p99 and max.  Usage: node page.js BASE TOTAL */
'use strict';

const {chromium} = require('playwright-core');

(async () => {
  const [base, total] = [process.argv[2], +process.argv[3]];
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu',
           '--disable-background-networking'],
  });
  const ctx = await browser.newContext({bypassCSP: true,
                                        viewport: {width: 1400,
                                                   height: 900}});
  const page = await ctx.newPage();
  await page.goto(base + '/');
  await page.waitForFunction(() =>
    document.querySelectorAll('#strategy option').length > 3);
  await page.evaluate(() => {
    window.benchDelays = [];
    document.querySelector('#filter').addEventListener('keydown', (e) => {
      window.benchDelays.push(performance.now() - e.timeStamp);
    });
    /* when records reach the page, and when the table has them */
    const orig = WebSocket.prototype.addEventListener;
    window.benchFirst = 0;
    window.benchLast = 0;
    window.benchRecords = 0;
    const Real = window.WebSocket;
    window.WebSocket = function (url, p) {
      const ws = new Real(url, p);
      ws.addEventListener('message', (ev) => {
        const now = performance.now();
        if (!window.benchFirst) window.benchFirst = now;
        window.benchLast = now;
        let n = 1;
        for (let i = 0; i < ev.data.length; i++)
          if (ev.data.charCodeAt(i) === 10) n++;
        window.benchRecords += n;
      });
      return ws;
    };
    window.WebSocket.prototype = Real.prototype;
    void orig;
  });
  await page.check('input[name=mode][value=filter]');
  const r = await fetch(base + '/scan/stream', {
    method: 'POST', headers: {'content-type': 'application/json'},
    body: JSON.stringify({universe: 'synthetic:' + total,
                          filter: 'rsi(14) < 30'})});
  const id = (await r.json()).scan_id;
  await page.evaluate((x) => { location.hash = x; }, id);
  await page.focus('#filter');
  const deadline = Date.now() + 300000;
  let shownAt = 0;
  for (;;) {
    await page.keyboard.press('a');
    const st = await page.evaluate(() => ({
      shown: window.zscanShown(), done: window.zscanView &&
        window.zscanView.complete !== null, now: performance.now()}));
    if (st.done && st.shown >= total) {
      shownAt = st.now;
      break;
    }
    if (Date.now() > deadline) break;
    await new Promise((res) => setTimeout(res, 100));
  }
  const out = await page.evaluate(() => ({
    first: window.benchFirst, last: window.benchLast,
    records: window.benchRecords, delays: window.benchDelays,
    shown: window.zscanShown()}));
  const d = out.delays.slice().sort((a, b) => a - b);
  const q = (p) => d.length ? d[Math.min(d.length - 1,
                                         Math.floor(p * d.length))] : -1;
  const secs = (out.last - out.first) / 1000;
  process.stdout.write(JSON.stringify({
    records: out.records, shown: out.shown,
    delivered: secs > 0 ? out.records / secs : 0,
    table: shownAt && shownAt > out.first
      ? out.shown / ((shownAt - out.first) / 1000) : 0,
    lag_ms: shownAt ? shownAt - out.last : -1,
    keys: d.length, p50: q(0.5), p99: q(0.99), max: d.length ? d[d.length - 1] : -1,
  }) + '\n');
  await browser.close();
})().catch((e) => {
  process.stderr.write('bench page: ' + e.message + '\n');
  process.exit(1);
});
