/**
 * `analyze --remote <function>` against a tiny in-process Lambda endpoint on
 * 127.0.0.1 (AWS_ENDPOINT_URL): the Invoke API's path, signed requests, and a
 * function that runs the core pipeline on its own embedded state and nonce.
 * The CLI collects locally, sends at most 5 MB, writes and prints the
 * function's report, opens no local state, and maps each failure to its exit
 * code with the function's message.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  appendDecision,
  buildRejection,
  buildResponse,
  BUILTIN_RULES,
  enabledRules,
  InputError,
  loadReportSchema,
  MemoryMetricsSink,
  openStateDatabase,
  parseRequest,
  readSchemaStamp,
  runOracle,
  validateReport,
  verifyReportRedactions,
  type DissonanceReport,
  type NonceKey,
  type StateDatabase,
} from '@phase-mirror/mirror-dissonance';
import { main } from '../src/main';
import { captureIo, copyFixture } from './helpers';

const FUNCTION = 'phase-mirror-test-oracle';
const NONCE: NonceKey = { version: 3, value: randomBytes(32).toString('hex'), loadedAt: new Date() };

type Behaviour = 'decide' | 'fail' | 'refuse' | 'garbage' | 'missing';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** The fake function: Lambda's Invoke route, answering as the oracle function would. */
class FakeLambda {
  behaviour: Behaviour = 'decide';
  readonly received: Received[] = [];
  /** The report of the last decision, as the function produced it. */
  lastReport: DissonanceReport | undefined;
  private readonly server: Server;
  private state: StateDatabase | undefined;

  constructor() {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        this.received.push({ path: request.url ?? '', headers: request.headers, body });
        this.answer(request.url ?? '', body).then(
          ({ status, headers, payload }) => {
            response.writeHead(status, { 'content-type': 'application/json', ...headers });
            response.end(payload);
          },
          (error: Error) => {
            response.writeHead(500, { 'content-type': 'application/json', 'x-amzn-errortype': 'ServiceException' });
            response.end(JSON.stringify({ message: error.message }));
          },
        );
      });
    });
  }

  async start(): Promise<string> {
    this.state = openStateDatabase(mkdtempSync(join(tmpdir(), 'pm-fake-lambda-')));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as { port: number };
    return `http://127.0.0.1:${port}`;
  }

  async stop(): Promise<void> {
    this.state?.close();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async answer(url: string, body: string): Promise<{ status: number; headers: Record<string, string>; payload: string }> {
    if (this.behaviour === 'missing' || url !== `/2015-03-31/functions/${FUNCTION}/invocations`) {
      return {
        status: 404,
        headers: { 'x-amzn-errortype': 'ResourceNotFoundException' },
        payload: JSON.stringify({ Type: 'User', message: `Function not found: ${url}` }),
      };
    }
    switch (this.behaviour) {
      case 'fail':
        return {
          status: 200,
          headers: { 'x-amz-function-error': 'Unhandled' },
          payload: JSON.stringify({ errorType: 'DependencyError', errorMessage: 'no redaction nonce version exists at SSM /guardian/test/redaction_nonce_v* [NONCE_UNAVAILABLE]', trace: [] }),
        };
      case 'refuse':
        return {
          status: 200,
          headers: {},
          payload: JSON.stringify(buildRejection(new InputError('INPUT_INVALID', 'remote analysis request: event.repository must not be empty', { location: { field: 'event.repository' } }))),
        };
      case 'garbage':
        return { status: 200, headers: {}, payload: JSON.stringify({ version: 1, ok: true, report: { meta: {} }, ledger: { height: 0, hash: 'a'.repeat(64) }, events: [] }) };
      default:
        return { status: 200, headers: {}, payload: JSON.stringify(await this.decide(body)) };
    }
  }

  /** What the oracle function does, on an embedded state: parse, run, ledger, answer. */
  private async decide(body: string): Promise<unknown> {
    const state = this.state!;
    const input = parseRequest(body);
    const schema = loadReportSchema();
    const result = await runOracle(input, {
      fpStore: state.fpStore,
      blockCounter: state.blockCounter,
      fprHistory: state.fprHistory,
      nonce: NONCE,
      rules: enabledRules(input.settings, BUILTIN_RULES),
      schema: { actualSha256: schema.sha256, expectedPrefix: readSchemaStamp() },
      metrics: new MemoryMetricsSink(),
      toolVersion: '0.0.0-fake',
    });
    const block = await appendDecision(state.ledger, { report: result.report, repository: input.event.repository, mode: input.event.mode, commit: input.event.commitSha });
    result.report.meta.ledger = { height: block.height, hash: block.hash };
    this.lastReport = result.report;
    return buildResponse(result.report, { height: block.height, hash: block.hash }, result.events);
  }
}

const lambda = new FakeLambda();
let endpoint = '';

beforeAll(async () => {
  endpoint = await lambda.start();
});
afterAll(() => lambda.stop());
beforeEach(() => {
  lambda.behaviour = 'decide';
  lambda.received.length = 0;
  lambda.lastReport = undefined;
});

function awsEnv(overrides: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { AWS_REGION: 'eu-west-1', AWS_ENDPOINT_URL: endpoint, AWS_ACCESS_KEY_ID: 'AKIDTEST', AWS_SECRET_ACCESS_KEY: 'secret-test', ...overrides };
}

async function run(cwd: string, args: string[], env: NodeJS.ProcessEnv = awsEnv()): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = captureIo(cwd, env);
  const code = await main(['node', 'phase-mirror', ...args], io);
  return { code, stdout: io.stdout.join('\n'), stderr: io.stderr.join('\n') };
}

describe('phase-mirror analyze --remote', () => {
  it('sends the collected artifacts to the function and writes, prints and exits with its decision', async () => {
    // Prepare
    const root = copyFixture('planted');

    // Act
    const result = await run(root, ['analyze', '.', '--remote', FUNCTION, '--repository', 'acme/planted', '-f', 'json', '--sarif', 'out.sarif']);

    // Assess: one signed Invoke of the function with a valid request
    expect(lambda.received).toHaveLength(1);
    const call = lambda.received[0]!;
    expect(call.path).toBe(`/2015-03-31/functions/${FUNCTION}/invocations`);
    expect(call.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDTEST\/\d{8}\/eu-west-1\/lambda\/aws4_request/);
    const sent = parseRequest(call.body);
    expect(sent.event.repository).toBe('acme/planted');
    expect(sent.artifacts.workflows.map((workflow) => workflow.path).sort()).toEqual(['.github/workflows/ci.yml', '.github/workflows/preview.yml']);
    expect(JSON.parse(call.body).client).toEqual({ name: 'phase-mirror', version: expect.any(String) });
    // ... the function's report written and printed, exit code from its decision
    const written = JSON.parse(readFileSync(join(root, 'dissonance_report.json'), 'utf8')) as DissonanceReport;
    validateReport(written);
    expect(written).toEqual(lambda.lastReport);
    expect(JSON.parse(result.stdout)).toEqual(written);
    expect(written.machine_decision.outcome).toBe('block');
    expect(result.code).toBe(1);
    expect(written.meta.ledger).toEqual({ height: 0, hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(() => verifyReportRedactions(written, [NONCE])).not.toThrow();
    expect(JSON.parse(readFileSync(join(root, 'out.sarif'), 'utf8')).version).toBe('2.1.0');
    // ... and no local state or nonce: the host needs only lambda:InvokeFunction
    expect(existsSync(join(root, '.phase-mirror'))).toBe(false);
  });

  it('lists the function\'s FP events in the text summary', async () => {
    const root = copyFixture('planted');

    const result = await run(root, ['analyze', '.', '--remote', FUNCTION, '--repository', 'acme/planted']);

    expect(result.code).toBe(1);
    expect(result.stdout).toContain('FP events (mark a false positive with');
    expect(result.stdout).toMatch(/ {2}[0-9a-f]{32} {2}MD-006 {2}\.github\/workflows\//);
  });

  it('runs drift remotely too', async () => {
    const root = copyFixture('clean');

    const result = await run(root, ['drift', '.', '--remote', FUNCTION, '--repository', 'acme/clean', '-f', 'json']);

    expect(result.code).toBe(0);
    expect(parseRequest(lambda.received[0]!.body).event).toMatchObject({ mode: 'drift', eventName: 'schedule' });
  });

  it('refuses a request over 5 MB with exit 3 before any call, naming the size and the limit', async () => {
    // Prepare: six manifests of 0.95 MB each (each under the 1 MB read limit)
    const root = copyFixture('clean');
    for (let i = 0; i < 6; i++) {
      mkdirSync(join(root, `pkg${i}`));
      writeFileSync(join(root, `pkg${i}`, 'package.json'), JSON.stringify({ name: `pkg${i}`, description: 'x'.repeat(950 * 1024) }));
    }

    // Act
    const result = await run(root, ['analyze', '.', '--remote', FUNCTION]);

    // Assess
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/the remote analysis request is 5\.\d MB \(\d+ bytes\), over the 5 MB \(5242880 bytes\) limit/);
    expect(lambda.received).toHaveLength(0);
    expect(existsSync(join(root, 'dissonance_report.json'))).toBe(false);
  });

  it('exits 2 with the function\'s message when the function fails, writing no report', async () => {
    lambda.behaviour = 'fail';
    const root = copyFixture('clean');

    const result = await run(root, ['analyze', '.', '--remote', FUNCTION]);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      `the remote oracle ${FUNCTION} failed, no decision was made: DependencyError: no redaction nonce version exists at SSM /guardian/test/redaction_nonce_v* [NONCE_UNAVAILABLE]`,
    );
    expect(existsSync(join(root, 'dissonance_report.json'))).toBe(false);
  });

  it('exits 3 with the function\'s message and field when it refuses the request', async () => {
    lambda.behaviour = 'refuse';
    const root = copyFixture('clean');

    const result = await run(root, ['analyze', '.', '--remote', FUNCTION]);

    expect(result.code).toBe(3);
    expect(result.stderr).toContain(`the remote oracle ${FUNCTION} refused the request: remote analysis request: event.repository must not be empty (field event.repository) [INPUT_INVALID]`);
  });

  it('exits 2 and writes nothing when the answer is not a valid report', async () => {
    lambda.behaviour = 'garbage';
    const root = copyFixture('clean');

    const result = await run(root, ['analyze', '.', '--remote', FUNCTION]);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`the answer of the remote oracle ${FUNCTION}: report is not a valid report`);
    expect(existsSync(join(root, 'dissonance_report.json'))).toBe(false);
  });

  it('exits 2 naming a function that does not exist', async () => {
    lambda.behaviour = 'missing';
    const root = copyFixture('clean');

    const result = await run(root, ['analyze', '.', '--remote', FUNCTION]);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`Lambda function ${FUNCTION} does not exist in eu-west-1`);
  });

  it.each<[string, string[], NodeJS.ProcessEnv, string]>([
    ['no region is known', ['--remote', FUNCTION], { AWS_ENDPOINT_URL: 'http://127.0.0.1:9', AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b' }, '--remote needs the AWS region'],
    ['the name is not a function name', ['--remote', 'oracle; rm -rf /'], awsEnv(), 'is not a Lambda function name'],
    ['--backend is given too', ['--remote', FUNCTION, '--backend', 'aws'], awsEnv(), '--backend has no effect with --remote'],
  ])('exits 3 without a call when %s', async (_name, args, env, message) => {
    const root = copyFixture('clean');

    const result = await run(root, ['analyze', '.', ...args], env);

    expect(result.code).toBe(3);
    expect(result.stderr).toContain(message);
    expect(lambda.received).toHaveLength(0);
  });

  it('takes the region from a function ARN', async () => {
    const root = copyFixture('clean');
    const arn = `arn:aws:lambda:ap-south-1:123456789012:function:${FUNCTION}`;

    await run(root, ['analyze', '.', '--remote', arn], awsEnv({ AWS_REGION: 'eu-west-1' }));

    expect(lambda.received[0]!.headers.authorization).toContain('/ap-south-1/lambda/aws4_request');
    expect(lambda.received[0]!.path).toBe(`/2015-03-31/functions/${encodeURIComponent(arn)}/invocations`);
  });
});
