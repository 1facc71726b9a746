import { serialize } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { DigitalOnboardingStore } from '../../../src/sandbox/digital-onboarding/store.js';
import { restoreStore, snapshotStore } from '../../../src/sandbox/shared/persist.js';

class TwoIndexes {
  readonly byId = new Map<number, { id: number; email: string; binned: boolean }>();
  readonly byEmail = new Map<string, { id: number; email: string; binned: boolean }>();
  nextId = 1;
  readonly now = () => 0;
  add(email: string) {
    const c = { id: this.nextId++, email, binned: false };
    this.byId.set(c.id, c);
    this.byEmail.set(email, c);
  }
}

describe('sandbox snapshots', () => {
  it('restore a store with its indexes sharing one object per record, and its counters', () => {
    const a = new TwoIndexes();
    a.add('x@example.com');
    a.add('y@example.com');
    const b = new TwoIndexes();
    expect(restoreStore(b, snapshotStore(a))).toBe(3);
    expect(b.nextId).toBe(3);
    b.byId.get(1)!.binned = true;
    expect(b.byEmail.get('x@example.com')!.binned).toBe(true);
    expect(typeof b.now).toBe('function');
  });

  it('bring a Digital Onboarding team back: same team id, same contacts, same matches', () => {
    const a = new DigitalOnboardingStore();
    const written = a.upsert({ email: 'ada@example.com', name_first: 'Ada' });
    expect(written.ok).toBe(true);
    const b = new DigitalOnboardingStore();
    restoreStore(b, snapshotStore(a));
    expect(b.teamId).toBe(a.teamId);
    expect(b.findByEmail('ADA@example.com')).toEqual(a.findByEmail('ada@example.com'));
    const again = b.upsert({ email: 'ada@example.com', name_first: 'Ada L.' });
    expect(again.ok && !again.created).toBe(true);
  });

  it('refuse a file of another format and fields of another kind', () => {
    expect(() => restoreStore(new TwoIndexes(), serialize({ byId: new Map() }))).toThrow(
      /not a sandbox snapshot/,
    );
    const foreign = serialize({
      format: 'contact-gateway-sandbox/1',
      data: { byId: 'not a map', nextId: 9, planted: true },
    });
    const b = new TwoIndexes();
    expect(restoreStore(b, foreign)).toBe(1);
    expect(b.byId).toBeInstanceOf(Map);
    expect(b.nextId).toBe(9);
    expect('planted' in b).toBe(false);
  });
});
