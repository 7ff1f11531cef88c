// The console's first load on a shop's link: Chromium with the network throttled
// to 10 Mbit/s down, 5 Mbit/s up and 40 ms of latency (DevTools protocol), a
// signed-in user with an empty cache opening the Overview. Prints the WASM
// modules' sizes on disk (the shell and the split page groups), the bytes transferred (compressed, as sent) by kind, and
// the time from navigation to a page that answers clicks (hydrated), as the
// median of several cold loads. Run by `bash tests/bench/console`, which builds
// and starts Steward; the server's address comes from STEWARD_BENCH_URL.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';

// playwright-core is installed for the browser tests, in tests/e2e.
const { chromium } = createRequire(new URL('../e2e/package.json', import.meta.url))('playwright-core');

const base = process.env.STEWARD_BENCH_URL;
const site = process.env.LEPTOS_SITE_ROOT;
const runs = Number(process.env.RUNS || 5);
const PASSWORD = 'steward-demo-2026';

// One published build: pkg/<build id>/ holds the shell and the split pages.
const pkg = path.join(site, 'pkg', fs.readFileSync(path.join(site, 'build-id'), 'utf8').trim());
const wasm = fs.readdirSync(pkg).filter((f) => f.endsWith('.wasm')).sort();
let wasmTotal = 0;
for (const f of wasm) {
  const size = fs.statSync(path.join(pkg, f)).size;
  wasmTotal += size;
  console.log(`wasm on disk        ${f}: ${(size / 1024 / 1024).toFixed(2)} MiB (${size} bytes)`);
}
console.log(`wasm on disk        all ${wasm.length} modules: ${(wasmTotal / 1024 / 1024).toFixed(2)} MiB (${wasmTotal} bytes)`);

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const times = [];
const navTimes = [];
const deepTimes = [];
let bytes;
let navBytes;
let deepBytes;
try {
  for (let i = 0; i < runs; i++) {
    const context = await browser.newContext();
    const page = await context.newPage();
    // Sign in unthrottled: only the Overview's load is measured.
    await page.goto(`${base}/sign-in`);
    await page.waitForFunction(() => window.__stewardHydrated === true);
    await page.getByLabel('Email').fill('admin@steward.demo');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByLabel('Password').press('Enter');
    await page.waitForURL((url) => url.pathname === '/');
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.clearBrowserCache');
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: false });
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 40,
      downloadThroughput: (10 * 1000 * 1000) / 8,
      uploadThroughput: (5 * 1000 * 1000) / 8,
    });
    const byKind = {};
    const kinds = new Map();
    cdp.on('Network.responseReceived', (e) => kinds.set(e.requestId, e.type));
    cdp.on('Network.loadingFinished', (e) => {
      const kind = kinds.get(e.requestId) || 'Other';
      byKind[kind] = (byKind[kind] || 0) + e.encodedDataLength;
    });
    const started = Date.now();
    await page.goto(`${base}/`, { waitUntil: 'commit' });
    await page.waitForFunction(() => window.__stewardHydrated === true, null, { timeout: 120000 });
    times.push(Date.now() - started);
    // Whatever the page still fetches once interactive counts as transferred too.
    await page.waitForLoadState('networkidle');
    bytes = { ...byKind };
    // The first visit to a page outside the shell fetches its page group.
    const before = Object.values(byKind).reduce((a, b) => a + b, 0);
    const navStarted = Date.now();
    await page.click('a[href="/apis"]');
    await page.waitForURL((url) => url.pathname === '/apis');
    await page.locator('h1', { hasText: 'APIs' }).waitFor();
    navTimes.push(Date.now() - navStarted);
    await page.waitForLoadState('networkidle');
    navBytes = Object.values(byKind).reduce((a, b) => a + b, 0) - before;
    // A deep link to a page outside the shell, with an empty cache: the shell
    // and the page's group both load before the page is interactive.
    await cdp.send('Network.clearBrowserCache');
    const deepBefore = Object.values(byKind).reduce((a, b) => a + b, 0);
    const deepStarted = Date.now();
    await page.goto(`${base}/apis`, { waitUntil: 'commit' });
    await page.waitForFunction(() => window.__stewardHydrated === true, null, { timeout: 120000 });
    deepTimes.push(Date.now() - deepStarted);
    await page.waitForLoadState('networkidle');
    deepBytes = Object.values(byKind).reduce((a, b) => a + b, 0) - deepBefore;
    await context.close();
  }
} finally {
  await browser.close();
}
const total = Object.values(bytes).reduce((a, b) => a + b, 0);
for (const [kind, n] of Object.entries(bytes).sort((a, b) => b[1] - a[1])) {
  console.log(`transferred         ${kind.padEnd(10)} ${(n / 1024).toFixed(1)} KiB`);
}
console.log(`transferred total   ${(total / 1024).toFixed(1)} KiB on a first load of the Overview`);
times.sort((a, b) => a - b);
console.log(`time to interactive ${(times[Math.floor(times.length / 2)] / 1000).toFixed(2)} s median of ${times.length} (${times.map((t) => (t / 1000).toFixed(2)).join(', ')}) at 10 Mbit/s, 40 ms`);
navTimes.sort((a, b) => a - b);
console.log(`first visit to APIs ${(navTimes[Math.floor(navTimes.length / 2)] / 1000).toFixed(2)} s median (${navTimes.map((t) => (t / 1000).toFixed(2)).join(', ')}), ${(navBytes / 1024).toFixed(1)} KiB transferred, from the Overview by its link`);
deepTimes.sort((a, b) => a - b);
console.log(`deep link to APIs   ${(deepTimes[Math.floor(deepTimes.length / 2)] / 1000).toFixed(2)} s median to interactive (${deepTimes.map((t) => (t / 1000).toFixed(2)).join(', ')}), ${(deepBytes / 1024).toFixed(1)} KiB transferred, empty cache`);
