/**
 * Throttling injected into a real SDK client for the reliability suites: the
 * first `failures` attempts of the client's calls fail with
 * ProvisionedThroughputExceededException before reaching the emulator,
 * inside the SDK's retry loop, so the SDK's own retry strategy (standard,
 * exponential backoff with full jitter, `maxAttempts`) handles them exactly
 * as it would AWS throttling.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { emulatorEndpoint } from './tables';

/** One SDK call as the SDK reported it (outside the retry loop). */
export interface ObservedCall {
  command: string;
  attempts?: number;
  /** The error name when the call failed after its attempts. */
  failed?: string;
}

export interface ThrottledClient {
  client: DynamoDBDocumentClient;
  /** Attempts that reached the injection point (throttled or not), over every call. */
  attempts(): number;
  /** Calls in the order they ended, with the attempts the SDK made and the error of a failed one. */
  calls: ObservedCall[];
}

/**
 * A document client on the emulator whose first `failures` attempts are
 * throttled.
 * @param maxAttempts the SDK's attempts per call (first try included)
 */
export function throttledDocumentClient(failures: number, maxAttempts: number): ThrottledClient {
  const base = new DynamoDBClient({ region: process.env.AWS_REGION || 'us-east-1', endpoint: emulatorEndpoint(), maxAttempts });
  let attempts = 0;
  const calls: ObservedCall[] = [];
  // initialize step: outside the retry loop, sees each whole call.
  base.middlewareStack.add(
    (next, context) => async (args) => {
      const command = String(context.commandName);
      try {
        const result = await next(args);
        calls.push({ command, attempts: (result.output as { $metadata?: { attempts?: number } }).$metadata?.attempts });
        return result;
      } catch (error) {
        const failure = error as { name?: string; $metadata?: { attempts?: number } };
        calls.push({ command, attempts: failure.$metadata?.attempts, failed: failure.name });
        throw error;
      }
    },
    { step: 'initialize', name: 'observeCalls' },
  );
  // finalizeRequest step, low priority: after the retry middleware (finalizeRequest, high), so inside its loop.
  base.middlewareStack.add(
    (next) => async (args) => {
      attempts += 1;
      if (attempts <= failures) {
        throw Object.assign(new Error('The level of configured provisioned throughput for the table was exceeded'), {
          name: 'ProvisionedThroughputExceededException',
          $fault: 'client',
          $metadata: { httpStatusCode: 400 },
        });
      }
      return next(args);
    },
    { step: 'finalizeRequest', priority: 'low', name: 'injectThrottling' },
  );
  return { client: DynamoDBDocumentClient.from(base), attempts: () => attempts, calls };
}
