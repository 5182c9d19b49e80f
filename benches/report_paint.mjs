// Times an `idscope report` page in headless Debian Chromium (playwright-core from tests/browser):
//   node benches/report_paint.mjs REPORT.html [RUNS]
// Prints one JSON object: the median over RUNS fresh page loads of the first paint, the time until
// the flow list shows its first row, the time from a click on a row to its decoded tree, and, as
// the baseline, the first paint and load of the same HTML with the page's script removed.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, '..', 'tests', 'browser', 'package.json'));
const { chromium } = require('playwright-core');

const file = resolve(process.argv[2]);
const runs = Number(process.argv[3] || 5);
const bare = file.replace(/\.html$/, '') + '.bare.html';
writeFileSync(bare, readFileSync(file, 'utf8').replace(/<script>[\s\S]*?<\/script>\s*<\/body>/, '</body>'));

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const firstPaint = (page) => page.evaluate(() => {
  const p = performance.getEntriesByType('paint').find((e) => e.name === 'first-contentful-paint')
    || performance.getEntriesByType('paint')[0];
  return p ? p.startTime : NaN;
});

const out = { runs, fp_ms: [], list_ms: [], open_ms: [], bare_fp_ms: [], bare_load_ms: [] };
for (let i = 0; i < runs; i++) {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  await page.waitForSelector('#list .row');
  // The page marks `report:list` when its list is first drawn; without the mark, the time the
  // row was seen here (which adds the polling interval).
  out.list_ms.push(await page.evaluate(() => {
    const m = performance.getEntriesByName('report:list')[0];
    return m ? m.startTime : performance.now();
  }));
  out.fp_ms.push(await firstPaint(page));
  const row = page.locator('#list .row').nth(3);
  const t0 = await page.evaluate(() => performance.now());
  await row.click();
  await page.waitForSelector('#detail .tree');
  out.open_ms.push((await page.evaluate(() => performance.now())) - t0);
  await ctx.close();

  const bctx = await browser.newContext();
  const bpage = await bctx.newPage();
  await bpage.goto(pathToFileURL(bare).href, { waitUntil: 'load' });
  out.bare_load_ms.push(await bpage.evaluate(() => performance.timing.loadEventEnd - performance.timing.navigationStart));
  out.bare_fp_ms.push(await firstPaint(bpage));
  await bctx.close();
}
await browser.close();
for (const k of ['fp_ms', 'list_ms', 'open_ms', 'bare_fp_ms', 'bare_load_ms']) out[k] = median(out[k]);
console.log(JSON.stringify(out));
