import { readFileSync } from 'node:fs';
import { buildSchema, findBreakingChanges, lexicographicSortSchema, printSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import { schema } from '../src/schema/index.js';

const printed = `${printSchema(lexicographicSortSchema(schema))}\n`;

describe('schema', () => {
  it('matches the committed SDL snapshot (run `npm run schema:print` after a deliberate change)', async () => {
    await expect(printed).toMatchFileSnapshot('../schema/schema.graphql');
  });

  it('has no breaking change against the committed SDL', () => {
    const committed = buildSchema(
      readFileSync(new URL('../schema/schema.graphql', import.meta.url), 'utf8'),
    );
    expect(findBreakingChanges(committed, schema)).toEqual([]);
  });

  it('carries every name fixed in DESIGN.md', () => {
    const types = schema.getTypeMap();
    for (const name of [
      'Contact',
      'ContactInput',
      'AddressInput',
      'ConsentInput',
      'ProviderOptionsInput',
      'WriteOptions',
      'ContactWritePayload',
      'ProviderOutcome',
      'ProviderError',
      'InputError',
      'ContactBatchPayload',
      'BatchSummary',
      'ProviderStatus',
      'Provider',
      'OutcomeStatus',
      'ProviderRecord',
      'Date',
      'DateTime',
      'JSONObject',
    ]) {
      expect(types[name], name).toBeDefined();
    }
    expect(Object.keys(schema.getQueryType()!.getFields()).sort()).toEqual([
      // issue 16: async batches
      'batch',
      'contact',
      'contacts',
      // issue 6: what waits in the outbox
      'pendingWrites',
      'providers',
      // issue 16: the write history
      'write',
      'writes',
    ]);
    expect(Object.keys(schema.getMutationType()!.getFields()).sort()).toEqual([
      'updateContact',
      'upsertContact',
      'upsertContacts',
    ]);
    expect(printed).toContain('enum Provider {\n');
    for (const v of ['DIGITAL_ONBOARDING', 'NOTIFUSE', 'DOTDIGITAL', 'SALESFORCE_MC']) {
      expect(printed).toMatch(new RegExp(`\\b${v}\\b`));
    }
    for (const v of ['CREATED', 'UPDATED', 'FAILED', 'SKIPPED', 'DRY_RUN', 'QUEUED']) {
      expect(printed).toMatch(new RegExp(`\\b${v}\\b`));
    }
  });

  it('describes every type and field (GraphiQL docs are the manual)', () => {
    const missing: string[] = [];
    for (const [name, type] of Object.entries(schema.getTypeMap())) {
      if (name.startsWith('__') || ['String', 'Boolean', 'Int', 'Float', 'ID'].includes(name)) {
        continue;
      }
      if (!type.description) {
        missing.push(name);
      }
      if ('getFields' in type) {
        for (const field of Object.values(type.getFields())) {
          if (!field.description) {
            missing.push(`${name}.${field.name}`);
          }
          for (const arg of 'args' in field ? field.args : []) {
            if (!arg.description) {
              missing.push(`${name}.${field.name}(${arg.name})`);
            }
          }
        }
      }
      if ('getValues' in type) {
        for (const value of type.getValues()) {
          if (!value.description) {
            missing.push(`${name}.${value.name}`);
          }
        }
      }
    }
    expect(missing).toEqual([]);
  });
});
