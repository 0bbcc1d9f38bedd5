/**
 * The oracle Lambda handler with mocked DynamoDB and SSM clients: a request
 * collected from the planted repository is decided on the AWS adapters with
 * the SSM nonce and appended to the ledger; invalid requests are refused
 * without touching anything; a missing nonce or a failed append fails the
 * invocation with a typed message; the nonce cache outlives an invocation;
 * logs and metrics carry no nonce value and no snippet.
 */
import { GetParameterCommand, GetParametersByPathCommand, SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient, GetCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import {
  serializeRequest,
  validateReport,
  verifyReportRedactions,
  type RemoteAnalyzeRejection,
  type RemoteAnalyzeResponse,
} from '@phase-mirror/mirror-dissonance';
import { createOracleHandler, handler } from '../../lambdas/oracle/handler';
import { plantedInput } from '../../packages/mirror-dissonance/test/remote/fixtures';

const ssm = mockClient(SSMClient);
const ddb = mockClient(DynamoDBDocumentClient);
const NONCE = '5e'.repeat(32);
const PARAMETER = '/guardian/test/redaction_nonce_v1';
const TOKEN = 'ghp_Abcdefghijklmnopqrstuvwxyz0123456789';
const env = { AWS_REGION: 'eu-west-1', PHASE_MIRROR_STAGE: 'test', LEDGER_TABLE: 'custom-ledger' };
const minute = 60 * 1000;

let output = '';
let restore: () => void = () => undefined;
let request: Record<string, unknown>;

beforeAll(async () => {
  request = JSON.parse(serializeRequest(await plantedInput(), { name: 'phase-mirror', version: '0.0.0-test' })) as Record<string, unknown>;
});

beforeEach(() => {
  ssm.reset();
  ddb.reset();
  output = '';
  // Powertools writes INFO and EMF to stdout, WARN and ERROR to stderr.
  const undo = [process.stdout, process.stderr].map((stream) => {
    const original = stream.write.bind(stream);
    stream.write = ((chunk: string | Uint8Array) => {
      output += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      return true;
    }) as typeof stream.write;
    return () => (stream.write = original);
  });
  restore = () => undo.forEach((fn) => fn());
});

afterEach(() => restore());

/** SSM holding version 1, created an hour before `now`. */
function nonceInSsm(now: number = Date.now()): void {
  ssm.on(GetParametersByPathCommand).resolves({ Parameters: [{ Name: PARAMETER, Type: 'SecureString', LastModifiedDate: new Date(now - 60 * minute) }] });
  ssm.on(GetParameterCommand).resolves({ Parameter: { Name: PARAMETER, Type: 'SecureString', Value: NONCE } });
}

/** Empty tables that accept every write. */
function emptyTables(): void {
  ddb.onAnyCommand().resolves({});
  ddb.on(QueryCommand).resolves({ Items: [] });
  ddb.on(GetCommand).resolves({});
  ddb.on(UpdateCommand).resolves({ Attributes: { count: 1, expiresAtMs: Date.now() + 60 * minute } });
}

function lines(): Record<string, unknown>[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

function copy(value: Record<string, unknown>): Record<string, any> {
  return JSON.parse(JSON.stringify(value)) as Record<string, any>;
}

async function failureOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('the invocation succeeded');
}

describe('oracle handler', () => {
  it('decides on DynamoDB with the SSM nonce and answers a verified report held by a new ledger block', async () => {
    // Prepare
    nonceInSsm();
    emptyTables();

    // Act
    const answer = (await createOracleHandler()(request, env)) as RemoteAnalyzeResponse;

    // Assess: a decided, schema-valid report whose snippets verify under the SSM nonce
    expect(answer.ok).toBe(true);
    validateReport(answer.report);
    expect(answer.report.items.length).toBeGreaterThan(0);
    expect(() => verifyReportRedactions(answer.report, [{ version: 1, value: NONCE, loadedAt: new Date() }])).not.toThrow();
    expect(answer.report.items.flatMap((item) => item.evidence).every((evidence) => evidence.snippet.nonce_version === 1)).toBe(true);
    expect(JSON.stringify(answer)).not.toContain(TOKEN);
    expect(JSON.stringify(answer)).not.toContain(NONCE);
    // ... held by block 0 of the repository's stream, in the table LEDGER_TABLE names
    expect(answer.ledger).toEqual({ height: 0, hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(answer.report.meta.ledger).toEqual(answer.ledger);
    const appends = ddb.commandCalls(TransactWriteCommand);
    expect(appends).toHaveLength(1);
    const put = appends[0]!.args[0].input.TransactItems![0]!.Put!;
    expect(put.TableName).toBe('custom-ledger');
    expect(put.Item).toMatchObject({ pk: 'repo#acme/planted', height: 0, hash: answer.ledger.hash });
    // ... with the FP events in the stage's default table
    expect(answer.events.length).toBe(answer.report.items.filter((item) => !item.rule_id.startsWith('L0-')).length);
    expect(ddb.calls().some((call) => JSON.stringify(call.args[0].input).includes('"TableName":"phase-mirror-test-fp-events"'))).toBe(true);
    // ... and metrics and logs without a nonce value or a snippet
    expect(lines()).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ OracleDecision: 1, outcome: answer.report.machine_decision.outcome, service: 'oracle' }),
        expect.objectContaining({ level: 'INFO', message: 'analysis decided', repository: 'acme/planted', ledgerHeight: 0, nonceVersion: 1 }),
      ]),
    );
    expect(output).not.toContain(NONCE);
    expect(output).not.toContain(TOKEN);
    for (const evidence of answer.report.items.flatMap((item) => item.evidence)) expect(output).not.toContain(evidence.snippet.value);
  });

  it('keeps the nonce between warm invocations: SSM is read once', async () => {
    nonceInSsm();
    emptyTables();
    const handle = createOracleHandler();

    await handle(request, env);
    await handle(request, env);

    expect(ssm.commandCalls(GetParametersByPathCommand)).toHaveLength(1);
    expect(ssm.commandCalls(GetParameterCommand)).toHaveLength(1);
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(2);
  });

  it('decides degraded (ssm_unreachable) when SSM fails behind a cache younger than an hour', async () => {
    // Prepare: a warm cache loaded at t0, then SSM unreachable when it is due for a refresh
    let now = Date.parse('2026-03-02T10:00:00.000Z');
    nonceInSsm(now);
    emptyTables();
    const handle = createOracleHandler({ clock: () => new Date(now) });
    await handle(request, env);
    ssm.on(GetParametersByPathCommand).rejects(Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:443'), { code: 'ECONNREFUSED' }));
    now += 56 * minute;

    // Act
    const answer = (await handle(request, env)) as RemoteAnalyzeResponse;

    // Assess
    expect(answer.report.meta.degraded).toMatchObject({ reason: 'ssm_unreachable' });
    expect(answer.report.machine_decision.degraded).toBe(true);
    expect(answer.report.meta.timestamp).toBe(new Date(now).toISOString());
    expect(lines()).toEqual(expect.arrayContaining([expect.objectContaining({ NonceLoadDegraded: 1 })]));
    expect(output).not.toContain(NONCE);
  });

  it('refuses an invalid request with the field, touching neither SSM nor DynamoDB', async () => {
    // Prepare
    const bad = copy(request);
    bad.event.mode = 'push';
    bad.artifacts.workflows[0].text = `on: [push\n# ${TOKEN}`;

    // Act
    const answer = (await createOracleHandler()(bad, env)) as RemoteAnalyzeRejection;

    // Assess
    expect(answer).toEqual({
      version: 1,
      ok: false,
      error: { type: 'InputError', code: 'INPUT_INVALID', message: expect.stringContaining('event.mode must be one of'), field: 'event.mode' },
    });
    expect(ssm.calls()).toHaveLength(0);
    expect(ddb.calls()).toHaveLength(0);
    expect(lines()).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ OracleRequestRejected: 1 }),
        expect.objectContaining({ level: 'WARN', message: 'remote analysis request rejected', code: 'INPUT_INVALID', field: 'event.mode' }),
      ]),
    );
    expect(output).not.toContain(TOKEN);
  });

  it('does not log the message of a refusal, which may quote the request\'s files', async () => {
    const bad = copy(request);
    bad.artifacts.workflows[0].text = `on: push\njobs:\n  ${TOKEN}: 3\n`;

    const answer = (await createOracleHandler()(bad, env)) as RemoteAnalyzeRejection;

    expect(answer.error.field).toBe('artifacts.workflows[0].text');
    // The caller gets the parser's message (its own file); the logs do not.
    expect(answer.error.message).toContain(TOKEN);
    expect(output).not.toContain(TOKEN);
  });

  it('fails the invocation, without deciding, when no nonce version exists', async () => {
    // Prepare
    ssm.on(GetParametersByPathCommand).resolves({ Parameters: [] });
    emptyTables();

    // Act
    const error = await failureOf(createOracleHandler()(request, env));

    // Assess
    expect(error.name).toBe('DependencyError');
    expect(error.message).toMatch(/no redaction nonce version exists at SSM \/guardian\/test\/redaction_nonce_v\*.* \[NONCE_UNAVAILABLE\]$/);
    expect(error.stack).toBe(`DependencyError: ${error.message}`);
    expect(ddb.calls()).toHaveLength(0);
    expect(lines()).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ NonceLoadFailure: 1 }),
        expect.objectContaining({ OracleFailure: 1 }),
        expect.objectContaining({ level: 'ERROR', message: 'remote analysis failed: no decision', error: expect.objectContaining({ code: 'NONCE_UNAVAILABLE' }) }),
      ]),
    );
  });

  it('fails the invocation when the ledger append fails: no answer claims an unrecorded decision', async () => {
    nonceInSsm();
    emptyTables();
    ddb.on(TransactWriteCommand).rejects(Object.assign(new Error('Throughput exceeds the current capacity'), { name: 'ProvisionedThroughputExceededException' }));

    const error = await failureOf(createOracleHandler()(request, env));

    expect(error.name).toBe('DependencyError');
    expect(error.message).toContain('custom-ledger');
    expect(error.message).toMatch(/\[STORE_FAILED\]$/);
    expect(lines()).toEqual(expect.arrayContaining([expect.objectContaining({ LedgerAppendFailure: 1 }), expect.objectContaining({ OracleFailure: 1 })]));
  });

  it('refuses to record a decision whose answer Lambda could not return', async () => {
    nonceInSsm();
    emptyTables();

    const error = await failureOf(createOracleHandler({ maxResponseBytes: 2000 })(request, env));

    expect(error.name).toBe('IntegrityError');
    expect(error.message).toMatch(/-byte answer, over the 2000 bytes a Lambda invocation can return: run this analysis locally \[REPORT_INVALID\]$/);
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });

  it.each([
    ['PHASE_MIRROR_STAGE', { ...env, PHASE_MIRROR_STAGE: '' }],
    ['PHASE_MIRROR_STAGE', { ...env, PHASE_MIRROR_STAGE: 'Prod!' }],
    ['AWS_REGION', { ...env, AWS_REGION: undefined }],
    ['LEDGER_TABLE', { ...env, LEDGER_TABLE: 'x' }],
    ['FP_EVENTS_TABLE', { ...env, FP_EVENTS_TABLE: 'no spaces allowed' }],
    ['NONCE_GRACE_SECONDS', { ...env, NONCE_GRACE_SECONDS: '5' }],
  ])('fails on a bad %s, naming it and calling nothing', async (variable, badEnv) => {
    const error = await failureOf(createOracleHandler()(request, badEnv));

    expect(error.name).toBe('UsageError');
    expect(error.message).toContain(variable);
    expect(ssm.calls()).toHaveLength(0);
    expect(ddb.calls()).toHaveLength(0);
    expect(lines()).toEqual(expect.arrayContaining([expect.objectContaining({ OracleFailure: 1 })]));
  });

  it('reads its configuration from the environment when Lambda calls it with (event, context)', async () => {
    // Prepare
    nonceInSsm();
    emptyTables();
    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
      // Act
      const answer = await (handler as (event: unknown, context: unknown) => Promise<RemoteAnalyzeResponse>)(request, { functionName: 'oracle', awsRequestId: 'r-1' });

      // Assess
      expect(answer.ok).toBe(true);
    } finally {
      for (const key of Object.keys(env)) {
        if (saved[key] === undefined) delete process.env[key];
        else process.env[key] = saved[key];
      }
    }
  });
});
