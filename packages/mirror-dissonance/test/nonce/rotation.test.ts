import { createHash } from 'node:crypto';
import { DependencyError, InputError, IntegrityError, PhaseMirrorError } from '../../src/errors';
import { MemoryMetricsSink } from '../../src/metrics/metrics';
import { ROTATION_METRIC, rotateNonce, VERSION_METRIC } from '../../src/nonce/rotation';
import { ManualClock, MemoryNonceStore } from './memory-store';

const T0 = Date.parse('2026-03-01T12:00:00.000Z');
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

function nonceValue(label: string): string {
  return createHash('sha256').update(`rotation test ${label}`).digest('hex');
}

function setup(): { clock: ManualClock; store: MemoryNonceStore; metrics: MemoryMetricsSink } {
  const clock = new ManualClock(T0);
  return { clock, store: new MemoryNonceStore(clock.now), metrics: new MemoryMetricsSink() };
}

/** Seeds versions created at the given offsets from T0. */
function seed(store: MemoryNonceStore, createdAt: Record<number, number>): void {
  for (const [version, offset] of Object.entries(createdAt)) store.put(Number(version), nonceValue(`v${version}`), T0 + offset);
}

async function rejection(promise: Promise<unknown>): Promise<PhaseMirrorError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof PhaseMirrorError) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

describe('rotateNonce', () => {
  describe('versions', () => {
    it('creates version 1 on an empty store, with no previous version', async () => {
      // Prepare
      const { clock, store } = setup();

      // Act
      const result = await rotateNonce(store, { clock: clock.now, newValue: () => nonceValue('new') });

      // Assess
      expect(result).toEqual({ outcome: 'created', version: 1, deleted: [] });
      expect('previousVersion' in result).toBe(false);
      expect('previousValidUntil' in result).toBe(false);
      expect(store.valueOf(1)).toBe(nonceValue('new'));
      expect(store.createdAtOf(1)).toEqual(new Date(T0));
      expect(store.calls).toEqual([{ op: 'listVersions' }, { op: 'create', version: 1 }]);
    });

    it('creates v(N+1) and keeps vN valid for the grace period from now', async () => {
      // Prepare
      const { clock, store } = setup();
      seed(store, { 1: -3 * HOUR, 2: -20 * MINUTE });

      // Act
      const result = await rotateNonce(store, { clock: clock.now, newValue: () => nonceValue('new') });

      // Assess
      expect(result).toEqual({ outcome: 'created', version: 3, previousVersion: 2, previousValidUntil: new Date(T0 + HOUR), deleted: [] });
      expect(store.storedVersions()).toEqual([1, 2, 3]);
      expect(store.valueOf(3)).toBe(nonceValue('new'));
    });

    it('computes the end of the previous version from a configured grace period', async () => {
      // Prepare
      const { clock, store } = setup();
      seed(store, { 1: -3 * HOUR });

      // Act
      const result = await rotateNonce(store, { clock: clock.now, gracePeriodMs: 15 * MINUTE });

      // Assess
      expect(result.previousVersion).toBe(1);
      expect(result.previousValidUntil).toEqual(new Date(T0 + 15 * MINUTE));
    });

    it('continues after the highest version when version numbers have gaps', async () => {
      // Prepare: v1 ends when v3 is an hour old (T0 - 1 h), v3 when v7 is (T0 + 30 min).
      const { clock, store } = setup();
      seed(store, { 1: -5 * HOUR, 3: -2 * HOUR, 7: -30 * MINUTE });

      // Act
      const result = await rotateNonce(store, { clock: clock.now });

      // Assess
      expect(result.version).toBe(8);
      expect(result.previousVersion).toBe(7);
      expect(result.deleted).toEqual([1]);
      expect(store.storedVersions()).toEqual([3, 7, 8]);
    });

    it('writes new values of 64 lowercase hex characters that differ from each other', async () => {
      // Prepare
      const { clock, store } = setup();

      // Act
      await rotateNonce(store, { clock: clock.now });
      clock.advance(MINUTE);
      await rotateNonce(store, { clock: clock.now });

      // Assess
      const first = store.valueOf(1)!;
      const second = store.valueOf(2)!;
      expect(first).toMatch(/^[0-9a-f]{64}$/);
      expect(second).toMatch(/^[0-9a-f]{64}$/);
      expect(second).not.toBe(first);
    });

    it('never reads a stored value', async () => {
      // Prepare
      const { clock, store } = setup();
      seed(store, { 1: -5 * HOUR, 2: -3 * HOUR, 3: -10 * MINUTE });

      // Act
      await rotateNonce(store, { clock: clock.now });

      // Assess
      expect(store.count('readValue')).toBe(0);
    });
  });

  describe('concurrent rotations', () => {
    it('succeeds with outcome lost_race when a concurrent rotation wrote the version first', async () => {
      // Prepare
      const { clock, store, metrics } = setup();
      seed(store, { 1: -3 * HOUR, 2: -2 * HOUR });
      store.concurrentRotationWins(nonceValue('winner'));

      // Act
      const result = await rotateNonce(store, { clock: clock.now, metrics, newValue: () => nonceValue('loser') });

      // Assess
      expect(result).toEqual({ outcome: 'lost_race', version: 3, previousVersion: 2, previousValidUntil: new Date(T0 + HOUR), deleted: [1] });
      expect(store.valueOf(3)).toBe(nonceValue('winner'));
      expect(metrics.entries).toEqual([
        { name: ROTATION_METRIC, value: 1, dimensions: { outcome: 'success' } },
        { name: VERSION_METRIC, value: 3, dimensions: {} },
      ]);
    });

    it('does not report a version a concurrent rotation already deleted', async () => {
      // Prepare: v1 and v2 are both past their grace; v1 disappears just before this rotation deletes it.
      const { clock, store } = setup();
      seed(store, { 1: -5 * HOUR, 2: -3 * HOUR, 3: -2 * HOUR });
      store.beforeNext('delete', (call) => store.remove(call.version!));

      // Act
      const result = await rotateNonce(store, { clock: clock.now });

      // Assess
      expect(store.calls.filter((call) => call.op === 'delete')).toEqual([
        { op: 'delete', version: 1 },
        { op: 'delete', version: 2 },
      ]);
      expect(result.deleted).toEqual([2]);
      expect(store.storedVersions()).toEqual([3, 4]);
    });
  });

  describe('deletion', () => {
    it('deletes exactly the versions whose successor is older than the grace period', async () => {
      // Prepare: successors of v1 and v2 are 3 h and 90 min old; v3's is 30 min old; v4 is superseded now.
      const { clock, store } = setup();
      seed(store, { 1: -5 * HOUR, 2: -3 * HOUR, 3: -90 * MINUTE, 4: -30 * MINUTE });

      // Act
      const result = await rotateNonce(store, { clock: clock.now });

      // Assess
      expect(result.deleted).toEqual([1, 2]);
      expect(store.storedVersions()).toEqual([3, 4, 5]);
    });

    it('deletes a version whose successor is exactly the grace period old', async () => {
      // Prepare: v2 was created exactly 1 h ago, so v1 stops verifying now.
      const { clock, store } = setup();
      seed(store, { 1: -3 * HOUR, 2: -HOUR });

      // Act
      const result = await rotateNonce(store, { clock: clock.now });

      // Assess
      expect(result.deleted).toEqual([1]);
      expect(store.storedVersions()).toEqual([2, 3]);
    });

    it('keeps the just-superseded version even when it is older than the grace period', async () => {
      // Prepare: a single, old version.
      const { clock, store } = setup();
      seed(store, { 1: -30 * 24 * HOUR });

      // Act
      const result = await rotateNonce(store, { clock: clock.now });

      // Assess
      expect(result.deleted).toEqual([]);
      expect(store.storedVersions()).toEqual([1, 2]);
    });

    it('deletes against the configured grace period', async () => {
      // Prepare: with 10 min of grace, v1 (successor 20 min old) is out; v2 is superseded now.
      const { clock, store } = setup();
      seed(store, { 1: -HOUR, 2: -20 * MINUTE });

      // Act
      const result = await rotateNonce(store, { clock: clock.now, gracePeriodMs: 10 * MINUTE });

      // Assess
      expect(result.deleted).toEqual([1]);
      expect(result.previousValidUntil).toEqual(new Date(T0 + 10 * MINUTE));
    });
  });

  describe('metrics and failures', () => {
    it('counts a successful rotation and the version that now signs', async () => {
      // Prepare
      const { clock, store, metrics } = setup();
      seed(store, { 1: -3 * HOUR, 2: -2 * HOUR, 3: -HOUR, 4: -30 * MINUTE });

      // Act
      await rotateNonce(store, { clock: clock.now, metrics });

      // Assess
      expect(metrics.entries).toEqual([
        { name: 'NonceRotation', value: 1, dimensions: { outcome: 'success' } },
        { name: 'NonceVersion', value: 5, dimensions: {} },
      ]);
    });

    it('counts a failure and rethrows when the store cannot be listed', async () => {
      // Prepare
      const { clock, store, metrics } = setup();
      seed(store, { 1: -3 * HOUR });
      store.failNext(1, { op: 'listVersions' });

      // Act
      const error = await rejection(rotateNonce(store, { clock: clock.now, metrics }));

      // Assess
      expect(error).toBeInstanceOf(DependencyError);
      expect(error.code).toBe('NONCE_STORE_UNREACHABLE');
      expect(metrics.entries).toEqual([{ name: 'NonceRotation', value: 1, dimensions: { outcome: 'failure' } }]);
      expect(store.count('create')).toBe(0);
    });

    it('rethrows the store error itself, not a wrapper', async () => {
      // Prepare
      const { clock, store, metrics } = setup();
      const storeError = new DependencyError('NONCE_STORE_UNREACHABLE', 'ThrottlingException: Rate exceeded');
      store.beforeNext('listVersions', () => {
        throw storeError;
      });

      // Act
      const rotation = rotateNonce(store, { clock: clock.now, metrics });

      // Assess
      await expect(rotation).rejects.toBe(storeError);
      expect(metrics.entries).toEqual([{ name: 'NonceRotation', value: 1, dimensions: { outcome: 'failure' } }]);
    });

    it('counts a failure and rethrows when the new version cannot be written', async () => {
      // Prepare
      const { clock, store, metrics } = setup();
      seed(store, { 1: -3 * HOUR });
      store.failNext(1, { op: 'create' });

      // Act
      const error = await rejection(rotateNonce(store, { clock: clock.now, metrics }));

      // Assess
      expect(error.code).toBe('NONCE_STORE_UNREACHABLE');
      expect(error.message).toContain(store.nameOf(2));
      expect(metrics.entries).toEqual([{ name: 'NonceRotation', value: 1, dimensions: { outcome: 'failure' } }]);
      expect(store.storedVersions()).toEqual([1]);
    });

    it('counts a failure and rethrows when an expired version cannot be deleted', async () => {
      // Prepare
      const { clock, store, metrics } = setup();
      seed(store, { 1: -5 * HOUR, 2: -3 * HOUR });
      store.failNext(1, { op: 'delete' });

      // Act
      const error = await rejection(rotateNonce(store, { clock: clock.now, metrics }));

      // Assess
      expect(error.code).toBe('NONCE_STORE_UNREACHABLE');
      expect(metrics.entries).toEqual([{ name: 'NonceRotation', value: 1, dimensions: { outcome: 'failure' } }]);
    });

    it('refuses a new value that is not 64 lowercase hex without naming it', async () => {
      // Prepare
      const { clock, store, metrics } = setup();
      const bad = nonceValue('bad').toUpperCase();

      // Act
      const error = await rejection(rotateNonce(store, { clock: clock.now, metrics, newValue: () => bad }));

      // Assess
      expect(error).toBeInstanceOf(IntegrityError);
      expect(error.code).toBe('NONCE_INVALID');
      expect(error.message).not.toContain(bad);
      expect(metrics.entries).toEqual([{ name: 'NonceRotation', value: 1, dimensions: { outcome: 'failure' } }]);
    });

    it('works without a metrics sink', async () => {
      // Prepare
      const { clock, store } = setup();
      store.failNext(1);

      // Act
      const failed = rotateNonce(store, { clock: clock.now });
      const outcome = await rejection(failed);
      const result = await rotateNonce(store, { clock: clock.now });

      // Assess
      expect(outcome.code).toBe('NONCE_STORE_UNREACHABLE');
      expect(result.version).toBe(1);
    });

    it.each([0, -MINUTE, 0.5, Number.NaN])('rejects a grace period of %p before touching the store', async (gracePeriodMs) => {
      // Prepare
      const { clock, store, metrics } = setup();

      // Act
      const error = await rejection(rotateNonce(store, { clock: clock.now, metrics, gracePeriodMs }));

      // Assess
      expect(error).toBeInstanceOf(InputError);
      expect(error.location).toEqual({ field: 'nonce.gracePeriod' });
      expect(store.calls).toEqual([]);
    });

    it('uses the system clock and default options when none are given', async () => {
      // Prepare
      const store = new MemoryNonceStore(() => Date.now());
      const before = Date.now();

      // Act
      const result = await rotateNonce(store);
      const second = await rotateNonce(store);

      // Assess
      expect(result.version).toBe(1);
      expect(second.previousValidUntil!.getTime()).toBeGreaterThanOrEqual(before + HOUR);
    });
  });
});
