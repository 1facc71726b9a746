import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, expect } from 'vitest';
import { createGateway, type Gateway, type GatewayDeps } from '../../src/app.js';
import { type Config, loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import type { ProviderId } from '../../src/model/contact.js';
import type { DigitalOnboardingSandbox } from '../../src/sandbox/digital-onboarding/index.js';
import type { DotdigitalSandbox } from '../../src/sandbox/dotdigital/index.js';
import type { NotifuseSandbox } from '../../src/sandbox/notifuse/index.js';
import type { SalesforceMcSandbox } from '../../src/sandbox/salesforce-mc/index.js';
import { type RunningSandboxes, startSandboxes } from '../../src/sandbox-mode.js';
import { openStores } from '../../src/store/open.js';

export interface TestGateway {
  gateway: Gateway;
  sandboxes: RunningSandboxes;
  notifuse: NotifuseSandbox;
  dotdigital: DotdigitalSandbox;
  salesforceMc: SalesforceMcSandbox;
  digitalOnboarding: DigitalOnboardingSandbox;
  gql<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    headers?: Record<string, string>,
  ): Promise<{
    status: number;
    data: T;
    errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
  }>;
  close(): Promise<void>;
}

export interface TestGatewayOptions {
  /** Adjust the wired config before the gateway is built. */
  tweak?: (config: Config) => Config;
  /** Start only these providers' sandboxes (the others are not configured: DISABLED). */
  only?: readonly ProviderId[];
  /**
   * The database schema of this gateway's durable state. Two gateways given the same schema (and
   * `GATEWAY_DATA_DIR`) share their identity map, idempotency records and outbox, like two replicas
   * or one gateway before and after a restart. @default a fresh schema
   */
  storeSchema?: string;
  /** More of createGateway's dependencies (e.g. `compileOperations: false`). */
  deps?: Pick<GatewayDeps, 'compileOperations' | 'fastLane'>;
}

/**
 * A gateway wired to real loopback sandboxes, exactly as sandbox mode wires it, queried through
 * `yoga.fetch` (no gateway port).
 */
export async function createTestGateway(
  env: Record<string, string> = {},
  opts: TestGatewayOptions = {},
): Promise<TestGateway> {
  // The embedded store, in memory (one engine per test file, a schema per gateway).
  const config = loadConfig({ LOG_LEVEL: 'silent', GATEWAY_DATA_DIR: 'memory://', ...env });
  const stores = await openStores(config.storage, {
    schema: opts.storeSchema ?? `t_${randomUUID().replaceAll('-', '')}`,
  });
  const sandboxes = await startSandboxes(config, {
    ...(opts.only ? { only: opts.only } : {}),
  });
  const gateway = createGateway((opts.tweak ?? ((c) => c))(sandboxes.config), {
    logger: createLogger('silent'),
    sandboxed: sandboxes.sandboxed,
    stores,
    ...opts.deps,
  });
  const sandbox = <T>(id: ProviderId) => {
    const found = sandboxes.sandboxes.find((s) => s.provider === id);
    if (!found) {
      throw new Error(`the ${id} sandbox was not started (see createTestGateway's \`only\`)`);
    }
    return found.sandbox as T;
  };
  return {
    gateway,
    sandboxes,
    get notifuse() {
      return sandbox<NotifuseSandbox>('NOTIFUSE');
    },
    get dotdigital() {
      return sandbox<DotdigitalSandbox>('DOTDIGITAL');
    },
    get salesforceMc() {
      return sandbox<SalesforceMcSandbox>('SALESFORCE_MC');
    },
    get digitalOnboarding() {
      return sandbox<DigitalOnboardingSandbox>('DIGITAL_ONBOARDING');
    },
    async gql(query, variables, headers) {
      const res = await gateway.yoga.fetch('http://gateway/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await res.json()) as { data: never; errors?: never };
      return {
        status: res.status,
        data: body.data,
        ...(body.errors ? { errors: body.errors } : {}),
      };
    },
    async close() {
      await gateway.close();
      await sandboxes.close();
    },
  };
}

/**
 * One gateway for the test file (or `describe` block) that calls it: built in `beforeAll`, closed
 * in `afterAll`, and every started sandbox's controls (recorded requests, faults, latency) reset
 * before each test. The returned object stands for the gateway once `beforeAll` has run.
 */
export function useTestGateway(
  env: Record<string, string> = {},
  opts: TestGatewayOptions = {},
): TestGateway {
  let current: TestGateway | undefined;
  beforeAll(async () => {
    current = await createTestGateway(env, opts);
  });
  afterAll(async () => {
    await current?.close();
  });
  beforeEach(() => {
    for (const { sandbox } of current?.sandboxes.sandboxes ?? []) {
      sandbox.controls.reset();
    }
  });
  return new Proxy({} as TestGateway, {
    get(_, key) {
      if (!current) {
        throw new Error('useTestGateway: the gateway is built in beforeAll; use it inside a test');
      }
      const value = Reflect.get(current, key, current) as unknown;
      return typeof value === 'function' ? value.bind(current) : value;
    },
  });
}

/**
 * Keeps every GraphQL answer handed to the returned function and checks, in `afterAll`, that there
 * was one and that none carried `secret` (the provider credential); only the offending answers are
 * printed when it fails.
 */
export function neverAnswers(secret: string): (answer: unknown) => void {
  const answers: string[] = [];
  afterAll(() => {
    expect(answers.length).toBeGreaterThan(0);
    expect(answers.filter((a) => a.includes(secret))).toEqual([]);
  });
  return (answer) => {
    answers.push(JSON.stringify(answer));
  };
}
