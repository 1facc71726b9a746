/**
 * Provider sandboxes in their own process (so their CPU and memory are not the gateway's).
 * `BENCH_SANDBOXES` = comma-separated provider ids (default: all four).
 * Commands: `latency {provider?, ms}`, `clear`, `counts` (requests per provider, method and path
 * pattern), `requests {provider, limit}` (the last recorded requests).
 */
import { loadConfig } from '../../src/config.js';
import type { ProviderId } from '../../src/model/contact.js';
import { SANDBOXES, startSandboxes } from '../../src/sandbox-mode.js';
import { serveCommands } from '../lib/child.js';

export interface SandboxInfo {
  provider: ProviderId;
  url: string;
  /** Variables that point a gateway at this sandbox (it then counts as LIVE). */
  env: Record<string, string>;
}

const only = (
  process.env['BENCH_SANDBOXES'] ?? 'NOTIFUSE,DOTDIGITAL,SALESFORCE_MC,DIGITAL_ONBOARDING'
)
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean) as ProviderId[];

const running = await startSandboxes(loadConfig({ LOG_LEVEL: 'silent' }), { only });
const info: SandboxInfo[] = running.sandboxes.map(({ provider, sandbox }) => ({
  provider,
  url: sandbox.url,
  env: SANDBOXES.find((d) => d.provider === provider)!.env(sandbox.url),
}));

/** Path with ids (numbers, UUIDs, percent-encoded identifiers) replaced by `:id`. */
function pattern(path: string): string {
  return path
    .split('/')
    .map((seg) =>
      /^\d+$/.test(seg) || /^[0-9a-f-]{16,}$/i.test(seg) || seg.includes('%40') || seg.includes('@')
        ? ':id'
        : seg,
    )
    .join('/');
}

const pick = (provider: unknown) =>
  running.sandboxes.filter((s) => provider === undefined || s.provider === provider);

serveCommands(
  {
    latency: ({ provider, ms }) => {
      for (const s of pick(provider)) {
        s.sandbox.controls.setLatency(Number(ms));
      }
      return true;
    },
    clear: () => {
      for (const s of running.sandboxes) {
        s.sandbox.controls.clearRequests();
      }
      return true;
    },
    counts: () => {
      const out: Record<string, Record<string, number>> = {};
      for (const { provider, sandbox } of running.sandboxes) {
        const counts: Record<string, number> = {};
        for (const r of sandbox.controls.requests) {
          const key = `${r.method} ${pattern(r.path)}`;
          counts[key] = (counts[key] ?? 0) + 1;
        }
        out[provider] = counts;
      }
      return out;
    },
    requests: ({ provider, limit }) => {
      const [s] = pick(provider);
      const all = s?.sandbox.controls.requests ?? [];
      return all.slice(-Number(limit ?? 1));
    },
  },
  info,
);
