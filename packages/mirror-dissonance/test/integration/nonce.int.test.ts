/**
 * The nonce lifecycle on the emulator's SSM and KMS: rotation writes
 * SecureStrings under the project key and never overwrites, concurrent
 * rotations agree, the grace period is honoured and then enforced, and the
 * loader's failure contract holds against a real unreachable endpoint
 * (degraded with a fresh cache, nonce_cache_stale with an old one).
 */
import { randomBytes } from 'node:crypto';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { DeleteParameterCommand, DescribeParametersCommand, GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { MemoryMetricsSink } from '../../src/metrics/metrics';
import { NonceLoader } from '../../src/nonce/loader';
import { rotateNonce } from '../../src/nonce/rotation';
import { nonceParameterName, SsmNonceStore } from '../../src/nonce/ssm-store';
import { verifyReportSnippets } from '../../src/nonce/verify-report';
import { Redactor } from '../../src/redaction/redactor';
import { reportWithSnippets } from '../nonce/reports';
import { emulatorEndpoint } from './tables';

const region = process.env.AWS_REGION || 'us-east-1';
let ssm: SSMClient;
let kms: KMSClient;
let keyId: string;
const stages: string[] = [];

beforeAll(async () => {
  ssm = new SSMClient({ endpoint: emulatorEndpoint(), region, maxAttempts: 4 });
  kms = new KMSClient({ endpoint: emulatorEndpoint(), region, maxAttempts: 4 });
  keyId = (await kms.send(new CreateKeyCommand({ Description: 'phase-mirror nonce integration' }))).KeyMetadata!.KeyId!;
});

afterAll(async () => {
  // Leave nothing behind in an emulator that outlives the run.
  for (const stage of stages) {
    for (let version = 1; version <= 20; version++) {
      await ssm.send(new DeleteParameterCommand({ Name: nonceParameterName(stage, version) })).catch(() => undefined);
    }
  }
  ssm.destroy();
  kms.destroy();
});

function uniqueStage(): string {
  const stage = `nonce-${randomBytes(5).toString('hex')}`;
  stages.push(stage);
  return stage;
}

function storeFor(stage: string, client: SSMClient = ssm): SsmNonceStore {
  return new SsmNonceStore({ client, stage, kmsKeyId: keyId });
}

/** An SSM client on a local port nothing listens on: every call fails with ECONNREFUSED, as when SSM is unreachable. */
function unreachableSsm(): SSMClient {
  return new SSMClient({ endpoint: 'http://127.0.0.1:9', region, maxAttempts: 1 });
}

/** A store whose client can be swapped mid-test, like a network that goes away. */
function switchableStore(stage: string): { store: SsmNonceStore; cutOff: () => void } {
  const dead = unreachableSsm();
  let current: SSMClient = ssm;
  const client = { send: (command: never) => current.send(command) } as unknown as SSMClient;
  return { store: storeFor(stage, client), cutOff: () => (current = dead) };
}


describe('nonce rotation on the emulator (SSM + KMS)', () => {
  it('creates v1 on the first run: a SecureString under the project KMS key, 64 lowercase hex', async () => {
    // Prepare
    const stage = uniqueStage();
    const metrics = new MemoryMetricsSink();

    // Act
    const result = await rotateNonce(storeFor(stage), { metrics });

    // Assess
    expect(result).toEqual({ outcome: 'created', version: 1, deleted: [] });
    const name = nonceParameterName(stage, 1);
    const described = await ssm.send(new DescribeParametersCommand({ ParameterFilters: [{ Key: 'Name', Values: [name] }] }));
    expect(described.Parameters).toEqual([expect.objectContaining({ Name: name, Type: 'SecureString', KeyId: keyId })]);
    const value = (await ssm.send(new GetParameterCommand({ Name: name, WithDecryption: true }))).Parameter?.Value;
    expect(value).toMatch(/^[0-9a-f]{64}$/);
    expect(metrics.entries).toEqual([
      { name: 'NonceRotation', value: 1, dimensions: { outcome: 'success' } },
      { name: 'NonceVersion', value: 1, dimensions: {} },
    ]);
  });

  it('creates v(N+1) without touching vN, which keeps verifying for the grace period', async () => {
    // Prepare
    const stage = uniqueStage();
    const store = storeFor(stage);
    await rotateNonce(store);
    const v1 = (await ssm.send(new GetParameterCommand({ Name: nonceParameterName(stage, 1), WithDecryption: true }))).Parameter?.Value;
    const before = new NonceLoader({ store });
    const report = reportWithSnippets([new Redactor((await before.keyring()).signing).redact('token = ghp_abcdefghijklmnopqrstuvwxyz0123456789')]);

    // Act
    const result = await rotateNonce(store);

    // Assess
    expect(result).toMatchObject({ outcome: 'created', version: 2, previousVersion: 1, deleted: [] });
    expect((await ssm.send(new GetParameterCommand({ Name: nonceParameterName(stage, 1), WithDecryption: true }))).Parameter?.Value).toBe(v1);
    const after = await new NonceLoader({ store }).keyring();
    expect(after.signing.version).toBe(2);
    expect(after.accepted.map((key) => key.version)).toEqual([2, 1]);
    expect(await verifyReportSnippets(report, new NonceLoader({ store }))).toEqual({ checked: 1, failures: [] });
  });

  it('agrees under 8 concurrent rotations: one creates the version, the others lost the race, nothing is overwritten', async () => {
    // Prepare: v1; then 8 rotations that all list the versions before any of them writes (a barrier after the
    // real GetParametersByPath), so every one of them races for v2 on SSM itself.
    const stage = uniqueStage();
    const store = storeFor(stage);
    await rotateNonce(store);
    const racers = 8;
    let listed = 0;
    let release: () => void = () => undefined;
    const everyoneListed = new Promise<void>((resolve) => (release = resolve));
    const racing: SsmNonceStore = Object.assign(Object.create(store) as SsmNonceStore, {
      listVersions: async () => {
        const versions = await store.listVersions();
        if (++listed === racers) release();
        await everyoneListed;
        return versions;
      },
    });

    // Act
    const results = await Promise.all(Array.from({ length: racers }, () => rotateNonce(racing)));

    // Assess
    expect(results.map((r) => r.version)).toEqual(Array(8).fill(2));
    expect(results.filter((r) => r.outcome === 'created')).toHaveLength(1);
    expect(results.filter((r) => r.outcome === 'lost_race')).toHaveLength(7);
    const parameter = (await ssm.send(new GetParameterCommand({ Name: nonceParameterName(stage, 2) }))).Parameter;
    expect(parameter?.Version).toBe(1); // written once: an overwrite would have made it 2
    expect((await store.listVersions()).map((v) => v.version)).toEqual([1, 2]);
  });

  it('rejects the old version once its grace period is over, and the next rotation deletes it', async () => {
    // Prepare: a short grace so the test can outlive it (the emulator stamps real time)
    const grace = 1500;
    const stage = uniqueStage();
    const store = storeFor(stage);
    await rotateNonce(store, { gracePeriodMs: grace });
    const report = reportWithSnippets([new Redactor((await new NonceLoader({ store, gracePeriodMs: grace }).keyring()).signing).redact('password = hunter2')]);
    await rotateNonce(store, { gracePeriodMs: grace });
    const verifier = new NonceLoader({ store, gracePeriodMs: grace });
    expect((await verifyReportSnippets(report, verifier)).failures).toEqual([]);

    // Act
    await new Promise((resolve) => setTimeout(resolve, grace + 300));
    const late = await verifyReportSnippets(report, verifier);
    const third = await rotateNonce(store, { gracePeriodMs: grace });

    // Assess
    expect(late.failures).toEqual([expect.objectContaining({ reason: 'nonce_version_expired', nonceVersion: 1 })]);
    expect(third).toMatchObject({ version: 3, deleted: [1] });
    expect((await store.listVersions()).map((v) => v.version)).toEqual([2, 3]);
    const fresh = await verifyReportSnippets(report, new NonceLoader({ store, gracePeriodMs: grace }));
    // Deleted: a verifier that never saw v1 does not know it at all.
    expect(fresh.failures).toEqual([expect.objectContaining({ reason: 'unknown_nonce_version' })]);
  });

  it('refuses a plain String parameter posing as a version, naming it and never echoing its value', async () => {
    // Prepare
    const stage = uniqueStage();
    const value = randomBytes(32).toString('hex');
    await ssm.send(new PutParameterCommand({ Name: nonceParameterName(stage, 1), Value: value, Type: 'String' }));

    // Act
    const attempt = new NonceLoader({ store: storeFor(stage) }).keyring();

    // Assess
    await expect(attempt).rejects.toMatchObject({ code: 'NONCE_INVALID', message: expect.stringContaining(nonceParameterName(stage, 1)) });
    await attempt.catch((error: Error) => expect(error.message).not.toContain(value));
  });
});

describe('the nonce loader when SSM becomes unreachable (a real refused connection)', () => {
  it('rides out the outage on a cache younger than 1 h, reporting ssm_unreachable', async () => {
    // Prepare
    const stage = uniqueStage();
    const { store, cutOff } = switchableStore(stage);
    await rotateNonce(store);
    let now = Date.now();
    const loader = new NonceLoader({ store, clock: () => now });
    const loaded = await loader.keyring();

    // Act: past the refresh point (55 min), before expiry (60 min)
    cutOff();
    now += 56 * 60 * 1000;
    const ring = await loader.keyring();

    // Assess
    expect(ring.signing).toEqual(loaded.signing);
    expect(ring.degraded).toEqual({ reason: 'ssm_unreachable', details: expect.stringContaining(`/guardian/${stage}/redaction_nonce_v*`) });
    expect(ring.degraded?.details).not.toContain(loaded.signing.value);
  });

  it('refuses a cache of 1 h or more with NONCE_CACHE_STALE naming the parameter path and the cause', async () => {
    // Prepare
    const stage = uniqueStage();
    const { store, cutOff } = switchableStore(stage);
    await rotateNonce(store);
    let now = Date.now();
    const loader = new NonceLoader({ store, clock: () => now });
    const { signing } = await loader.keyring();

    // Act
    cutOff();
    now += 60 * 60 * 1000;
    const error = (await loader.keyring().catch((caught: unknown) => caught)) as { code?: string; message: string };

    // Assess
    expect(error.code).toBe('NONCE_CACHE_STALE');
    expect(error.message).toMatch(new RegExp(`^nonce_cache_stale: .*SSM /guardian/${stage}/redaction_nonce_v\\*.*unreachable`));
    expect(error.message).not.toContain(signing.value);
  });

  it('fails with NONCE_UNAVAILABLE naming the path when nothing was ever cached', async () => {
    const stage = uniqueStage();
    const attempt = new NonceLoader({ store: storeFor(stage, unreachableSsm()) }).keyring();
    await expect(attempt).rejects.toMatchObject({
      code: 'NONCE_UNAVAILABLE',
      message: expect.stringContaining(`cannot load the redaction nonce from SSM /guardian/${stage}/redaction_nonce_v*`),
    });
  });
});
