/**
 * `phase-mirror nonce status|rotate|verify` on the embedded backend, run
 * in-process through `main` with captured output against copies of the CLI
 * fixtures (`planted` has findings with redacted evidence, `clean` has none).
 * Also the nonce behaviour of `analyze` and `validate` that depends on the
 * versioned files (legacy adoption, fail-closed load, L0 nonce_freshness).
 *
 * Every run records the nonce values present in the state folder before and
 * after it; afterEach asserts none of them ever appeared in stdout or stderr.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redactor, type DissonanceReport, type RedactedText } from '@phase-mirror/mirror-dissonance';
import { main } from '../src/main';
import { captureIo, copyFixture } from './helpers';

const HOUR_MS = 60 * 60 * 1000;
const NONCE_FILE = /^(redaction_nonce_v[0-9]+|nonce)$/;
const HEX64 = /^[0-9a-f]{64}$/;

/** Nonce values seen in any state folder during the current test, and everything the CLI printed. */
const seenValues = new Set<string>();
const seenOutputs: string[] = [];

const stateDir = (root: string): string => join(root, '.phase-mirror');
const versionFile = (root: string, version: number): string => join(stateDir(root), `redaction_nonce_v${version}`);
const versionValue = (root: string, version: number): string => readFileSync(versionFile(root, version), 'utf8').trim();

function versionFiles(root: string): string[] {
  if (!existsSync(stateDir(root))) return [];
  return readdirSync(stateDir(root))
    .filter((name) => /^redaction_nonce_v[0-9]+$/.test(name))
    .sort();
}

/** Records every well-formed nonce value currently stored under `root`. */
function harvestNonceValues(root: string): void {
  if (!existsSync(stateDir(root))) return;
  for (const name of readdirSync(stateDir(root))) {
    if (!NONCE_FILE.test(name)) continue;
    const content = readFileSync(join(stateDir(root), name), 'utf8').trim();
    if (HEX64.test(content)) seenValues.add(content);
  }
}

async function run(cwd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  harvestNonceValues(cwd);
  const io = captureIo(cwd);
  const code = await main(['node', 'phase-mirror', ...args], io);
  harvestNonceValues(cwd);
  const result = { code, stdout: io.stdout.join('\n'), stderr: io.stderr.join('\n') };
  seenOutputs.push(result.stdout, result.stderr);
  return result;
}

function readReport(root: string, file: string): DissonanceReport {
  return JSON.parse(readFileSync(join(root, file), 'utf8')) as DissonanceReport;
}

function snippets(report: DissonanceReport): RedactedText[] {
  return report.items.flatMap((item) => item.evidence.map((evidence) => evidence.snippet));
}

/** Moves a file's mtime (a nonce version's creation time) into the past. */
function backdate(file: string, agoMs: number): void {
  const when = new Date(Date.now() - agoMs);
  utimesSync(file, when, when);
}

function metricLines(root: string): { name: string; value: number; dimensions: Record<string, string> }[] {
  return readFileSync(join(stateDir(root), 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as { name: string; value: number; dimensions: Record<string, string> });
}

function writeConfig(root: string, yaml: string): void {
  writeFileSync(join(root, '.phase-mirror.yml'), yaml);
}

afterEach(() => {
  // Assess (every test): no stored nonce value ever reached the output.
  const outputs = seenOutputs.splice(0);
  const values = [...seenValues];
  seenValues.clear();
  for (const value of values) for (const output of outputs) expect(output).not.toContain(value);
});

describe('nonce status', () => {
  it('says there is no version yet before any run, exit 0', async () => {
    // Prepare
    const root = copyFixture('clean');

    // Act
    const result = await run(root, ['nonce', 'status']);

    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`redaction nonce at ${join(stateDir(root), 'redaction_nonce_v*')} (grace period 3600 s)`);
    expect(result.stdout).toContain('no version yet');
    expect(versionFiles(root)).toEqual([]);
  });

  it('shows version 1 signing after the first analyze', async () => {
    // Prepare
    const root = copyFixture('clean');
    expect((await run(root, ['analyze', '.'])).code).toBe(0);

    // Act
    const result = await run(root, ['nonce', 'status']);

    // Assess
    expect(result.code).toBe(0);
    const created = statSync(versionFile(root, 1)).mtime.toISOString();
    expect(result.stdout).toContain(`  v1  created ${created}  signing`);
    expect(result.stdout).not.toContain('v2');
  });

  it('shows the superseded version in grace until its successor + grace, and the new one signing', async () => {
    // Prepare
    const root = copyFixture('clean');
    await run(root, ['analyze', '.']);
    expect((await run(root, ['nonce', 'rotate'])).code).toBe(0);

    // Act
    const result = await run(root, ['nonce', 'status']);

    // Assess
    expect(result.code).toBe(0);
    const v1Created = statSync(versionFile(root, 1)).mtime;
    const v2Created = statSync(versionFile(root, 2)).mtime;
    const until = new Date(v2Created.getTime() + HOUR_MS).toISOString();
    expect(result.stdout).toContain(`  v1  created ${v1Created.toISOString()}  verifies until ${until}`);
    expect(result.stdout).toContain(`  v2  created ${v2Created.toISOString()}  signing`);
  });

  it('prints location, grace period and every version with its state as JSON', async () => {
    // Prepare
    const root = copyFixture('clean');
    const empty = await run(root, ['nonce', 'status', '-f', 'json']);
    await run(root, ['nonce', 'rotate']);
    await run(root, ['nonce', 'rotate']);

    // Act
    const result = await run(root, ['nonce', 'status', '-f', 'json']);

    // Assess
    expect(empty.code).toBe(0);
    expect(JSON.parse(empty.stdout)).toEqual({ location: join(stateDir(root), 'redaction_nonce_v*'), gracePeriodSeconds: 3600, versions: [] });
    expect(result.code).toBe(0);
    const v2Created = statSync(versionFile(root, 2)).mtime;
    expect(JSON.parse(result.stdout)).toEqual({
      location: join(stateDir(root), 'redaction_nonce_v*'),
      gracePeriodSeconds: 3600,
      versions: [
        {
          version: 1,
          name: versionFile(root, 1),
          createdAt: statSync(versionFile(root, 1)).mtime.toISOString(),
          state: 'in_grace',
          validUntil: new Date(v2Created.getTime() + HOUR_MS).toISOString(),
        },
        { version: 2, name: versionFile(root, 2), createdAt: v2Created.toISOString(), state: 'signing' },
      ],
    });
  });
});

describe('nonce rotate', () => {
  it('creates version 1 on an empty folder, then version 2 keeping version 1 valid for the grace period', async () => {
    // Prepare
    const root = copyFixture('clean');

    // Act
    const first = await run(root, ['nonce', 'rotate']);
    const v1 = versionValue(root, 1);
    const before = Date.now();
    const second = await run(root, ['nonce', 'rotate']);
    const after = Date.now();

    // Assess
    expect(first.code).toBe(0);
    expect(first.stdout).toBe(`version 1 created at ${join(stateDir(root), 'redaction_nonce_v*')} and now signs`);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain(`version 2 created at ${join(stateDir(root), 'redaction_nonce_v*')} and now signs`);
    const until = Date.parse(/version 1 verifies until (\S+)/.exec(second.stdout)![1]!);
    expect(until).toBeGreaterThanOrEqual(before + HOUR_MS);
    expect(until).toBeLessThanOrEqual(after + HOUR_MS);
    expect(versionFiles(root)).toEqual(['redaction_nonce_v1', 'redaction_nonce_v2']);
    // A version is never overwritten; the new one is a different owner-only value.
    expect(versionValue(root, 1)).toBe(v1);
    expect(versionValue(root, 2)).toMatch(HEX64);
    expect(versionValue(root, 2)).not.toBe(v1);
    expect(statSync(versionFile(root, 2)).mode & 0o777).toBe(0o600);
  });

  it('has no per-run grace flag: every verifier applies the configured period, so rotate cannot promise another', async () => {
    const root = copyFixture('clean');
    const result = await run(root, ['nonce', 'rotate', '--grace-seconds', '60']);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain("unknown option '--grace-seconds'");
    expect(versionFiles(root)).toEqual([]);
  });

  it('reads and rotates without opening the state database', async () => {
    // Prepare
    const root = copyFixture('clean');

    // Act
    const status = await run(root, ['nonce', 'status']);
    const rotated = await run(root, ['nonce', 'rotate']);

    // Assess
    expect(status.code).toBe(0);
    expect(rotated.code).toBe(0);
    expect(existsSync(join(stateDir(root), 'state.db'))).toBe(false);
    expect(versionFiles(root)).toEqual(['redaction_nonce_v1']);
  });

  it('honours nonce.gracePeriodSeconds of .phase-mirror.yml', async () => {
    // Prepare
    const root = copyFixture('clean');
    writeConfig(root, 'version: 1\nnonce:\n  gracePeriodSeconds: 120\n');
    await run(root, ['nonce', 'rotate']);

    // Act
    const before = Date.now();
    const rotated = await run(root, ['nonce', 'rotate', '-f', 'json']);
    const after = Date.now();
    const status = await run(root, ['nonce', 'status', '-f', 'json']);

    // Assess
    expect(rotated.code).toBe(0);
    const until = Date.parse((JSON.parse(rotated.stdout) as { previousValidUntil: string }).previousValidUntil);
    expect(until).toBeGreaterThanOrEqual(before + 120_000);
    expect(until).toBeLessThanOrEqual(after + 120_000);
    const parsed = JSON.parse(status.stdout) as { gracePeriodSeconds: number; versions: { version: number; validUntil?: string }[] };
    expect(parsed.gracePeriodSeconds).toBe(120);
    expect(parsed.versions[0]!.validUntil).toBe(new Date(statSync(versionFile(root, 2)).mtime.getTime() + 120_000).toISOString());
  });

  it('refuses an out-of-range nonce.gracePeriodSeconds with exit 3 naming the field', async () => {
    // Prepare
    const root = copyFixture('clean');
    writeConfig(root, 'version: 1\nnonce:\n  gracePeriodSeconds: 30\n');

    // Act
    const rotated = await run(root, ['nonce', 'rotate']);
    const status = await run(root, ['nonce', 'status']);

    // Assess
    expect(rotated.code).toBe(3);
    expect(rotated.stderr).toContain('nonce.gracePeriodSeconds');
    expect(rotated.stderr).toContain('.phase-mirror.yml');
    expect(status.code).toBe(3);
    expect(status.stderr).toContain('nonce.gracePeriodSeconds');
    expect(versionFiles(root)).toEqual([]);
  });

  it('appends NonceRotation success and NonceVersion to metrics.jsonl', async () => {
    // Prepare
    const root = copyFixture('clean');

    // Act
    await run(root, ['nonce', 'rotate']);
    await run(root, ['nonce', 'rotate']);

    // Assess
    const lines = metricLines(root);
    expect(lines.map(({ name, value, dimensions }) => ({ name, value, dimensions }))).toEqual([
      { name: 'NonceRotation', value: 1, dimensions: { outcome: 'success' } },
      { name: 'NonceVersion', value: 1, dimensions: {} },
      { name: 'NonceRotation', value: 1, dimensions: { outcome: 'success' } },
      { name: 'NonceVersion', value: 2, dimensions: {} },
    ]);
  });

  it('deletes a version whose successor is older than the grace period, keeping the one just superseded', async () => {
    // Prepare
    const root = copyFixture('clean');
    await run(root, ['nonce', 'rotate']);
    await run(root, ['nonce', 'rotate']);
    const v2 = versionValue(root, 2);
    backdate(versionFile(root, 2), 2 * HOUR_MS);
    const status = await run(root, ['nonce', 'status']);

    // Act
    const result = await run(root, ['nonce', 'rotate']);

    // Assess
    expect(status.stdout).toMatch(/ {2}v1 {2}created \S+ {2}expired \S+ \(deleted by the next rotation\)/);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('version 3 created');
    expect(result.stdout).toContain('version 2 verifies until');
    expect(result.stdout).toContain('deleted expired version 1');
    expect(versionFiles(root)).toEqual(['redaction_nonce_v2', 'redaction_nonce_v3']);
    expect(versionValue(root, 2)).toBe(v2);
  });

  it('deletes nothing while the superseded versions are still in grace', async () => {
    const root = copyFixture('clean');
    await run(root, ['nonce', 'rotate']);
    await run(root, ['nonce', 'rotate']);
    // v2 is 10 minutes old: v1 is still within its hour.
    backdate(versionFile(root, 2), 10 * 60 * 1000);
    const result = await run(root, ['nonce', 'rotate', '-f', 'json']);
    expect((JSON.parse(result.stdout) as { deleted: number[] }).deleted).toEqual([]);
    expect(versionFiles(root)).toEqual(['redaction_nonce_v1', 'redaction_nonce_v2', 'redaction_nonce_v3']);
  });
});

describe('nonce verify', () => {
  it('verifies every redacted snippet of a fresh analyze report', async () => {
    // Prepare
    const root = copyFixture('planted');
    await run(root, ['analyze', '.']);
    const count = snippets(readReport(root, 'dissonance_report.json')).length;
    expect(count).toBeGreaterThan(1);

    // Act
    const result = await run(root, ['nonce', 'verify', 'dissonance_report.json']);

    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`verified ${count} redacted snippets in dissonance_report.json`);
    expect(result.stderr).toBe('');
  });

  it('keeps verifying an old report after a rotation, and new reports are signed with version 2', async () => {
    // Prepare
    const root = copyFixture('planted');
    await run(root, ['analyze', '.', '-o', 'before.json']);
    expect((await run(root, ['nonce', 'rotate'])).code).toBe(0);

    // Act
    await run(root, ['analyze', '.', '-o', 'after.json']);
    const old = await run(root, ['nonce', 'verify', 'before.json']);
    const fresh = await run(root, ['nonce', 'verify', 'after.json']);

    // Assess
    expect(snippets(readReport(root, 'before.json')).every((s) => s.nonce_version === 1)).toBe(true);
    const afterSnippets = snippets(readReport(root, 'after.json'));
    expect(afterSnippets.length).toBeGreaterThan(0);
    expect(afterSnippets.every((s) => s.nonce_version === 2)).toBe(true);
    expect(old.code).toBe(0);
    expect(old.stdout).toContain('verified');
    expect(fresh.code).toBe(0);
    expect(fresh.stdout).toContain('verified');
  });

  it('fails with exit 1 listing each tampered snippet with its reason', async () => {
    // Prepare
    const root = copyFixture('planted');
    await run(root, ['analyze', '.']);
    const report = readReport(root, 'dissonance_report.json');
    const total = snippets(report).length;
    const [valueItem, brandItem, versionItem] = report.items;
    valueItem!.evidence[0]!.snippet.value += ' tampered';
    brandItem!.evidence[0]!.snippet.__brand = '0'.repeat(64);
    versionItem!.evidence[0]!.snippet.nonce_version = 7;
    writeFileSync(join(root, 'tampered.json'), JSON.stringify(report));

    // Act
    const result = await run(root, ['nonce', 'verify', 'tampered.json']);

    // Assess
    expect(result.code).toBe(1);
    const fails = result.stdout.split('\n').filter((line) => line.startsWith('FAIL'));
    const where = (item: typeof valueItem): string => `FAIL  ${item!.evidence[0]!.path}:${item!.evidence[0]!.line}  ${item!.rule_id} ${item!.id} evidence[0]: `;
    expect(fails).toEqual([
      expect.stringContaining(`${where(valueItem)}mac_mismatch: `),
      expect.stringContaining(`${where(brandItem)}brand_mismatch: `),
      expect.stringContaining(`${where(versionItem)}unknown_nonce_version: `),
    ]);
    expect(result.stdout).toContain(`3 of ${total} redacted snippets failed verification in tampered.json`);
  });

  it('prints the verification as JSON: report, ok, checked and each failure', async () => {
    // Prepare
    const root = copyFixture('planted');
    await run(root, ['analyze', '.']);
    const report = readReport(root, 'dissonance_report.json');
    const total = snippets(report).length;
    const item = report.items[0]!;
    item.evidence[0]!.snippet.value += '!';
    writeFileSync(join(root, 'tampered.json'), JSON.stringify(report));

    // Act
    const good = await run(root, ['nonce', 'verify', 'dissonance_report.json', '-f', 'json']);
    const bad = await run(root, ['nonce', 'verify', 'tampered.json', '-f', 'json']);

    // Assess
    expect(good.code).toBe(0);
    expect(JSON.parse(good.stdout)).toEqual({ report: 'dissonance_report.json', ok: true, checked: total, failures: [] });
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toEqual({
      report: 'tampered.json',
      ok: false,
      checked: total,
      failures: [
        {
          itemId: item.id,
          ruleId: item.rule_id,
          evidenceIndex: 0,
          path: item.evidence[0]!.path,
          line: item.evidence[0]!.line,
          nonceVersion: 1,
          reason: 'mac_mismatch',
          message: expect.stringContaining('MAC mismatch'),
        },
      ],
    });
  });

  it('rejects a report branded with a version past its grace period as nonce_version_expired', async () => {
    // Prepare
    const root = copyFixture('planted');
    await run(root, ['analyze', '.']);
    const total = snippets(readReport(root, 'dissonance_report.json')).length;
    await run(root, ['nonce', 'rotate']);
    backdate(versionFile(root, 2), 2 * HOUR_MS);

    // Act
    const result = await run(root, ['nonce', 'verify', 'dissonance_report.json']);

    // Assess
    expect(result.code).toBe(1);
    const fails = result.stdout.split('\n').filter((line) => line.startsWith('FAIL'));
    expect(fails).toHaveLength(total);
    for (const line of fails) expect(line).toMatch(/: nonce_version_expired: nonce version 1 left its grace period at \S+Z$/);
    expect(result.stdout).toContain(`${total} of ${total} redacted snippets failed verification`);
  });

  it('flags a snippet without an integer nonce_version as malformed', async () => {
    const root = copyFixture('planted');
    await run(root, ['analyze', '.']);
    const report = readReport(root, 'dissonance_report.json');
    (report.items[0]!.evidence[0]!.snippet as unknown as Record<string, unknown>).nonce_version = '1';
    writeFileSync(join(root, 'malformed.json'), JSON.stringify(report));
    const result = await run(root, ['nonce', 'verify', 'malformed.json', '-f', 'json']);
    expect(result.code).toBe(1);
    expect((JSON.parse(result.stdout) as { failures: { reason: string; nonceVersion: unknown }[] }).failures).toEqual([
      expect.objectContaining({ reason: 'malformed', nonceVersion: '1' }),
    ]);
  });

  it.each([
    ['a file that is not JSON', 'garbage.json', 'not json {', 'REPORT_INVALID'],
    ['JSON that is not a report', 'object.json', '{"schema_version":"2.0.0"}', 'items'],
    ['a report item without evidence', 'noevidence.json', '{"items":[{"id":"x"}]}', 'items[0].evidence'],
  ])('exits 3 on %s, naming the file', async (_what, file, content, detail) => {
    // Prepare
    const root = copyFixture('clean');
    writeFileSync(join(root, file), content);

    // Act
    const result = await run(root, ['nonce', 'verify', file]);

    // Assess
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(file);
    expect(result.stderr).toContain(detail);
    expect(result.stdout).toBe('');
  });

  it('exits 3 on a report file that does not exist, naming it', async () => {
    const root = copyFixture('clean');
    const result = await run(root, ['nonce', 'verify', 'missing-report.json']);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('missing-report.json');
    expect(result.stderr).toContain('FILE_UNREADABLE');
  });

  it('never prints a nonce value, in any command or failure', async () => {
    // Prepare
    const root = copyFixture('planted');
    const outputs: string[] = [];
    const collect = (result: { stdout: string; stderr: string }): void => {
      outputs.push(result.stdout, result.stderr);
    };
    collect(await run(root, ['analyze', '.', '-f', 'json', '-o', 'one.json']));
    collect(await run(root, ['nonce', 'rotate', '-f', 'json']));
    collect(await run(root, ['nonce', 'rotate']));
    collect(await run(root, ['nonce', 'status']));
    collect(await run(root, ['nonce', 'status', '-f', 'json']));
    const report = readReport(root, 'one.json');
    report.items[0]!.evidence[0]!.snippet.__mac = 'f'.repeat(64);
    writeFileSync(join(root, 'tampered.json'), JSON.stringify(report));
    collect(await run(root, ['nonce', 'verify', 'one.json']));
    collect(await run(root, ['nonce', 'verify', 'tampered.json']));
    collect(await run(root, ['nonce', 'verify', 'tampered.json', '-f', 'json']));
    collect(await run(root, ['analyze', '.', '-o', 'two.json']));
    const values = versionFiles(root).map((name) => readFileSync(join(stateDir(root), name), 'utf8').trim());
    // A corrupt newest version makes every loader fail: its error must not leak the older values either.
    writeFileSync(versionFile(root, 3), `${values[2]!.slice(0, 40)}\n`);
    collect(await run(root, ['nonce', 'verify', 'one.json']));
    collect(await run(root, ['analyze', '.', '-o', 'three.json']));

    // Assess
    expect(values).toHaveLength(3);
    for (const value of values) {
      expect(value).toMatch(HEX64);
      for (const output of outputs) expect(output).not.toContain(value);
      for (const file of ['one.json', 'two.json', 'tampered.json']) expect(readFileSync(join(root, file), 'utf8')).not.toContain(value);
    }
    expect(outputs.join('\n')).toContain('redaction_nonce_v3');
  });
});

describe('legacy single-file nonce', () => {
  const legacyValue = 'a1b2c3d4'.repeat(8);

  function writeLegacy(root: string): void {
    mkdirSync(stateDir(root), { recursive: true, mode: 0o700 });
    writeFileSync(join(stateDir(root), 'nonce'), `${legacyValue}\n`, { mode: 0o600 });
  }

  it('adopts <state>/nonce as version 1 with the same value on the first analyze', async () => {
    // Prepare
    const root = copyFixture('planted');
    writeLegacy(root);

    // Act
    const analyzed = await run(root, ['analyze', '.']);
    const verified = await run(root, ['nonce', 'verify', 'dissonance_report.json']);

    // Assess
    expect(analyzed.code).toBe(1); // planted blocks; the point is that it decided
    expect(existsSync(join(stateDir(root), 'nonce'))).toBe(false);
    expect(versionFiles(root)).toEqual(['redaction_nonce_v1']);
    expect(versionValue(root, 1)).toBe(legacyValue);
    // The report is branded with the legacy value under version 1.
    const legacyBrand = new Redactor({ version: 1, value: legacyValue, loadedAt: new Date() }).redact('x').__brand;
    const reportSnippets = snippets(readReport(root, 'dissonance_report.json'));
    expect(reportSnippets.length).toBeGreaterThan(0);
    expect(reportSnippets.every((s) => s.nonce_version === 1 && s.__brand === legacyBrand)).toBe(true);
    expect(verified.code).toBe(0);
  });

  it('keeps verifying a report branded with the legacy file before it was moved', async () => {
    // Prepare: a report branded with the legacy nonce before any versioned file exists.
    const root = copyFixture('clean');
    writeLegacy(root);
    const redactor = new Redactor({ version: 1, value: legacyValue, loadedAt: new Date() });
    const legacyReport = {
      items: [
        { id: 'i1', rule_id: 'MD-001', evidence: [{ path: '.github/workflows/ci.yml', line: 3, snippet: redactor.redact('uses: actions/checkout@v4'), hash: 'h' }] },
      ],
    };
    writeFileSync(join(root, 'legacy-report.json'), JSON.stringify(legacyReport));

    // Act
    const verified = await run(root, ['nonce', 'verify', 'legacy-report.json']);
    const status = await run(root, ['nonce', 'status']);

    // Assess
    expect(verified.code).toBe(0);
    expect(verified.stdout).toBe('verified 1 redacted snippet in legacy-report.json');
    expect(existsSync(join(stateDir(root), 'nonce'))).toBe(false);
    expect(versionValue(root, 1)).toBe(legacyValue);
    expect(status.stdout).toContain('  v1  created');
    expect(status.stdout).toContain('signing');
  });
});

describe('analyze and validate with versioned nonces', () => {
  it('fails closed with exit 2 and NONCE_UNAVAILABLE when the newest version is corrupt, writing no report', async () => {
    // Prepare
    const root = copyFixture('planted');
    await run(root, ['analyze', '.', '-o', 'first.json']);
    await run(root, ['nonce', 'rotate']);
    writeFileSync(versionFile(root, 2), 'not-a-nonce\n', { mode: 0o600 });

    // Act
    const result = await run(root, ['analyze', '.', '-o', 'second.json']);

    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('NONCE_UNAVAILABLE');
    expect(result.stderr).toContain('redaction_nonce_v2');
    expect(existsSync(join(root, 'second.json'))).toBe(false);
  });

  it('reports the L0 nonce_freshness check after analyze and after a rotation', async () => {
    // Prepare
    const root = copyFixture('clean');
    await run(root, ['analyze', '.']);

    // Act
    const first = await run(root, ['validate', '.']);
    await run(root, ['nonce', 'rotate']);
    const rotated = await run(root, ['validate', '.', '-f', 'json']);

    // Assess
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('ok    L0 nonce_freshness: holds');
    expect(first.stdout).not.toContain('no local nonce yet');
    expect(rotated.code).toBe(0);
    expect((JSON.parse(rotated.stdout) as { checks: unknown[] }).checks).toContainEqual({ name: 'L0 nonce_freshness', ok: true, detail: 'holds' });
  });
});
