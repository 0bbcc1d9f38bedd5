import { createHash } from 'node:crypto';
import { DependencyError, InputError, IntegrityError, PhaseMirrorError } from '../../src/errors';
import { NonceLoader, type NonceKeyring, type NonceLoaderOptions } from '../../src/nonce/loader';
import { DEFAULT_UNREACHABLE_CAUSE, ManualClock, MemoryNonceStore } from './memory-store';

const T0 = Date.parse('2026-03-01T12:00:00.000Z');
const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** A distinct, realistic (mixed letters and digits) 64-hex value per version. */
function nonceValue(version: number): string {
  return createHash('sha256').update(`test nonce v${version}`).digest('hex');
}

function setup(options: Partial<NonceLoaderOptions> = {}): { clock: ManualClock; store: MemoryNonceStore; loader: NonceLoader } {
  const clock = new ManualClock(T0);
  const store = new MemoryNonceStore(clock.now);
  const loader = new NonceLoader({ store, clock: clock.now, ...options });
  return { clock, store, loader };
}

/** Seeds versions (ascending) created at the given offsets from T0. */
function seed(store: MemoryNonceStore, createdAt: Record<number, number>): void {
  for (const [version, offset] of Object.entries(createdAt)) store.put(Number(version), nonceValue(Number(version)), T0 + offset);
}

function acceptedVersions(ring: NonceKeyring): number[] {
  return ring.accepted.map((key) => key.version);
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

/** No nonce value (of any version, in either case) and no long hex run in `text`. */
function expectNoNonceValue(text: string): void {
  for (let version = 1; version <= 10; version++) {
    expect(text).not.toContain(nonceValue(version));
    expect(text.toLowerCase()).not.toContain(nonceValue(version));
  }
  expect(text).not.toMatch(/[0-9a-fA-F]{32}/);
}

describe('NonceLoader', () => {
  describe('keyring', () => {
    it('signs with the newest version and accepts the versions still in grace, newest first', async () => {
      // Prepare: v1 left its grace an hour ago, v2 and v3 are in grace, v4 is the newest.
      const { store, loader } = setup();
      seed(store, { 1: -5 * HOUR, 2: -2 * HOUR, 3: -30 * MINUTE, 4: -10 * MINUTE });

      // Act
      const ring = await loader.keyring();

      // Assess
      expect(ring.signing).toEqual({ version: 4, value: nonceValue(4), loadedAt: new Date(T0) });
      expect(ring.accepted).toEqual([
        { version: 4, value: nonceValue(4), loadedAt: new Date(T0) },
        { version: 3, value: nonceValue(3), loadedAt: new Date(T0) },
        { version: 2, value: nonceValue(2), loadedAt: new Date(T0) },
      ]);
      expect(ring.loadedAt).toEqual(new Date(T0));
      expect(ring.degraded).toBeUndefined();
      expect('degraded' in ring).toBe(false);
    });

    it('reports expired versions with the end of their grace period and never reads their values', async () => {
      // Prepare
      const { store, loader } = setup();
      seed(store, { 1: -5 * HOUR, 2: -2 * HOUR, 3: -30 * MINUTE, 4: -10 * MINUTE });

      // Act
      const ring = await loader.keyring();

      // Assess: v1 ended when v2 was an hour old, v2 when v3 was.
      expect(ring.expired).toEqual([{ version: 1, validUntil: new Date(T0 - HOUR) }]);
      expect(store.calls).toEqual([
        { op: 'listVersions' },
        { op: 'readValue', version: 2 },
        { op: 'readValue', version: 3 },
        { op: 'readValue', version: 4 },
      ]);
    });

    it('accepts the only version as signing with nothing expired', async () => {
      // Prepare
      const { store, loader } = setup();
      seed(store, { 1: -3 * HOUR });

      // Act
      const ring = await loader.keyring();

      // Assess
      expect(acceptedVersions(ring)).toEqual([1]);
      expect(ring.expired).toEqual([]);
    });

    it('exposes the location of its store', () => {
      // Prepare
      const { store, loader } = setup();

      // Act / Assess
      expect(loader.location).toBe(store.location);
      expect(loader.location).toBe('SSM /guardian/test/redaction_nonce_v*');
    });
  });

  describe('cache and refresh', () => {
    it('serves the cache without any store call inside the refresh window', async () => {
      // Prepare
      const { clock, store, loader } = setup();
      seed(store, { 1: -3 * HOUR });
      await loader.keyring();
      const callsAfterLoad = store.calls.length;

      // Act
      clock.set(T0 + 55 * MINUTE - 1);
      const ring = await loader.keyring();

      // Assess
      expect(store.calls).toHaveLength(callsAfterLoad);
      expect(ring.loadedAt).toEqual(new Date(T0));
    });

    it('refreshes at 55 minutes of the 1 h cache, before it expires', async () => {
      // Prepare
      const { clock, store, loader } = setup();
      seed(store, { 1: -3 * HOUR });
      await loader.keyring();

      // Act
      clock.set(T0 + 55 * MINUTE);
      const ring = await loader.keyring();

      // Assess
      expect(store.count('listVersions')).toBe(2);
      expect(ring.loadedAt).toEqual(new Date(T0 + 55 * MINUTE));
      expect(ring.signing.loadedAt).toEqual(new Date(T0 + 55 * MINUTE));
    });

    it('refreshes at min(ttl, grace) minus a tenth when the grace period is short', async () => {
      // Prepare: a 10 min grace period refreshes after 9 min.
      const { clock, store, loader } = setup({ gracePeriodMs: 10 * MINUTE });
      seed(store, { 1: -3 * HOUR });
      await loader.keyring();

      // Act
      clock.set(T0 + 9 * MINUTE - 1);
      await loader.keyring();
      const beforeWindow = store.count('listVersions');
      clock.set(T0 + 9 * MINUTE);
      await loader.keyring();

      // Assess
      expect(beforeWindow).toBe(1);
      expect(store.count('listVersions')).toBe(2);
    });

    it('takes the cache TTL as the window when it is shorter than the grace period', async () => {
      // Prepare: a 20 min cache refreshes after 18 min.
      const { clock, store, loader } = setup({ cacheTtlMs: 20 * MINUTE });
      seed(store, { 1: -3 * HOUR });
      await loader.keyring();

      // Act
      clock.set(T0 + 18 * MINUTE - 1);
      await loader.keyring();
      const beforeWindow = store.count('listVersions');
      clock.set(T0 + 18 * MINUTE);
      await loader.keyring();

      // Assess
      expect(beforeWindow).toBe(1);
      expect(store.count('listVersions')).toBe(2);
    });

    it('switches to the successor before the signing version leaves its grace period', async () => {
      // Prepare: 10 min grace; v2 is created a minute after the load, so v1 verifies until T0 + 11 min.
      const { clock, store, loader } = setup({ gracePeriodMs: 10 * MINUTE });
      seed(store, { 1: -HOUR });
      await loader.keyring();
      seed(store, { 2: MINUTE });

      // Act
      clock.set(T0 + 8 * MINUTE);
      const cached = await loader.keyring();
      clock.set(T0 + 9 * MINUTE);
      const refreshed = await loader.keyring();

      // Assess
      expect(cached.signing.version).toBe(1);
      expect(refreshed.signing.version).toBe(2);
      expect(acceptedVersions(refreshed)).toEqual([2, 1]);
    });

    it('rejects a version once its grace period ends, within the same cache and without a store call', async () => {
      // Prepare: v1 verifies until T0 + 10 min (v2 created 50 min ago, 1 h grace).
      const { clock, store, loader } = setup();
      seed(store, { 1: -2 * HOUR, 2: -50 * MINUTE });
      const atLoad = await loader.keyring();
      const callsAfterLoad = store.calls.length;

      // Act
      clock.set(T0 + 10 * MINUTE - 1);
      const justBefore = await loader.keyring();
      clock.set(T0 + 10 * MINUTE);
      const atEnd = await loader.keyring();

      // Assess
      expect(acceptedVersions(atLoad)).toEqual([2, 1]);
      expect(acceptedVersions(justBefore)).toEqual([2, 1]);
      expect(acceptedVersions(atEnd)).toEqual([2]);
      expect(atEnd.expired).toEqual([{ version: 1, validUntil: new Date(T0 + 10 * MINUTE) }]);
      expect(store.calls).toHaveLength(callsAfterLoad);
    });

    it('shares one store read between concurrent refreshes', async () => {
      // Prepare
      const { clock, store, loader } = setup();
      seed(store, { 1: -3 * HOUR });
      await loader.keyring();
      clock.set(T0 + 55 * MINUTE);

      // Act
      const rings = await Promise.all([loader.keyring(), loader.keyring(), loader.keyring()]);

      // Assess
      expect(store.count('listVersions')).toBe(2);
      expect(rings.map((ring) => ring.loadedAt.getTime())).toEqual([T0 + 55 * MINUTE, T0 + 55 * MINUTE, T0 + 55 * MINUTE]);
    });

    it('waits for a slow refresh in flight, then reads again only because it missed the version', async () => {
      // Prepare: a due cache of [v1]; its refresh lists [v1] and answers late; v2 appears meanwhile.
      const { clock, store, loader } = setup();
      seed(store, { 1: -3 * HOUR });
      await loader.keyring();
      clock.set(T0 + 56 * MINUTE);
      const release = store.holdNext('listVersions');
      const slow = loader.keyring();
      clock.set(T0 + 56 * MINUTE + SECOND);
      seed(store, { 2: 56 * MINUTE + SECOND });

      // Act: a report branded v2 arrives while the slow read is out
      const fast = loader.keyringFor(2);
      release();
      const [late, found] = await Promise.all([slow, fast]);
      const next = await loader.keyring();

      // Assess
      expect(late.signing.version).toBe(1);
      expect(found.signing.version).toBe(2);
      expect(next.signing.version).toBe(2);
      expect(store.count('listVersions')).toBe(3);
    });

    it('shares one read among concurrent keyring calls when the cache is due', async () => {
      // Prepare
      const { clock, store, loader } = setup();
      seed(store, { 1: -3 * HOUR });
      await loader.keyring();
      clock.set(T0 + 56 * MINUTE);

      // Act
      const rings = await Promise.all([loader.keyring(), loader.keyring(), loader.keyring()]);

      // Assess
      expect(rings.map((ring) => ring.loadedAt)).toEqual(Array(3).fill(new Date(T0 + 56 * MINUTE)));
      expect(store.count('listVersions')).toBe(2);
    });
  });

  describe('failure contract', () => {
    it('rides out an unreachable store with a cache younger than 1 h, marked ssm_unreachable', async () => {
      // Prepare
      const { clock, store, loader } = setup();
      seed(store, { 1: -3 * HOUR });
      await loader.keyring();
      clock.set(T0 + 56 * MINUTE);
      store.failNext(1);

      // Act
      const ring = await loader.keyring();

      // Assess
      expect(ring.signing).toEqual({ version: 1, value: nonceValue(1), loadedAt: new Date(T0) });
      expect(ring.loadedAt).toEqual(new Date(T0));
      expect(ring.degraded?.reason).toBe('ssm_unreachable');
      expect(ring.degraded?.details).toContain(store.location);
      expect(ring.degraded?.details).toContain(DEFAULT_UNREACHABLE_CAUSE);
      expect(ring.degraded?.details).toContain('3360 s ago');
      expectNoNonceValue(ring.degraded!.details);
      expect(store.count('listVersions')).toBe(2);
    });

    it('still applies grace periods to the keys of a degraded keyring', async () => {
      // Prepare: v1 verifies until T0 + 30 min.
      const { clock, store, loader } = setup();
      seed(store, { 1: -2 * HOUR, 2: -30 * MINUTE });
      await loader.keyring();
      clock.set(T0 + 56 * MINUTE);
      store.failNext(1);

      // Act
      const ring = await loader.keyring();

      // Assess
      expect(ring.degraded?.reason).toBe('ssm_unreachable');
      expect(acceptedVersions(ring)).toEqual([2]);
      expect(ring.expired).toEqual([{ version: 1, validUntil: new Date(T0 + 30 * MINUTE) }]);
    });

    it('reads the store again on the next call and drops the degradation once it is back', async () => {
      // Prepare
      const { clock, store, loader } = setup();
      seed(store, { 1: -3 * HOUR });
      await loader.keyring();
      clock.set(T0 + 56 * MINUTE);
      store.failNext(1);
      await loader.keyring();

      // Act
      clock.set(T0 + 57 * MINUTE);
      const ring = await loader.keyring();

      // Assess
      expect(ring.degraded).toBeUndefined();
      expect(ring.loadedAt).toEqual(new Date(T0 + 57 * MINUTE));
      expect(store.count('listVersions')).toBe(3);
    });

    it('refuses a cache of 1 h or more with NONCE_CACHE_STALE naming the store', async () => {
      // Prepare
      const { clock, store, loader } = setup();
      seed(store, { 1: -3 * HOUR });
      await loader.keyring();
      store.failNext(Infinity);

      // Act
      clock.set(T0 + HOUR - 1);
      const lastDegraded = await loader.keyring();
      clock.set(T0 + HOUR);
      const error = await rejection(loader.keyring());

      // Assess
      expect(lastDegraded.degraded?.reason).toBe('ssm_unreachable');
      expect(error).toBeInstanceOf(DependencyError);
      expect(error.code).toBe('NONCE_CACHE_STALE');
      expect(error.message).toContain('nonce_cache_stale');
      expect(error.message).toContain(store.location);
      expect(error.message).toContain(DEFAULT_UNREACHABLE_CAUSE);
      expect(error.context).toEqual({ location: store.location, cacheAgeMs: HOUR });
      expect((error.cause as PhaseMirrorError).code).toBe('NONCE_STORE_UNREACHABLE');
      expectNoNonceValue(error.message);
    });

    it('fails with NONCE_UNAVAILABLE naming the store and the cause when nothing is cached', async () => {
      // Prepare
      const { store, loader } = setup();
      seed(store, { 1: -3 * HOUR });
      store.failNext(1, { cause: 'AccessDeniedException: not authorized to perform ssm:GetParametersByPath' });

      // Act
      const error = await rejection(loader.keyring());

      // Assess
      expect(error).toBeInstanceOf(DependencyError);
      expect(error.code).toBe('NONCE_UNAVAILABLE');
      expect(error.message).toContain(store.location);
      expect(error.message).toContain('AccessDeniedException: not authorized');
      expect(error.context).toEqual({ location: store.location });
      expectNoNonceValue(error.message);
    });

    it('fails when a value cannot be read on the first load', async () => {
      // Prepare: listing works, reading the value does not.
      const { store, loader } = setup();
      seed(store, { 1: -3 * HOUR });
      store.failNext(1, { op: 'readValue' });

      // Act
      const error = await rejection(loader.keyring());

      // Assess
      expect(error.code).toBe('NONCE_UNAVAILABLE');
      expect(error.message).toContain(store.nameOf(1));
    });

    it('never rides out a malformed version, even with a fresh cache', async () => {
      // Prepare: the stored secret is rewritten in upper case (not 64 lowercase hex).
      const { clock, store, loader } = setup();
      seed(store, { 1: -3 * HOUR });
      await loader.keyring();
      store.corrupt(1);
      clock.set(T0 + 55 * MINUTE);

      // Act
      const error = await rejection(loader.keyring());

      // Assess
      expect(error).toBeInstanceOf(IntegrityError);
      expect(error.code).toBe('NONCE_INVALID');
      expectNoNonceValue(error.message);
    });

    it('rethrows an unexpected error unchanged instead of riding it out', async () => {
      // Prepare
      const { clock, store, loader } = setup();
      seed(store, { 1: -3 * HOUR });
      await loader.keyring();
      clock.set(T0 + 55 * MINUTE);
      const unexpected = new TypeError('adapter bug');
      store.beforeNext('listVersions', () => {
        throw unexpected;
      });

      // Act
      const outcome = loader.keyring();

      // Assess
      await expect(outcome).rejects.toBe(unexpected);
    });

    it('fails when the newest version vanishes between listing and reading', async () => {
      // Prepare: the listing is answered, then v2 is deleted before it is read.
      const { store, loader } = setup();
      seed(store, { 1: -2 * HOUR, 2: -10 * MINUTE });
      const release = store.holdNext('listVersions');
      const pending = loader.keyring();
      store.remove(2);
      release();

      // Act
      const error = await rejection(pending);

      // Assess
      expect(error).toBeInstanceOf(DependencyError);
      expect(error.code).toBe('NONCE_UNAVAILABLE');
      expect(error.message).toContain(store.nameOf(2));
      expect(error.context).toEqual({ parameter: store.nameOf(2) });
      expectNoNonceValue(error.message);
    });

    it('does not ride out a vanished newest version with a fresh cache', async () => {
      // Prepare
      const { clock, store, loader } = setup();
      seed(store, { 1: -2 * HOUR, 2: -10 * MINUTE });
      await loader.keyring();
      clock.set(T0 + 55 * MINUTE);
      const release = store.holdNext('listVersions');
      const pending = loader.keyring();
      store.remove(2);
      release();

      // Act
      const error = await rejection(pending);

      // Assess
      expect(error.code).toBe('NONCE_UNAVAILABLE');
    });

    it('treats an older version deleted between listing and reading as no longer accepted', async () => {
      // Prepare
      const { store, loader } = setup();
      seed(store, { 1: -2 * HOUR, 2: -30 * MINUTE });
      const release = store.holdNext('listVersions');
      const pending = loader.keyring();
      store.remove(1);
      release();

      // Act
      const ring = await pending;

      // Assess
      expect(acceptedVersions(ring)).toEqual([2]);
      expect(ring.expired.map((entry) => entry.version)).toEqual([1]);
    });
  });

  describe('first version', () => {
    it('fails on an empty store with NONCE_UNAVAILABLE pointing at `phase-mirror nonce rotate`', async () => {
      // Prepare
      const { store, loader } = setup();

      // Act
      const error = await rejection(loader.keyring());

      // Assess
      expect(error).toBeInstanceOf(DependencyError);
      expect(error.code).toBe('NONCE_UNAVAILABLE');
      expect(error.message).toContain('phase-mirror nonce rotate');
      expect(error.message).toContain(store.location);
      expect(store.count('create')).toBe(0);
    });

    it('creates version 1 on an empty store when createFirstVersion is set', async () => {
      // Prepare
      const { store, loader } = setup({ createFirstVersion: true });

      // Act
      const ring = await loader.keyring();

      // Assess
      expect(store.calls).toEqual([{ op: 'listVersions' }, { op: 'create', version: 1 }, { op: 'listVersions' }, { op: 'readValue', version: 1 }]);
      expect(ring.signing.version).toBe(1);
      expect(ring.signing.value).toMatch(/^[0-9a-f]{64}$/);
      expect(ring.signing.value).toBe(store.valueOf(1));
    });

    it('adopts the version 1 a concurrent process created first', async () => {
      // Prepare
      const { store, loader } = setup({ createFirstVersion: true });
      store.concurrentRotationWins(nonceValue(1));

      // Act
      const ring = await loader.keyring();

      // Assess
      expect(ring.signing).toEqual({ version: 1, value: nonceValue(1), loadedAt: new Date(T0) });
    });

    it('does not create a version when the store already has one', async () => {
      // Prepare
      const { store, loader } = setup({ createFirstVersion: true });
      seed(store, { 3: -HOUR });

      // Act
      const ring = await loader.keyring();

      // Assess
      expect(store.count('create')).toBe(0);
      expect(ring.signing.version).toBe(3);
    });
  });

  describe('keyringFor', () => {
    it('refreshes at once for a version newer than every cached one', async () => {
      // Prepare: a rotation writes v2 a minute after the load.
      const { clock, store, loader } = setup();
      seed(store, { 1: -3 * HOUR });
      await loader.keyring();
      seed(store, { 2: MINUTE });
      clock.set(T0 + 2 * MINUTE);

      // Act
      const ring = await loader.keyringFor(2);

      // Assess
      expect(store.count('listVersions')).toBe(2);
      expect(ring.signing.version).toBe(2);
      expect(acceptedVersions(ring)).toEqual([2, 1]);
      expect(ring.loadedAt).toEqual(new Date(T0 + 2 * MINUTE));
    });

    it('shares one listVersions between concurrent calls for a newer version', async () => {
      // Prepare
      const { clock, store, loader } = setup();
      seed(store, { 1: -3 * HOUR });
      await loader.keyring();
      seed(store, { 2: MINUTE });
      clock.set(T0 + 2 * MINUTE);

      // Act
      const rings = await Promise.all([loader.keyringFor(2), loader.keyringFor(2), loader.keyringFor(2)]);

      // Assess
      expect(store.count('listVersions')).toBe(2);
      expect(rings.map((ring) => ring.signing.version)).toEqual([2, 2, 2]);
    });

    it('shares the refresh between concurrent calls even when the clock ticks between them', async () => {
      // Prepare: every clock read advances 1 ms, so no two calls see the same instant.
      const clock = new ManualClock(T0);
      const ticking = (): number => {
        const now = clock.now();
        clock.advance(1);
        return now;
      };
      const store = new MemoryNonceStore(clock.now);
      seed(store, { 1: -3 * HOUR });
      const loader = new NonceLoader({ store, clock: ticking });
      await loader.keyring();
      seed(store, { 2: MINUTE });
      clock.set(T0 + 2 * MINUTE);

      // Act
      const rings = await Promise.all([loader.keyringFor(2), loader.keyringFor(2), loader.keyringFor(2)]);

      // Assess: the refresh the first call started began after every call did.
      expect(store.count('listVersions')).toBe(2);
      expect(rings.map((ring) => ring.signing.version)).toEqual([2, 2, 2]);
    });

    it('makes no store call for a version it already holds', async () => {
      // Prepare
      const { clock, store, loader } = setup();
      seed(store, { 1: -3 * HOUR, 2: -10 * MINUTE });
      await loader.keyring();
      const callsAfterLoad = store.calls.length;
      clock.set(T0 + 2 * MINUTE);

      // Act
      const forOlder = await loader.keyringFor(1);
      const forNewest = await loader.keyringFor(2);

      // Assess
      expect(store.calls).toHaveLength(callsAfterLoad);
      expect(forOlder.signing.version).toBe(2);
      expect(forNewest.signing.version).toBe(2);
    });

    it('reads the store only once on a cold loader, even for a version that does not exist', async () => {
      // Prepare
      const { store, loader } = setup();
      seed(store, { 1: -3 * HOUR });

      // Act
      const ring = await loader.keyringFor(5);

      // Assess
      expect(store.count('listVersions')).toBe(1);
      expect(acceptedVersions(ring)).toEqual([1]);
    });

    it('rides out an unreachable store during the immediate refresh with a fresh cache', async () => {
      // Prepare
      const { clock, store, loader } = setup();
      seed(store, { 1: -3 * HOUR });
      await loader.keyring();
      clock.set(T0 + 2 * MINUTE);
      store.failNext(1);

      // Act
      const ring = await loader.keyringFor(2);

      // Assess
      expect(ring.degraded?.reason).toBe('ssm_unreachable');
      expect(ring.degraded?.details).toContain('120 s ago');
      expect(ring.signing.version).toBe(1);
      expectNoNonceValue(ring.degraded!.details);
    });

    it('reads once for a newer version when the cache is due and the store is down, riding out degraded', async () => {
      // Prepare: the cache is due and the store is down.
      const { clock, store, loader } = setup();
      seed(store, { 1: -3 * HOUR });
      await loader.keyring();
      clock.set(T0 + 56 * MINUTE);
      store.failNext(2);

      // Act
      const ring = await loader.keyringFor(2);

      // Assess
      expect(ring.degraded?.reason).toBe('ssm_unreachable');
      expect(store.count('listVersions')).toBe(2);
    });

    it('refuses a stale cache during the immediate refresh', async () => {
      // Prepare: a 20 min cache loaded at T0, the store down when a newer version is asked for at 20 min.
      const { clock, store, loader } = setup({ cacheTtlMs: 20 * MINUTE });
      seed(store, { 1: -3 * HOUR });
      await loader.keyring();
      clock.set(T0 + 20 * MINUTE);
      store.failNext(Infinity);

      // Act
      const error = await rejection(loader.keyringFor(2));

      // Assess
      expect(error.code).toBe('NONCE_CACHE_STALE');
    });

    it('never rides out a malformed newer version', async () => {
      // Prepare
      const { clock, store, loader } = setup();
      seed(store, { 1: -3 * HOUR });
      await loader.keyring();
      store.put(2, nonceValue(2).toUpperCase(), T0 + MINUTE);
      clock.set(T0 + 2 * MINUTE);

      // Act
      const error = await rejection(loader.keyringFor(2));

      // Assess
      expect(error).toBeInstanceOf(IntegrityError);
      expect(error.code).toBe('NONCE_INVALID');
      expectNoNonceValue(error.message);
    });
  });

  describe('configuration', () => {
    it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('rejects a grace period of %p with an InputError', (gracePeriodMs) => {
      // Prepare
      const store = new MemoryNonceStore(() => T0);

      // Act
      const create = (): NonceLoader => new NonceLoader({ store, gracePeriodMs });

      // Assess
      expect(create).toThrow(InputError);
      try {
        create();
      } catch (error) {
        expect((error as InputError).code).toBe('INPUT_INVALID');
        expect((error as InputError).location).toEqual({ field: 'nonce.gracePeriod' });
      }
      expect(store.calls).toEqual([]);
    });

    it('rejects an invalid cache TTL with an InputError', () => {
      // Prepare
      const store = new MemoryNonceStore(() => T0);

      // Act
      const create = (): NonceLoader => new NonceLoader({ store, cacheTtlMs: 0 });

      // Assess
      expect(create).toThrow(expect.objectContaining({ code: 'INPUT_INVALID', location: { field: 'nonce.cacheTtl' } }));
    });

    it('reads the system clock by default', async () => {
      // Prepare
      const store = new MemoryNonceStore(() => Date.now());
      store.put(1, nonceValue(1), Date.now() - HOUR);
      const loader = new NonceLoader({ store });
      const before = Date.now();

      // Act
      const ring = await loader.keyring();

      // Assess
      expect(ring.loadedAt.getTime()).toBeGreaterThanOrEqual(before);
    });
  });
});
