/**
 * The function's answer (contract.ts): building it on the function, checking
 * it on the caller. The caller has no nonce, so it cannot verify redactions
 * (the function verified them before answering); it checks everything else:
 * the report against the schema, the ledger entry against `meta.ledger`, and
 * the FP events against the reported findings.
 */
import { DependencyError, IntegrityError, InputError, PhaseMirrorError, UsageError, type ErrorCode } from '../errors';
import { validateReport } from '../report/validate';
import type { NewFpEvent } from '../store/ports';
import type { DissonanceReport } from '../types';
import {
  REMOTE_PROTOCOL_VERSION,
  type RemoteAnalyzeRejection,
  type RemoteAnalyzeResponse,
  type RemoteFpEvent,
  type RemoteLedgerEntry,
} from './contract';
import { FieldChecker, fieldPath } from './fields';

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** The answer for a decided, ledgered report. */
export function buildResponse(report: DissonanceReport, ledger: RemoteLedgerEntry, events: readonly NewFpEvent[]): RemoteAnalyzeResponse {
  return {
    version: REMOTE_PROTOCOL_VERSION,
    ok: true,
    report,
    ledger: { height: ledger.height, hash: ledger.hash },
    events: events.map((event) => ({ eventId: event.eventId, ruleId: event.ruleId, findingId: event.findingId, path: event.path })),
  };
}

/** The answer refusing an invalid request (the caller exits 3 with this message). */
export function buildRejection(error: InputError | PhaseMirrorError): RemoteAnalyzeRejection {
  const type = error instanceof UsageError ? 'UsageError' : 'InputError';
  const field = error.location.field ?? error.location.flag;
  return {
    version: REMOTE_PROTOCOL_VERSION,
    ok: false,
    error: { type, code: error.code, message: error.message, ...(field !== undefined ? { field } : {}) },
  };
}

/**
 * Checks what the function answered.
 * @returns the response when the function decided
 * @throws InputError (the rejection's code) when the function refused the request: exit 3
 * @throws IntegrityError (REPORT_INVALID) when the answer is not a valid response or its report is not schema-valid: exit 2
 */
export function parseResponse(payload: unknown, functionName: string): RemoteAnalyzeResponse {
  // A malformed answer means the oracle's output cannot be trusted: fail closed, like an invalid local report.
  const check = new FieldChecker(
    `the answer of the remote oracle ${functionName}`,
    (message, field) => new IntegrityError('REPORT_INVALID', message, { location: { field }, context: { functionName } }),
  );
  return checkResponse(check, payload, functionName);
}

function checkResponse(check: FieldChecker, payload: unknown, functionName: string): RemoteAnalyzeResponse {
  let value = payload;
  if (typeof payload === 'string' || payload instanceof Uint8Array) {
    const text = typeof payload === 'string' ? payload : Buffer.from(payload).toString('utf8');
    try {
      value = JSON.parse(text);
    } catch (error) {
      check.fail('', `is not valid JSON (${(error as Error).message})`);
    }
  }
  const head = check.object(value, '', ['version', 'ok', 'report', 'ledger', 'events', 'error'], ['version', 'ok']);
  if (head.version !== REMOTE_PROTOCOL_VERSION) check.fail('version', `must be ${REMOTE_PROTOCOL_VERSION}`);
  const ok = check.boolean(head.ok, 'ok');
  if (!ok) {
    check.object(value, '', ['version', 'ok', 'error'], ['version', 'ok', 'error']);
    const error = check.object(head.error, 'error', ['type', 'code', 'message', 'field'], ['type', 'code', 'message']);
    check.oneOf(error.type, 'error.type', ['InputError', 'UsageError'] as const);
    const code = check.string(error.code, 'error.code', { min: 1, max: 64, pattern: /^[A-Z_]+$/, patternName: 'an error code' });
    const message = check.string(error.message, 'error.message', { min: 1, max: 8192 });
    const field = check.optionalString(error.field, 'error.field', { max: 1024, singleLine: true });
    throw new InputError(knownCode(code) ?? 'INPUT_INVALID', `the remote oracle ${functionName} refused the request: ${message}`, {
      ...(field !== undefined ? { location: { field } } : {}),
      context: { functionName, remoteCode: code },
    });
  }
  check.object(value, '', ['version', 'ok', 'report', 'ledger', 'events'], ['version', 'ok', 'report', 'ledger', 'events']);
  try {
    validateReport(head.report);
  } catch (error) {
    if (error instanceof PhaseMirrorError) check.fail('report', `is not a valid report: ${error.message}`);
    throw error;
  }
  const report = head.report;
  const ledgerRaw = check.object(head.ledger, 'ledger', ['height', 'hash'], ['height', 'hash']);
  const ledger: RemoteLedgerEntry = {
    height: check.integer(ledgerRaw.height, 'ledger.height', 0),
    hash: check.string(ledgerRaw.hash, 'ledger.hash', { pattern: SHA256_HEX, patternName: '64 lowercase hex characters' }),
  };
  if (report.meta.ledger === undefined || report.meta.ledger.height !== ledger.height || report.meta.ledger.hash !== ledger.hash) {
    check.fail('report.meta.ledger', 'must record the same ledger height and hash as the answer');
  }
  const findings = new Map(report.items.map((item) => [item.id, item.rule_id]));
  const events = check.array(head.events, 'events', (entry, at): RemoteFpEvent => {
    const raw = check.object(entry, at, ['eventId', 'ruleId', 'findingId', 'path'], ['eventId', 'ruleId', 'findingId', 'path']);
    const event = {
      eventId: check.string(raw.eventId, fieldPath(at, 'eventId'), { pattern: /^[0-9a-f]{32}$/, patternName: '32 lowercase hex characters' }),
      ruleId: check.string(raw.ruleId, fieldPath(at, 'ruleId'), { min: 1, max: 64, singleLine: true }),
      findingId: check.string(raw.findingId, fieldPath(at, 'findingId'), { pattern: SHA256_HEX, patternName: '64 lowercase hex characters' }),
      path: check.string(raw.path, fieldPath(at, 'path'), { min: 1, max: 4096 }),
    };
    if (findings.get(event.findingId) !== event.ruleId) check.fail(at, 'is not an event of a reported finding');
    return event;
  });
  return { version: REMOTE_PROTOCOL_VERSION, ok: true, report, ledger, events };
}

/**
 * Codes a remote failure may carry back. Unknown codes (a newer function)
 * are reported in the message, with a generic code.
 */
const KNOWN_CODES: readonly ErrorCode[] = [
  'USAGE',
  'CONFIG_INVALID',
  'INPUT_INVALID',
  'REPO_NOT_FOUND',
  'PATH_OUTSIDE_ROOT',
  'FILE_UNREADABLE',
  'WORKFLOW_PARSE',
  'BASELINE_INVALID',
  'GIT_FAILED',
  'REPORT_INVALID',
  'REDACTION_VERIFY_FAILED',
  'NONCE_UNAVAILABLE',
  'NONCE_CACHE_STALE',
  'NONCE_STORE_UNREACHABLE',
  'NONCE_INVALID',
  'LEDGER_CONFLICT',
  'LEDGER_INVALID',
  'LEDGER_SIGNATURE_INVALID',
  'STORE_FAILED',
  'DUPLICATE_EVENT',
  'NOT_FOUND',
  'GITHUB_API_FAILED',
];

export function knownCode(code: string): ErrorCode | undefined {
  return (KNOWN_CODES as readonly string[]).includes(code) ? (code as ErrorCode) : undefined;
}

/** Message suffix carrying a failure's code across the Lambda boundary: `... [NONCE_UNAVAILABLE]`. */
const CODE_SUFFIX = / \[([A-Z_]+)\]$/;

/** The message a function failure is thrown with: the error described, then its code. */
export function remoteFailureMessage(error: unknown): { name: string; message: string } {
  if (error instanceof PhaseMirrorError) return { name: error.name, message: `${error.describe()} [${error.code}]` };
  if (error instanceof Error) return { name: 'Error', message: `internal error: ${error.message}` };
  return { name: 'Error', message: `internal error: ${String(error)}` };
}

/**
 * A function error (the invocation failed: nonce, tables, ledger, a bug) as the
 * caller's typed error. The oracle did not decide: always a DependencyError (exit 2).
 */
export function remoteFailure(functionName: string, errorType: string | undefined, errorMessage: string | undefined): DependencyError {
  const text = (errorMessage ?? '').trim() || 'no message';
  const match = CODE_SUFFIX.exec(text);
  const code = match !== null ? knownCode(match[1]!) : undefined;
  const message = code !== undefined ? text.slice(0, match!.index) : text;
  const type = errorType !== undefined && errorType !== '' ? `${errorType}: ` : '';
  return new DependencyError(code ?? 'STORE_FAILED', `the remote oracle ${functionName} failed, no decision was made: ${type}${message}`, {
    context: { functionName, ...(errorType !== undefined ? { errorType } : {}), ...(match !== null ? { remoteCode: match[1] } : {}) },
  });
}
