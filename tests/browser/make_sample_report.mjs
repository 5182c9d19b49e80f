// Writes a report page in the layout `idscope report` writes (the contract: meta, rows,
// one detail block per flow, stories, diagram sections, totals, the assets inline and a CSP with
// their hashes), from `idscope analyze --json` output and the HAR it was made from. For working on
// src/report/assets without the generator, and for timing the page with many flows.
//
// Usage: node make_sample_report.mjs ANALYZE.jsonl CAPTURE.har OUT.html [REPEAT]
// REPEAT copies the flows that many times (ids renumbered) to make a large page.

import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, basename } from 'node:path';
import { fileURLToPath } from 'node:url';

const [analyzeFile, harFile, outFile, repeatArg] = process.argv.slice(2);
const repeat = Number(repeatArg ?? 1);
const assets = join(dirname(fileURLToPath(import.meta.url)), '../../src/report/assets');
const js = readFileSync(join(assets, 'report.js'), 'utf8');
const css = readFileSync(join(assets, 'report.css'), 'utf8');
const sha = (s) => `'sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}'`;

const lines = readFileSync(analyzeFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const flows = lines.filter((o) => o.type === 'flow');
const stories = lines.filter((o) => o.type === 'story');
const entries = JSON.parse(readFileSync(harFile, 'utf8')).log.entries;

const json = (v) =>
  JSON.stringify(v)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
const esc = (s) =>
  String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

// What the generator takes from `analysis::digest`: the walk over decoded trees it does.
function walk(outcomes, f) {
  const visit = (n) => {
    f(n);
    (n.children ?? []).forEach(visit);
  };
  outcomes.filter((o) => o.result?.ok).forEach((o) => visit(o.result.ok.root));
}
function claims(outcomes) {
  const out = [];
  walk(outcomes, (n) => {
    if (n.label === 'claims' || n.label === 'attributes') {
      (n.children ?? []).forEach((c) => c.value !== undefined && out.push([c.label, c.value]));
    } else if ((n.label === 'NameID' || n.label === 'NameIdentifier') && n.value !== undefined) {
      out.push([n.label, n.value]);
    }
  });
  return out;
}
function ops(outcomes, soapAction) {
  const out = [];
  const push = (v) => {
    v = v.trim().replace(/^"+|"+$/g, '');
    if (v && !out.includes(v)) out.push(v);
  };
  walk(outcomes, (n) => ['operation', 'Action', 'wsa:Action'].includes(n.label) && n.value !== undefined && push(n.value));
  if (soapAction) push(soapAction);
  return out;
}
const storyOf = new Map();
stories.forEach((s) => s.steps.forEach((st) => storyOf.set(st.flow, s.story)));
const header = (hs, name) => (hs.find((h) => h.name.toLowerCase() === name) ?? {}).value ?? '';
const body = (text, size) => (text === undefined || text === null ? null : { size: size ?? text.length, text });

function rowAndDetail(f, e, id) {
  const u = new URL(f.url);
  const req = e?.request ?? { headers: [] };
  const resp = e?.response;
  const row = {
    id,
    t: f.started,
    m: f.method,
    h: f.host,
    p: u.pathname + u.search,
    u: f.url,
    s: f.status ?? null,
    e: f.error ?? null,
    k: f.kinds,
    sum: f.summary,
    w: f.worst,
    mk: f.worst === 'error' ? '!' : f.worst === 'warning' ? '?' : '',
    f: f.findings.map((x) => [x.severity, x.message]),
    ops: ops([...f.request, ...f.response], header(req.headers, 'soapaction')),
    cl: claims([...f.request, ...f.response]),
    ct: [header(req.headers, 'content-type'), resp ? header(resp.headers, 'content-type') : ''],
    n: false,
    st: storyOf.get(f.id) ?? null,
    ms: e ? Math.round(e.time) : null,
  };
  const detail = {
    id,
    request: {
      method: f.method,
      url: f.url,
      version: req.httpVersion ?? 'HTTP/1.1',
      headers: req.headers.map((h) => [h.name, h.value]),
      body: body(req.postData?.text),
    },
    response: resp
      ? {
          status: resp.status,
          reason: resp.statusText ?? '',
          version: resp.httpVersion,
          headers: resp.headers.map((h) => [h.name, h.value]),
          body: resp.content?.encoding === 'base64'
            ? { size: resp.content.size, base64: resp.content.text }
            : body(resp.content?.text, resp.content?.size),
        }
      : null,
    error: f.error ?? null,
    findings: f.findings,
    decoded: { request: f.request, response: f.response },
    before_redaction: id === 13 ? [{ side: 'response', decoder: 'saml', severity: 'info', message: 'signature verified with CN=sample' }] : [],
  };
  return [row, detail];
}

const PARTY = (host) =>
  /login\.microsoftonline/.test(host) ? 'Entra ID'
    : /^sts\./.test(host) ? 'ADFS'
    : /adminwebservice/.test(host) ? 'sync API'
    : /scim/.test(host) ? 'SCIM'
    : /enterpriseregistration/.test(host) ? 'DRS'
    : host;

function section(i, story, rowsById) {
  const parties = ['client'];
  story.steps.forEach((s) => {
    const p = PARTY(rowsById.get(s.flow)?.h ?? '?');
    if (!parties.includes(p)) parties.push(p);
  });
  const W = 160 * parties.length + 40;
  const H = 50 + 44 * story.steps.length + 20;
  const x = (p) => 90 + 160 * parties.indexOf(p);
  let svg = `<svg class="sequence" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(story.story)}">`;
  parties.forEach((p) => {
    svg += `<g class="lane" data-party="${esc(p)}"><text x="${x(p)}" y="20" text-anchor="middle">${esc(p)}</text><line x1="${x(p)}" y1="28" x2="${x(p)}" y2="${H - 6}"/></g>`;
  });
  story.steps.forEach((s, k) => {
    const r = rowsById.get(s.flow);
    const to = x(PARTY(r?.h ?? '?'));
    const y = 52 + 44 * k;
    svg += `<g class="step ${s.failed ? 'failed' : 'ok'}" data-flow="${s.flow}"><line x1="${x('client')}" y1="${y}" x2="${to}" y2="${y}"/><polygon points="${to},${y} ${to - 7},${y - 4} ${to - 7},${y + 4}"/><line x1="${to}" y1="${y + 14}" x2="${x('client')}" y2="${y + 14}" stroke-dasharray="3 2"/><text x="${x('client') + 6}" y="${y - 4}">#${s.flow} ${esc(r?.m ?? '')} ${esc((r?.p ?? '').slice(0, 28))} ${r?.s ?? ''}</text><title>${esc(s.failed ?? s.label)}</title></g>`;
  });
  svg += '</svg>';
  const mark = { pass: '✓', fail: '✗', undecided: '?' };
  const checks = story.checks
    .map((c) => `<li class="check ${c.verdict}" data-flows="${c.flows.join(' ')}">${mark[c.verdict]} ${esc(c.message)}</li>`)
    .join('');
  return `<section class="story" id="story-${i}" data-story="${esc(story.story)}"><h3>${esc(story.story)} <span class="verdicts">${story.checks.length} checks</span></h3><div class="story-body">${svg}<ul class="checks">${checks}</ul></div></section>`;
}

const out = [];
const rowsById = new Map();
let blockRows = [];
let details = [];
const flush = () => {
  if (!blockRows.length) return;
  out.push(`<script type="application/json" class="rows">${json(blockRows)}</script>`);
  details.forEach((d) => out.push(`<script type="application/json" id="f-${d.id}">${json(d)}</script>`));
  blockRows = [];
  details = [];
};
let id = 0;
const counts = { error: 0, warning: 0, info: 0 };
for (let r = 0; r < repeat; r++) {
  flows.forEach((f, i) => {
    const [row, detail] = rowAndDetail(f, entries[i], ++id);
    if (r === 0) rowsById.set(id, row);
    f.findings.forEach((x) => counts[x.severity]++);
    blockRows.push(row);
    details.push(detail);
    if (blockRows.length === 1000) flush();
  });
}
flush();

const meta = {
  tool: 'idscope sample', source: basename(harFile), generated: new Date().toISOString(), redacted: false,
  filter: null, flows_in_capture: id, noise_hosts: [],
  kinds: 'jwt oauth realm oidc scim prt signin negotiate provisioning soap nbfx desktopsso wstrust wia wsfed fedmetadata saml url base64 json form xml'.split(' '),
};
const head = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src ${sha(js)}; style-src ${sha(css)}; img-src data:; base-uri 'none'; form-action 'none'">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>idscope report: ${esc(basename(harFile))}</title>
<style>${css}</style>
</head><body>
<header id="banner"><h1>idscope report: ${esc(basename(harFile))}</h1><p>sample page, ${id} flows</p><div class="danger">Secrets are NOT redacted in this report (made with --show-secrets): do not share it.</div></header>
<main id="app"></main>
<script type="application/json" id="meta">${json(meta)}</script>`;
const tail = [
  `<script type="application/json" id="stories">${json(stories)}</script>`,
  `<div id="diagrams" hidden>${stories.map((s, i) => section(i, s, rowsById)).join('\n')}</div>`,
  `<script type="application/json" id="totals">${json({ flows: id, shown: id, findings: counts, stories: stories.length, residual_checked: false })}</script>`,
  `<script>${js}</script>`,
  '</body></html>',
];
writeFileSync(outFile, [head, ...out, ...tail].join('\n'));
