/**
 * Invoking the oracle function (`phase-mirror analyze --remote <function>`):
 * one synchronous Lambda Invoke with the request JSON, its answer checked
 * (response.ts). The AWS SDK is loaded only here, only when used.
 *
 * Outcomes: the response (the function decided); InputError when the
 * function refused the request or the payload is too large (exit 3);
 * DependencyError when the function failed or could not be invoked, and
 * IntegrityError when its answer is not a valid response (exit 2).
 */
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { DependencyError, InputError, UsageError } from '../errors';
import { awsStoreFailure } from '../store/aws/errors';
import type { RemoteAnalyzeResponse } from './contract';
import { assertPayloadSize } from './request';
import { parseResponse, remoteFailure } from './response';

/** A function name, a name with a qualifier, a partial ARN or a full ARN (as the Lambda API accepts). */
export const LAMBDA_FUNCTION_NAME =
  /^(?:arn:aws[a-zA-Z-]*:lambda:[a-z]{2}(?:-gov)?-[a-z]+-\d:\d{12}:function:|\d{12}:function:)?[a-zA-Z0-9_-]{1,140}(?::(?:\$LATEST|[a-zA-Z0-9_-]{1,128}))?$/;

export interface RemoteInvokeOptions {
  functionName: string;
  /** The serialized request (serializeRequest). */
  payload: string;
  region: string;
  /** Endpoint override (AWS_ENDPOINT_URL: an emulator or a test endpoint). */
  endpoint?: string;
  /** Explicit credentials; default: the SDK's provider chain (environment, profile, web identity...). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

const clients = new Map<string, LambdaClient>();

/** One client per region, endpoint and credentials for the process (DESIGN §11). */
function lambdaClient(options: RemoteInvokeOptions): LambdaClient {
  const key = JSON.stringify([options.region, options.endpoint ?? '', options.credentials?.accessKeyId ?? '', options.credentials?.sessionToken ?? '']);
  let client = clients.get(key);
  if (client === undefined) {
    const { LambdaClient: Client } = require('@aws-sdk/client-lambda') as typeof import('@aws-sdk/client-lambda');
    client = new Client({
      region: options.region,
      ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
      ...(options.credentials !== undefined ? { credentials: options.credentials } : {}),
    });
    clients.set(key, client);
  }
  return client;
}

/** Checks the function name as the Lambda API would. @throws UsageError (flag --remote) */
export function assertFunctionName(name: string): void {
  if (!LAMBDA_FUNCTION_NAME.test(name)) {
    throw new UsageError(`"${name.slice(0, 200)}" is not a Lambda function name, qualified name or ARN`, { location: { flag: '--remote' } });
  }
}

/** Sends the request and returns the checked answer (see the file comment for the failures). */
export async function invokeRemoteAnalysis(options: RemoteInvokeOptions): Promise<RemoteAnalyzeResponse> {
  assertFunctionName(options.functionName);
  assertPayloadSize(options.payload);
  const { InvokeCommand } = require('@aws-sdk/client-lambda') as typeof import('@aws-sdk/client-lambda');
  const name = options.functionName;
  let output: import('@aws-sdk/client-lambda').InvokeCommandOutput;
  try {
    output = await lambdaClient(options).send(
      new InvokeCommand({ FunctionName: name, InvocationType: 'RequestResponse', Payload: Buffer.from(options.payload, 'utf8') }),
    );
  } catch (error) {
    throw invokeFailure(error, name, options.region);
  }
  const text = output.Payload === undefined ? '' : Buffer.from(output.Payload).toString('utf8');
  if (output.FunctionError !== undefined && output.FunctionError !== '') {
    let errorType: string | undefined;
    let errorMessage: string | undefined = text;
    try {
      const parsed = JSON.parse(text) as { errorType?: unknown; errorMessage?: unknown };
      if (typeof parsed.errorType === 'string') errorType = parsed.errorType;
      if (typeof parsed.errorMessage === 'string') errorMessage = parsed.errorMessage;
    } catch {
      // Not the runtime's JSON error document: the raw text is the message.
    }
    throw remoteFailure(name, errorType ?? output.FunctionError, errorMessage);
  }
  return parseResponse(text, name);
}

/** An Invoke call that failed before the function answered, as a typed error with a cause a person can act on. */
function invokeFailure(error: unknown, functionName: string, region: string): Error {
  const errorName = (error as { name?: string } | null)?.name ?? '';
  const resource = `Lambda function ${functionName}`;
  const context = { resource, operation: 'lambda:InvokeFunction', awsError: errorName };
  switch (errorName) {
    case 'ResourceNotFoundException':
      return new DependencyError('NOT_FOUND', `${resource} does not exist in ${region} (check the name and AWS_REGION)`, { context, cause: error });
    case 'AccessDeniedException':
    case 'AccessDenied':
      return new DependencyError(
        'STORE_FAILED',
        `the credentials may not invoke ${resource}: the role needs lambda:InvokeFunction on it (for GitHub Actions, assume the PR role through OIDC first)`,
        { context, cause: error },
      );
    case 'RequestEntityTooLargeException':
      return new InputError('INPUT_INVALID', `${resource} refused the request as too large: ${(error as Error).message}`, {
        location: { flag: '--remote' },
        context,
        cause: error,
      });
    default:
      return awsStoreFailure(error, { resource, operation: 'lambda:InvokeFunction' });
  }
}
