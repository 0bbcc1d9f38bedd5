import { createHash } from 'node:crypto';
import { InputError } from '../../src/errors';
import { nonceStatus } from '../../src/nonce/status';
import { ManualClock, MemoryNonceStore } from './memory-store';

const T0 = Date.parse('2026-03-01T12:00:00.000Z');
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

function setup(): { clock: ManualClock; store: MemoryNonceStore } {
  const clock = new ManualClock(T0);
  return { clock, store: new MemoryNonceStore(clock.now) };
}

/** Seeds versions created at the given offsets from T0. */
function seed(store: MemoryNonceStore, createdAt: Record<number, number>): void {
  for (const [version, offset] of Object.entries(createdAt)) {
    store.put(Number(version), createHash('sha256').update(`status test v${version}`).digest('hex'), T0 + offset);
  }
}

describe('nonceStatus', () => {
  it('marks the newest version signing, superseded ones in grace or expired with their end', async () => {
    // Prepare: v1 ended at T0 - 1 h, v2 verifies until T0 + 30 min, v3 signs.
    const { clock, store } = setup();
    seed(store, { 1: -3 * HOUR, 2: -2 * HOUR, 3: -30 * MINUTE });

    // Act
    const status = await nonceStatus(store, { clock: clock.now });

    // Assess
    expect(status).toEqual([
      { version: 1, name: store.nameOf(1), createdAt: new Date(T0 - 3 * HOUR), state: 'expired', validUntil: new Date(T0 - HOUR) },
      { version: 2, name: store.nameOf(2), createdAt: new Date(T0 - 2 * HOUR), state: 'in_grace', validUntil: new Date(T0 + 30 * MINUTE) },
      { version: 3, name: store.nameOf(3), createdAt: new Date(T0 - 30 * MINUTE), state: 'signing' },
    ]);
    expect('validUntil' in status[2]!).toBe(false);
  });

  it('reports a version expired from the instant its grace period ends', async () => {
    // Prepare: v1 verifies until T0 + 30 min.
    const { clock, store } = setup();
    seed(store, { 1: -3 * HOUR, 2: -30 * MINUTE });

    // Act
    clock.set(T0 + 30 * MINUTE - 1);
    const before = await nonceStatus(store, { clock: clock.now });
    clock.set(T0 + 30 * MINUTE);
    const at = await nonceStatus(store, { clock: clock.now });

    // Assess
    expect(before.map((entry) => entry.state)).toEqual(['in_grace', 'signing']);
    expect(at.map((entry) => entry.state)).toEqual(['expired', 'signing']);
  });

  it('applies a configured grace period', async () => {
    // Prepare: with 10 min of grace, v1 (successor 30 min old) has expired.
    const { clock, store } = setup();
    seed(store, { 1: -3 * HOUR, 2: -30 * MINUTE });

    // Act
    const status = await nonceStatus(store, { clock: clock.now, gracePeriodMs: 10 * MINUTE });

    // Assess
    expect(status[0]).toEqual(expect.objectContaining({ state: 'expired', validUntil: new Date(T0 - 20 * MINUTE) }));
  });

  it('handles gaps in version numbers', async () => {
    // Prepare
    const { clock, store } = setup();
    seed(store, { 2: -3 * HOUR, 5: -10 * MINUTE });

    // Act
    const status = await nonceStatus(store, { clock: clock.now });

    // Assess
    expect(status.map((entry) => [entry.version, entry.state])).toEqual([
      [2, 'in_grace'],
      [5, 'signing'],
    ]);
  });

  it('lists nothing for an empty store', async () => {
    // Prepare
    const { clock, store } = setup();

    // Act
    const status = await nonceStatus(store, { clock: clock.now });

    // Assess
    expect(status).toEqual([]);
  });

  it('reads names and dates only, never a value', async () => {
    // Prepare
    const { clock, store } = setup();
    seed(store, { 1: -3 * HOUR, 2: -30 * MINUTE });

    // Act
    const status = await nonceStatus(store, { clock: clock.now });

    // Assess
    expect(store.calls).toEqual([{ op: 'listVersions' }]);
    for (const value of store.storedValues()) expect(JSON.stringify(status)).not.toContain(value);
  });

  it('propagates a store failure', async () => {
    // Prepare
    const { clock, store } = setup();
    store.failNext(1);

    // Act
    const status = nonceStatus(store, { clock: clock.now });

    // Assess
    await expect(status).rejects.toMatchObject({ code: 'NONCE_STORE_UNREACHABLE' });
  });

  it('rejects an invalid grace period before reading the store', async () => {
    // Prepare
    const { store } = setup();

    // Act
    const status = nonceStatus(store, { gracePeriodMs: -1 });

    // Assess
    await expect(status).rejects.toBeInstanceOf(InputError);
    expect(store.calls).toEqual([]);
  });

  it('uses the system clock and the 1 h grace period by default', async () => {
    // Prepare: the successor was created 2 h before the real now.
    const store = new MemoryNonceStore(() => Date.now());
    store.put(1, 'ab'.repeat(32), Date.now() - 3 * HOUR);
    store.put(2, 'cd'.repeat(32), Date.now() - 2 * HOUR);

    // Act
    const status = await nonceStatus(store);

    // Assess
    expect(status.map((entry) => entry.state)).toEqual(['expired', 'signing']);
  });
});
