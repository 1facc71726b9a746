import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import puppeteer, { type Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerProcess, startServerProcess } from '../helpers/server-process.js';

/**
 * GraphiQL in a real browser with no network beyond loopback: every request the page makes to
 * another host is aborted (and recorded), as on an air-gapped machine. Runs in `npm run
 * test:browser` (.ci/run installs Debian's chromium first); it fails, never skips, without one.
 */
const CHROME =
  process.env['CHROME_PATH'] ??
  ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const SCREENSHOT =
  process.env['GRAPHIQL_SCREENSHOT'] ?? '/tmp/contact-gateway-graphiql-offline.png';

function isLoopback(url: string): boolean {
  const { protocol, hostname } = new URL(url);
  if (protocol === 'data:' || protocol === 'blob:') {
    return true;
  }
  return hostname === '127.0.0.1' || hostname === 'localhost' || hostname === '[::1]';
}

let server: ServerProcess;
let browser: Browser;

beforeAll(async () => {
  if (!CHROME || !existsSync(CHROME)) {
    throw new Error(
      `No Chromium at ${CHROME ?? '/usr/bin/chromium'}: install Debian's (apt-get install -y chromium) or set CHROME_PATH.`,
    );
  }
  server = await startServerProcess();
  browser = await puppeteer.launch({
    executablePath: CHROME,
    headless: true,
    userDataDir: mkdtempSync(path.join(tmpdir(), 'graphiql-chromium-')),
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe('GraphiQL offline', () => {
  it('loads with no request off loopback, runs the UpsertOne tab and shows CREATED', async () => {
    const page = await browser.newPage();
    await page.setViewport({ width: 1500, height: 1300 });
    const blocked: string[] = [];
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(String(error)));
    await page.setRequestInterception(true);
    page.on('request', (request) => {
      if (isLoopback(request.url())) {
        void request.continue();
      } else {
        blocked.push(request.url());
        void request.abort('internetdisconnected');
      }
    });
    const answers: unknown[] = [];
    page.on('response', (response) => {
      const request = response.request();
      if (request.method() === 'POST' && request.postData()?.includes('UpsertOne')) {
        response.json().then(
          (body) => answers.push(body),
          () => undefined,
        );
      }
    });

    const started = performance.now();
    await page.goto(server.url, { waitUntil: 'load', timeout: 60_000 });
    // The editor is there and the schema has loaded (the Docs explorer button is enabled).
    await page.waitForSelector('.graphiql-execute-button', { timeout: 60_000 });
    await page.waitForFunction(
      () => document.querySelector('.graphiql-query-editor')?.textContent?.includes('UpsertOne'),
      { timeout: 60_000 },
    );
    const loadMs = Math.round(performance.now() - started);
    console.info(`GraphiQL offline: ready in ${loadMs} ms (page ${server.url})`);

    // Six example tabs, each a named operation, the first one open.
    const tabs = await page.$$eval('.graphiql-tab', (els) => els.map((e) => e.textContent ?? ''));
    expect(tabs.join('|')).toMatch(
      /UpsertOne.*UpsertBatch.*UpdateContact.*ReadBack.*DryRun.*FollowQueued/,
    );

    await page.click('.graphiql-execute-button');
    await page.waitForFunction(
      () => document.querySelector('.graphiql-response')?.textContent?.includes('CREATED'),
      { timeout: 60_000 },
    );
    await page.screenshot({ path: SCREENSHOT as `${string}.png`, fullPage: false });
    console.info(`GraphiQL offline: screenshot at ${SCREENSHOT}`);

    await expect.poll(() => answers.length, { timeout: 10_000 }).toBe(1);
    const answer = answers[0] as {
      data: { upsertContact: { outcomes: Array<{ provider: string; status: string }> } };
    };
    const statuses = answer.data.upsertContact.outcomes.map((o) => o.status);
    expect(statuses.length).toBeGreaterThan(0);
    expect(new Set(statuses)).toEqual(new Set(['CREATED']));
    expect(blocked).toEqual([]);
    expect(pageErrors).toEqual([]);
  }, 180_000);
});
