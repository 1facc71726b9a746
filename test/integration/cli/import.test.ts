import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway, type Gateway } from '../../../src/app.js';
import { loadConfig } from '../../../src/config.js';
import { createLogger } from '../../../src/logger.js';
import type { StartedSandbox } from '../../../src/sandbox/shared/server.js';
import { type RunningSandboxes, startSandboxes } from '../../../src/sandbox-mode.js';
import { listen, runCli, startCli } from '../../helpers/cli.js';

const KEY = 'importer-key-0123456789abcdefghijkl';
const KEYS = JSON.stringify([{ name: 'importer', key: KEY, scopes: ['contacts:write'] }]);
const WRITES: Record<string, Array<[method: string, path: RegExp]>> = {
  NOTIFUSE: [['POST', /^\/api\/contacts\.(import|upsert)$/]],
  DOTDIGITAL: [
    ['PUT', /^\/contacts\/v3\/import$/],
    ['PATCH', /^\/contacts\/v3\//],
  ],
};

/** How many write requests carried each email, per provider (each request counts an email once). */
function writesPerEmail(
  sandbox: StartedSandbox,
  provider: string,
  tag: string,
): Map<string, number> {
  const pattern = new RegExp(`${tag}-\\d+@example\\.com`, 'g');
  const counts = new Map<string, number>();
  for (const req of sandbox.controls.requests) {
    if (!WRITES[provider]!.some(([m, p]) => req.method === m && p.test(req.path))) {
      continue;
    }
    for (const email of new Set(
      decodeURIComponent(`${req.path} ${req.rawBody}`).match(pattern) ?? [],
    )) {
      counts.set(email, (counts.get(email) ?? 0) + 1);
    }
  }
  return counts;
}

async function writeCsv(path: string, rows: number, tag: string): Promise<void> {
  const out = createWriteStream(path);
  out.write('Email,First Name,last_name,City,Plan\n');
  for (let i = 0; i < rows; i++) {
    if (!out.write(`${tag}-${i}@example.com,Ann ${i},"Lee, Jr",Paris,gold\n`)) {
      await new Promise<void>((r) => out.once('drain', () => r()));
    }
  }
  await new Promise<void>((resolve, reject) =>
    out.end((e?: Error | null) => (e ? reject(e) : resolve())),
  );
}

/**
 * Rows of the fresh import and of the big file that is killed midway and rerun. Ten times as many
 * rows in the big file is what "memory flat" compares; which rows were written before the kill and
 * how the rerun replays them does not depend on the count. Throughput belongs in bench/.
 */
const SMALL = 1_000;
const BIG = 10_000;

const mb = (bytes: number | undefined) =>
  bytes === undefined ? 'n/a' : `${(bytes / 2 ** 20).toFixed(0)} MB`;

describe('contact-gateway import (a real gateway on a port, the CLI as a child process)', () => {
  let sandboxes: RunningSandboxes;
  let gateway: Gateway;
  let notifuse!: StartedSandbox;
  let dotdigital!: StartedSandbox;
  let served: Awaited<ReturnType<typeof listen>>;
  let dir: string;
  const env = () => ({ CONTACT_GATEWAY_URL: served.url, CONTACT_GATEWAY_KEY: KEY });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cg-import-'));
    // The in-memory stores (no embedded database): the machine's time goes to the import itself.
    const config = loadConfig({ LOG_LEVEL: 'silent', GATEWAY_API_KEYS: KEYS });
    sandboxes = await startSandboxes(config, { only: ['NOTIFUSE', 'DOTDIGITAL'] });
    gateway = createGateway(sandboxes.config, {
      logger: createLogger('silent'),
      sandboxed: sandboxes.sandboxed,
    });
    const sandbox = (id: string) => sandboxes.sandboxes.find((s) => s.provider === id)!.sandbox;
    notifuse = sandbox('NOTIFUSE');
    dotdigital = sandbox('DOTDIGITAL');
    served = await listen(gateway);
  }, 60_000);

  afterAll(async () => {
    await served?.close();
    await gateway?.close();
    await sandboxes?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it(`${BIG.toLocaleString('en')} rows, SIGKILLed midway and rerun: every contact written once per provider, memory flat`, async () => {
    const small = join(dir, 'small.csv');
    const big = join(dir, 'big.csv');
    await writeCsv(small, SMALL, 'small');
    await writeCsv(big, BIG, 'big');
    const args = (file: string) => ['import', file, '--providers', 'NOTIFUSE,DOTDIGITAL'];

    const t0 = Date.now();
    const first = await runCli(args(small), { env: env(), measure: true });
    const smallMs = Date.now() - t0;
    expect(first.code, first.stderr).toBe(0);

    // The big file: killed without warning once a few chunks (500 rows each) are in.
    const killed = startCli(args(big), { env: env() });
    await killed.waitFor(/import: (?:[2-9]\d{3}|\d{5}) rows/);
    killed.child.kill('SIGKILL');
    const dead = await killed.done;
    expect(dead.signal).toBe('SIGKILL');
    const before = writesPerEmail(notifuse, 'NOTIFUSE', 'big').size;

    const t1 = Date.now();
    const rerun = await runCli(args(big), { env: env(), measure: true });
    const rerunMs = Date.now() - t1;
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stdout).toMatch(new RegExp(`rows ${BIG}, written ${BIG}, failed 0`));
    expect(rerun.stdout).toMatch(new RegExp(`NOTIFUSE\\s+${BIG}\\s+0\\s+0\\s+0\\s+0`));
    // The key is never printed.
    expect(`${first.stdout}${first.stderr}${rerun.stdout}${rerun.stderr}`).not.toContain(KEY);

    for (const [provider, sandbox] of [
      ['NOTIFUSE', notifuse],
      ['DOTDIGITAL', dotdigital],
    ] as const) {
      for (const tag of ['small', 'big']) {
        const counts = writesPerEmail(sandbox, provider, tag);
        expect(counts.size, `${provider} ${tag}`).toBe(tag === 'big' ? BIG : SMALL);
        const twice = [...counts].filter(([, n]) => n !== 1);
        expect(twice.slice(0, 5), `${provider} ${tag}: written more than once`).toEqual([]);
      }
    }

    console.log(
      `[cli import] ${SMALL} rows fresh: ${smallMs} ms (${Math.round(SMALL / (smallMs / 1000))} rows/s), peak RSS ${mb(first.peakRss)}; ` +
        `${BIG} rows: killed after ${before} written, rerun ${rerunMs} ms (${BIG - before} fresh + ${before} replayed), peak RSS ${mb(rerun.peakRss)}`,
    );
    if (first.peakRss !== undefined && rerun.peakRss !== undefined) {
      expect(rerun.peakRss).toBeLessThan(2 * first.peakRss + 50 * 2 ** 20);
    }
  }, 300_000);

  it('reports failed rows with their errors and exits 1; NDJSON too', async () => {
    const csv = join(dir, 'mixed.csv');
    await writeFile(
      csv,
      [
        'email,firstName,emailConsent.status,ignored',
        'mixed-1@example.com,Ann,SUBSCRIBED,x',
        'not-an-email,Bob,,x',
        'mixed-3@example.com,Cy,MAYBE,x',
        'mixed-4@example.com,Di,,x',
      ].join('\n'),
    );
    const report = join(dir, 'failed.ndjson');
    const res = await runCli(['import', csv, '--report', report, '--map', 'ignored=-'], {
      env: env(),
    });
    expect(res.code, res.stderr).toBe(1);
    expect(res.stdout).toMatch(/rows 4, written 2, failed 2 \(input errors 2\)/);
    const lines = (await readFile(report, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toEqual([
      {
        line: 3,
        record: {
          email: 'not-an-email',
          firstName: 'Bob',
          'emailConsent.status': '',
          ignored: 'x',
        },
        errors: [
          { code: 'INVALID_EMAIL', field: 'email', message: expect.stringContaining('email') },
        ],
      },
      {
        line: 4,
        record: {
          email: 'mixed-3@example.com',
          firstName: 'Cy',
          'emailConsent.status': 'MAYBE',
          ignored: 'x',
        },
        errors: [
          {
            code: 'INVALID_VALUE',
            message:
              'emailConsent.status: expected one of BOUNCED, COMPLAINED, PENDING, SUBSCRIBED, SUPPRESSED, UNKNOWN, got "MAYBE"',
          },
        ],
      },
    ]);

    const nd = join(dir, 'contacts.ndjson');
    await writeFile(
      nd,
      [
        JSON.stringify({ email: 'nd-1@example.com', first_name: 'Ed', address: { city: 'Oslo' } }),
        '',
        '{"email": "nd-2@example.com", "customFields": {"plan": "gold"}}',
        '{broken',
      ].join('\n'),
    );
    const ndReport = join(dir, 'nd-failed.ndjson');
    const ndRes = await runCli(['import', nd, '--report', ndReport, '--providers', 'notifuse'], {
      env: env(),
    });
    expect(ndRes.code, ndRes.stderr).toBe(1);
    expect(ndRes.stdout).toMatch(/rows 3, written 2, failed 1/);
    expect(JSON.parse((await readFile(ndReport, 'utf8')).trim())).toMatchObject({
      line: 4,
      errors: [{ code: 'UNREADABLE' }],
    });
    const stored = writesPerEmail(notifuse, 'NOTIFUSE', 'nd');
    expect(stored).toEqual(
      new Map([
        ['nd-1@example.com', 1],
        ['nd-2@example.com', 1],
      ]),
    );
    expect(writesPerEmail(dotdigital, 'DOTDIGITAL', 'nd').size).toBe(0);
  }, 120_000);

  it('a wrong key stops the import with exit 1 and does not print the key', async () => {
    const csv = join(dir, 'one.csv');
    await writeFile(csv, 'email\nkey-1@example.com\n');
    const res = await runCli(['import', csv, '--key', 'wrong-key-0123456789abcdefghijkl'], {
      env: { CONTACT_GATEWAY_URL: served.url },
    });
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(/stopped early: chunk 1: .*UNAUTHENTICATED/);
    expect(`${res.stdout}${res.stderr}`).not.toContain('wrong-key-0123456789abcdefghijkl');
  }, 60_000);

  it('a keyed write outlives a client that hangs up, and its retry replays it', async () => {
    notifuse.controls.inject({
      method: 'POST',
      path: '/api/contacts.import',
      faults: [{ kind: 'delay', ms: 1_500 }],
    });
    const body = JSON.stringify({
      query:
        'mutation($inputs: [ContactInput!]!, $options: WriteOptions) { upsertContacts(inputs: $inputs, options: $options) { items { outcomes { provider status } } } }',
      variables: {
        inputs: [{ email: 'gone-1@example.com' }, { email: 'gone-2@example.com' }],
        options: { providers: ['NOTIFUSE'], idempotencyKey: 'hang-up-1' },
      },
    });
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${KEY}` };
    const controller = new AbortController();
    const hungUp = fetch(served.url, { method: 'POST', headers, body, signal: controller.signal });
    await new Promise((r) => setTimeout(r, 300));
    controller.abort();
    await expect(hungUp).rejects.toThrow();
    // The write goes on without its client…
    for (let i = 0; i < 200 && writesPerEmail(notifuse, 'NOTIFUSE', 'gone').size < 2; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(writesPerEmail(notifuse, 'NOTIFUSE', 'gone').size).toBe(2);
    // …and the retry with the same key gets its answer (waiting while it runs), nothing sent again.
    let answer: { data?: unknown; errors?: Array<{ extensions?: { code?: string } }> } = {};
    for (let i = 0; i < 100; i++) {
      const res = await fetch(served.url, { method: 'POST', headers, body });
      answer = (await res.json()) as typeof answer;
      if (answer.errors?.[0]?.extensions?.code !== 'IDEMPOTENCY_IN_PROGRESS') {
        break;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(answer).toEqual({
      data: {
        upsertContacts: {
          items: [
            { outcomes: [{ provider: 'NOTIFUSE', status: 'CREATED' }] },
            { outcomes: [{ provider: 'NOTIFUSE', status: 'CREATED' }] },
          ],
        },
      },
    });
    expect([...writesPerEmail(notifuse, 'NOTIFUSE', 'gone').values()]).toEqual([1, 1]);
  }, 60_000);
});
