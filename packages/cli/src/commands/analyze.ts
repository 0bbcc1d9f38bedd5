import { appendFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import {
  appendDecision,
  BUILTIN_RULES,
  collectArtifacts,
  enabledRules,
  formatGithub,
  formatJobSummary,
  formatMarkdown,
  formatSarif,
  formatText,
  JsonLinesMetricsSink,
  loadReportSchema,
  packageVersion,
  readSchemaStamp,
  resolveEventContext,
  runOracle,
  UsageError,
  verifyReportRedactions,
  writeReport,
  type DissonanceReport,
  type EventFlags,
  type OracleResult,
} from '@phase-mirror/mirror-dissonance';
import { writeFileAtomic } from '../atomic-write';
import { EXIT } from '../exit-codes';
import { gatherGitHubInputs, type GitHubInputOptions } from '../github-inputs';
import { progress, type Io } from '../io';
import { nonceLoaderFor, withStores } from '../stores';
import { openWorkspace } from '../workspace';

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
}

export function parseFormat(value: string): ReportFormat {
  if ((REPORT_FORMATS as readonly string[]).includes(value)) return value as ReportFormat;
  throw new UsageError(`unknown format "${value}"; use one of ${REPORT_FORMATS.join(', ')}`, { location: { flag: '--format' } });
}

/**
 * `analyze` (and `drift`): collect, run the pipeline on the embedded store,
 * write the validated report, print it in the chosen format. Exit 0 on pass
 * or warn, 1 on block.
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

  const { result, keyring } = await withStores(workspace, options.backend, io, async (stores) => {
    // Loaded before any state changes: without a valid nonce the oracle does not decide (exit 2).
    const keyring = await nonceLoaderFor(stores.nonceStore, stores.backend, workspace).keyring();
    if (keyring.degraded !== undefined) io.err(`warning: degraded (${keyring.degraded.reason}): ${keyring.degraded.details}`);
    progress(io, `evaluating ${artifacts.fileList.length} files`);
    const schema = loadReportSchema();
    const oracle: OracleResult = await runOracle(
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

  const report = result.report;
  writeReport(report, reportFile, (r) => verifyReportRedactions(r, keyring.accepted));
  if (sarifFile !== undefined) writeFileAtomic(sarifFile, sarifText(report));
  printReport(report, format, io, result);
  if (format === 'github' && io.env.GITHUB_STEP_SUMMARY) appendFileSync(io.env.GITHUB_STEP_SUMMARY, formatJobSummary(report));
  return report.machine_decision.outcome === 'block' ? EXIT.BLOCK : EXIT.OK;
}

function sarifText(report: DissonanceReport): string {
  const sarif = formatSarif(report, {
    toolVersion: packageVersion(),
    rules: BUILTIN_RULES.map((r) => ({ id: r.id, title: r.title, description: r.description, severity: r.severity })),
  });
  return `${JSON.stringify(sarif, null, 2)}\n`;
}

function printReport(report: DissonanceReport, format: ReportFormat, io: Io, result: OracleResult): void {
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
      if (result.events.length) {
        io.out('FP events (mark a false positive with `phase-mirror fp mark <event-id> --reviewer R --reason T`):');
        for (const event of result.events) io.out(`  ${event.eventId}  ${event.ruleId}  ${event.path}`);
      }
    }
  }
}
