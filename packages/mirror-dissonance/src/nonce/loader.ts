/**
 * The multi-version nonce loader (DESIGN §6, §8): one per process, shared by
 * every run the process hosts (a warm Lambda keeps it across invocations).
 *
 * - Loads every version still valid (validity.ts) with its value; the newest
 *   signs, all of them verify. Expired versions are never decrypted.
 * - The cache lives 1 h from load. It is refreshed *before* it expires: at
 *   load + min(1 h, grace) − margin (5 min, or a tenth of that window when
 *   shorter), so a signer never keeps branding with a version whose successor
 *   left it behind for longer than the grace period.
 * - A report branded with a version newer than any cached one triggers one
 *   immediate refresh (concurrent requests share it), so verifiers with a
 *   warm cache accept reports issued right after a rotation.
 * - Failure contract: the store unreachable (NONCE_STORE_UNREACHABLE) with a
 *   cache younger than 1 h ⇒ proceed with `degraded: ssm_unreachable`; with an
 *   older cache ⇒ DependencyError NONCE_CACHE_STALE; with no cache ⇒
 *   DependencyError NONCE_UNAVAILABLE. A malformed or unencrypted version
 *   (NONCE_INVALID) is never ridden out. Messages name the store location
 *   and the cause, never a value.
 */
import { DependencyError, PhaseMirrorError } from '../errors';
import type { NonceKey } from '../redaction/redactor';
import { randomNonceValue } from './random';
import type { NonceSecretStore, NonceVersionInfo } from './store';
import { assertGracePeriod, DEFAULT_NONCE_GRACE_MS, isValidAt, versionValidity } from './validity';

/** 1 h from load (DESIGN §8). */
export const NONCE_CACHE_TTL_MS = 60 * 60 * 1000;
const MAX_REFRESH_MARGIN_MS = 5 * 60 * 1000;

export interface NonceLoaderOptions {
  store: NonceSecretStore;
  /** @default 1 h */
  gracePeriodMs?: number;
  /** @default 1 h */
  cacheTtlMs?: number;
  clock?: () => number;
  /**
   * Create version 1 when the store holds none (embedded mode). In SSM mode
   * the rotation function owns the parameters, so a missing v1 is an error.
   */
  createFirstVersion?: boolean;
}

interface CachedVersion {
  /** One key object per version for the snapshot's life, so verifiers can reuse per-key work. */
  key: NonceKey;
  name: string;
  validUntilMs: number;
}

interface Snapshot {
  versions: CachedVersion[];
  loadedAtMs: number;
  /** Versions the store listed but that had already expired at load time: name and end of grace. */
  expired: { version: number; validUntilMs: number }[];
}

export interface NonceKeyring {
  /** The newest version: every new redaction is branded with it. */
  signing: NonceKey;
  /** Every version verification accepts now (the newest and those in grace), newest first. */
  accepted: NonceKey[];
  /** Versions known to have left their grace period, with when (for clear rejections). */
  expired: { version: number; validUntil: Date }[];
  loadedAt: Date;
  /** Set when the store could not be refreshed and a cache younger than 1 h is used. */
  degraded?: { reason: 'ssm_unreachable'; details: string };
}

export class NonceLoader {
  private readonly store: NonceSecretStore;
  private readonly gracePeriodMs: number;
  private readonly cacheTtlMs: number;
  private readonly refreshAfterMs: number;
  private readonly clock: () => number;
  private readonly createFirstVersion: boolean;
  private snapshot: Snapshot | undefined;
  private inflight: { startedAtMs: number; promise: Promise<Snapshot> } | undefined;

  constructor(options: NonceLoaderOptions) {
    this.store = options.store;
    this.gracePeriodMs = options.gracePeriodMs ?? DEFAULT_NONCE_GRACE_MS;
    assertGracePeriod(this.gracePeriodMs, 'nonce.gracePeriod');
    this.cacheTtlMs = options.cacheTtlMs ?? NONCE_CACHE_TTL_MS;
    assertGracePeriod(this.cacheTtlMs, 'nonce.cacheTtl');
    const window = Math.min(this.cacheTtlMs, this.gracePeriodMs);
    this.refreshAfterMs = window - Math.min(MAX_REFRESH_MARGIN_MS, Math.floor(window / 10));
    this.clock = options.clock ?? Date.now;
    this.createFirstVersion = options.createFirstVersion === true;
  }

  /** Where the versions live, for messages. */
  get location(): string {
    return this.store.location;
  }

  /** The keys for this instant, refreshing first when the cache is due (see the file comment). */
  async keyring(): Promise<NonceKeyring> {
    const now = this.clock();
    const cached = this.snapshot;
    if (cached !== undefined && now - cached.loadedAtMs < this.refreshAfterMs) return this.ring(cached, now);
    let fresh: Snapshot;
    try {
      // Any read already in flight is as fresh as a new one: concurrent callers share it.
      fresh = await this.refresh(Number.NEGATIVE_INFINITY);
    } catch (error) {
      return this.rideOut(error, now);
    }
    return this.ring(fresh, this.clock());
  }

  /**
   * The keyring to verify a snippet of `version` with: when `version` is newer
   * than every cached one, the store is read again first (a refresh that
   * started after this call, shared with concurrent callers).
   */
  async keyringFor(version: number): Promise<NonceKeyring> {
    const calledAtMs = this.clock();
    const newestOf = (): number => this.snapshot?.versions.at(-1)?.key.version ?? 0;
    // A version the cache already covers (or no cache yet): the ordinary keyring.
    if (this.snapshot === undefined || version <= newestOf()) {
      const ring = await this.keyring();
      // Nothing newer to find when that keyring was itself read after this call began.
      if (version <= newestOf() || (this.snapshot!.loadedAtMs >= calledAtMs && ring.degraded === undefined)) return ring;
    }
    // A read already in flight (another caller's) may find it: wait for that one before reading again.
    const running = this.inflight;
    if (running !== undefined && running.startedAtMs < calledAtMs) {
      await running.promise.catch(() => undefined);
      if (version <= newestOf()) return this.keyring();
    }
    const now = this.clock();
    try {
      // Any read that started once this call began can see `version`: share it.
      return this.ring(await this.refresh(calledAtMs), this.clock());
    } catch (error) {
      return this.rideOut(error, now);
    }
  }

  /** Reads the store unless a read that started at or after `notBeforeMs` is in flight. */
  private refresh(notBeforeMs: number): Promise<Snapshot> {
    const running = this.inflight;
    if (running !== undefined && running.startedAtMs >= notBeforeMs) return running.promise;
    const startedAtMs = this.clock();
    const promise = this.load(startedAtMs).then(
      (snapshot) => {
        // A slower, older read never replaces a newer snapshot.
        if (this.snapshot === undefined || this.snapshot.loadedAtMs <= snapshot.loadedAtMs) this.snapshot = snapshot;
        return snapshot;
      },
    );
    const entry = { startedAtMs, promise };
    this.inflight = entry;
    const clear = (): void => {
      if (this.inflight === entry) this.inflight = undefined;
    };
    promise.then(clear, clear);
    return promise;
  }

  private async load(loadedAtMs: number): Promise<Snapshot> {
    let infos = await this.store.listVersions();
    if (infos.length === 0 && this.createFirstVersion) {
      await this.store.create(1, randomNonceValue());
      infos = await this.store.listVersions();
    }
    if (infos.length === 0) {
      throw new DependencyError(
        'NONCE_UNAVAILABLE',
        `no redaction nonce version exists at ${this.store.location}: run \`phase-mirror nonce rotate\` ` +
          '(or let the nonce-rotation function run once) to create version 1',
        { context: { location: this.store.location } },
      );
    }
    const versions: CachedVersion[] = [];
    const expired: Snapshot['expired'] = [];
    for (const validity of versionValidity(infos, this.gracePeriodMs)) {
      const validUntilMs = validity.validUntil?.getTime() ?? Number.POSITIVE_INFINITY;
      if (!isValidAt(validity, loadedAtMs)) {
        expired.push({ version: validity.info.version, validUntilMs });
        continue;
      }
      const value = await this.store.readValue(validity.info);
      if (value === undefined) {
        // Deleted after listing: only a rotation deletes, and never the newest version.
        if (validity.validUntil === undefined) throw vanished(validity.info);
        // The rotation that deleted it judged it expired; never report an end later than now.
        expired.push({ version: validity.info.version, validUntilMs: Math.min(validUntilMs, loadedAtMs) });
        continue;
      }
      const key: NonceKey = Object.freeze({ version: validity.info.version, value, loadedAt: new Date(loadedAtMs) });
      versions.push({ key, name: validity.info.name, validUntilMs });
    }
    return { versions, loadedAtMs, expired };
  }

  /** The failure contract when a refresh failed (see the file comment). */
  private rideOut(error: unknown, nowMs: number): NonceKeyring {
    const cached = this.snapshot;
    const cause = error instanceof Error ? error.message : String(error);
    const unreachable = error instanceof PhaseMirrorError && error.code === 'NONCE_STORE_UNREACHABLE';
    if (!unreachable) throw error;
    if (cached === undefined) {
      throw new DependencyError('NONCE_UNAVAILABLE', `cannot load the redaction nonce from ${this.store.location}: ${cause}`, {
        context: { location: this.store.location },
        cause: error,
      });
    }
    const ageMs = nowMs - cached.loadedAtMs;
    if (ageMs >= this.cacheTtlMs) {
      throw new DependencyError(
        'NONCE_CACHE_STALE',
        `nonce_cache_stale: refusing the redaction nonce cached ${Math.round(ageMs / 1000)} s ago (limit ${this.cacheTtlMs / 1000} s) ` +
          `because ${this.store.location} cannot be read: ${cause}`,
        { context: { location: this.store.location, cacheAgeMs: ageMs }, cause: error },
      );
    }
    return this.ring(cached, nowMs, {
      reason: 'ssm_unreachable',
      details: `${this.store.location} could not be read (${cause}); using the nonce cached ${Math.round(ageMs / 1000)} s ago`,
    });
  }

  private ring(snapshot: Snapshot, nowMs: number, degraded?: NonceKeyring['degraded']): NonceKeyring {
    const loadedAt = new Date(snapshot.loadedAtMs);
    const accepted: NonceKey[] = [];
    const expired = snapshot.expired.map((entry) => ({ version: entry.version, validUntil: new Date(entry.validUntilMs) }));
    for (let index = snapshot.versions.length - 1; index >= 0; index--) {
      const version = snapshot.versions[index]!;
      if (version.validUntilMs > nowMs) accepted.push(version.key);
      else expired.push({ version: version.key.version, validUntil: new Date(version.validUntilMs) });
    }
    const signing = accepted[0];
    if (signing === undefined) {
      // Unreachable: the newest version never expires and a load always has one.
      throw new DependencyError('NONCE_UNAVAILABLE', `no valid redaction nonce version at ${this.store.location}`, {
        context: { location: this.store.location },
      });
    }
    return { signing, accepted, expired, loadedAt, ...(degraded !== undefined ? { degraded } : {}) };
  }
}

function vanished(info: NonceVersionInfo): DependencyError {
  return new DependencyError('NONCE_UNAVAILABLE', `the newest redaction nonce version ${info.name} disappeared while it was being read`, {
    context: { parameter: info.name },
  });
}
