/**
 * The nonce-rotation Lambda handler on the emulator's SSM and KMS, and the
 * bounded load harness of the nonce issue: 50 report verifications per second
 * for 30 s while two scheduled rotations happen mid-stream ⇒ zero failures.
 * Also: a degraded report when SSM goes away behind a warm cache, and every
 * log line written during the suite is checked for nonce values.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { DeleteParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import {
  BUILTIN_RULES,
  collectArtifacts,
  enabledRules,
  loadConfig,
  loadReportSchema,
  MemoryMetricsSink,
  NonceLoader,
  nonceParameterName,
  openStateDatabase,
  Redactor,
  resolveEventContext,
  runOracle,
  SsmNonceStore,
  verifyReportSnippets,
} from '@phase-mirror/mirror-dissonance';
import { rotateFromEnvironment } from '../../lambdas/nonce-rotation/handler';
import { emulatorEndpoint } from '../../packages/mirror-dissonance/test/integration/tables';
import { reportWithSnippets } from '../../packages/mirror-dissonance/test/nonce/reports';

const region = process.env.AWS_REGION || 'us-east-1';
const FIXTURE = join(__dirname, '../../packages/cli/test/fixtures/planted');

let ssm: SSMClient;
let keyId: string;
const stages: string[] = [];
/** Every nonce value any loader saw during the suite. */
const seenValues = new Set<string>();
/** Everything written to stdout, stderr or the console during the suite. */
let captured = '';
const restores: (() => void)[] = [];

function capture(): void {
  for (const stream of [process.stdout, process.stderr]) {
    const original = stream.write.bind(stream);
    stream.write = ((chunk: string | Uint8Array) => {
      captured += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      return true;
    }) as typeof stream.write;
    restores.push(() => (stream.write = original));
  }
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    const spy = jest.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      captured += `${args.map(String).join(' ')}\n`;
    });
    restores.push(() => spy.mockRestore());
  }
}

beforeAll(async () => {
  capture();
  ssm = new SSMClient({ endpoint: emulatorEndpoint(), region, maxAttempts: 4 });
  const kms = new KMSClient({ endpoint: emulatorEndpoint(), region, maxAttempts: 4 });
  keyId = (await kms.send(new CreateKeyCommand({ Description: 'phase-mirror nonce-rotation integration' }))).KeyMetadata!.KeyId!;
  kms.destroy();
});

afterAll(async () => {
  for (const restore of restores.reverse()) restore();
  for (const stage of stages) {
    for (let version = 1; version <= 10; version++) {
      await ssm.send(new DeleteParameterCommand({ Name: nonceParameterName(stage, version) })).catch(() => undefined);
    }
  }
  ssm.destroy();
});

function uniqueStage(): string {
  const stage = `rot-${randomBytes(5).toString('hex')}`;
  stages.push(stage);
  return stage;
}

function lambdaEnv(stage: string): NodeJS.ProcessEnv {
  return { PHASE_MIRROR_STAGE: stage, NONCE_KMS_KEY_ID: keyId, AWS_REGION: region };
}

/** A loader that remembers every value it hands out, for the log check. */
function watchedLoader(loader: NonceLoader): NonceLoader {
  const keyring = loader.keyring.bind(loader);
  const keyringFor = loader.keyringFor.bind(loader);
  const remember = <T extends { accepted: { value: string }[] }>(ring: T): T => {
    for (const key of ring.accepted) seenValues.add(key.value);
    return ring;
  };
  loader.keyring = async () => remember(await keyring());
  loader.keyringFor = async (version) => remember(await keyringFor(version));
  return loader;
}


const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('the nonce-rotation Lambda handler on the emulator', () => {
  it('creates v1 on its first run, then v2 keeping v1 in grace, and emits the rotation metric as EMF', async () => {
    // Prepare
    const stage = uniqueStage();
    const before = captured.length;

    // Act
    const first = await rotateFromEnvironment({ source: 'aws.scheduler' }, lambdaEnv(stage));
    const second = await rotateFromEnvironment({ source: 'aws.scheduler' }, lambdaEnv(stage));

    // Assess
    expect(first).toEqual({ outcome: 'created', version: 1, deleted: [] });
    expect(second).toEqual({ outcome: 'created', version: 2, previousVersion: 1, previousValidUntil: expect.any(String), deleted: [] });
    const store = new SsmNonceStore({ client: ssm, stage });
    expect((await store.listVersions()).map((v) => v.version)).toEqual([1, 2]);
    const emf = captured
      .slice(before)
      .split('\n')
      .filter((line) => line.includes('"_aws"'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(emf).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ NonceRotation: 1, outcome: 'success' }),
        expect.objectContaining({ NonceVersion: 2 }),
      ]),
    );
  });

  it('fails, counting a failed rotation, when the KMS key is not configured', async () => {
    const before = captured.length;
    const env = { ...lambdaEnv(uniqueStage()), NONCE_KMS_KEY_ID: '' };
    await expect(rotateFromEnvironment({}, env)).rejects.toMatchObject({ message: expect.stringContaining('NONCE_KMS_KEY_ID') });
    expect(captured.slice(before)).toMatch(/"NonceRotation":1[^\n]*"outcome":"failure"|"outcome":"failure"[^\n]*"NonceRotation":1/);
  });

  it('verifies 50 reports/s for 30 s across two scheduled rotations with zero failures', async () => {
    // Prepare: v1, a verifier with a warm cache, and a snippet branded before any rotation
    const stage = uniqueStage();
    await rotateFromEnvironment({}, lambdaEnv(stage));
    const store = new SsmNonceStore({ client: ssm, stage });
    const verifier = watchedLoader(new NonceLoader({ store }));
    const early = new Redactor((await watchedLoader(new NonceLoader({ store })).keyring()).signing).redact('api_key = AKIAABCDEFGHIJKLMNOP');
    const total = 1500; // 50/s for 30 s
    const intervalMs = 20;
    const rotations: Promise<unknown>[] = [];
    const signedWith = new Set<number>();
    let checked = 0;
    const failures: unknown[] = [];
    let signer = watchedLoader(new NonceLoader({ store }));
    const started = Date.now();

    // Act
    for (let tick = 0; tick < total; tick++) {
      // The scheduler fires mid-stream, concurrently with the verifications.
      if (tick === 500 || tick === 1000) rotations.push(rotateFromEnvironment({ source: 'aws.scheduler' }, lambdaEnv(stage)));
      // A new signing process (a fresh CLI run or a cold Lambda) every half second.
      if (tick % 25 === 0) signer = watchedLoader(new NonceLoader({ store }));
      const { signing } = await signer.keyring();
      signedWith.add(signing.version);
      const fresh = new Redactor(signing).redact(`password = hunter-${tick}`);
      const result = await verifyReportSnippets(reportWithSnippets([fresh, early]), verifier);
      checked += result.checked;
      failures.push(...result.failures);
      const wait = started + (tick + 1) * intervalMs - Date.now();
      if (wait > 0) await sleep(wait);
    }
    await Promise.all(rotations);

    // Assess
    expect(failures).toEqual([]);
    expect(checked).toBe(2 * total);
    expect([...signedWith].sort()).toEqual([1, 2, 3]);
    expect((await store.listVersions()).map((v) => v.version)).toEqual([1, 2, 3]);
  }, 120_000);

  it('produces a degraded report (ssm_unreachable) when SSM goes away behind a cache younger than 1 h', async () => {
    // Prepare
    const stage = uniqueStage();
    await rotateFromEnvironment({}, lambdaEnv(stage));
    const dead = new SSMClient({ endpoint: 'http://127.0.0.1:9', region, maxAttempts: 1 });
    let client: SSMClient = ssm;
    const switchable = { send: (command: never) => client.send(command) } as unknown as SSMClient;
    let now = Date.now();
    const loader = watchedLoader(new NonceLoader({ store: new SsmNonceStore({ client: switchable, stage }), clock: () => now }));
    await loader.keyring();
    client = dead;
    now += 56 * 60 * 1000;
    const stateDir = mkdtempSync(join(tmpdir(), 'pm-degraded-'));
    const state = openStateDatabase(stateDir);
    const config = loadConfig(FIXTURE);

    try {
      // Act
      const keyring = await loader.keyring();
      const schema = loadReportSchema();
      const { report } = await runOracle(
        {
          artifacts: await collectArtifacts(FIXTURE, { policy: config.policy }),
          event: resolveEventContext({ mode: 'pull_request', repository: 'acme/planted' }, {}, FIXTURE),
          settings: config.settings,
        },
        {
          fpStore: state.fpStore,
          blockCounter: state.blockCounter,
          fprHistory: state.fprHistory,
          nonce: keyring.signing,
          ...(keyring.degraded !== undefined ? { hostDegradations: [keyring.degraded] } : {}),
          rules: enabledRules(config.settings, BUILTIN_RULES),
          schema: { actualSha256: schema.sha256, expectedPrefix: schema.sha256.slice(0, 16) },
          metrics: new MemoryMetricsSink(),
          toolVersion: 'test',
          clock: () => new Date(now),
        },
      );

      // Assess
      expect(report.meta.degraded).toEqual({ reason: 'ssm_unreachable', timestamp: new Date(now).toISOString(), details: expect.stringContaining(`/guardian/${stage}/`) });
      expect(report.machine_decision.degraded).toBe(true);
      expect(report.items.length).toBeGreaterThan(0);
      expect(report.items.every((item) => item.evidence.every((evidence) => evidence.snippet.nonce_version === 1))).toBe(true);
    } finally {
      state.close();
      rmSync(stateDir, { recursive: true, force: true });
      dead.destroy();
    }
  });

  it('never wrote a nonce value to any log, error or console line during the suite', () => {
    expect(seenValues.size).toBeGreaterThanOrEqual(4);
    expect(captured.length).toBeGreaterThan(0);
    for (const value of seenValues) expect(captured.includes(value)).toBe(false);
  });
});
