import { appendFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import {
  appendDecision,
  assertFunctionName,
  assertPayloadSize,
  BUILTIN_RULES,
  collectArtifacts,
  enabledRules,
  formatGithub,
  formatJobSummary,
  formatMarkdown,
  formatSarif,
  formatText,
  formatBytes,
  invokeRemoteAnalysis,
  JsonLinesMetricsSink,
  loadReportSchema,
  packageVersion,
  payloadBytes,
  readSchemaStamp,
  resolveEventContext,
  runOracle,
  serializeRequest,
  UsageError,
  verifyReportRedactions,
  writeReport,
  type Artifacts,
  type DissonanceReport,
  type EventContext,
  type EventFlags,
} from '@phase-mirror/mirror-dissonance';
import { writeFileAtomic } from '../atomic-write';
import { EXIT } from '../exit-codes';
import { gatherGitHubInputs, type GitHubInputOptions } from '../github-inputs';
import { progress, type Io } from '../io';
import { nonceLoaderFor, withStores } from '../stores';
import { openWorkspace, type Workspace } from '../workspace';

export const REPORT_FORMATS = ['text', 'json', 'sarif', 'github', 'markdown'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export interface AnalyzeOptions extends EventFlags, GitHubInputOptions {
  config?: string;
  stateDir?: string;
  backend?: string;
  output: string;
  format: string;
  /** Also write SARIF 2.1.0 to this file (for code-scanning upload) in the same run. */
  sarif?: string;
  /** Run the oracle in this Lambda function (name, qualified name or ARN) instead of in-process. */
  remote?: string;
}

/** What one analysis collected before the oracle runs: the same for a local and a remote run. */
export interface CollectedAnalysis {
  workspace: Workspace;
  event: EventContext;
  artifacts: Artifacts;
}

/** A decided report and the FP events recorded for its findings (ids for `fp mark`). */
interface Decided {
  report: DissonanceReport;
  events: readonly { eventId: string; ruleId: string; path: string }[];
  /** Verifies the redactions before the report is written (a remote report was verified by the function). */
  verify: (report: DissonanceReport) => void;
}

export function parseFormat(value: string): ReportFormat {
  if ((REPORT_FORMATS as readonly string[]).includes(value)) return value as ReportFormat;
  throw new UsageError(`unknown format "${value}"; use one of ${REPORT_FORMATS.join(', ')}`, { location: { flag: '--format' } });
}

/**
 * `analyze` (and `drift`): collect, run the pipeline (in-process on the
 * configured store, or in the oracle function with `--remote`), write the
 * validated report, print it in the chosen format. Exit 0 on pass or warn,
 * 1 on block.
 */
export async function analyzeCommand(path: string | undefined, options: AnalyzeOptions, io: Io): Promise<number> {
  const format = parseFormat(options.format);
  const reportFile = resolve(io.cwd, options.output);
  // Checked before any state changes, so a bad -o never leaves a run without its report.
  if (!existsSync(dirname(reportFile))) {
    throw new UsageError(`directory of the report file does not exist: ${dirname(reportFile)}`, { location: { flag: '--output' } });
  }
  const sarifFile = options.sarif === undefined ? undefined : resolve(io.cwd, options.sarif);
  if (sarifFile !== undefined && !existsSync(dirname(sarifFile))) {
    throw new UsageError(`directory of the SARIF file does not exist: ${dirname(sarifFile)}`, { location: { flag: '--sarif' } });
  }
  if (options.remote !== undefined) {
    assertFunctionName(options.remote);
    if (options.backend !== undefined) {
      throw new UsageError('--backend has no effect with --remote: the oracle function uses its own stores', { location: { flag: '--backend' } });
    }
  }
  const collected = await collectForAnalysis(path, options, io);
  const decided = options.remote !== undefined ? await analyzeRemotely(collected, options.remote, io) : await analyzeLocally(collected, options, io);

  const report = decided.report;
  writeReport(report, reportFile, decided.verify);
  if (sarifFile !== undefined) writeFileAtomic(sarifFile, sarifText(report));
  printReport(report, format, io, decided.events);
  if (format === 'github' && io.env.GITHUB_STEP_SUMMARY) appendFileSync(io.env.GITHUB_STEP_SUMMARY, formatJobSummary(report));
  return report.machine_decision.outcome === 'block' ? EXIT.BLOCK : EXIT.OK;
}

/**
 * Resolves the workspace and the event and collects the artifacts (with the
 * GitHub context when a token is set): everything the oracle needs, local or remote.
 */
export async function collectForAnalysis(path: string | undefined, options: AnalyzeOptions, io: Io): Promise<CollectedAnalysis> {
  const workspace = openWorkspace(io.cwd, path, options);
  const { config } = workspace;
  let event = resolveEventContext(
    { ...options, strict: options.strict === true || config.strict, dryRun: options.dryRun === true || config.dryRun },
    io.env,
    workspace.root,
  );
  const github = await gatherGitHubInputs(event, options, io);
  if (github.changedFiles !== undefined) event = { ...event, changedFiles: github.changedFiles };
  if (event.author === undefined && github.pullRequest !== undefined) event = { ...event, author: github.pullRequest.author };
  if (event.headRef === undefined && github.pullRequest !== undefined) event = { ...event, headRef: github.pullRequest.headRef };

  progress(io, `collecting artifacts in ${workspace.root}`);
  const artifacts = await collectArtifacts(workspace.root, {
    policy: config.policy,
    ...(github.branchProtection ? { branchProtection: github.branchProtection } : {}),
    ...(github.pullRequest ? { pullRequest: github.pullRequest } : {}),
    ...(github.organization ? { organization: github.organization } : {}),
  });

  for (const entry of artifacts.skipped) io.err(`warning: skipped ${entry.path}: ${entry.reason.replace(/_/g, ' ')} (${entry.detail})`);
  return { workspace, event, artifacts };
}

/** The pipeline in-process on the configured store; the decision is appended to the ledger. */
async function analyzeLocally({ workspace, event, artifacts }: CollectedAnalysis, options: AnalyzeOptions, io: Io): Promise<Decided> {
  const { config } = workspace;
  const { result, keyring } = await withStores(workspace, options.backend, io, async (stores) => {
    // Loaded before any state changes: without a valid nonce the oracle does not decide (exit 2).
    const keyring = await nonceLoaderFor(stores.nonceStore, stores.backend, workspace).keyring();
    if (keyring.degraded !== undefined) io.err(`warning: degraded (${keyring.degraded.reason}): ${keyring.degraded.details}`);
    progress(io, `evaluating ${artifacts.fileList.length} files`);
    const schema = loadReportSchema();
    const oracle = await runOracle(
      { artifacts, event, settings: config.settings },
      {
        fpStore: stores.fpStore,
        blockCounter: stores.blockCounter,
        fprHistory: stores.fprHistory,
        nonce: keyring.signing,
        ...(keyring.degraded !== undefined ? { hostDegradations: [keyring.degraded] } : {}),
        rules: enabledRules(config.settings, BUILTIN_RULES),
        schema: { actualSha256: schema.sha256, expectedPrefix: readSchemaStamp() },
        metrics: new JsonLinesMetricsSink(join(workspace.stateDir, 'metrics.jsonl')),
        toolVersion: packageVersion(),
      },
    );
    // The last stage (DESIGN §3): the decision becomes a block of the repository's ledger stream.
    // A failed append fails closed (exit 2): no report claims a decision the ledger does not hold.
    const block = await appendDecision(stores.ledger, { report: oracle.report, repository: event.repository, mode: event.mode, commit: event.commitSha });
    oracle.report.meta.ledger = { height: block.height, hash: block.hash };
    return { result: oracle, keyring };
  });
  return { report: result.report, events: result.events, verify: (report) => verifyReportRedactions(report, keyring.accepted) };
}

/**
 * The pipeline in the oracle function (DESIGN §3): the collected artifacts
 * go to the function in one request of at most 5 MB (checked before any
 * call); it decides on its stores, signs and verifies the evidence and
 * appends the decision to its ledger. This host needs only
 * lambda:InvokeFunction: no tables, no nonce.
 */
async function analyzeRemotely({ workspace, event, artifacts }: CollectedAnalysis, functionName: string, io: Io): Promise<Decided> {
  const payload = serializeRequest({ artifacts, event, settings: workspace.config.settings }, { name: 'phase-mirror', version: packageVersion() });
  assertPayloadSize(payload);
  const region = remoteRegion(functionName, workspace, io.env);
  const endpoint = io.env.AWS_ENDPOINT_URL_LAMBDA || io.env.AWS_ENDPOINT_URL || undefined;
  const credentials =
    io.env.AWS_ACCESS_KEY_ID && io.env.AWS_SECRET_ACCESS_KEY
      ? {
          accessKeyId: io.env.AWS_ACCESS_KEY_ID,
          secretAccessKey: io.env.AWS_SECRET_ACCESS_KEY,
          ...(io.env.AWS_SESSION_TOKEN ? { sessionToken: io.env.AWS_SESSION_TOKEN } : {}),
        }
      : undefined;
  progress(io, `invoking ${functionName} in ${region} with ${formatBytes(payloadBytes(payload))} of artifacts`);
  const response = await invokeRemoteAnalysis({
    functionName,
    payload,
    region,
    ...(endpoint !== undefined ? { endpoint } : {}),
    ...(credentials !== undefined ? { credentials } : {}),
  });
  return {
    report: response.report,
    events: response.events,
    // The function verified every redaction under its nonce before answering; this host has no nonce.
    verify: () => undefined,
  };
}

/** The function ARN's region, else storage.region, AWS_REGION or AWS_DEFAULT_REGION. */
function remoteRegion(functionName: string, workspace: Workspace, env: NodeJS.ProcessEnv): string {
  const fromArn = /^arn:aws[a-zA-Z-]*:lambda:([a-z0-9-]+):/.exec(functionName)?.[1];
  const region = fromArn ?? workspace.config.storage.region ?? (env.AWS_REGION || undefined) ?? (env.AWS_DEFAULT_REGION || undefined);
  if (region === undefined) {
    throw new UsageError('--remote needs the AWS region of the function: set AWS_REGION, storage.region in .phase-mirror.yml, or pass the function ARN', {
      location: { flag: '--remote' },
    });
  }
  return region;
}

function sarifText(report: DissonanceReport): string {
  const sarif = formatSarif(report, {
    toolVersion: packageVersion(),
    rules: BUILTIN_RULES.map((r) => ({ id: r.id, title: r.title, description: r.description, severity: r.severity })),
  });
  return `${JSON.stringify(sarif, null, 2)}\n`;
}

function printReport(report: DissonanceReport, format: ReportFormat, io: Io, events: Decided['events']): void {
  switch (format) {
    case 'json':
      io.out(JSON.stringify(report, null, 2));
      return;
    case 'sarif':
      io.out(sarifText(report));
      return;
    case 'markdown':
      io.out(formatMarkdown(report));
      return;
    case 'github':
      io.out(formatGithub(report));
      return;
    case 'text': {
      io.out(formatText(report, { color: io.color }));
      if (events.length) {
        io.out('FP events (mark a false positive with `phase-mirror fp mark <event-id> --reviewer R --reason T`):');
        for (const event of events) io.out(`  ${event.eventId}  ${event.ruleId}  ${event.path}`);
      }
    }
  }
}
