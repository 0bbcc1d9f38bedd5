/**
 * Invoking the oracle function with a mocked Lambda client: the request goes
 * out as one RequestResponse Invoke, and every way it can come back (an
 * answer, a refusal, a function error, an AWS error) becomes the right typed
 * error. Nothing is sent for an oversized payload or a bad function name.
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { DependencyError, InputError, IntegrityError, UsageError } from '../../src/errors';
import { MAX_REMOTE_PAYLOAD_BYTES } from '../../src/remote/contract';
import { assertFunctionName, invokeRemoteAnalysis } from '../../src/remote/invoke';
import { buildRejection, buildResponse } from '../../src/remote/response';
import { itemOf, reportOf } from '../nonce/reports';

const lambda = mockClient(LambdaClient);
const FUNCTION = 'phase-mirror-staging-oracle';
const options = { functionName: FUNCTION, payload: '{"version":1}', region: 'eu-west-1' };

function answer(body: unknown, functionError?: string): { Payload: Uint8Array; StatusCode: number; FunctionError?: string } {
  return { StatusCode: 200, Payload: Buffer.from(JSON.stringify(body)), ...(functionError !== undefined ? { FunctionError: functionError } : {}) };
}

async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('the invocation succeeded');
}

beforeEach(() => lambda.reset());

describe('invokeRemoteAnalysis', () => {
  it('sends the payload in one synchronous Invoke and returns the checked answer', async () => {
    // Prepare
    const report = reportOf([itemOf('MD-001', [])]);
    report.meta.ledger = { height: 0, hash: 'a'.repeat(64) };
    lambda.on(InvokeCommand).resolves(answer(buildResponse(report, { height: 0, hash: 'a'.repeat(64) }, [])) as never);

    // Act
    const response = await invokeRemoteAnalysis(options);

    // Assess
    expect(response.report).toEqual(report);
    const calls = lambda.commandCalls(InvokeCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]!.args[0].input;
    expect(input.FunctionName).toBe(FUNCTION);
    expect(input.InvocationType).toBe('RequestResponse');
    expect(Buffer.from(input.Payload as Uint8Array).toString('utf8')).toBe(options.payload);
  });

  it('turns a function error into a DependencyError with the function\'s code and message (exit 2)', async () => {
    lambda.on(InvokeCommand).resolves(
      answer({ errorType: 'DependencyError', errorMessage: 'cannot load the redaction nonce from SSM: timeout [NONCE_UNAVAILABLE]', trace: [] }, 'Unhandled') as never,
    );

    const error = await rejectionOf(invokeRemoteAnalysis(options));

    expect(error).toBeInstanceOf(DependencyError);
    expect((error as DependencyError).code).toBe('NONCE_UNAVAILABLE');
    expect(error.message).toBe(`the remote oracle ${FUNCTION} failed, no decision was made: DependencyError: cannot load the redaction nonce from SSM: timeout`);
  });

  it('keeps a function error that is not the runtime\'s JSON document as its text', async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, FunctionError: 'Unhandled', Payload: Buffer.from('Task timed out after 30.02 seconds') } as never);

    const error = await rejectionOf(invokeRemoteAnalysis(options));

    expect(error).toBeInstanceOf(DependencyError);
    expect(error.message).toContain('Unhandled: Task timed out after 30.02 seconds');
  });

  it('turns a refusal into an InputError (exit 3)', async () => {
    lambda.on(InvokeCommand).resolves(answer(buildRejection(new InputError('INPUT_INVALID', 'remote analysis request: version must be 1', { location: { field: 'version' } }))) as never);

    const error = await rejectionOf(invokeRemoteAnalysis(options));

    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).location.field).toBe('version');
  });

  it('fails closed on an answer that is not a response', async () => {
    lambda.on(InvokeCommand).resolves(answer({ hello: 'world' }) as never);

    expect(await rejectionOf(invokeRemoteAnalysis(options))).toBeInstanceOf(IntegrityError);
  });

  it.each<[string, Error, string, string]>([
    ['a function that does not exist', Object.assign(new Error('Function not found'), { name: 'ResourceNotFoundException' }), 'NOT_FOUND', `Lambda function ${FUNCTION} does not exist in eu-west-1`],
    ['credentials without the permission', Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }), 'STORE_FAILED', 'needs lambda:InvokeFunction'],
    ['an unreachable endpoint', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }), 'STORE_FAILED', 'unreachable'],
    ['throttling', Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' }), 'STORE_FAILED', 'TooManyRequestsException'],
  ])('reports %s as a DependencyError naming the function', async (_name, awsError, code, text) => {
    lambda.on(InvokeCommand).rejects(awsError);

    const error = await rejectionOf(invokeRemoteAnalysis(options));

    expect(error).toBeInstanceOf(DependencyError);
    expect((error as DependencyError).code).toBe(code);
    expect(error.message).toContain(text);
    expect(error.message).toContain(FUNCTION);
  });

  it('reports a payload the service found too large as an input error', async () => {
    lambda.on(InvokeCommand).rejects(Object.assign(new Error('Request must be smaller than 6291456 bytes'), { name: 'RequestEntityTooLargeException' }));

    expect(await rejectionOf(invokeRemoteAnalysis(options))).toBeInstanceOf(InputError);
  });

  it('sends nothing when the payload is over 5 MB', async () => {
    const error = await rejectionOf(invokeRemoteAnalysis({ ...options, payload: 'x'.repeat(MAX_REMOTE_PAYLOAD_BYTES + 1) }));

    expect(error).toBeInstanceOf(InputError);
    expect(lambda.calls()).toHaveLength(0);
  });

  it('sends nothing for a name Lambda would reject', async () => {
    const error = await rejectionOf(invokeRemoteAnalysis({ ...options, functionName: 'oracle; rm -rf /' }));

    expect(error).toBeInstanceOf(UsageError);
    expect(lambda.calls()).toHaveLength(0);
  });
});

describe('assertFunctionName', () => {
  it.each(['oracle', 'phase-mirror-prod-oracle:live', 'oracle:$LATEST', '123456789012:function:oracle', 'arn:aws:lambda:eu-west-1:123456789012:function:oracle:3'])(
    'accepts %s',
    (name) => expect(() => assertFunctionName(name)).not.toThrow(),
  );

  it.each(['', 'a b', 'arn:aws:s3:::bucket', 'x'.repeat(141), 'oracle:'])('rejects %j', (name) => {
    expect(() => assertFunctionName(name)).toThrow(UsageError);
  });
});
