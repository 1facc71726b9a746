import { describe, expect, it } from 'vitest';
import { useTestGateway } from '../helpers/gateway.js';
import { readOne, upsertOne } from '../helpers/operations.js';

// #15 item 4: the IANA name the caller gave is what is sent and returned, never ICU's legacy link.
const UPSERT = upsertOne(
  'contact { id timezone } outcomes { provider status request } errors { field code message }',
);
const READ = readOne('timezone readErrors { provider }');

const t = useTestGateway(
  { RETRY_MAX_ATTEMPTS: '1', GATEWAY_OUTBOX: 'off' },
  { only: ['NOTIFUSE', 'DIGITAL_ONBOARDING'] },
);

function sentTimezones(): unknown[] {
  const requests = [...t.notifuse.controls.requests, ...t.digitalOnboarding.controls.requests];
  return requests
    .filter((r) => r.method === 'POST' || r.method === 'PATCH')
    .map((r) => JSON.stringify(r.body ?? null).match(/"timezone":"([^"]*)"/)?.[1])
    .filter((tz) => tz !== undefined);
}

describe('time zones keep the IANA name the caller gave', () => {
  it.each(['Asia/Kolkata', 'Europe/Kyiv'])(
    '%s is sent, stored and returned as given',
    async (tz) => {
      const email = `tz-${tz.replace('/', '-').toLowerCase()}@example.com`;
      const dry = await t.gql<{ upsertContact: { outcomes: Array<{ request: unknown }> } }>(
        UPSERT,
        {
          input: { email, timezone: tz },
          options: { dryRun: true },
        },
      );
      for (const outcome of dry.data.upsertContact.outcomes) {
        expect(JSON.stringify(outcome.request)).toContain(`"timezone":"${tz}"`);
      }

      t.notifuse.controls.reset();
      t.digitalOnboarding.controls.reset();
      const res = await t.gql<{
        upsertContact: {
          contact: { id: string; timezone: string };
          outcomes: Array<{ provider: string; status: string }>;
        };
      }>(UPSERT, { input: { email, timezone: tz } });
      expect(res.errors).toBeUndefined();
      expect(res.data.upsertContact.outcomes.map((o) => o.status)).toEqual(['CREATED', 'CREATED']);
      expect(res.data.upsertContact.contact.timezone).toBe(tz);
      const sent = sentTimezones();
      expect(sent.length).toBe(2);
      expect(new Set(sent)).toEqual(new Set([tz]));
      // Stored as given by both providers, and read back from them as given.
      expect(t.notifuse.store.get(email)?.['timezone']).toBe(tz);
      expect(t.digitalOnboarding.store.findByEmail(email)?.timezone).toBe(tz);
      t.notifuse.controls.reset();
      t.digitalOnboarding.controls.reset();
      const read = await t.gql<{ contact: { timezone: string; readErrors: unknown[] } }>(READ, {
        id: res.data.upsertContact.contact.id,
      });
      expect(read.errors).toBeUndefined();
      expect(read.data.contact).toEqual({ timezone: tz, readErrors: [] });
      expect(t.notifuse.controls.requests.filter((r) => r.method === 'GET')).toHaveLength(1);
      expect(t.digitalOnboarding.controls.requests.filter((r) => r.method === 'GET')).toHaveLength(
        1,
      );
    },
  );
});
