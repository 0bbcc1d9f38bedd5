/**
 * Error translation shared by the SQLite adapters: every failure of the
 * embedded store surfaces as a DependencyError('STORE_FAILED') that names the
 * database file and the operation, unless it is already one of our typed
 * errors (ConflictError, NotFoundError, InputError...).
 */
import { DependencyError, PhaseMirrorError } from '../../errors';

/** Where an adapter works: the connection's file name (or ':memory:'). */
export interface StoreLocation {
  file: string;
}

/** Builds the STORE_FAILED error for a failed operation on `file`. */
export function storeFailure(file: string, operation: string, cause: unknown): DependencyError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  const sqliteCode =
    cause !== null && typeof cause === 'object' && typeof (cause as { code?: unknown }).code === 'string'
      ? (cause as { code: string }).code
      : undefined;
  const context: Record<string, unknown> = { file, operation };
  if (sqliteCode !== undefined) context.sqliteCode = sqliteCode;
  return new DependencyError('STORE_FAILED', `state store: ${operation} failed on ${file}: ${detail}`, {
    location: { file },
    context,
    cause,
  });
}

/**
 * Runs `fn`, rethrowing our typed errors unchanged and wrapping anything else
 * (SqliteError, "database connection is not open"...) as STORE_FAILED, so
 * callers can apply the failure contract without knowing SQLite.
 */
export function guard<T>(file: string, operation: string, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof PhaseMirrorError) throw error;
    throw storeFailure(file, operation, error);
  }
}
