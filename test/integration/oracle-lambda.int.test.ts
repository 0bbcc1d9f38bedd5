/**
 * The oracle Lambda handler on the emulator (DynamoDB, SSM, KMS): a request
 * built by the CLI's own collection code is decided on tables created from
 * the shared definitions, with a nonce version the rotation function created
 * ⇒ a schema-valid report whose snippets verify with the SSM nonce, and its
 * block in the DynamoDB ledger. End to end, `phase-mirror analyze --remote`
 * reaches the same handler through a loopback Lambda endpoint. No log line
 * carries the nonce or the planted token.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { DeleteParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import {
  DynamoLedgerStore,
  NonceLoader,
  nonceParameterName,
  serializeRequest,
  SsmNonceStore,
  validateReport,
  verifyReportSnippets,
  type DissonanceReport,
  type RemoteAnalyzeResponse,
} from '@phase-mirror/mirror-dissonance';
import { rotateFromEnvironment as rotate } from '../../lambdas/nonce-rotation/handler';
import { createOracleHandler, type OracleHandler } from '../../lambdas/oracle/handler';
import { collectForAnalysis, type AnalyzeOptions } from '../../packages/cli/src/commands/analyze';
import { main } from '../../packages/cli/src/main';
import { captureIo, copyFixture } from '../../packages/cli/test/helpers';
import { emulatorEndpoint, useSuiteTables } from '../../packages/mirror-dissonance/test/integration/tables';

const region = process.env.AWS_REGION || 'us-east-1';
const TOKEN = 'ghp_Abcdefghijklmnopqrstuvwxyz0123456789';
const REPOSITORY = `acme/oracle-${randomBytes(3).toString('hex')}`;
const tables = useSuiteTables('oracle');
const stage = `orc-${randomBytes(5).toString('hex')}`;

let ssm: SSMClient;
let captured = '';
const restores: (() => void)[] = [];

function oracleEnv(overrides: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    AWS_REGION: region,
    AWS_ENDPOINT_URL: emulatorEndpoint(),
    PHASE_MIRROR_STAGE: stage,
    FP_EVENTS_TABLE: tables.names.fpEvents,
    BLOCK_COUNTER_TABLE: tables.names.blockCounter,
    FPR_HISTORY_TABLE: tables.names.fprHistory,
    LEDGER_TABLE: tables.names.ledger,
    LEDGER_EPOCHS_TABLE: tables.names.ledgerEpochs,
    ...overrides,
  };
}

/** The request `analyze --remote` sends for the planted repository, built by the CLI's collection code. */
async function plantedRequest(): Promise<Record<string, unknown>> {
  const root = copyFixture('planted');
  const options: AnalyzeOptions = { repository: REPOSITORY, sha: 'b'.repeat(40), output: 'dissonance_report.json', format: 'json' };
  const { workspace, event, artifacts } = await collectForAnalysis('.', options, captureIo(root, {}));
  return JSON.parse(serializeRequest({ artifacts, event, settings: workspace.config.settings })) as Record<string, unknown>;
}

function ledger(): DynamoLedgerStore {
  return new DynamoLedgerStore({ client: tables.documents, tableName: tables.names.ledger, epochsTableName: tables.names.ledgerEpochs });
}

/** A loopback Lambda endpoint whose one function is the oracle handler. */
async function lambdaEndpoint(functionName: string, handle: OracleHandler): Promise<{ url: string; server: Server }> {
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (request.url !== `/2015-03-31/functions/${functionName}/invocations`) {
        response.writeHead(404, { 'x-amzn-errortype': 'ResourceNotFoundException', 'content-type': 'application/json' });
        response.end(JSON.stringify({ message: 'Function not found' }));
        return;
      }
      handle(JSON.parse(Buffer.concat(chunks).toString('utf8')), oracleEnv()).then(
        (answer) => {
          response.writeHead(200, { 'content-type': 'application/json' });
          response.end(JSON.stringify(answer));
        },
        (error: Error) => {
          // What the Lambda runtime answers for a thrown error.
          response.writeHead(200, { 'content-type': 'application/json', 'x-amz-function-error': 'Unhandled' });
          response.end(JSON.stringify({ errorType: error.name, errorMessage: error.message, trace: [] }));
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server };
}

beforeAll(async () => {
  for (const stream of [process.stdout, process.stderr]) {
    const original = stream.write.bind(stream);
    stream.write = ((chunk: string | Uint8Array) => {
      captured += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      return true;
    }) as typeof stream.write;
    restores.push(() => (stream.write = original));
  }
  ssm = new SSMClient({ endpoint: emulatorEndpoint(), region, maxAttempts: 4 });
  const kms = new KMSClient({ endpoint: emulatorEndpoint(), region });
  const keyId = (await kms.send(new CreateKeyCommand({ Description: 'phase-mirror oracle integration' }))).KeyMetadata!.KeyId!;
  kms.destroy();
  // The rotation function owns the SSM parameters: its first run creates v1.
  const rotation = await rotate({ source: 'aws.scheduler' }, { PHASE_MIRROR_STAGE: stage, NONCE_KMS_KEY_ID: keyId, AWS_REGION: region });
  if (rotation.version !== 1) throw new Error(`nonce rotation created version ${rotation.version}`);
});

afterAll(async () => {
  for (const restore of restores.reverse()) restore();
  await ssm.send(new DeleteParameterCommand({ Name: nonceParameterName(stage, 1) })).catch(() => undefined);
  ssm.destroy();
});

describe('the oracle Lambda handler on the emulator', () => {
  it('decides a request the CLI collected: a schema-valid report verified with the SSM nonce, held by a DynamoDB ledger block', async () => {
    // Prepare
    const request = await plantedRequest();

    // Act
    const answer = (await createOracleHandler()(request, oracleEnv())) as RemoteAnalyzeResponse;

    // Assess: the report
    expect(answer.ok).toBe(true);
    validateReport(answer.report);
    expect(answer.report.machine_decision.outcome).toBe('block');
    expect(answer.report.meta.degraded).toBeUndefined();
    const store = new SsmNonceStore({ client: ssm, stage });
    const verification = await verifyReportSnippets(answer.report, new NonceLoader({ store }));
    expect(verification.checked).toBeGreaterThan(0);
    expect(verification.failures).toEqual([]);
    // ... its ledger block in DynamoDB
    const head = await ledger().head(REPOSITORY);
    expect(head).toMatchObject({ repository: REPOSITORY, height: 0, hash: answer.ledger.hash });
    expect(answer.report.meta.ledger).toEqual({ height: 0, hash: head!.hash });
    // ... its FP events in the FP table
    const events = await tables.documents.send(new ScanCommand({ TableName: tables.names.fpEvents }));
    const eventIds = JSON.stringify(events.Items ?? []);
    for (const event of answer.events) expect(eventIds).toContain(event.eventId);
    // ... and nothing secret in any log line
    const value = await store.readValue((await store.listVersions())[0]!);
    expect(captured).not.toContain(value!);
    expect(captured).not.toContain(TOKEN);
    expect(captured).toMatch(/"OracleDecision":1/);
  });

  it('extends the same stream on the next decision', async () => {
    const handle = createOracleHandler();

    const first = (await handle(await plantedRequest(), oracleEnv())) as RemoteAnalyzeResponse;
    const second = (await handle(await plantedRequest(), oracleEnv())) as RemoteAnalyzeResponse;

    expect(second.ledger.height).toBe(first.ledger.height + 1);
    const head = await ledger().head(REPOSITORY);
    expect(head).toMatchObject({ height: second.ledger.height, hash: second.ledger.hash });
  });

  it('fails closed for a stage whose nonce was never created', async () => {
    const error = await createOracleHandler()(await plantedRequest(), oracleEnv({ PHASE_MIRROR_STAGE: `none-${randomBytes(4).toString('hex')}` })).then(
      () => undefined,
      (caught: Error) => caught,
    );

    expect(error?.name).toBe('DependencyError');
    expect(error?.message).toMatch(/\[NONCE_UNAVAILABLE\]$/);
  });

  it('end to end: `phase-mirror analyze --remote` reaches the handler through a Lambda endpoint and writes its report', async () => {
    // Prepare
    const functionName = 'phase-mirror-int-oracle';
    const endpoint = await lambdaEndpoint(functionName, createOracleHandler());
    const root = copyFixture('planted');
    const io = captureIo(root, { AWS_REGION: region, AWS_ENDPOINT_URL: endpoint.url, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' });
    const before = (await ledger().head(REPOSITORY))?.height ?? -1;

    try {
      // Act
      const code = await main(['node', 'phase-mirror', 'analyze', '.', '--remote', functionName, '--repository', REPOSITORY, '-f', 'json'], io);

      // Assess
      expect(io.stderr.join('\n')).toBe('');
      expect(code).toBe(1);
      const report = JSON.parse(readFileSync(join(root, 'dissonance_report.json'), 'utf8')) as DissonanceReport;
      validateReport(report);
      expect(report.meta.ledger?.height).toBe(before + 1);
      expect((await ledger().head(REPOSITORY))?.hash).toBe(report.meta.ledger?.hash);
      const verification = await verifyReportSnippets(report, new NonceLoader({ store: new SsmNonceStore({ client: ssm, stage }) }));
      expect(verification.failures).toEqual([]);
      expect(io.stdout.join('\n')).not.toContain(TOKEN);
    } finally {
      await new Promise<void>((resolve) => endpoint.server.close(() => resolve()));
    }
  });
});
