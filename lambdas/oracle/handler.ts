/**
 * The oracle Lambda (DESIGN §3, the second host of the pipeline), invoked
 * directly (Lambda Invoke, RequestResponse) by `phase-mirror analyze --remote
 * <function>` with a remote analysis request (the core's remote contract):
 * the request is checked field by field, the pipeline runs on the DynamoDB
 * adapters with the redaction nonce from SSM, the decision is appended to the
 * repository's ledger stream, and the answer is the schema-valid report (with
 * `meta.ledger`) and the ledger entry.
 *
 * - An invalid request is answered, not thrown: `{ ok: false, error }` with
 *   the field (the caller exits 3); it emits `OracleRequestRejected`.
 * - Anything that keeps the oracle from deciding (nonce, tables, ledger,
 *   misconfiguration, a bug) fails the invocation (a Lambda function error,
 *   counted by the function's Errors metric) with `<message> [<CODE>]`; the
 *   caller exits 2. It emits `OracleFailure`, plus `NonceLoadFailure` or
 *   `LedgerAppendFailure` when that is the cause.
 * - The nonce loader lives across warm invocations (1 h cache); a cache used
 *   because SSM could not be read makes the report degraded
 *   (`ssm_unreachable`) and emits `NonceLoadDegraded`.
 * - Every decision emits `OracleDecision` {outcome: pass|warn|block}; the
 *   pipeline adds `Block`, `CircuitBreakerTriggered` and `FindingsSuppressed`
 *   {repository}. Logs carry ids, counts and codes: never a nonce value, a
 *   snippet or the request's file contents.
 *
 * Environment: PHASE_MIRROR_STAGE (default table names
 * `phase-mirror-<stage>-<table>` and SSM path `/guardian/<stage>/`),
 * FP_EVENTS_TABLE, BLOCK_COUNTER_TABLE, FPR_HISTORY_TABLE, LEDGER_TABLE,
 * LEDGER_EPOCHS_TABLE (optional overrides), NONCE_GRACE_SECONDS (default
 * 3600, as the rotation function), AWS_REGION (set by Lambda),
 * AWS_ENDPOINT_URL (emulator only).
 */
import { tmpdir } from 'node:os';
import {
  appendDecision,
  buildRejection,
  buildResponse,
  BUILTIN_RULES,
  DEFAULT_NONCE_GRACE_MS,
  defaultTableNames,
  enabledRules,
  InputError,
  IntegrityError,
  loadReportSchema,
  NonceLoader,
  openStores,
  packageVersion,
  parseRequest,
  payloadBytes,
  PhaseMirrorError,
  readSchemaStamp,
  remoteFailureMessage,
  runOracle,
  UsageError,
  validateReport,
  verifyReportRedactions,
  type NonceKeyring,
  type ParsedRemoteRequest,
  type RemoteAnalyzeAnswer,
  type Stores,
} from '@phase-mirror/mirror-dissonance';
import { requiredEnv, secondsEnv } from '../shared/env';
import { createLogger, createMetrics, PowertoolsMetricsSink } from '../shared/observability';

const SERVICE = 'oracle';
const STAGE = /^[a-z][a-z0-9-]{0,31}$/;
const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;
/** What a synchronous invocation can answer (6 MB), less room for the ledger entry. */
export const MAX_RESPONSE_BYTES = 6 * 1024 * 1024 - 4096;

/** Table overrides: environment variable → table id. */
const TABLE_VARIABLES = {
  FP_EVENTS_TABLE: 'fpEvents',
  BLOCK_COUNTER_TABLE: 'blockCounter',
  FPR_HISTORY_TABLE: 'fprHistory',
  LEDGER_TABLE: 'ledger',
  LEDGER_EPOCHS_TABLE: 'ledgerEpochs',
} as const;

export interface OracleConfig {
  region: string;
  endpoint?: string;
  stage: string;
  tables: { fpEvents: string; blockCounter: string; fprHistory: string; ledger: string; ledgerEpochs: string };
  gracePeriodMs: number;
}

/** Reads and checks the function's configuration. @throws UsageError naming the variable */
export function oracleConfig(env: NodeJS.ProcessEnv): OracleConfig {
  const region = requiredEnv(env, 'AWS_REGION');
  const stage = requiredEnv(env, 'PHASE_MIRROR_STAGE');
  if (!STAGE.test(stage)) {
    throw new UsageError(`environment variable PHASE_MIRROR_STAGE must match ${STAGE.source}, got "${stage.slice(0, 40)}"`, {
      location: { field: 'PHASE_MIRROR_STAGE' },
    });
  }
  const defaults = defaultTableNames(stage);
  const tables = { fpEvents: defaults.fpEvents, blockCounter: defaults.blockCounter, fprHistory: defaults.fprHistory, ledger: defaults.ledger, ledgerEpochs: defaults.ledgerEpochs };
  for (const [variable, id] of Object.entries(TABLE_VARIABLES) as [keyof typeof TABLE_VARIABLES, keyof OracleConfig['tables']][]) {
    const name = env[variable];
    if (name === undefined || name === '') continue;
    if (!TABLE_NAME.test(name)) {
      throw new UsageError(`environment variable ${variable} must be a DynamoDB table name (${TABLE_NAME.source})`, { location: { field: variable } });
    }
    tables[id] = name;
  }
  const endpoint = env.AWS_ENDPOINT_URL || undefined;
  return {
    region,
    ...(endpoint !== undefined ? { endpoint } : {}),
    stage,
    tables,
    gracePeriodMs: secondsEnv(env, 'NONCE_GRACE_SECONDS', DEFAULT_NONCE_GRACE_MS / 1000, 60, 7 * 24 * 60 * 60) * 1000,
  };
}

/** What a warm function keeps between invocations: the stores and the nonce loader (with its cache). */
interface OracleRuntime {
  key: string;
  loader: NonceLoader;
  stores: Stores;
}

export interface OracleHandlerOptions {
  /** The time for the nonce cache, the pipeline and the ledger. @default the system clock */
  clock?: () => Date;
  /** Largest answer (bytes) before the ledger entry is added. @default MAX_RESPONSE_BYTES */
  maxResponseBytes?: number;
}

export type OracleHandler = (event: unknown, env?: NodeJS.ProcessEnv) => Promise<RemoteAnalyzeAnswer>;

/**
 * A handler with its own warm state (one per process in Lambda; tests make
 * their own with an injected clock).
 */
export function createOracleHandler(options: OracleHandlerOptions = {}): OracleHandler {
  const clock = options.clock ?? (() => new Date());
  const maxResponseBytes = options.maxResponseBytes ?? MAX_RESPONSE_BYTES;
  const logger = createLogger(SERVICE);
  const metrics = createMetrics(SERVICE);
  let runtime: OracleRuntime | undefined;

  const runtimeFor = (env: NodeJS.ProcessEnv): OracleRuntime => {
    const config = oracleConfig(env);
    const key = JSON.stringify(config);
    if (runtime?.key === key) return runtime;
    // The AWS backend exactly as `storage.backend: aws` opens it (DynamoDB adapters, SSM nonce store).
    const stores = openStores(
      { backend: 'aws', region: config.region, ...(config.endpoint !== undefined ? { endpoint: config.endpoint } : {}), stage: config.stage, tables: config.tables },
      { stateDir: tmpdir(), env: {} },
    );
    runtime = {
      key,
      stores,
      // The rotation function owns the SSM parameters: no version is ever created here.
      loader: new NonceLoader({ store: stores.nonceStore, gracePeriodMs: config.gracePeriodMs, clock: () => clock().getTime() }),
    };
    return runtime;
  };

  return async (event, env = process.env) => {
    const sink = new PowertoolsMetricsSink(metrics);
    try {
      const current = runtimeFor(env);
      let request: ParsedRemoteRequest;
      try {
        request = parseRequest(event);
      } catch (error) {
        if (!(error instanceof InputError || error instanceof UsageError)) throw error;
        sink.count('OracleRequestRejected', 1, {});
        // The code and the field only: messages may quote the request's files.
        logger.warn('remote analysis request rejected', { code: error.code, field: error.location.field ?? error.location.flag });
        return buildRejection(error);
      }
      return await decide(current, request, sink);
    } catch (error) {
      sink.count('OracleFailure', 1, {});
      logger.error('remote analysis failed: no decision', { error: describe(error) });
      throw lambdaError(error);
    }
  };

  async function decide(current: OracleRuntime, request: ParsedRemoteRequest, sink: PowertoolsMetricsSink): Promise<RemoteAnalyzeAnswer> {
    const { artifacts, event, settings } = request;
    let keyring: NonceKeyring;
    try {
      // Loaded before any state changes: without a valid nonce the oracle does not decide.
      keyring = await current.loader.keyring();
    } catch (error) {
      sink.count('NonceLoadFailure', 1, {});
      throw error;
    }
    if (keyring.degraded !== undefined) {
      sink.count('NonceLoadDegraded', 1, {});
      logger.warn('redaction nonce served from the cache', { reason: keyring.degraded.reason, details: keyring.degraded.details });
    }
    const schema = loadReportSchema();
    const result = await runOracle(
      { artifacts, event, settings },
      {
        fpStore: current.stores.fpStore,
        blockCounter: current.stores.blockCounter,
        fprHistory: current.stores.fprHistory,
        nonce: keyring.signing,
        ...(keyring.degraded !== undefined ? { hostDegradations: [keyring.degraded] } : {}),
        rules: enabledRules(settings, BUILTIN_RULES),
        schema: { actualSha256: schema.sha256, expectedPrefix: readSchemaStamp() },
        metrics: sink,
        toolVersion: packageVersion(),
        clock,
      },
    );
    const report = result.report;
    // Every snippet verifies under a version verifiers accept before the decision is recorded.
    verifyReportRedactions(report, keyring.accepted);
    // An answer Lambda cannot return would leave a recorded decision nobody receives: refuse it first.
    const size = payloadBytes(JSON.stringify(buildResponse(report, { height: 0, hash: '0'.repeat(64) }, result.events)));
    if (size > maxResponseBytes) {
      throw new IntegrityError(
        'REPORT_INVALID',
        `the report of ${report.items.length} findings makes a ${size}-byte answer, over the ${maxResponseBytes} bytes a Lambda invocation can return: run this analysis locally`,
        { context: { size, limit: maxResponseBytes } },
      );
    }
    let block;
    try {
      // The last stage: no answer claims a decision the ledger does not hold.
      block = await appendDecision(current.stores.ledger, { report, repository: event.repository, mode: event.mode, commit: event.commitSha, clock });
    } catch (error) {
      sink.count('LedgerAppendFailure', 1, {});
      throw error;
    }
    report.meta.ledger = { height: block.height, hash: block.hash };
    validateReport(report);
    sink.count('OracleDecision', 1, { outcome: report.machine_decision.outcome });
    logger.info('analysis decided', {
      repository: event.repository,
      mode: event.mode,
      runId: report.meta.run_id,
      outcome: report.machine_decision.outcome,
      degraded: report.machine_decision.degraded,
      findings: report.items.length,
      ledgerHeight: block.height,
      nonceVersion: keyring.signing.version,
      ...(request.client !== undefined ? { client: `${request.client.name} ${request.client.version}` } : {}),
    });
    return buildResponse(report, { height: block.height, hash: block.hash }, result.events);
  }
}

const defaultHandler = createOracleHandler();

/** The Lambda entry point (event, context): configuration comes from the function's environment. */
export async function handler(event: unknown): Promise<RemoteAnalyzeAnswer> {
  return defaultHandler(event, process.env);
}

/**
 * The error the invocation fails with: the original class name (the
 * runtime's `errorType`) and `<described message> [<CODE>]`, with no stack
 * frames (the caller sees the runtime's error document).
 */
function lambdaError(error: unknown): Error {
  const { name, message } = remoteFailureMessage(error);
  const failure = new Error(message);
  failure.name = name;
  failure.stack = `${name}: ${message}`;
  return failure;
}

/** Name, code and message only: SDK errors can carry request details, which are not logged. */
function describe(error: unknown): { name: string; code?: string; message: string } {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const code = error instanceof PhaseMirrorError ? error.code : (error as { code?: unknown }).code;
  return { name: error.name, ...(typeof code === 'string' ? { code } : {}), message: error.message };
}
