/* The dashboard in a real browser (Debian's chromium, driven by
   playwright-core from npm) against a real cluster and gateway, started by
   tests/integration/test_dashboard.py, which passes the gateway's URL and
   a directory for screenshots, and restarts the gateway when this script
   prints "restart-gateway" (then answers "ok" on stdin).

   Each step checks real values on the page and keeps a screenshot. */
'use strict';

const {chromium} = require('playwright-core');
const readline = require('readline');
const path = require('path');

const BASE = process.argv[2];
const SHOTS = process.argv[3];
const rl = readline.createInterface({input: process.stdin});
const answers = [];
let waiting = null;
rl.on('line', (l) => {
  if (waiting) {
    const w = waiting;
    waiting = null;
    w(l);
  } else answers.push(l);
});
function ask(what) {
  process.stdout.write(what + '\n');
  return new Promise((resolve) => {
    if (answers.length) resolve(answers.shift());
    else waiting = resolve;
  });
}

let step = 0;
function log(msg) {
  process.stderr.write('dashboard: ' + msg + '\n');
}
function fail(msg) {
  throw new Error(msg);
}
async function shot(page, name) {
  step++;
  const file = path.join(SHOTS, String(step).padStart(2, '0') + '-' + name +
                         '.png');
  await page.screenshot({path: file, fullPage: true});
}

/* waitForFunction without it: playwright's polling evaluates strings,
   which the gateway's Content-Security-Policy forbids */
async function until(page, fn, arg, timeout) {
  const end = Date.now() + (timeout || 30000);
  for (;;) {
    if (await page.evaluate(fn, arg)) return;
    if (Date.now() > end) fail('timed out waiting for ' + fn);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function startScan(page, opts) {
  await page.selectOption('#universe-kind', opts.kind || 'synthetic');
  await page.fill('#universe-value', String(opts.universe || ''));
  if (opts.filter !== undefined) {
    await page.check('input[name=mode][value=filter]');
    await page.fill('#filter', opts.filter);
  } else {
    await page.check('input[name=mode][value=strategy]');
    await page.selectOption('#strategy', opts.strategy || 'rsi_oversold');
  }
  await page.fill('#max-signals', opts.maxSignals ? String(opts.maxSignals)
                                                  : '');
  await page.fill('#timeout', opts.timeout ? String(opts.timeout) : '');
  const before = await page.evaluate(() => location.hash);
  await page.click('#start');
  if (opts.expectError) return null;
  await page.waitForFunction((b) => location.hash.length > 1 &&
                             location.hash !== b, before);
  return (await page.evaluate(() => location.hash)).slice(1);
}

/* What the page holds: every result row it has (positions), and the end. */
async function pageState(page) {
  return page.evaluate(() => {
    const v = window.zscanView;
    const rows = window.zscanRows();
    return {id: v.id, seqs: rows.map((r) => r.seq),
            symbols: rows.map((r) => r.symbol),
            complete: v.complete, shown: window.zscanShown()};
  });
}

async function waitEnd(page, timeout) {
  await page.waitForFunction(() => window.zscanView &&
                             window.zscanView.complete !== null,
                             null, {timeout: timeout || 60000});
  return pageState(page);
}

function checkWhole(st, what) {
  const uniq = new Set(st.seqs);
  if (uniq.size !== st.seqs.length)
    fail(what + ': ' + (st.seqs.length - uniq.size) + ' duplicate rows');
  if (st.seqs.length !== st.complete.results)
    fail(what + ': ' + st.seqs.length + ' rows, the scan had ' +
         st.complete.results + ' results');
  /* results and the events between them use every position once */
  const sorted = st.seqs.slice().sort((a, b) => a - b);
  const last = sorted[sorted.length - 1];
  if (last - sorted[0] + 1 - sorted.length > 200)
    fail(what + ': positions ' + sorted[0] + '..' + last + ' for ' +
         sorted.length + ' rows: too many holes for events alone');
}

(async () => {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu',
           '--disable-background-networking'],
  });
  const errors = [];
  const watch = (p) => {
    p.on('pageerror', (e) => errors.push(String(e)));
    p.on('console', (m) => {
      if (m.type() === 'error' && !/WebSocket|Failed to load resource/
        .test(m.text()))
        errors.push(m.text());
    });
  };
  /* the page as users get it: the gateway's Content-Security-Policy
     (no inline script or style, nothing from elsewhere) enforced */
  const strict = await browser.newPage({viewport: {width: 1400,
                                                   height: 900}});
  watch(strict);
  /* the steps: playwright's waitForFunction evaluates strings, which that
     policy forbids, so this page bypasses it (the strict one polls) */
  const page = await (await browser.newContext({
    bypassCSP: true, viewport: {width: 1400, height: 900}})).newPage();
  watch(page);
  try {
    /* 0. the page, offline assets only, strategies from the gateway */
    const requests = [];
    strict.on('request', (r) => requests.push(r.url()));
    await strict.goto(BASE + '/');
    await until(strict, () =>
      document.querySelectorAll('#strategy option').length > 3);
    const defaults = await strict.$$eval('#params input',
                                         (l) => l.map((i) => i.value));
    if (defaults.join(',') !== '14,30')
      fail('rsi_oversold parameters from /strategies: ' + defaults);
    const foreign = requests.filter((u) => !u.startsWith(BASE));
    if (foreign.length) fail('requests outside the gateway: ' + foreign);
    await shot(strict, 'form');
    await page.goto(BASE + '/');
    await page.waitForFunction(() =>
      document.querySelectorAll('#strategy option').length > 3);
    log('ok: the page loads from the gateway alone, the form has the ' +
        'strategies and their defaults');

    /* 1. a scan from the form: rows arrive, ranked by score */
    await startScan(page, {universe: 3000});
    await page.waitForFunction(() => window.zscanShown() >= 50);
    const scores = await page.$$eval(
      '#rows tr[data-i] td[data-key=score]',
      (tds) => tds.slice(0, 30).map((t) => +t.dataset.v));
    for (let i = 1; i < scores.length; i++)
      if (scores[i] > scores[i - 1])
        fail('rows not ranked by score: ' + scores.slice(0, 10));
    await shot(page, 'ranked-live');
    let st = await waitEnd(page);
    checkWhole(st, 'a 3000-symbol scan');
    if (st.seqs.length !== 3000) fail('rows: ' + st.seqs.length);
    await shot(page, 'finished');
    log('ok: a scan started from the form, rows ranked live, all 3000 ' +
        'results once');

    /* 2. max signals: exactly N signal rows, the right reason */
    await startScan(page, {universe: 20000, filter: 'rsi(14) < 45',
                           maxSignals: 7});
    st = await waitEnd(page);
    await page.check('#signals-only');
    const sigRows = await page.$$eval('#rows tr.signal', (l) => l.length);
    const reason = await page.textContent('#final-reason');
    if (sigRows !== 7 || reason !== 'max_signals')
      fail('max_signals scan: ' + sigRows + ' signal rows, reason ' +
           reason);
    await shot(page, 'max-signals');
    await page.uncheck('#signals-only');
    log('ok: max_signals 7: exactly 7 signal rows, reason max_signals');

    /* 3. Stop on a long scan */
    await startScan(page, {universe: 200000});
    await page.waitForFunction(() => window.zscanShown() >= 100);
    await page.click('#stop');
    st = await waitEnd(page, 30000);
    if (st.complete.reason !== 'stopped' || st.complete.unscanned <= 0)
      fail('stop: ' + JSON.stringify(st.complete));
    checkWhole(st, 'a stopped scan');
    await shot(page, 'stopped');
    log('ok: Stop ended a 200,000-symbol scan (' + st.complete.unscanned +
        ' never scanned)');

    /* 4. reload mid-scan: the same rows, no duplicates */
    const idr = await startScan(page, {universe: 15000});
    await page.waitForFunction(() => window.zscanShown() >= 200);
    await page.reload();
    await page.waitForFunction((id) => window.zscanView &&
                               window.zscanView.id === id, idr);
    st = await waitEnd(page);
    checkWhole(st, 'reloaded mid-scan');
    if (st.seqs.length !== 15000) fail('after reload: ' + st.seqs.length);
    await shot(page, 'reloaded');
    log('ok: reloaded mid-scan, every row once (15000)');

    /* 5. the gateway restarted mid-scan: the page resumes, no gap */
    const idg = await startScan(page, {universe: 15000});
    await page.waitForFunction(() => window.zscanShown() >= 200);
    const had = await page.evaluate(() => window.zscanShown());
    const answer = await ask('restart-gateway');
    if (answer !== 'ok') fail('the gateway restart: ' + answer);
    await page.waitForFunction(() =>
      document.querySelector('#conn').textContent === 'connected',
      null, {timeout: 20000});
    st = await waitEnd(page);
    if (st.id !== idg) fail('another scan: ' + st.id);
    checkWhole(st, 'across a gateway restart');
    if (st.seqs.length !== 15000)
      fail('across a restart: ' + st.seqs.length);
    await shot(page, 'gateway-restarted');
    log('ok: the gateway restarted mid-scan (' + had + ' rows then): the ' +
        'page resumed, every row once');

    /* 6. a bad filter: the server's message, the position marked */
    await startScan(page, {universe: 100, filter: 'rsi(14) < < 3',
                           expectError: true});
    await page.waitForSelector('#form-error:not([hidden])');
    const msg = await page.textContent('#form-error-msg');
    const expr = await page.textContent('#form-error-expr');
    if (!/position 11/.test(msg) || !expr.endsWith('\n' + ' '.repeat(10) +
                                                   '^'))
      fail('bad filter: ' + JSON.stringify([msg, expr]));
    await shot(page, 'bad-filter');
    log('ok: a bad filter shows "' + msg + '" with the position marked');

    /* 7. a result's chart: the plotted last RSI is the row's */
    await startScan(page, {universe: 500});
    st = await waitEnd(page);
    const row = await page.$('#rows tr[data-i="0"]');
    const rsi = await row.$eval('td[data-key="rsi(14)"]',
                                (td) => td.dataset.v);
    const sym = await row.getAttribute('data-symbol');
    await row.click();
    await page.waitForSelector('#chart-legend span[data-name="rsi(14)"]');
    const plotted = await page.$eval(
      '#chart-legend span[data-name="rsi(14)"]', (s) => s.dataset.last);
    if (+plotted !== +rsi)
      fail('chart of ' + sym + ': last RSI ' + plotted + ', row ' + rsi);
    const title = await page.textContent('#chart-title');
    if (title !== sym) fail('chart title ' + title);
    await shot(page, 'chart');
    await page.selectOption('#chart-style', 'line');
    await shot(page, 'chart-line');
    log('ok: the chart of ' + sym + ' plots RSI ' + plotted +
        ', the row\'s value');

    /* the strict page shows a finished scan and its chart too */
    await strict.goto(BASE + '/#' + st.id);
    await until(strict, () => window.zscanView &&
                window.zscanView.complete !== null);
    await strict.click('#rows tr[data-i="0"]');
    await strict.waitForSelector('#chart-legend span[data-name="rsi(14)"]');
    await shot(strict, 'strict-policy');
    if (errors.length) fail('page errors: ' + errors.join(' | '));
    await browser.close();
    process.stdout.write('done\n');
    process.exit(0);
  } catch (e) {
    try {
      await shot(page, 'failure');
    } catch (e2) { /* nothing more to keep */ }
    process.stderr.write('dashboard: FAIL: ' + e.message + '\n');
    await browser.close();
    process.exit(1);
  }
})();
