import { createHash } from 'node:crypto';
import { DependencyError, PhaseMirrorError } from '../../src/errors';
import { NonceLoader, type NonceKeyring } from '../../src/nonce/loader';
import { verifyReportSnippets } from '../../src/nonce/verify-report';
import { Redactor } from '../../src/redaction/redactor';
import type { DissonanceReport, RedactedText } from '../../src/types';
import { ManualClock, MemoryNonceStore } from './memory-store';
import { evidenceOf, itemOf, reportOf } from './reports';

const T0 = Date.parse('2026-03-01T12:00:00.000Z');
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

function nonceValue(version: number): string {
  return createHash('sha256').update(`verify test v${version}`).digest('hex');
}

function redactorFor(version: number): Redactor {
  return new Redactor({ version, value: nonceValue(version), loadedAt: new Date(T0) });
}

/**
 * Store with v1 (created 2 h ago) and v2 (created 30 min ago): v2 signs, v1
 * verifies until T0 + 30 min. The report has two findings with three snippets
 * in all, branded under v1 and v2.
 */
function setup(): { clock: ManualClock; store: MemoryNonceStore; loader: NonceLoader; subject: DissonanceReport } {
  const clock = new ManualClock(T0);
  const store = new MemoryNonceStore(clock.now);
  store.put(1, nonceValue(1), T0 - 2 * HOUR);
  store.put(2, nonceValue(2), T0 - 30 * MINUTE);
  const loader = new NonceLoader({ store, clock: clock.now });
  const subject = reportOf([
    itemOf('MD-001', [
      evidenceOf('.github/workflows/ci.yml', 12, redactorFor(1).redact('token = "ghp_0123456789abcdefghijklmnopqrstuvwxyzAB"')),
      evidenceOf('.github/workflows/ci.yml', 30, redactorFor(2).redact('uses: actions/checkout@v4')),
    ]),
    itemOf('MD-004', [evidenceOf('CODEOWNERS', 3, redactorFor(2).redact('/src/auth @acme/security'))]),
  ]);
  return { clock, store, loader, subject };
}

function snippetAt(subject: DissonanceReport, itemIndex: number, evidenceIndex: number): RedactedText {
  return subject.items[itemIndex]!.evidence[evidenceIndex]!.snippet;
}

function replaceSnippet(subject: DissonanceReport, itemIndex: number, evidenceIndex: number, snippet: unknown): void {
  subject.items[itemIndex]!.evidence[evidenceIndex]!.snippet = snippet as RedactedText;
}

describe('verifyReportSnippets', () => {
  it('verifies snippets branded under every version still in grace', async () => {
    // Prepare
    const { loader, subject } = setup();

    // Act
    const result = await verifyReportSnippets(subject, loader);

    // Assess
    expect(result).toEqual({ checked: 3, failures: [] });
  });

  it('checks nothing and reads no store for a report without evidence', async () => {
    // Prepare
    const { store, loader } = setup();

    // Act
    const result = await verifyReportSnippets(reportOf([itemOf('MD-002', [])]), loader);

    // Assess
    expect(result).toEqual({ checked: 0, failures: [] });
    expect(store.calls).toEqual([]);
  });

  it('reports a tampered value as mac_mismatch, naming the finding and the evidence', async () => {
    // Prepare
    const { loader, subject } = setup();
    const original = snippetAt(subject, 0, 1);
    replaceSnippet(subject, 0, 1, { ...original, value: 'uses: evil/checkout@main' });

    // Act
    const result = await verifyReportSnippets(subject, loader);

    // Assess
    expect(result.checked).toBe(3);
    expect(result.failures).toEqual([
      {
        itemId: subject.items[0]!.id,
        ruleId: 'MD-001',
        evidenceIndex: 1,
        path: '.github/workflows/ci.yml',
        line: 30,
        nonceVersion: 2,
        reason: 'mac_mismatch',
        message: expect.stringContaining('MAC mismatch'),
      },
    ]);
  });

  it('reports a tampered brand as brand_mismatch', async () => {
    // Prepare: the snippet is re-branded with the brand of another nonce.
    const { loader, subject } = setup();
    const original = snippetAt(subject, 1, 0);
    replaceSnippet(subject, 1, 0, { ...original, __brand: redactorFor(7).redact('x').__brand });

    // Act
    const result = await verifyReportSnippets(subject, loader);

    // Assess
    expect(result.failures).toEqual([
      expect.objectContaining({ itemId: subject.items[1]!.id, ruleId: 'MD-004', evidenceIndex: 0, path: 'CODEOWNERS', line: 3, nonceVersion: 2, reason: 'brand_mismatch' }),
    ]);
  });

  it('reports a version the store does not hold as unknown_nonce_version after one refresh', async () => {
    // Prepare: a snippet claims version 9, which was never created.
    const { store, loader, subject } = setup();
    replaceSnippet(subject, 0, 0, redactorFor(9).redact('token = "abc"'));

    // Act
    const result = await verifyReportSnippets(subject, loader);

    // Assess
    expect(result.failures).toEqual([
      expect.objectContaining({ ruleId: 'MD-001', evidenceIndex: 0, line: 12, nonceVersion: 9, reason: 'unknown_nonce_version' }),
    ]);
    expect(store.count('listVersions')).toBe(1);
  });

  it('accepts a snippet branded with a version created after the loader cached its keys', async () => {
    // Prepare: the loader is warm with v1 and v2; a rotation writes v3 and a report is branded with it.
    const { clock, store, loader, subject } = setup();
    await loader.keyring();
    clock.set(T0 + 5 * MINUTE);
    store.put(3, nonceValue(3), T0 + 4 * MINUTE);
    replaceSnippet(subject, 1, 0, redactorFor(3).redact('/src/auth @acme/security'));

    // Act
    const result = await verifyReportSnippets(subject, loader);

    // Assess
    expect(result).toEqual({ checked: 3, failures: [] });
    expect(store.count('listVersions')).toBe(2);
  });

  it('reports a version past its grace period as nonce_version_expired with the time it ended', async () => {
    // Prepare: v3 was created 90 min ago, so v2 ended 30 min ago; v1 ended earlier still.
    const { store, loader, subject } = setup();
    store.put(1, nonceValue(1), T0 - 4 * HOUR);
    store.put(2, nonceValue(2), T0 - 3 * HOUR);
    store.put(3, nonceValue(3), T0 - 90 * MINUTE);
    replaceSnippet(subject, 1, 0, redactorFor(3).redact('/src/auth @acme/security'));

    // Act
    const result = await verifyReportSnippets(subject, loader);

    // Assess
    expect(result.checked).toBe(3);
    expect(result.failures).toEqual([
      {
        itemId: subject.items[0]!.id,
        ruleId: 'MD-001',
        evidenceIndex: 0,
        path: '.github/workflows/ci.yml',
        line: 12,
        nonceVersion: 1,
        reason: 'nonce_version_expired',
        message: `nonce version 1 left its grace period at ${new Date(T0 - 2 * HOUR).toISOString()}`,
      },
      {
        itemId: subject.items[0]!.id,
        ruleId: 'MD-001',
        evidenceIndex: 1,
        path: '.github/workflows/ci.yml',
        line: 30,
        nonceVersion: 2,
        reason: 'nonce_version_expired',
        message: `nonce version 2 left its grace period at ${new Date(T0 - 30 * MINUTE).toISOString()}`,
      },
    ]);
  });

  it('rejects a snippet whose version leaves its grace period while the keys are cached', async () => {
    // Prepare: v1 verifies until T0 + 30 min; the loader is warm from T0.
    const { clock, loader, subject } = setup();
    const atT0 = await verifyReportSnippets(subject, loader);

    // Act
    clock.set(T0 + 30 * MINUTE);
    const later = await verifyReportSnippets(subject, loader);

    // Assess
    expect(atT0.failures).toEqual([]);
    expect(later.failures).toEqual([expect.objectContaining({ nonceVersion: 1, reason: 'nonce_version_expired' })]);
    expect(later.failures[0]!.message).toContain(new Date(T0 + 30 * MINUTE).toISOString());
  });

  it('reports a snippet without an integer nonce_version as malformed', async () => {
    // Prepare
    const { store, loader, subject } = setup();
    const { nonce_version: _dropped, ...withoutVersion } = snippetAt(subject, 0, 0);
    replaceSnippet(subject, 0, 0, withoutVersion);
    replaceSnippet(subject, 0, 1, { ...snippetAt(subject, 0, 1), nonce_version: '2' });
    replaceSnippet(subject, 1, 0, undefined);

    // Act
    const result = await verifyReportSnippets(subject, loader);

    // Assess
    expect(result.checked).toBe(3);
    expect(result.failures).toEqual([
      {
        itemId: subject.items[0]!.id,
        ruleId: 'MD-001',
        evidenceIndex: 0,
        path: '.github/workflows/ci.yml',
        line: 12,
        nonceVersion: undefined,
        reason: 'malformed',
        message: 'snippet has no integer nonce_version',
      },
      expect.objectContaining({ evidenceIndex: 1, nonceVersion: '2', reason: 'malformed' }),
      expect.objectContaining({ itemId: subject.items[1]!.id, evidenceIndex: 0, nonceVersion: undefined, reason: 'malformed' }),
    ]);
    expect(store.calls).toEqual([]);
  });

  it('reports a snippet with a version but missing tags as malformed', async () => {
    // Prepare
    const { loader, subject } = setup();
    const { __mac: _dropped, ...withoutMac } = snippetAt(subject, 1, 0);
    replaceSnippet(subject, 1, 0, withoutMac);

    // Act
    const result = await verifyReportSnippets(subject, loader);

    // Assess
    expect(result.failures).toEqual([
      expect.objectContaining({ ruleId: 'MD-004', nonceVersion: 2, reason: 'malformed', message: expect.stringContaining('__mac is not a string') }),
    ]);
  });

  it('never puts a nonce value in a failure', async () => {
    // Prepare: one failure of each kind; v1 expired at T0 - 2 h, v2 verifies until T0 + 30 min.
    const { store, loader, subject } = setup();
    store.put(1, nonceValue(1), T0 - 4 * HOUR);
    store.put(2, nonceValue(2), T0 - 3 * HOUR);
    store.put(3, nonceValue(3), T0 - 30 * MINUTE);
    replaceSnippet(subject, 0, 1, { ...snippetAt(subject, 0, 1), value: 'tampered' });
    replaceSnippet(subject, 1, 0, { ...snippetAt(subject, 1, 0), __brand: '0'.repeat(64) });
    subject.items.push(itemOf('MD-005', [evidenceOf('a.ts', 1, redactorFor(8).redact('x')), evidenceOf('b.ts', 2, { value: 'x' } as RedactedText)]));

    // Act
    const result = await verifyReportSnippets(subject, loader);

    // Assess
    expect(result.failures.map((failure) => failure.reason).sort()).toEqual(
      ['brand_mismatch', 'mac_mismatch', 'malformed', 'nonce_version_expired', 'unknown_nonce_version'].sort(),
    );
    const text = JSON.stringify(result);
    for (let version = 1; version <= 9; version++) expect(text).not.toContain(nonceValue(version));
  });

  it('reports the degradation when it verified with a cache because the store was unreachable', async () => {
    // Prepare: the cache from T0 is due for a refresh and the store is down.
    const { clock, store, loader, subject } = setup();
    await loader.keyring();
    clock.set(T0 + 56 * MINUTE);
    store.failNext(Infinity);

    // Act
    const result = await verifyReportSnippets(subject, loader);

    // Assess: v1 ended at T0 + 30 min, so its snippet no longer verifies.
    expect(result.degraded).toEqual({ reason: 'ssm_unreachable', details: expect.stringContaining(store.location) });
    expect(result.failures).toEqual([expect.objectContaining({ nonceVersion: 1, reason: 'nonce_version_expired' })]);
  });

  it('fails closed when the store is unreachable and nothing is cached', async () => {
    // Prepare
    const { store, loader, subject } = setup();
    store.failNext(Infinity);

    // Act
    const verification = verifyReportSnippets(subject, loader);

    // Assess
    await expect(verification).rejects.toBeInstanceOf(DependencyError);
    await expect(verification).rejects.toMatchObject({ code: 'NONCE_UNAVAILABLE' });
  });

  it('fails closed instead of reporting a tampered snippet when a key itself is invalid', async () => {
    // Prepare: a loader whose accepted key is not 64 lowercase hex (a broken adapter).
    const { subject } = setup();
    const broken: NonceKeyring = {
      signing: { version: 2, value: 'not-hex', loadedAt: new Date(T0) },
      accepted: [
        { version: 2, value: 'not-hex', loadedAt: new Date(T0) },
        { version: 1, value: nonceValue(1), loadedAt: new Date(T0) },
      ],
      expired: [],
      loadedAt: new Date(T0),
    };
    const loader = { keyringFor: async (): Promise<NonceKeyring> => broken } as unknown as NonceLoader;

    // Act
    const verification = verifyReportSnippets(subject, loader);

    // Assess
    const error: unknown = await verification.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PhaseMirrorError);
    expect((error as PhaseMirrorError).code).toBe('NONCE_UNAVAILABLE');
  });
});
