import { DependencyError, type ErrorCode } from '../../errors';

/**
 * Wraps an AWS SDK failure into a typed error naming the table (or
 * parameter) and the operation, with a cause a person can act on. Callers
 * let ConditionalCheckFailed through to map it to their own typed errors.
 */
export function awsStoreFailure(
  error: unknown,
  context: { resource: string; operation: string },
  code: ErrorCode = 'STORE_FAILED',
): DependencyError {
  const name = (error as { name?: string } | null)?.name ?? '';
  const message = error instanceof Error ? error.message : String(error);
  let reason: string;
  switch (name) {
    case 'ResourceNotFoundException':
      reason = `${context.resource} does not exist (create it, or check storage.tables / the region)`;
      break;
    case 'ProvisionedThroughputExceededException':
    case 'ThrottlingException':
    case 'RequestLimitExceeded':
      reason = `throttled by AWS after the SDK's retries with backoff (${name})`;
      break;
    case 'CredentialsProviderError':
    case 'UnrecognizedClientException':
    case 'InvalidSignatureException':
    case 'ExpiredTokenException':
      reason = `AWS credentials are missing or rejected (${name}): configure them (AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or a role)`;
      break;
    case 'AccessDeniedException':
      reason = `access denied: the credentials may not ${context.operation} on ${context.resource}`;
      break;
    default:
      reason = isNetworkError(error)
        ? `the AWS endpoint is unreachable (${codeOf(error) ?? NETWORK_MESSAGE.exec(message)?.[1] ?? name})`
        : `${name || 'error'}: ${message}`;
  }
  return new DependencyError(code, `${context.operation} on ${context.resource} failed: ${reason}`, {
    context: { resource: context.resource, operation: context.operation, awsError: name },
    cause: error,
  });
}

/** True for DynamoDB's failed condition (a duplicate put, a lost race on a version). */
export function isConditionalCheckFailed(error: unknown): boolean {
  const name = (error as { name?: string } | null)?.name;
  return name === 'ConditionalCheckFailedException' || name === 'TransactionCanceledException';
}

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

const NETWORK_CODES = ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EPIPE'];
const NETWORK_MESSAGE = new RegExp(`\\b(${NETWORK_CODES.join('|')})\\b`);

function isNetworkError(error: unknown): boolean {
  const code = codeOf(error);
  if (code !== undefined) return NETWORK_CODES.includes(code);
  // The SDK's retry layer re-wraps errors it does not recognise as Error instances
  // (e.g. from another realm), keeping only the text: "... connect ECONNREFUSED 127.0.0.1:9".
  const message = error instanceof Error ? error.message : typeof error === 'string' ? error : '';
  return NETWORK_MESSAGE.test(message);
}
