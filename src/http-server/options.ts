import { BlockList, isIP } from 'node:net';
import { z } from 'zod';
import { type ApiKey, parseApiKeys } from '../auth/keys.js';
import { intVar, readEnvSection } from '../env-section.js';

/** Operation limits, checked before anything executes. */
export interface OperationLimits {
  /** Deepest field nesting (fragments flattened; introspection's `__schema` not counted). @default 8 */
  maxDepth: number;
  /** Aliased fields per operation (`__typename` not counted). @default 15 */
  maxAliases: number;
  /** Lexical tokens per document; send batch data as variables, which do not count. @default 2000 */
  maxTokens: number;
  /** graphql-armor cost (object 2, scalar 1, × 1.5 per level). @default 5000 */
  maxCost: number;
}

/** How the gateway faces its callers: keys, limits, production defaults (`GATEWAY_*`, `NODE_ENV`). */
export interface GatewayOptions {
  /** `NODE_ENV=production`: GraphiQL and introspection off by default, no field suggestions. */
  production: boolean;
  /** Keys from `GATEWAY_API_KEYS`; none = anonymous, loopback only. */
  apiKeys: readonly ApiKey[];
  /** GraphiQL and introspection. @default true, false in production (`GATEWAY_GRAPHIQL`) */
  graphiql: boolean;
  /** Origins browsers may call from (`GATEWAY_CORS_ORIGINS`); none = no CORS headers at all. @default [] */
  corsOrigins: readonly string[];
  /** Requests per minute per API key; 0 = unlimited. The anonymous loopback caller is not limited. @default 600 */
  rateLimitPerMinute: number;
  /** Largest request body; larger ones get 413. @default 5 MiB */
  maxBodyBytes: number;
  limits: OperationLimits;
}

export const DEFAULT_LIMITS: OperationLimits = {
  maxDepth: 8,
  maxAliases: 15,
  maxTokens: 2000,
  maxCost: 5000,
};

const int = intVar;

const GatewayEnv = z.object({
  NODE_ENV: z.string().optional(),
  GATEWAY_GRAPHIQL: z.enum(['1', '0', 'true', 'false', '']).optional(),
  GATEWAY_CORS_ORIGINS: z.string().optional(),
  GATEWAY_RATE_LIMIT_PER_MINUTE: int(600, 0, 1_000_000),
  GATEWAY_MAX_BODY_BYTES: int(5 * 1024 * 1024, 1024, 512 * 1024 * 1024),
  GATEWAY_MAX_DEPTH: int(DEFAULT_LIMITS.maxDepth, 1, 100),
  GATEWAY_MAX_ALIASES: int(DEFAULT_LIMITS.maxAliases, 0, 1000),
  GATEWAY_MAX_TOKENS: int(DEFAULT_LIMITS.maxTokens, 50, 1_000_000),
  GATEWAY_MAX_COST: int(DEFAULT_LIMITS.maxCost, 10, 10_000_000),
});

const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');
loopback.addSubnet('::ffff:127.0.0.0', 104, 'ipv6');

/** Whether `host` only accepts connections from this machine (127.0.0.0/8, ::1, localhost). */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().replace(/^\[(.*)\]$/, '$1');
  if (h.toLowerCase() === 'localhost') {
    return true;
  }
  const family = isIP(h);
  return family !== 0 && loopback.check(h, family === 4 ? 'ipv4' : 'ipv6');
}

function parseOrigins(raw: string | undefined, problems: string[]): string[] {
  const origins: string[] = [];
  for (const item of (raw ?? '').split(',')) {
    const value = item.trim();
    if (value === '') {
      continue;
    }
    let origin: string | null = null;
    try {
      const url = new URL(value);
      if ((url.protocol === 'http:' || url.protocol === 'https:') && url.origin === value) {
        origin = url.origin;
      }
    } catch {
      origin = null;
    }
    if (origin === null) {
      problems.push(
        `GATEWAY_CORS_ORIGINS: "${value}" is not an origin (scheme://host[:port], no path, no *)`,
      );
    } else if (!origins.includes(origin)) {
      origins.push(origin);
    }
  }
  return origins;
}

/**
 * The `GATEWAY_*` part of the configuration (called by `loadConfig`, the only reader of the
 * environment). Without API keys the gateway is for this machine only, so a non-loopback `HOST`
 * is refused.
 */
export function parseGatewayOptions(
  env: Record<string, string | undefined>,
  host: string,
  problems: string[],
): GatewayOptions {
  const e = readEnvSection(GatewayEnv, env, problems) ?? GatewayEnv.parse({});
  const production = e.NODE_ENV === 'production';
  const rawKeys = env['GATEWAY_API_KEYS']?.trim() ? env['GATEWAY_API_KEYS'] : undefined;
  const apiKeys = parseApiKeys(rawKeys, problems);
  if (rawKeys === undefined && !isLoopbackHost(host)) {
    problems.push(
      `HOST=${host} is not a loopback address: without GATEWAY_API_KEYS the gateway serves this machine only (127.0.0.1, ::1, localhost). Set GATEWAY_API_KEYS to accept other machines.`,
    );
  }
  const graphiqlFlag = e.GATEWAY_GRAPHIQL ?? '';
  return {
    production,
    apiKeys,
    graphiql: graphiqlFlag === '' ? !production : graphiqlFlag === '1' || graphiqlFlag === 'true',
    corsOrigins: parseOrigins(e.GATEWAY_CORS_ORIGINS, problems),
    rateLimitPerMinute: e.GATEWAY_RATE_LIMIT_PER_MINUTE,
    maxBodyBytes: e.GATEWAY_MAX_BODY_BYTES,
    limits: {
      maxDepth: e.GATEWAY_MAX_DEPTH,
      maxAliases: e.GATEWAY_MAX_ALIASES,
      maxTokens: e.GATEWAY_MAX_TOKENS,
      maxCost: e.GATEWAY_MAX_COST,
    },
  };
}
