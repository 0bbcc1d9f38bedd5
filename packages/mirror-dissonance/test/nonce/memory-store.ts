/**
 * In-memory NonceSecretStore for the nonce tests. Behaves like the SSM and
 * file adapters (store.ts): versions are written once, listed ascending
 * without values, values are validated on read and write (IntegrityError
 * NONCE_INVALID), and a failure to reach the store is a DependencyError
 * NONCE_STORE_UNREACHABLE whose message never contains a value.
 *
 * Test controls: every call is recorded in `calls`; `failNext` makes the next
 * call(s) fail as unreachable; `put` with a malformed value (or `corrupt`)
 * makes `readValue` fail as NONCE_INVALID; `beforeNext` runs a hook inside the
 * next call of an operation (a concurrent writer or deleter acting between a
 * caller's steps); `holdNext` delays the answer of the next call until
 * released (a slow response computed at call time).
 */
import { DependencyError, IntegrityError } from '../../src/errors';
import { NONCE_NAME_PREFIX, NONCE_VALUE, type NonceSecretStore, type NonceVersionInfo } from '../../src/nonce/store';

export type StoreOperation = 'listVersions' | 'readValue' | 'create' | 'delete';

export interface StoreCall {
  op: StoreOperation;
  /** The version read, created or deleted; absent for listVersions. */
  version?: number;
}

/** A settable clock in epoch milliseconds, shared by a store and the code under test. */
export class ManualClock {
  constructor(private nowMs: number) {}

  readonly now = (): number => this.nowMs;

  set(ms: number): void {
    this.nowMs = ms;
  }

  advance(ms: number): void {
    this.nowMs += ms;
  }
}

interface StoredVersion {
  value: string;
  createdAt: Date;
}

interface PlannedFailure {
  op: StoreOperation | undefined;
  cause: string;
  remaining: number;
}

export const DEFAULT_UNREACHABLE_CAUSE = 'connect ETIMEDOUT 10.0.0.1:443';

export class MemoryNonceStore implements NonceSecretStore {
  readonly location: string;
  readonly calls: StoreCall[] = [];
  private readonly prefix: string;
  private readonly versions = new Map<number, StoredVersion>();
  private readonly failures: PlannedFailure[] = [];
  private readonly hooks: { op: StoreOperation; run: (call: StoreCall) => void }[] = [];
  private readonly holds: { op: StoreOperation; gate: Promise<void> }[] = [];

  constructor(private readonly clock: () => number, stage = 'test') {
    this.prefix = `/guardian/${stage}/${NONCE_NAME_PREFIX}`;
    this.location = `SSM ${this.prefix}*`;
  }

  /** Full name of a version, as listed. */
  nameOf(version: number): string {
    return `${this.prefix}${version}`;
  }

  /** Seeds a version directly (no call recorded, no validation: a malformed value fails on read). */
  put(version: number, value: string, createdAtMs: number = this.clock()): void {
    this.versions.set(version, { value, createdAt: new Date(createdAtMs) });
  }

  /**
   * Replaces a stored value with one that is not 64 lowercase hex (by default
   * the same secret in upper case), so reading it is NONCE_INVALID.
   */
  corrupt(version: number, malformed?: string): void {
    const stored = this.versions.get(version);
    if (stored === undefined) throw new Error(`memory store: no version ${version} to corrupt`);
    stored.value = malformed ?? stored.value.toUpperCase();
  }

  /** Removes a version without recording a call (another process deleting it). */
  remove(version: number): void {
    this.versions.delete(version);
  }

  /** The stored value of a version, for assertions. */
  valueOf(version: number): string | undefined {
    return this.versions.get(version)?.value;
  }

  createdAtOf(version: number): Date | undefined {
    return this.versions.get(version)?.createdAt;
  }

  /** Stored versions, ascending. */
  storedVersions(): number[] {
    return [...this.versions.keys()].sort((a, b) => a - b);
  }

  /** Every stored value, for "never in a message" assertions. */
  storedValues(): string[] {
    return [...this.versions.values()].map((stored) => stored.value);
  }

  /** Number of recorded calls of one operation. */
  count(op: StoreOperation): number {
    return this.calls.filter((call) => call.op === op).length;
  }

  /**
   * The next `times` calls (of `op` when given, else of any operation) throw
   * DependencyError NONCE_STORE_UNREACHABLE with `cause` in the message.
   * `Infinity` keeps the store down until `recover()`.
   */
  failNext(times = 1, options: { op?: StoreOperation; cause?: string } = {}): void {
    if (times > 0) this.failures.push({ op: options.op, cause: options.cause ?? DEFAULT_UNREACHABLE_CAUSE, remaining: times });
  }

  /** Cancels every planned failure. */
  recover(): void {
    this.failures.length = 0;
  }

  /** Runs `run` inside the next call of `op`, after it is recorded and before it acts. */
  beforeNext(op: StoreOperation, run: (call: StoreCall) => void): void {
    this.hooks.push({ op, run });
  }

  /**
   * Simulates a concurrent rotation that wins the race for the next create:
   * the version appears (with `winnerValue`, created now) just before this
   * writer's create, which then answers `exists`.
   */
  concurrentRotationWins(winnerValue = 'fe'.repeat(32)): void {
    this.beforeNext('create', (call) => this.put(call.version!, winnerValue));
  }

  /** The next call of `op` computes its answer at once but returns it only after `release()`. */
  holdNext(op: StoreOperation): () => void {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.holds.push({ op, gate });
    return release;
  }

  async listVersions(): Promise<NonceVersionInfo[]> {
    const gate = this.enter({ op: 'listVersions' });
    const listed = this.storedVersions().map((version) => ({
      version,
      name: this.nameOf(version),
      createdAt: new Date(this.versions.get(version)!.createdAt.getTime()),
    }));
    await gate;
    return listed;
  }

  async readValue(version: NonceVersionInfo): Promise<string | undefined> {
    const gate = this.enter({ op: 'readValue', version: version.version });
    const stored = this.versions.get(version.version);
    await gate;
    if (stored === undefined) return undefined;
    if (!NONCE_VALUE.test(stored.value)) {
      throw new IntegrityError('NONCE_INVALID', `SSM parameter ${version.name} is not 64 lowercase hex characters`, {
        context: { parameter: version.name },
      });
    }
    return stored.value;
  }

  async create(version: number, value: string): Promise<'created' | 'exists'> {
    const gate = this.enter({ op: 'create', version });
    const name = this.nameOf(version);
    if (!NONCE_VALUE.test(value)) {
      throw new IntegrityError('NONCE_INVALID', `refusing to write ${name}: the new value is not 64 lowercase hex characters`, {
        context: { parameter: name },
      });
    }
    const outcome = this.versions.has(version) ? 'exists' : 'created';
    if (outcome === 'created') this.put(version, value);
    await gate;
    return outcome;
  }

  async delete(version: NonceVersionInfo): Promise<'deleted' | 'absent'> {
    const gate = this.enter({ op: 'delete', version: version.version });
    const outcome = this.versions.delete(version.version) ? 'deleted' : 'absent';
    await gate;
    return outcome;
  }

  /** Records the call, runs its hook, throws a planned failure; returns the gate to wait for. */
  private enter(call: StoreCall): Promise<void> {
    this.calls.push(call);
    const hook = this.hooks.findIndex((entry) => entry.op === call.op);
    if (hook >= 0) this.hooks.splice(hook, 1)[0]!.run(call);
    const failure = this.failures.find((entry) => entry.op === undefined || entry.op === call.op);
    if (failure !== undefined) {
      failure.remaining -= 1;
      if (failure.remaining <= 0) this.failures.splice(this.failures.indexOf(failure), 1);
      const { cause } = failure;
      const resource = call.version === undefined ? `SSM path ${this.prefix}*` : `SSM parameter ${this.nameOf(call.version)}`;
      throw new DependencyError('NONCE_STORE_UNREACHABLE', `${call.op} on ${resource} failed: ${cause}`, {
        context: { resource, operation: call.op },
      });
    }
    const hold = this.holds.findIndex((entry) => entry.op === call.op);
    return hold >= 0 ? this.holds.splice(hold, 1)[0]!.gate : Promise.resolve();
  }
}
