/**
 * Typed errors. Every failure the oracle reports carries a stable `code` and the
 * context needed to act on it (file, line, field, flag, operation). The CLI maps
 * the error class to an exit code, so callers never parse messages.
 */
export type ErrorCode =
  | 'USAGE'
  | 'CONFIG_INVALID'
  | 'INPUT_INVALID'
  | 'REPO_NOT_FOUND'
  | 'PATH_OUTSIDE_ROOT'
  | 'FILE_UNREADABLE'
  | 'WORKFLOW_PARSE'
  | 'BASELINE_INVALID'
  | 'GIT_FAILED'
  | 'REPORT_INVALID'
  | 'REDACTION_VERIFY_FAILED'
  | 'NONCE_UNAVAILABLE'
  | 'NONCE_CACHE_STALE'
  | 'NONCE_STORE_UNREACHABLE'
  | 'NONCE_INVALID'
  | 'LEDGER_CONFLICT'
  | 'LEDGER_INVALID'
  | 'LEDGER_SIGNATURE_INVALID'
  | 'STORE_FAILED'
  | 'DUPLICATE_EVENT'
  | 'NOT_FOUND'
  | 'GITHUB_API_FAILED';

export interface ErrorLocation {
  file?: string;
  line?: number;
  column?: number;
  field?: string;
  flag?: string;
}

export class PhaseMirrorError extends Error {
  readonly code: ErrorCode;
  readonly location: ErrorLocation;
  readonly context: Readonly<Record<string, unknown>>;

  constructor(
    code: ErrorCode,
    message: string,
    options: { location?: ErrorLocation; context?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.location = options.location ?? {};
    this.context = options.context ?? {};
  }

  /** `file:line:column: message` when a location is known, else the message. */
  describe(): string {
    const { file, line, column, field, flag } = this.location;
    let where = '';
    if (file !== undefined) {
      where = file;
      if (line !== undefined) where += `:${line}`;
      if (line !== undefined && column !== undefined) where += `:${column}`;
    }
    const what = field !== undefined ? ` (field ${field})` : flag !== undefined ? ` (flag ${flag})` : '';
    return where ? `${where}: ${this.message}${what}` : `${this.message}${what}`;
  }
}

/** Bad flags or arguments. Exit 3. */
export class UsageError extends PhaseMirrorError {
  constructor(message: string, options: { location?: ErrorLocation; context?: Record<string, unknown> } = {}) {
    super('USAGE', message, options);
  }
}

/**
 * The repository or its configuration cannot be read as declared: invalid
 * config, malformed workflow, unreadable file, path outside the root. Exit 3.
 */
export class InputError extends PhaseMirrorError {}

/**
 * A dependency the oracle must not decide without is down or untrustworthy
 * (nonce, state store, schema integrity). The failure contract makes these
 * fail closed: exit 2, no report claiming a decision.
 */
export class DependencyError extends PhaseMirrorError {}

/** A report failed schema validation or redaction verification before being written. */
export class IntegrityError extends PhaseMirrorError {}

/** A record already exists (duplicate event id, ledger height taken). */
export class ConflictError extends PhaseMirrorError {}

/** A referenced record does not exist (unknown FP event id). */
export class NotFoundError extends PhaseMirrorError {}
