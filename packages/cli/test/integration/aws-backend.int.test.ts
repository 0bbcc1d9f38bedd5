import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { DeleteParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { nonceParameterName, validateReport, type DissonanceReport } from '@phase-mirror/mirror-dissonance';
import {
  createTables,
  deleteTables,
  emulatorDynamoDbClient,
  emulatorEndpoint,
  uniqueTableNames,
} from '../../../mirror-dissonance/test/integration/tables';
import { main } from '../../src/main';
import { captureIo, copyFixture } from '../helpers';

async function run(cwd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = captureIo(cwd, { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' });
  const code = await main(['node', 'phase-mirror', ...args], io);
  return { code, stdout: io.stdout.join(''), stderr: io.stderr.join('') };
}

function report(root: string, file = 'dissonance_report.json'): DissonanceReport {
  const value: unknown = JSON.parse(readFileSync(join(root, file), 'utf8'));
  validateReport(value);
  return value;
}

/** This suite's SSM stage: its nonce lives under /guardian/<stage>/. */
const stage = `cli-${randomBytes(5).toString('hex')}`;
let kmsKeyId = '';

function storageYaml(endpoint: string, names: Record<string, string>): string {
  return [
    'storage:',
    '  backend: aws',
    '  region: us-east-1',
    `  endpoint: ${endpoint}`,
    `  stage: ${stage}`,
    `  kmsKeyId: ${kmsKeyId}`,
    '  tables:',
    ...Object.entries(names).map(([id, name]) => `    ${id}: ${name}`),
    '',
  ].join('\n');
}

/** A loopback port nothing listens on: the emulator "stopped". */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const client = emulatorDynamoDbClient();
const names = uniqueTableNames('cli');

beforeAll(async () => {
  await createTables(client, names);
  const kms = new KMSClient({ endpoint: emulatorEndpoint(), region: 'us-east-1' });
  kmsKeyId = (await kms.send(new CreateKeyCommand({ Description: 'phase-mirror cli integration' }))).KeyMetadata!.KeyId!;
  kms.destroy();
  // In AWS mode the nonce is never created implicitly: the rotation (here through the CLI) writes v1.
  const root = copyFixture('clean');
  writeFileSync(join(root, '.phase-mirror.yml'), `version: 1\n${storageYaml(emulatorEndpoint(), names)}`);
  const rotated = await run(root, ['nonce', 'rotate', '.']);
  if (rotated.code !== 0) throw new Error(`nonce rotate failed: ${rotated.stderr}`);
});
afterAll(async () => {
  await deleteTables(client, names);
  const ssm = new SSMClient({ endpoint: emulatorEndpoint(), region: 'us-east-1' });
  await ssm.send(new DeleteParameterCommand({ Name: nonceParameterName(stage, 1) })).catch(() => undefined);
  ssm.destroy();
});

describe('the CLI on the aws backend (DynamoDB on the emulator)', () => {
  it('blocks, records events in DynamoDB, suppresses a marked finding and reports FPR statistics', async () => {
    // Prepare
    const root = copyFixture('planted');
    writeFileSync(join(root, '.phase-mirror.yml'), `${readFileSync(join(root, '.phase-mirror.yml'), 'utf8')}${storageYaml(emulatorEndpoint(), names)}`);
    // Act
    const first = await run(root, ['analyze', '.', '-o', 'first.json']);
    const listed = JSON.parse((await run(root, ['fp', 'list', '.', '--rule', 'MD-001', '-f', 'json'])).stdout) as { eventId: string; findingId: string }[];
    const mark = await run(root, ['fp', 'mark', listed[0]!.eventId, '.', '--reviewer', 'alice', '--reason', 'reported by another app']);
    const second = await run(root, ['analyze', '.', '-o', 'second.json']);
    const stats = JSON.parse((await run(root, ['fp', 'stats', '.', '-f', 'json'])).stdout) as { ruleId: string; reviewed: number; falsePositives: number }[];
    // Assess
    expect(first.code).toBe(1);
    expect(mark.code).toBe(0);
    expect(second.code).toBe(1);
    expect(report(root, 'second.json').meta.suppressions?.map((s) => s.finding_id)).toEqual([listed[0]!.findingId]);
    expect(report(root, 'second.json').items.map((i) => i.id)).not.toContain(listed[0]!.findingId);
    expect(stats.find((s) => s.ruleId === 'MD-001')).toMatchObject({ reviewed: 1, falsePositives: 1 });
    // Nothing was written to the embedded store.
    expect(() => readFileSync(join(root, '.phase-mirror', 'state.db'))).toThrow();
  });

  it('grants, checks and revokes consent in DynamoDB', async () => {
    const root = copyFixture('clean');
    writeFileSync(join(root, '.phase-mirror.yml'), `version: 1\n${storageYaml(emulatorEndpoint(), names)}`);
    const scope = ['--org', 'acme', '--resource', 'rule_calibration'];
    expect((await run(root, ['consent', 'check', '.', ...scope])).code).toBe(1);
    expect((await run(root, ['consent', 'grant', '.', ...scope, '--by', 'alice', '--days', '30'])).code).toBe(0);
    const granted = await run(root, ['consent', 'check', '.', ...scope]);
    expect(granted.code).toBe(0);
    expect(granted.stdout.trim()).toBe('granted');
    expect((await run(root, ['consent', 'revoke', '.', ...scope, '--by', 'bob'])).code).toBe(0);
    expect((await run(root, ['consent', 'check', '.', ...scope])).stdout.trim()).toBe('revoked');
  });

  it('degrades when the tables are missing: no suppression, the breaker not applied, the block stands', async () => {
    // Prepare: the same emulator (SSM answers) but state tables that do not exist; the ledger's exist
    // (a ledger that cannot be appended fails the run closed: see the next test).
    const root = copyFixture('planted');
    const missing = { ...uniqueTableNames('missing'), ledger: names.ledger, ledgerEpochs: names.ledgerEpochs };
    writeFileSync(join(root, '.phase-mirror.yml'), `${readFileSync(join(root, '.phase-mirror.yml'), 'utf8')}${storageYaml(emulatorEndpoint(), missing)}`);
    // Act
    const analyzed = await run(root, ['analyze', '.']);
    const consent = await run(root, ['consent', 'check', '.', '--org', 'acme', '--resource', 'fp_metrics']);
    // Assess: FP store down ⇒ degraded, no suppression; counter down ⇒ the block stands and the report says so.
    expect(analyzed.code).toBe(1);
    const degraded = report(root);
    expect(degraded.machine_decision).toMatchObject({ outcome: 'block', degraded: true });
    expect(degraded.meta.degraded?.reason).toBe('fp_store_unavailable');
    expect(degraded.meta.notes?.some((n) => n.includes('circuit breaker not applied'))).toBe(true);
    // Consent errors deny.
    expect(consent.code).toBe(1);
    expect(consent.stdout.trim()).toBe('error');
  }, 120_000);

  it('does not decide when the ledger table is missing: exit 2 naming the table, no report', async () => {
    const root = copyFixture('planted');
    const noLedger = { ...names, ledger: uniqueTableNames('missing').ledger };
    writeFileSync(join(root, '.phase-mirror.yml'), `${readFileSync(join(root, '.phase-mirror.yml'), 'utf8')}${storageYaml(emulatorEndpoint(), noLedger)}`);
    const analyzed = await run(root, ['analyze', '.']);
    expect(analyzed.code).toBe(2);
    expect(analyzed.stderr).toContain(noLedger.ledger);
    expect(() => readFileSync(join(root, 'dissonance_report.json'))).toThrow();
  }, 120_000);

  it('does not decide when the emulator is unreachable: no nonce, exit 2 naming the parameter path, no report', async () => {
    // Prepare: the same configuration pointing at an endpoint that no longer answers.
    const root = copyFixture('planted');
    const down = `http://127.0.0.1:${await closedPort()}`;
    writeFileSync(join(root, '.phase-mirror.yml'), `${readFileSync(join(root, '.phase-mirror.yml'), 'utf8')}${storageYaml(down, names)}`);
    // Act
    const analyzed = await run(root, ['analyze', '.']);
    // Assess
    expect(analyzed.code).toBe(2);
    expect(analyzed.stderr).toContain(`NONCE_UNAVAILABLE`);
    expect(analyzed.stderr).toContain(`SSM /guardian/${stage}/redaction_nonce_v*`);
    expect(analyzed.stderr).toContain('unreachable');
    expect(() => readFileSync(join(root, 'dissonance_report.json'))).toThrow();
  }, 120_000);

  it('refuses to analyze a stage with no nonce version yet, saying how to create one', async () => {
    const root = copyFixture('clean');
    writeFileSync(join(root, '.phase-mirror.yml'), `version: 1\n${storageYaml(emulatorEndpoint(), names).replace(`stage: ${stage}`, 'stage: never-rotated')}`);
    const analyzed = await run(root, ['analyze', '.']);
    expect(analyzed.code).toBe(2);
    expect(analyzed.stderr).toContain('no redaction nonce version exists at SSM /guardian/never-rotated/redaction_nonce_v*');
    expect(analyzed.stderr).toContain('phase-mirror nonce rotate');
  });

  it('verifies a report it wrote, before and after a rotation, through SSM', async () => {
    // Prepare
    const root = copyFixture('planted');
    writeFileSync(join(root, '.phase-mirror.yml'), `${readFileSync(join(root, '.phase-mirror.yml'), 'utf8')}${storageYaml(emulatorEndpoint(), names)}`);
    await run(root, ['analyze', '.', '-o', 'before.json']);
    // Act
    const verifiedBefore = await run(root, ['nonce', 'verify', 'before.json', '.']);
    const rotated = await run(root, ['nonce', 'rotate', '.', '-f', 'json']);
    await run(root, ['analyze', '.', '-o', 'after.json']);
    const verifiedOld = await run(root, ['nonce', 'verify', 'before.json', '.']);
    const verifiedNew = await run(root, ['nonce', 'verify', 'after.json', '.']);
    const status = JSON.parse((await run(root, ['nonce', 'status', '.', '-f', 'json'])).stdout) as { versions: { version: number; state: string }[] };
    // Assess
    expect(verifiedBefore.code).toBe(0);
    expect(JSON.parse(rotated.stdout)).toMatchObject({ outcome: 'created', version: 2, previousVersion: 1 });
    expect(verifiedOld.code).toBe(0);
    expect(verifiedNew.code).toBe(0);
    expect(report(root, 'before.json').items[0]!.evidence[0]!.snippet.nonce_version).toBe(1);
    expect(report(root, 'after.json').items[0]!.evidence[0]!.snippet.nonce_version).toBe(2);
    expect(status.versions.map((v) => [v.version, v.state])).toEqual([
      [1, 'in_grace'],
      [2, 'signing'],
    ]);
    const ssm = new SSMClient({ endpoint: emulatorEndpoint(), region: 'us-east-1' });
    await ssm.send(new DeleteParameterCommand({ Name: nonceParameterName(stage, 2) }));
    ssm.destroy();
  });
});
