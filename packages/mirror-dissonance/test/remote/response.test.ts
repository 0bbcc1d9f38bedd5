/**
 * The function's answer as the caller checks it: a decided report is
 * schema-valid and consistent with its ledger entry and events; a refusal is
 * an input error (exit 3); a malformed answer or a function failure is not a
 * decision (exit 2).
 */
import { DependencyError, InputError, IntegrityError, UsageError } from '../../src/errors';
import { sha256Hex } from '../../src/hashing';
import { buildRejection, buildResponse, parseResponse, remoteFailure, remoteFailureMessage } from '../../src/remote/response';
import type { NewFpEvent } from '../../src/store/ports';
import type { DissonanceReport } from '../../src/types';
import { itemOf, reportOf } from '../nonce/reports';

const FUNCTION = 'phase-mirror-prod-oracle';
const LEDGER = { height: 7, hash: 'e'.repeat(64) };

function ledgeredReport(): DissonanceReport {
  const report = reportOf([itemOf('MD-001', [])]);
  report.meta.ledger = { ...LEDGER };
  return report;
}

function eventFor(report: DissonanceReport): NewFpEvent {
  const item = report.items[0]!;
  return {
    eventId: 'f'.repeat(32),
    ruleId: item.rule_id,
    ruleVersion: item.rule_version,
    findingId: item.id,
    repository: 'acme/api',
    runId: report.meta.run_id,
    path: '.github/workflows/ci.yml',
    observedAt: report.meta.timestamp,
  };
}

function failure(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('no error thrown');
}

describe('buildResponse and parseResponse', () => {
  it('accepts a decided answer, as an object or as JSON text', () => {
    // Prepare
    const report = ledgeredReport();
    const answer = buildResponse(report, LEDGER, [eventFor(report)]);

    // Act
    const fromObject = parseResponse(answer, FUNCTION);
    const fromText = parseResponse(JSON.stringify(answer), FUNCTION);

    // Assess
    expect(fromObject).toEqual(answer);
    expect(fromText).toEqual(answer);
    expect(answer.events).toEqual([{ eventId: 'f'.repeat(32), ruleId: 'MD-001', findingId: report.items[0]!.id, path: '.github/workflows/ci.yml' }]);
  });

  it.each<[string, (answer: Record<string, any>) => void, string]>([
    ['a ledger entry the report does not record', (a) => (a.ledger.height = 8), 'report.meta.ledger'],
    ['a report without meta.ledger', (a) => delete a.report.meta.ledger, 'report.meta.ledger'],
    ['a report off the schema', (a) => (a.report.machine_decision.outcome = 'maybe'), 'report'],
    ['a malformed ledger hash', (a) => (a.ledger.hash = 'abc'), 'ledger.hash'],
    ['an event of no reported finding', (a) => (a.events[0].findingId = sha256Hex('other')), 'events[0]'],
    ['another protocol version', (a) => (a.version = 2), 'version'],
    ['a missing report', (a) => delete a.report, 'report'],
    ['an unknown member', (a) => (a.debug = true), 'debug'],
  ])('fails closed on %s (IntegrityError, field named)', (_name, mutate, field) => {
    // Prepare
    const report = ledgeredReport();
    const answer = JSON.parse(JSON.stringify(buildResponse(report, LEDGER, [eventFor(report)]))) as Record<string, any>;
    mutate(answer);

    // Act
    const error = failure(() => parseResponse(answer, FUNCTION));

    // Assess
    expect(error).toBeInstanceOf(IntegrityError);
    expect((error as IntegrityError).code).toBe('REPORT_INVALID');
    expect((error as IntegrityError).location.field).toBe(field);
    expect(error.message).toContain(`the answer of the remote oracle ${FUNCTION}: ${field}`);
  });

  it('fails closed on an answer that is not JSON', () => {
    const error = failure(() => parseResponse('<html>502</html>', FUNCTION));
    expect(error).toBeInstanceOf(IntegrityError);
    expect((error as IntegrityError).location.field).toBe('(root)');
  });

  it('turns a refusal into an input error carrying the function\'s message, code and field', () => {
    // Prepare
    const refusal = buildRejection(new InputError('INPUT_INVALID', 'remote analysis request: event.mode must be one of ...', { location: { field: 'event.mode' } }));

    // Act
    const error = failure(() => parseResponse(refusal, FUNCTION));

    // Assess
    expect(refusal).toEqual({
      version: 1,
      ok: false,
      error: { type: 'InputError', code: 'INPUT_INVALID', message: 'remote analysis request: event.mode must be one of ...', field: 'event.mode' },
    });
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).code).toBe('INPUT_INVALID');
    expect((error as InputError).location.field).toBe('event.mode');
    expect(error.message).toBe(`the remote oracle ${FUNCTION} refused the request: remote analysis request: event.mode must be one of ...`);
  });

  it('keeps an unknown refusal code in the context and uses INPUT_INVALID', () => {
    const refusal = { version: 1, ok: false, error: { type: 'InputError', code: 'BRAND_NEW', message: 'newer function' } };

    const error = failure(() => parseResponse(refusal, FUNCTION)) as InputError;

    expect(error.code).toBe('INPUT_INVALID');
    expect(error.context).toMatchObject({ remoteCode: 'BRAND_NEW' });
  });

  it('labels a refusal built from a UsageError as such, naming its flag', () => {
    expect(buildRejection(new UsageError('bad', { location: { flag: '--remote' } })).error).toEqual({ type: 'UsageError', code: 'USAGE', message: 'bad', field: '--remote' });
  });
});

describe('remoteFailureMessage and remoteFailure', () => {
  it('carries a typed error across the Lambda boundary: class name, described message, code', () => {
    // Prepare
    const original = new DependencyError('NONCE_UNAVAILABLE', 'no redaction nonce version exists at SSM /guardian/prod/redaction_nonce_v*', {
      location: { field: 'nonce' },
    });

    // Act
    const thrown = remoteFailureMessage(original);
    const received = remoteFailure(FUNCTION, thrown.name, thrown.message);

    // Assess
    expect(thrown).toEqual({ name: 'DependencyError', message: 'no redaction nonce version exists at SSM /guardian/prod/redaction_nonce_v* (field nonce) [NONCE_UNAVAILABLE]' });
    expect(received).toBeInstanceOf(DependencyError);
    expect(received.code).toBe('NONCE_UNAVAILABLE');
    expect(received.message).toBe(
      `the remote oracle ${FUNCTION} failed, no decision was made: DependencyError: no redaction nonce version exists at SSM /guardian/prod/redaction_nonce_v* (field nonce)`,
    );
  });

  it('describes an unexpected error as internal', () => {
    expect(remoteFailureMessage(new TypeError('x is undefined'))).toEqual({ name: 'Error', message: 'internal error: x is undefined' });
    expect(remoteFailureMessage('boom')).toEqual({ name: 'Error', message: 'internal error: boom' });
  });

  it('keeps a message without a known code whole, with a generic code', () => {
    const received = remoteFailure(FUNCTION, 'Runtime.ExitError', 'RequestId: 1 Error: Runtime exited with error: signal: killed [OOM]');

    expect(received.code).toBe('STORE_FAILED');
    expect(received.message).toContain('Runtime.ExitError: RequestId: 1 Error: Runtime exited with error: signal: killed [OOM]');
  });

  it('says so when the function gave no message', () => {
    expect(remoteFailure(FUNCTION, undefined, undefined).message).toBe(`the remote oracle ${FUNCTION} failed, no decision was made: no message`);
  });
});
