/**
 * Shared shape of the store contract suites: every adapter (SQLite now, AWS
 * later) provides a factory that returns a fresh, empty store and a way to
 * release it, and the same `describe...Contract` functions run against it.
 */
import { randomUUID } from 'node:crypto';

export interface StoreHarness<T> {
  store: T;
  /** Releases the store (close connections, delete temporary tables or files). */
  close(): Promise<void>;
}

/** Called once per test; must return a store holding no records. */
export type MakeStore<T> = () => Promise<StoreHarness<T>>;

/** Ids unique per test, so adapters sharing a backing table cannot collide. */
export function uniqueId(prefix: string): string {
  return `${prefix}-${randomUUID()}`;
}

/** ISO timestamp `days` days (may be fractional or negative) before now. */
export function daysAgo(days: number): string {
  return new Date(Date.now() - days * 24 * 60 * 60 * 1000).toISOString();
}

/**
 * Runs `body` with a fresh store from `make` and always releases it, so a
 * failing assertion never leaks connections between tests.
 */
export async function withStore<T>(make: MakeStore<T>, body: (store: T) => Promise<void>): Promise<void> {
  const harness = await make();
  try {
    await body(harness.store);
  } finally {
    await harness.close();
  }
}
