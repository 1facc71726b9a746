/**
 * A provider owns its facts: one descriptor per provider (`src/providers/<name>/descriptor.ts`),
 * listed once in `src/providers/registry.ts`; the registry, config, resilience, start-up checks and
 * sandbox mode iterate the descriptors. This test enumerates them and reads src/ as text to find
 * every other file that names a provider.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { buildSchema, GraphQLEnumType } from 'graphql';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { PROVIDERS } from '../../../src/providers/registry.js';
import { SANDBOXES } from '../../../src/sandbox-mode.js';
import { GATEWAY_PREFIXES } from '../../../src/startup.js';

const SRC = path.resolve(import.meta.dirname, '../../../src');

/** `SALESFORCE_MC` → `salesforce-mc`: the provider's folder under src/providers and src/sandbox. */
const folderOf = (id: string) => id.toLowerCase().replaceAll('_', '-');

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? filesUnder(full) : full.endsWith('.ts') ? [full] : [];
  });
}

/** How a provider can be named: its id, config key, folder, display words and env prefixes. */
function namesOf(p: (typeof PROVIDERS)[number]): RegExp {
  const words = [
    p.id,
    p.key,
    folderOf(p.id),
    folderOf(p.id).replaceAll('-', '[ _]?'),
    ...p.envPrefixes.map((prefix) => prefix.replace(/_$/, '')),
  ];
  return new RegExp(`(${words.join('|')})`, 'i');
}

describe('provider descriptors', () => {
  it('one descriptor per value of the published Provider enum, each with its two folders', () => {
    const sdl = readFileSync(path.join(SRC, '..', 'schema', 'schema.graphql'), 'utf8');
    const published = buildSchema(sdl).getType('Provider');
    expect(published).toBeInstanceOf(GraphQLEnumType);
    // The printed schema sorts enum values; the registry's order is the fan-out and merge order.
    expect(PROVIDERS.map((p) => p.id).sort()).toEqual(
      (published as GraphQLEnumType).getValues().map((v) => v.name),
    );
    expect(new Set(PROVIDERS.map((p) => p.id)).size).toBe(PROVIDERS.length);
    expect(new Set(PROVIDERS.map((p) => p.key)).size).toBe(PROVIDERS.length);
    for (const p of PROVIDERS) {
      const folder = folderOf(p.id);
      expect(existsSync(path.join(SRC, 'providers', folder, 'descriptor.ts')), folder).toBe(true);
      expect(existsSync(path.join(SRC, 'sandbox', folder, 'index.ts')), folder).toBe(true);
    }
  });

  it('config, resilience, start-up checks and sandbox mode are read from the descriptors', () => {
    const config = loadConfig({}) as unknown as Record<string, unknown>;
    for (const p of PROVIDERS) {
      expect(config[p.key]).toBeNull();
      expect(config[`${p.key}Options`]).toBeTypeOf('object');
      expect(config['resilience']).toHaveProperty(p.id);
      for (const prefix of p.envPrefixes) {
        expect(GATEWAY_PREFIXES).toContain(prefix);
      }
      const resilience = loadConfig({ [`${p.resilience.prefix}_TIMEOUT_MS`]: '1234' }).resilience;
      expect(resilience[p.id].timeoutMs).toBe(1234);
      expect(config['resilience']).toMatchObject({
        [p.id]: { timeoutMs: p.resilience.timeoutMs, ratePerSecond: p.resilience.ratePerSecond },
      });
      const sandbox = SANDBOXES.find((s) => s.provider === p.id);
      expect(sandbox?.defaultPort).toBe(p.sandbox.defaultPort);
      // A sandbox's environment configures its provider: config reads it back.
      const wired = loadConfig(p.sandbox.env('http://127.0.0.1:1')) as unknown as Record<
        string,
        unknown
      >;
      expect(wired[p.key]).not.toBeNull();
      expect(wired['sandboxMode']).toBe(false);
    }
  });

  it('no file in src/ outside a provider’s folders and the registry names a provider', () => {
    const owned = PROVIDERS.flatMap((p) => [
      path.join(SRC, 'providers', folderOf(p.id)) + path.sep,
      path.join(SRC, 'sandbox', folderOf(p.id)) + path.sep,
    ]);
    const registry = path.join(SRC, 'providers', 'registry.ts');
    const naming = filesUnder(SRC)
      .filter((f) => f !== registry && !owned.some((dir) => f.startsWith(dir)))
      .filter((f) => PROVIDERS.some((p) => namesOf(p).test(readFileSync(f, 'utf8'))))
      .map((f) => path.relative(SRC, f).split(path.sep).join('/'))
      .sort();
    expect(naming).toEqual([]);
  });
});
