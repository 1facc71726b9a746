import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readOne, updateOne, upsertOne } from '../helpers/operations.js';
import { killServerProcesses, postGraphql, startServerProcess } from '../helpers/server-process.js';

/**
 * #15 item 8: in sandbox mode the sandboxes keep their records in the gateway's data directory, so
 * a restarted process still has them. Before, they were in memory: after a restart the identity map
 * still linked the old remote ids, a new contact took an old contact's Dotdigital `contactId`,
 * `contact(id)` returned the wrong person and `updateContact` overwrote them.
 */
const UPSERT = upsertOne(
  'contact { id records { provider remoteId } } outcomes { provider status }',
);
const UPDATE = updateOne('outcomes { provider status }');
const READ = readOne(
  'id email firstName records { provider remoteId stale } readErrors { provider error { code } }',
);

interface Contact {
  id: string;
  email: string;
  firstName: string;
  records: Array<{ provider: string; remoteId: string; stale?: boolean }>;
  readErrors?: Array<{ provider: string; error: { code: string } }>;
}

const dataDir = mkdtempSync(path.join(tmpdir(), 'gateway-sandbox-restart-'));

// No provider credentials: sandbox mode.
const startGateway = () =>
  startServerProcess({ dataDir, env: { DOTDIGITAL_RATE_PER_SECOND: '0' } });

async function gql<T>(url: string, query: string, variables: Record<string, unknown>) {
  const body = await postGraphql<T>(url, query, variables);
  expect(body.errors).toBeUndefined();
  return body.data as T;
}

const remoteIds = (c: Pick<Contact, 'records'>) =>
  Object.fromEntries(c.records.map((r) => [r.provider, r.remoteId]));

afterAll(killServerProcesses);

describe('sandbox mode across a restart', () => {
  it('keeps the sandboxes records with the identity map: no id reused, the right person read and updated', async () => {
    let gateway = await startGateway();
    const first = await gql<{ upsertContact: { contact: Contact; outcomes: unknown[] } }>(
      gateway.url,
      UPSERT,
      { input: { email: 'ada@example.com', firstName: 'Ada', externalId: 'ada-1' } },
    );
    const ada = first.upsertContact.contact;
    expect(first.upsertContact.outcomes).toHaveLength(4);
    expect(ada.records).toHaveLength(4);
    // Killed, not stopped: the records were on disk before the answer left.
    await gateway.kill();
    expect(readdirSync(path.join(dataDir, 'sandboxes')).sort()).toEqual([
      'digital-onboarding.v8',
      'dotdigital.v8',
      'notifuse.v8',
      'salesforce-mc.v8',
    ]);

    gateway = await startGateway();
    const second = await gql<{ upsertContact: { contact: Contact } }>(gateway.url, UPSERT, {
      input: { email: 'grace@example.com', firstName: 'Grace', externalId: 'grace-1' },
    });
    const grace = second.upsertContact.contact;
    expect(grace.id).not.toBe(ada.id);
    // No provider handed Grace one of Ada's ids (Dotdigital and SFMC count contactIds up).
    for (const [provider, id] of Object.entries(remoteIds(grace))) {
      expect(remoteIds(ada)[provider]).not.toBe(id);
    }

    const readAda = (await gql<{ contact: Contact }>(gateway.url, READ, { id: ada.id })).contact;
    expect(readAda).toMatchObject({ id: ada.id, email: 'ada@example.com', firstName: 'Ada' });
    expect(readAda.readErrors).toEqual([]);
    expect(remoteIds(readAda)).toEqual(remoteIds(ada));
    expect(readAda.records.every((r) => r.stale === false)).toBe(true);

    const updated = await gql<{ updateContact: { outcomes: Array<{ status: string }> } }>(
      gateway.url,
      UPDATE,
      { id: grace.id, patch: { firstName: 'Grace H.' } },
    );
    expect(updated.updateContact.outcomes.map((o) => o.status)).toEqual(Array(4).fill('UPDATED'));
    const adaAgain = (await gql<{ contact: Contact }>(gateway.url, READ, { id: ada.id })).contact;
    expect(adaAgain).toMatchObject({ email: 'ada@example.com', firstName: 'Ada' });
    const graceAgain = (await gql<{ contact: Contact }>(gateway.url, READ, { id: grace.id }))
      .contact;
    expect(graceAgain).toMatchObject({ email: 'grace@example.com', firstName: 'Grace H.' });
    expect(existsSync(path.join(dataDir, 'sandboxes', 'dotdigital.v8'))).toBe(true);
    await gateway.kill();
  }, 120_000);
});
