// Drives Debian's Chromium (never a downloaded browser) through an HTTP proxy for
// tests/it/browser.rs, as a person would: it opens pages, types into labelled fields, clicks
// buttons and presses Enter, and waits for what a person waits for (a field, a message, a URL).
//
// Usage: node signin.mjs '<json>' where the JSON names
//   mode        "refuse": open `url` and report how the browser failed (the CA is not trusted);
//               "signin": from `url` (the fixture's start page) follow "Sign in as `user`", type
//               `user` and `wrongPassword`, click Sign in, read the error, type `password`,
//               press Enter and read the portal page the sign-in lands on.
//   chromium    the browser executable (/usr/bin/chromium)
//   proxy       http://127.0.0.1:PORT
//   home        HOME for the browser (its NSS database is $HOME/.pki/nssdb)
//   screens     a directory for screenshots (signin mode)
//   timeoutMs   how long any one wait may take
// It prints one JSON object on stdout: {"ok": true, ...what it saw} or {"ok": false, "error",
// "url"}; the exit code is 0 in both cases unless the script itself could not run.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const args = JSON.parse(process.argv[2] ?? '{}');
const timeout = args.timeoutMs ?? 20000;

function launch() {
  mkdirSync(args.home, { recursive: true });
  return chromium.launchPersistentContext(join(args.home, 'profile'), {
    executablePath: args.chromium,
    headless: true,
    timeout,
    env: { ...process.env, HOME: args.home },
    viewport: { width: 1000, height: 720 },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--proxy-server=${args.proxy}`,
    ],
  });
}

async function refuse(page) {
  try {
    const r = await page.goto(args.url, { timeout });
    return { ok: false, error: `the page loaded (HTTP ${r?.status()}) although the CA is not trusted` };
  } catch (e) {
    // Playwright's message starts "page.goto: net::ERR_… at URL".
    const m = /net::[A-Z_]+/.exec(String(e.message));
    return { ok: true, refused: m ? m[0] : String(e.message).split('\n')[0] };
  }
}

async function signin(page) {
  mkdirSync(args.screens, { recursive: true });
  const shot = (name) => page.screenshot({ path: join(args.screens, name), fullPage: true });
  const seen = {};

  await page.goto(args.url, { timeout });
  await shot('0-start.png');
  await page.getByRole('link', { name: `Sign in as ${args.user}`, exact: true }).click();

  const user = page.getByLabel('User name', { exact: true });
  const password = page.getByLabel('Password', { exact: true });
  const button = page.getByRole('button', { name: 'Sign in', exact: true });
  await user.waitFor({ timeout });
  seen.loginTitle = await page.title();
  seen.loginUrl = page.url();
  await user.clear();
  await user.pressSequentially(args.user);
  await password.pressSequentially(args.wrongPassword);
  await shot('1-login.png');
  await button.click();

  const error = page.locator('#errorText');
  await error.waitFor({ state: 'visible', timeout });
  seen.errorText = (await error.innerText()).trim();
  seen.userAfterError = await user.inputValue();
  await shot('2-login-error.png');

  await password.pressSequentially(args.password);
  await password.press('Enter');
  await page.waitForURL('**/__fixture/portal**', { timeout });
  await page.locator('#signedInUser').waitFor({ timeout });
  seen.portalUrl = page.url();
  seen.portalTitle = await page.title();
  seen.portalHeading = (await page.locator('h1').innerText()).trim();
  seen.portalUser = (await page.locator('#signedInUser').innerText()).trim();
  seen.portalImmutableId = (await page.locator('#immutableId').innerText()).trim();
  seen.portalHow = (await page.locator('#signInMethod').innerText()).trim();
  await shot('3-portal.png');
  return { ok: true, ...seen };
}

const context = await launch();
let result;
const page = await context.newPage();
try {
  result = args.mode === 'refuse' ? await refuse(page) : await signin(page);
} catch (e) {
  result = { ok: false, error: String(e.message ?? e), url: page.url() };
  if (args.screens) {
    await page.screenshot({ path: join(args.screens, 'failure.png') }).catch(() => {});
  }
}
await context.close();
console.log(JSON.stringify(result));
