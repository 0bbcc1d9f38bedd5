/**
 * Ledger audit commands (issue 6): `ledger replay`, `ledger drift-radar`,
 * `governance-chain` and `audit-report`. Each takes its parsed flags (strings
 * as commander gives them), the ledger store opened by the caller on the
 * configured backend, its dependencies and the Io, and returns the exit code:
 *
 * - `ledger replay`: 0 when every hash, root and link recomputes, 1 when any
 *   failure (listed, and written with --output);
 * - `ledger drift-radar`: the governance signal's code — OK 0, WARN 0, BLOCK 1;
 * - `governance-chain`: 0 when the six jobs pass, 1 otherwise;
 * - `audit-report`: 0 once the report is written (the verdict is in it).
 *
 * All of them only read the ledger. Output files are written atomically;
 * their folder must exist. Bad flags are usage errors naming the flag
 * (exit 3); unreadable or invalid input files are input errors naming the
 * file (exit 3); an unreachable store fails closed (exit 2).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import {
  buildEvidencePack,
  createGovernanceJobs,
  formatGovernanceChain,
  formatGovernanceSignal,
  formatPercent,
  InputError,
  parseDriftSignals,
  parseGovernanceChainResult,
  parseGovernancePolicy,
  parseReplayResults,
  parseScanTypes,
  readOnlyLedger,
  renderAuditReport,
  replayLedger,
  runDriftRadar,
  runGovernanceChain,
  UsageError,
  auditVerdict,
  type EpochTrust,
  type GovernanceJobDeps,
  type LedgerStore,
  type ReplayStrategy,
} from '@phase-mirror/mirror-dissonance';
import { writeFileAtomic } from '../atomic-write';
import { EXIT } from '../exit-codes';
import type { Io } from '../io';

/** Failures or signals printed to the terminal; the JSON output holds them all. */
const LISTED = 50;

export interface LedgerAuditDeps {
  /** @default () => new Date() */
  now?: () => Date;
}

export interface LedgerReplayDeps extends LedgerAuditDeps {
  /** Which sealed epochs may anchor a sliding window (e.g. those whose signatures verify); default: any whose root verifies. */
  trustedEpochs?: EpochTrust;
}

export interface LedgerReplayOptions {
  /** full_chain | sliding_window. @default 'full_chain' */
  strategy?: string;
  window?: string;
  start?: string;
  end?: string;
  /** Replay is always read-only; the flag makes the store view refuse writes explicitly. */
  readOnly?: boolean;
  /** Write the JSON results here. */
  output?: string;
  /** One repository's stream; default every stream. */
  repo?: string;
}

/** `ledger replay --strategy full_chain|sliding_window [--window N] [--start H --end H] [--read-only] [--output F]`. */
export async function ledgerReplayCommand(options: LedgerReplayOptions, ledger: LedgerStore, deps: LedgerReplayDeps, io: Io): Promise<number> {
  const strategy = (options.strategy ?? 'full_chain') as ReplayStrategy;
  const window = wholeFlag(options.window, '--window');
  const start = wholeFlag(options.start, '--start');
  const end = wholeFlag(options.end, '--end');
  const output = outputFile(io, options.output, '--output');
  const store = options.readOnly === true ? readOnlyLedger(ledger) : ledger;

  const result = await replayLedger(store, {
    strategy,
    ...(window !== undefined ? { window } : {}),
    ...(start !== undefined ? { start } : {}),
    ...(end !== undefined ? { end } : {}),
    ...(options.repo !== undefined ? { repository: options.repo } : {}),
    ...(deps.trustedEpochs !== undefined ? { trustedEpochs: deps.trustedEpochs } : {}),
  });

  io.out(`Replayed ${result.replayed} blocks, Success rate: ${formatPercent(result.successRate)}`);
  if (result.range.length === 0 || result.range.every((r) => r.head === null)) io.out(`no ledger blocks${options.repo !== undefined ? ` for ${options.repo}` : ''} in ${ledger.location}`);
  for (const r of result.range) {
    if (r.anchor !== null) io.out(`${r.repository}: window starts after sealed epoch ${r.anchor.epoch} (heights ${r.anchor.startHeight}-${r.anchor.endHeight}), trusted after its root was verified`);
  }
  for (const f of result.failures.slice(0, LISTED)) io.out(`FAIL ${f.repository}@${f.height} ${f.field} (${f.rule}): ${f.message}`);
  if (result.failures.length > LISTED) io.out(`… and ${result.failures.length - LISTED} more failure(s)${output !== undefined ? ` in ${options.output}` : ''}`);
  if (output !== undefined) {
    writeFileAtomic(output, `${JSON.stringify(result, null, 2)}\n`);
    io.err(`wrote replay results to ${options.output}`);
  }
  return result.failures.length === 0 ? EXIT.OK : EXIT.BLOCK;
}

export interface LedgerDriftRadarOptions {
  /** Comma-separated: schema,hash-delta,metadata,statement. @default all */
  scanTypes?: string;
  /** strict | moderate | permissive. @default 'moderate' */
  governancePolicy?: string;
  output?: string;
  evidencePack?: string;
  repo?: string;
  start?: string;
  end?: string;
}

/**
 * `ledger drift-radar [--scan-types ...] [--governance-policy P] [--output F] [--evidence-pack F]`:
 * prints the signals and `GOVERNANCE SIGNAL: OK|WARN|BLOCK`; exit 0 on OK and WARN, 1 on BLOCK.
 */
export async function ledgerDriftRadarCommand(options: LedgerDriftRadarOptions, ledger: LedgerStore, deps: LedgerAuditDeps, io: Io): Promise<number> {
  const scanTypes = options.scanTypes === undefined ? undefined : usage(() => parseScanTypes(options.scanTypes!));
  const policy = options.governancePolicy === undefined ? 'moderate' : usage(() => parseGovernancePolicy(options.governancePolicy!));
  const start = wholeFlag(options.start, '--start');
  const end = wholeFlag(options.end, '--end');
  const output = outputFile(io, options.output, '--output');
  const evidencePack = outputFile(io, options.evidencePack, '--evidence-pack');
  const now = deps.now ?? (() => new Date());

  const result = await runDriftRadar(ledger, {
    policy,
    now,
    ...(scanTypes !== undefined ? { scanTypes } : {}),
    ...(options.repo !== undefined ? { repository: options.repo } : {}),
    ...(start !== undefined ? { start } : {}),
    ...(end !== undefined ? { end } : {}),
  });
  const c = result.counts;
  io.out(
    `Drift radar (${result.scanTypes.join(', ')}; policy ${result.policy}): ${result.scanned.blocks} block(s) in ${result.scanned.repositories} stream(s), ${result.signals.length} signal(s) — ${c.critical} critical, ${c.error} error, ${c.warn} warn, ${c.info} info`,
  );
  for (const s of result.signals.slice(0, LISTED)) {
    io.out(`${s.governance.padEnd(5)} ${s.severity} ${s.scan}/${s.kind} ${s.repository}@${s.height} ${s.field}: ${s.message}`);
  }
  if (result.signals.length > LISTED) io.out(`… and ${result.signals.length - LISTED} more signal(s)${output !== undefined ? ` in ${options.output}` : ''}`);
  if (output !== undefined) {
    writeFileAtomic(output, `${JSON.stringify(result, null, 2)}\n`);
    io.err(`wrote drift signals to ${options.output}`);
  }
  if (evidencePack !== undefined) {
    const pack = await buildEvidencePack(ledger, result, { now });
    writeFileAtomic(evidencePack, `${JSON.stringify(pack, null, 2)}\n`);
    io.err(`wrote the evidence pack (${pack.blocks.length} block(s), ${pack.proofs.length} proof(s)) to ${options.evidencePack}`);
  }
  io.out(formatGovernanceSignal(result));
  return result.exitCode;
}

export interface GovernanceChainOptions {
  startBlock?: string;
  endBlock?: string;
  /** Write the JSON results here. */
  output?: string;
  repo?: string;
  /** Drift radar policy of the drift job. @default 'moderate' */
  governancePolicy?: string;
}

/** The jobs' dependencies (migration status, epoch verification with the trusted keys), wired by the caller. */
export type GovernanceChainCommandDeps = Omit<GovernanceJobDeps, 'driftPolicy'> & LedgerAuditDeps;

/** `governance-chain [--start-block H] [--end-block H] [-o F]`: six jobs; exit 0 when all pass, 1 otherwise. */
export async function governanceChainCommand(options: GovernanceChainOptions, ledger: LedgerStore, deps: GovernanceChainCommandDeps, io: Io): Promise<number> {
  const start = wholeFlag(options.startBlock, '--start-block');
  const end = wholeFlag(options.endBlock, '--end-block');
  if (start !== undefined && end !== undefined && start > end) {
    throw new UsageError(`--start-block ${start} is after --end-block ${end}`, { location: { flag: '--start-block' } });
  }
  const driftPolicy = options.governancePolicy === undefined ? undefined : usage(() => parseGovernancePolicy(options.governancePolicy!));
  const output = outputFile(io, options.output, '--output');
  const { now, ...jobDeps } = deps;
  const jobs = createGovernanceJobs({ ...jobDeps, ...(driftPolicy !== undefined ? { driftPolicy } : {}) });
  const result = await runGovernanceChain(ledger, jobs, {
    ...(now !== undefined ? { now } : {}),
    ...(options.repo !== undefined ? { repository: options.repo } : {}),
    ...(start !== undefined ? { start } : {}),
    ...(end !== undefined ? { end } : {}),
  });
  for (const line of formatGovernanceChain(result)) io.out(line);
  if (output !== undefined) {
    writeFileAtomic(output, `${JSON.stringify(result, null, 2)}\n`);
    io.err(`wrote governance chain results to ${options.output}`);
  }
  return result.passed ? EXIT.OK : EXIT.BLOCK;
}

export interface AuditReportOptions {
  replayResults?: string;
  driftSignals?: string;
  /** Optional governance-chain JSON to include. */
  governance?: string;
  /** The markdown file; stdout when absent. */
  output?: string;
}

/** `audit-report --replay-results F --drift-signals F [--governance F] -o audit.md`: exit 0 once written. */
export async function auditReportCommand(options: AuditReportOptions, deps: LedgerAuditDeps, io: Io): Promise<number> {
  if (options.replayResults === undefined) throw new UsageError('give --replay-results (the JSON of `phase-mirror ledger replay --output`)', { location: { flag: '--replay-results' } });
  if (options.driftSignals === undefined) throw new UsageError('give --drift-signals (the JSON of `phase-mirror ledger drift-radar --output`)', { location: { flag: '--drift-signals' } });
  const output = outputFile(io, options.output, '--output');
  const replayResults = parseReplayResults(readInput(io, options.replayResults), options.replayResults);
  const driftSignals = parseDriftSignals(readInput(io, options.driftSignals), options.driftSignals);
  const governance = options.governance === undefined ? undefined : parseGovernanceChainResult(readInput(io, options.governance), options.governance);
  const markdown = renderAuditReport({
    replayResults,
    driftSignals,
    ...(governance !== undefined ? { governance } : {}),
    generatedAt: (deps.now ?? (() => new Date()))().toISOString(),
  });
  const verdict = auditVerdict({ replayResults, driftSignals, ...(governance !== undefined ? { governance } : {}) });
  if (output === undefined) {
    io.out(markdown);
  } else {
    writeFileAtomic(output, markdown);
    io.out(`wrote the audit report to ${options.output} (verdict: ${verdict})`);
  }
  return EXIT.OK;
}

// ---- helpers ------------------------------------------------------------------

function wholeFlag(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(Number(value))) {
    throw new UsageError(`${flag} must be a whole number, got ${JSON.stringify(value)}`, { location: { flag } });
  }
  return Number(value);
}

/** The absolute path of an output file whose folder exists, checked before anything runs. */
function outputFile(io: Io, value: string | undefined, flag: string): string | undefined {
  if (value === undefined) return undefined;
  if (value.trim().length === 0) throw new UsageError(`${flag} needs a file name`, { location: { flag } });
  const file = resolve(io.cwd, value);
  if (!existsSync(dirname(file))) throw new UsageError(`directory of ${value} does not exist: ${dirname(file)}`, { location: { flag } });
  return file;
}

function readInput(io: Io, file: string): string {
  try {
    return readFileSync(resolve(io.cwd, file), 'utf8');
  } catch (error) {
    throw new InputError('FILE_UNREADABLE', `${file}: cannot read (${(error as NodeJS.ErrnoException).code ?? String(error)})`, {
      location: { file },
      cause: error,
    });
  }
}

/** Core input errors about a flag's value become usage errors naming the flag. */
function usage<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof InputError && error.location.flag !== undefined) throw new UsageError(error.message, { location: error.location });
    throw error;
  }
}
