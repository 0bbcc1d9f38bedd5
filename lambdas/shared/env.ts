/** Reading a Lambda's configuration from its environment, failing with the variable's name. */
import { UsageError } from '@phase-mirror/mirror-dissonance';

export function requiredEnv(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (value === undefined || value === '') {
    throw new UsageError(`environment variable ${name} is not set`, { location: { field: name } });
  }
  return value;
}

/** A whole number of seconds from `name`, or `fallback` when unset. */
export function secondsEnv(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = /^[0-9]+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(`environment variable ${name} must be a whole number of seconds from ${min} to ${max}, got "${raw}"`, {
      location: { field: name },
    });
  }
  return value;
}
