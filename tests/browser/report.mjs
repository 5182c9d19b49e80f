// Opens a page written by `idscope report` in Debian's Chromium (never a downloaded browser) for
// tests/it/report_browser.rs, and uses it as a person does: reads the count line, scrolls the
// flow list to its end, clicks a flow and reads its decoded tree, opens a flow by its #flow-ID
// address, types filters (one that narrows the list, one that is wrong), moves with the keys,
// opens the Stories tab and clicks a step of a sequence diagram, opens the Findings tab and
// clicks a finding. Every request the page makes other than the file itself is recorded and
// refused. It reports what it saw; the Rust test judges it.
//
// Usage: node report.mjs '<json>' where the JSON names
//   chromium    the browser executable (/usr/bin/chromium)
//   file        the report, an absolute path
//   flow        the id of the flow to click (its decoded tree is read)
//   filter      a filter that narrows the list; `bad` a filter with an error
//   screens     a directory for screenshots (report-*.png)
//   unsupported a filter with an operator the page cannot evaluate
//   expressions filters whose count line or error the page reports, one by one
//   storyFilter a `~story` filter whose count line the page reports
//   hashFlow    the id of the flow to open by its #flow-ID address
//   viewport    {width, height} of the page (a small one shows the list's virtual rows)
//   timeoutMs   how long any one wait may take
// It prints one JSON object on stdout: {"ok": true, ...what it saw} or {"ok": false, "error"};
// the exit code is 0 in both cases unless the script itself could not run.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const args = JSON.parse(process.argv[2] ?? '{}');
const timeout = args.timeoutMs ?? 20000;
const fileUrl = pathToFileURL(args.file).href;

const browser = await chromium.launch({
  executablePath: args.chromium,
  headless: true,
  timeout,
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const context = await browser.newContext({ viewport: args.viewport ?? { width: 1400, height: 860 } });
const page = await context.newPage();
const requests = [];
const problems = [];
await context.route('**/*', (route) => {
  const url = route.request().url();
  if (url.split('#')[0] === fileUrl) return route.continue();
  requests.push(url);
  return route.abort();
});
page.on('console', (m) => {
  if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
});
page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));

mkdirSync(args.screens, { recursive: true });
const shot = (name) => page.screenshot({ path: join(args.screens, `report-${name}.png`) });
const text = async (sel) => ((await page.locator(sel).first().textContent({ timeout })) ?? '').trim();
const frame = () => page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
const rowIds = () => page.$$eval('#list .row[data-id]', (rs) => rs.map((r) => Number(r.dataset.id)));

/** Scrolls the list until the row of flow `id` is in the DOM (the list is virtual). */
async function scrollToRow(id) {
  await page.evaluate(() => {
    document.getElementById('list').scrollTop = 0;
  });
  for (let i = 0; i < 2000; i++) {
    await frame();
    if (await page.locator(`#list .row[data-id="${id}"]`).count()) return;
    const moved = await page.evaluate(() => {
      const l = document.getElementById('list');
      const before = l.scrollTop;
      l.scrollTop += l.clientHeight;
      return l.scrollTop !== before;
    });
    if (!moved) break;
  }
  throw new Error(`no row for flow #${id} in the list`);
}

async function run() {
  const seen = {};
  await page.goto(fileUrl, { timeout });
  await page.locator('#count').waitFor({ timeout });
  seen.title = await page.title();
  seen.count = await text('#count');
  seen.timings = JSON.parse((await page.evaluate(() => document.documentElement.dataset.timings)) ?? 'null');
  // Informational: when the browser painted first and finished loading the page.
  seen.paint = await page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    const fcp = performance.getEntriesByName('first-contentful-paint')[0];
    return {
      first_contentful_paint_ms: fcp ? Math.round(fcp.startTime) : null,
      dom_content_loaded_ms: nav ? Math.round(nav.domContentLoadedEventEnd) : null,
    };
  });
  seen.tabs = await page.$$eval('#tabs [data-tab]', (b) => b.map((x) => x.dataset.tab));
  seen.banner = await text('#banner');
  seen.columns = await page.$$eval('.row.head span', (s) => s.map((x) => x.textContent));
  seen.firstRows = await rowIds();
  await shot('1-list');

  // The end of the list.
  await page.evaluate(() => {
    const l = document.getElementById('list');
    l.scrollTop = l.scrollHeight;
  });
  await frame();
  const atEnd = await rowIds();
  seen.rowsInDomAtEnd = atEnd.length;
  seen.lastRowAtEnd = Math.max(...atEnd);

  // A click on a flow opens its decoded tree.
  await scrollToRow(args.flow);
  await page.locator(`#list .row[data-id="${args.flow}"]`).click();
  await page.locator('#detail .tree').first().waitFor({ timeout });
  seen.detailTitle = await text('#detail h2');
  seen.trees = await page.$$eval('#detail .tree', (ts) => ts.map((t) => t.dataset.decoder));
  seen.labels = await page.$$eval('#detail .tree .node .label', (ls) => ls.map((l) => l.textContent));
  seen.notes = await page.$$eval('#detail .tree .node .note', (ls) => ls.map((l) => l.textContent));
  seen.secretValues = await page.$$eval('#detail .tree .node.k-secret .value', (ls) => ls.map((l) => l.textContent));
  seen.detailSections = await page.$$eval('#detail .part h3', (hs) => hs.map((h) => h.textContent));
  seen.selectedRow = await page.$$eval('#list .row.selected', (rs) => rs.map((r) => Number(r.dataset.id)));
  seen.hashAfterClick = await page.evaluate(() => location.hash);
  await shot('2-flow');

  // The keys: j moves the selection down, Enter opens it.
  await page.locator('#list').focus();
  await page.keyboard.press('j');
  await page.keyboard.press('Enter');
  seen.afterKeys = await text('#detail h2');

  // #flow-ID opens a flow.
  await page.evaluate((id) => {
    location.hash = `#flow-${id}`;
  }, args.hashFlow);
  await page.waitForFunction((id) => (document.querySelector('#detail h2')?.textContent ?? '').startsWith(`#${id} `), args.hashFlow, { timeout });
  seen.afterHash = await text('#detail h2');

  // A filter narrows the list; `/` focuses the box.
  await page.locator('body').press('/');
  seen.slashFocusesFilter = await page.evaluate(() => document.activeElement?.id === 'filter');
  await page.locator('#filter').pressSequentially(args.filter);
  await page.locator('#filter').press('Enter');
  seen.filteredCount = await text('#count');
  seen.filteredRows = await page.$$eval('#list .row[data-id]', (rs) =>
    rs.map((r) => ({ id: Number(r.dataset.id), host: r.querySelector('.c3').textContent, kind: r.querySelector('.c6').textContent })));
  seen.filterErrorHiddenWhenValid = await page.locator('#filter-error').isHidden();
  await shot('3-filtered');

  // A wrong filter says where.
  await page.locator('#filter').fill(args.bad);
  await page.locator('#filter').press('Enter');
  await page.locator('#filter-error').waitFor({ state: 'visible', timeout });
  seen.filterError = await text('#filter-error');
  await page.locator('#filter').fill(args.unsupported);
  await page.locator('#filter').press('Enter');
  seen.unsupportedError = await text('#filter-error');
  await shot('4-filter-error');
  // The same expressions idscope's own filter is given: what the page says to each.
  seen.expressions = [];
  for (const expr of args.expressions ?? []) {
    await page.locator('#filter').fill(expr);
    await page.locator('#filter').press('Enter');
    const bad = await page.locator('#filter-error').isVisible();
    seen.expressions.push({ expr, count: await text('#count'), error: bad ? await text('#filter-error') : null });
  }
  if (args.storyFilter) {
    await page.locator('#filter').fill(args.storyFilter);
    await page.locator('#filter').press('Enter');
    seen.storyCount = await text('#count');
  }
  await page.locator('#filter').fill('');
  await page.locator('#filter').press('Enter');
  await page.locator('#filter').press('Escape');
  seen.countCleared = await text('#count');

  // Stories: the sequence diagrams.
  await page.locator('#tabs [data-tab="stories"]').click();
  seen.stories = await page.$$eval('#app section.story', (ss) =>
    ss.map((s) => ({
      story: s.dataset.story ?? s.querySelector('h3')?.textContent,
      steps: s.querySelectorAll('g.step').length,
      stepFlows: [...s.querySelectorAll('g.step')].map((g) => Number(g.getAttribute('data-flow'))),
      failed: s.querySelectorAll('g.step.failed').length,
      checks: [...s.querySelectorAll('li.check')].map((c) => ({ verdict: c.className, text: c.textContent })),
      visible: s.getBoundingClientRect().height > 0,
    })));
  seen.diagramsHolderHidden = await page.evaluate(() => {
    const d = document.getElementById('diagrams');
    return d === null || d.hidden;
  });
  await shot('5-stories');
  const step = page.locator('#app section.story g.step[data-flow]').first();
  if (await step.count()) {
    const id = await step.getAttribute('data-flow');
    await step.click();
    await page.waitForFunction((id) => (document.querySelector('#detail h2')?.textContent ?? '').startsWith(`#${id} `), id, { timeout });
    seen.stepClicked = Number(id);
    seen.afterStep = await text('#detail h2');
    seen.flowsTabAfterStep = await page.locator('#panel-flows').isVisible();
  }

  // Findings: clicking one opens its flow.
  await page.locator('#tabs [data-tab="findings"]').click();
  seen.findingGroups = await page.$$eval('#panel-findings h3', (hs) => hs.map((h) => h.textContent));
  const finding = page.locator('#panel-findings li[data-flow]').first();
  await shot('6-findings');
  if (await finding.count()) {
    const id = await finding.getAttribute('data-flow');
    await finding.click();
    await page.waitForFunction((id) => (document.querySelector('#detail h2')?.textContent ?? '').startsWith(`#${id} `), id, { timeout });
    seen.findingClicked = Number(id);
  }
  // Time to an opened flow, measured in the page (informational).
  seen.openMs = await page.evaluate(
    (id) =>
      new Promise((resolve) => {
        const t = performance.now();
        window.addEventListener('hashchange', () => requestAnimationFrame(() => resolve(Math.round(performance.now() - t))), { once: true });
        location.hash = `#flow-${id}`;
      }),
    seen.findingClicked === args.hashFlow ? args.flow : args.hashFlow,
  );
  await frame();
  await page.screenshot({ path: join(args.screens, 'report-7-full.png'), fullPage: true });
  return { ok: true, ...seen };
}

let result;
try {
  result = await run();
} catch (e) {
  result = { ok: false, error: String(e.message ?? e) };
  await page.screenshot({ path: join(args.screens, 'report-failure.png') }).catch(() => {});
}
await context.close();
await browser.close();
result.requests = requests;
result.problems = problems;
console.log(JSON.stringify(result));
