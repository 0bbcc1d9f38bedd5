/**
 * The governance chain (docs/ledger.md, "Governance chain"): six jobs run in
 * order over the ledger, each independently (a failing job does not stop the
 * others), all read-only:
 *
 * 1. `schema_migration` — the state database is at the latest migration (a
 *    provided status callback) and every stream's head is in a known block
 *    schema version;
 * 2. `replay_verification` — full-chain replay, no failure;
 * 3. `epoch_validation` — every sealed epoch in range verifies (a provided
 *    callback: `verifyEpochs` of epochs.ts with the trusted public keys);
 * 4. `drift_radar` — every scan, governance signal not BLOCK under the policy;
 * 5. `attestation_sweep` — `validateAttestationRoots` on every block;
 * 6. `dual_commitment_readiness` — SHA3-256 available in this runtime (known
 *    answer), and, once activated, every block at or after the activation
 *    height dual-v1 with its SHA3 hash, none before it, and every epoch of
 *    dual blocks sealed with a SHA3-256 root. Not activated: ready, with a note.
 *
 * The runner takes the jobs as functions (`GovernanceJobs`), so hosts and
 * tests inject them; `createGovernanceJobs` builds the standard six from
 * their dependencies. `--start-block/--end-block` bound every job.
 */
import { PhaseMirrorError } from '../errors';
import { validateAttestationRoots, KNOWN_SCHEMA_VERSIONS, decodeStoredBlock } from './consensus';
import { runDriftRadar, type GovernancePolicy } from './drift-radar';
import { digest } from './hash';
import { readOnlyLedger, replayLedger, walkStream } from './replay';
import type { LedgerStore } from './store';

export type GovernanceJobId =
  | 'schema_migration'
  | 'replay_verification'
  | 'epoch_validation'
  | 'drift_radar'
  | 'attestation_sweep'
  | 'dual_commitment_readiness';

/** The six jobs, in the order they run. */
export const GOVERNANCE_JOB_ORDER: readonly { id: GovernanceJobId; title: string }[] = [
  { id: 'schema_migration', title: 'schema/migration check' },
  { id: 'replay_verification', title: 'replay verification' },
  { id: 'epoch_validation', title: 'epoch validation' },
  { id: 'drift_radar', title: 'drift radar' },
  { id: 'attestation_sweep', title: 'attestation integrity sweep' },
  { id: 'dual_commitment_readiness', title: 'dual-commitment readiness' },
];

export interface GovernanceJobContext {
  /** A read-only view of the ledger. */
  ledger: LedgerStore;
  repository?: string;
  start?: number;
  end?: number;
}

export interface GovernanceJobOutcome {
  passed: boolean;
  summary: string;
  notes?: string[];
  details?: unknown;
}

export type GovernanceJob = (context: GovernanceJobContext) => Promise<GovernanceJobOutcome>;
export type GovernanceJobs = Readonly<Record<GovernanceJobId, GovernanceJob>>;

export interface GovernanceJobResult {
  id: GovernanceJobId;
  title: string;
  status: 'passed' | 'failed';
  summary: string;
  notes: string[];
  details?: unknown;
  /** The job threw: it failed without a verdict of its own. */
  error?: { name: string; code?: string; message: string };
}

export interface GovernanceChainResult {
  kind: 'phase-mirror.governance-chain';
  version: 1;
  generatedAt: string;
  range: { start: number | null; end: number | null };
  repository: string | null;
  passed: boolean;
  passedJobs: number;
  totalJobs: number;
  failedJobs: GovernanceJobId[];
  jobs: GovernanceJobResult[];
}

export interface GovernanceChainOptions {
  repository?: string;
  start?: number;
  end?: number;
  now?: () => Date;
}

/** Runs the six jobs in order; a job that throws fails with the error recorded. */
export async function runGovernanceChain(store: LedgerStore, jobs: GovernanceJobs, options: GovernanceChainOptions = {}): Promise<GovernanceChainResult> {
  const context: GovernanceJobContext = {
    ledger: readOnlyLedger(store),
    ...(options.repository !== undefined ? { repository: options.repository } : {}),
    ...(options.start !== undefined ? { start: options.start } : {}),
    ...(options.end !== undefined ? { end: options.end } : {}),
  };
  const results: GovernanceJobResult[] = [];
  for (const { id, title } of GOVERNANCE_JOB_ORDER) {
    try {
      const outcome = await jobs[id](context);
      results.push({
        id,
        title,
        status: outcome.passed ? 'passed' : 'failed',
        summary: outcome.summary,
        notes: outcome.notes ?? [],
        ...(outcome.details === undefined ? {} : { details: outcome.details }),
      });
    } catch (error) {
      const err = error instanceof Error ? error : new Error(String(error));
      results.push({
        id,
        title,
        status: 'failed',
        summary: `the job could not run: ${err.message}`,
        notes: [],
        error: { name: err.name, ...(error instanceof PhaseMirrorError ? { code: error.code } : {}), message: err.message },
      });
    }
  }
  const failedJobs = results.filter((r) => r.status === 'failed').map((r) => r.id);
  return {
    kind: 'phase-mirror.governance-chain',
    version: 1,
    generatedAt: (options.now ?? (() => new Date()))().toISOString(),
    range: { start: options.start ?? null, end: options.end ?? null },
    repository: options.repository ?? null,
    passed: failedJobs.length === 0,
    passedJobs: results.length - failedJobs.length,
    totalJobs: results.length,
    failedJobs,
    jobs: results,
  };
}

/** `Governance Chain: PASSED (6/6 jobs)` or `Governance Chain: FAILED (4/6 jobs) — failed: replay_verification, drift_radar`. */
export function formatGovernanceChainLine(result: GovernanceChainResult): string {
  const count = `(${result.passedJobs}/${result.totalJobs} jobs)`;
  return result.passed ? `Governance Chain: PASSED ${count}` : `Governance Chain: FAILED ${count} — failed: ${result.failedJobs.join(', ')}`;
}

/** One line per job, then the verdict line. */
export function formatGovernanceChain(result: GovernanceChainResult): string[] {
  const lines: string[] = [];
  for (const job of result.jobs) {
    lines.push(`${job.status === 'passed' ? '[PASS]' : '[FAIL]'} ${job.id} (${job.title}): ${job.summary}`);
    for (const note of job.notes) lines.push(`       note: ${note}`);
  }
  lines.push(formatGovernanceChainLine(result));
  return lines;
}

// ---- the standard jobs --------------------------------------------------------

/** The state schema as the store reports it; structurally `MigrationStatus` of the SQLite store. */
export interface SchemaMigrationState {
  /** Highest applied migration (0: none). */
  currentVersion: number;
  /** Highest migration this code knows. */
  latestVersion: number;
  pending?: readonly { version: number }[];
}

/** One epoch's verification; structurally `EpochVerification` of epochs.ts. */
export interface EpochCheck {
  repository: string;
  number: number;
  startHeight: number;
  endHeight: number;
  ok: boolean;
  failures: readonly { field: string; height?: number; message: string }[];
}

export interface GovernanceJobDeps {
  /** The state database's migration status; undefined on a backend without versioned migrations (the job says so). */
  migrationStatus?: () => SchemaMigrationState | Promise<SchemaMigrationState>;
  /** Verifies the sealed epochs (roots and signatures), e.g. `(scope) => verifyEpochs(store, publicKeys, scope)`. */
  verifyEpochs: (scope: { repository?: string }) => Promise<readonly EpochCheck[]>;
  /** Drift radar policy. @default 'moderate' */
  driftPolicy?: GovernancePolicy;
  /** Whether SHA3-256 works in this runtime. @default a known-answer test on node:crypto */
  sha3Available?: () => boolean;
  /** Failures listed per job in the JSON (the counts are always complete). @default 100 */
  maxListed?: number;
}

const SHA3_EMPTY = 'a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a';

/** SHA3-256 of the empty string matches FIPS 202's known answer. */
export function sha3AvailableInRuntime(): boolean {
  try {
    return digest('sha3-256').toString('hex') === SHA3_EMPTY;
  } catch {
    return false;
  }
}

/** The standard six jobs over their dependencies. */
export function createGovernanceJobs(deps: GovernanceJobDeps): GovernanceJobs {
  const maxListed = deps.maxListed ?? 100;
  return {
    schema_migration: async (ctx) => {
      const notes: string[] = [];
      let passed = true;
      let summary: string;
      if (deps.migrationStatus === undefined) {
        summary = 'no versioned migrations on this backend';
        notes.push('the state tables are defined by the deployment (DynamoDB), not by migrations');
      } else {
        const status = await deps.migrationStatus();
        const pending = status.pending?.map((p) => p.version) ?? [];
        if (status.currentVersion > status.latestVersion) {
          passed = false;
          summary = `the database is at migration ${status.currentVersion}, newer than this code (${status.latestVersion})`;
        } else if (status.currentVersion < status.latestVersion) {
          passed = false;
          summary = `migration ${status.currentVersion} of ${status.latestVersion}: pending ${pending.length > 0 ? pending.join(', ') : `${status.currentVersion + 1}-${status.latestVersion}`} (run \`phase-mirror db migrate\`)`;
        } else {
          summary = `migration ${status.currentVersion} of ${status.latestVersion}`;
        }
      }
      const unknown: { repository: string; height: number; schemaVersion: unknown }[] = [];
      const repositories = await scope(ctx);
      for (const repository of repositories) {
        const head = await ctx.ledger.head(repository);
        if (head === undefined) continue;
        const decoded = decodeStoredBlock(head);
        const version = 'names' in decoded ? decoded.values.schema_version : undefined;
        if (typeof version !== 'number' || !KNOWN_SCHEMA_VERSIONS.includes(version)) unknown.push({ repository, height: head.height, schemaVersion: version ?? null });
      }
      if (unknown.length > 0) {
        passed = false;
        summary += `; ${unknown.length} stream head(s) in an unknown block schema (${unknown.map((u) => `${u.repository}@${u.height}`).join(', ')})`;
      } else {
        summary += `; ${repositories.length} stream head(s) in block schema ${KNOWN_SCHEMA_VERSIONS.join('/')}`;
      }
      return { passed, summary, notes, details: { unknownHeads: unknown } };
    },

    replay_verification: async (ctx) => {
      const result = await replayLedger(ctx.ledger, {
        strategy: 'full_chain',
        ...(ctx.repository !== undefined ? { repository: ctx.repository } : {}),
        ...(ctx.start !== undefined ? { start: ctx.start } : {}),
        ...(ctx.end !== undefined ? { end: ctx.end } : {}),
      });
      const summary = `Replayed ${result.replayed} blocks, Success rate: ${formatPercent(result.successRate)}`;
      return {
        passed: result.failures.length === 0,
        summary: result.failures.length === 0 ? summary : `${summary}; ${result.failures.length} failure(s) at ${result.failed} height(s)`,
        details: {
          replayed: result.replayed,
          failed: result.failed,
          successRate: result.successRate,
          failureCount: result.failures.length,
          failures: result.failures.slice(0, maxListed),
        },
      };
    },

    epoch_validation: async (ctx) => {
      const checks = (await deps.verifyEpochs(ctx.repository !== undefined ? { repository: ctx.repository } : {})).filter(
        (c) => (ctx.start === undefined || c.endHeight >= ctx.start) && (ctx.end === undefined || c.startHeight <= ctx.end),
      );
      const failed = checks.filter((c) => !c.ok);
      const notes = checks.length === 0 ? ['no sealed epoch in range'] : [];
      return {
        passed: failed.length === 0,
        summary:
          failed.length === 0
            ? `${checks.length} sealed epoch(s) verified`
            : `${failed.length} of ${checks.length} sealed epoch(s) failed: ${failed
                .slice(0, 10)
                .map((c) => `${c.repository}#${c.number} (${c.failures.map((f) => f.field).join(', ')})`)
                .join('; ')}`,
        notes,
        details: {
          checked: checks.length,
          failed: failed.slice(0, maxListed).map((c) => ({ repository: c.repository, number: c.number, startHeight: c.startHeight, endHeight: c.endHeight, failures: c.failures })),
        },
      };
    },

    drift_radar: async (ctx) => {
      const result = await runDriftRadar(ctx.ledger, {
        policy: deps.driftPolicy ?? 'moderate',
        ...(ctx.repository !== undefined ? { repository: ctx.repository } : {}),
        ...(ctx.start !== undefined ? { start: ctx.start } : {}),
        ...(ctx.end !== undefined ? { end: ctx.end } : {}),
      });
      const c = result.counts;
      return {
        passed: result.signal !== 'BLOCK',
        summary: `GOVERNANCE SIGNAL: ${result.signal} under ${result.policy} (${result.signals.length} signal(s): ${c.critical} critical, ${c.error} error, ${c.warn} warn, ${c.info} info)`,
        details: { signal: result.signal, policy: result.policy, counts: c, signals: result.signals.slice(0, maxListed) },
      };
    },

    attestation_sweep: async (ctx) => {
      let swept = 0;
      const violations = [];
      for (const repository of await scope(ctx)) {
        const head = await ctx.ledger.head(repository);
        if (head === undefined) continue;
        const end = Math.min(ctx.end ?? head.height, head.height);
        for await (const { block } of walkStream(ctx.ledger, repository, ctx.start ?? 0, end)) {
          if (block === undefined) continue;
          swept += 1;
          violations.push(...validateAttestationRoots(block));
        }
      }
      return {
        passed: violations.length === 0,
        summary:
          violations.length === 0
            ? `attestation roots of ${swept} block(s) recomputed from their leaves`
            : `${violations.length} attestation violation(s) in ${swept} block(s): ${violations
                .slice(0, 5)
                .map((v) => `${v.repository}@${v.height} ${v.field}`)
                .join(', ')}${violations.length > 5 ? ', …' : ''}`,
        details: { swept, violationCount: violations.length, violations: violations.slice(0, maxListed) },
      };
    },

    dual_commitment_readiness: async (ctx) => {
      const sha3 = (deps.sha3Available ?? sha3AvailableInRuntime)();
      const setting = await ctx.ledger.getSetting('dual_activation_height');
      if (setting === undefined) {
        return {
          passed: true,
          summary: 'ready: dual commitment not activated',
          notes: [sha3 ? 'SHA3-256 is available in this runtime; `phase-mirror ledger activate-dual --at H` can activate it' : 'SHA3-256 is NOT available in this runtime: activation would fail'],
          details: { activated: false, sha3Available: sha3 },
        };
      }
      const activation = Number(setting);
      if (!/^\d+$/.test(setting) || !Number.isSafeInteger(activation)) {
        return { passed: false, summary: `the recorded activation height ${JSON.stringify(setting)} is not a whole number`, details: { activated: true, sha3Available: sha3 } };
      }
      const problems: { repository: string; height: number; field: string; message: string }[] = [];
      let dualBlocks = 0;
      let epochsChecked = 0;
      for (const repository of await scope(ctx)) {
        const head = await ctx.ledger.head(repository);
        if (head === undefined) continue;
        const start = ctx.start ?? 0;
        const end = Math.min(ctx.end ?? head.height, head.height);
        const dualHeights = new Set<number>();
        for await (const { height, block } of walkStream(ctx.ledger, repository, start, end)) {
          if (block === undefined) continue;
          const decoded = decodeStoredBlock(block);
          const algorithm = 'names' in decoded ? decoded.values.hash_algorithm : undefined;
          const isDual = algorithm === 'dual-v1';
          if (isDual) dualHeights.add(height);
          if (height >= activation) {
            if (!isDual) problems.push({ repository, height, field: 'hash_algorithm', message: `block at/after the activation height ${activation} is ${String(algorithm)}` });
            else if (block.hashSha3 === undefined) problems.push({ repository, height, field: 'hashSha3', message: 'dual-v1 block without a stored SHA3-256 hash' });
            else dualBlocks += 1;
          } else if (isDual) {
            problems.push({ repository, height, field: 'hash_algorithm', message: `dual-v1 block below the activation height ${activation}` });
          }
        }
        for (const epoch of await ctx.ledger.epochs(repository)) {
          if (epoch.startHeight < Math.max(activation, start) || epoch.endHeight > end) continue;
          epochsChecked += 1;
          let allDual = true;
          for (let h = epoch.startHeight; h <= epoch.endHeight; h++) if (!dualHeights.has(h)) allDual = false;
          if (allDual && epoch.rootSha3 === undefined) {
            problems.push({ repository, height: epoch.endHeight, field: 'epoch_root_sha3', message: `epoch ${epoch.number} of dual blocks carries no SHA3-256 root` });
          }
        }
      }
      if (!sha3) problems.unshift({ repository: '*', height: activation, field: 'sha3', message: 'SHA3-256 is not available in this runtime' });
      return {
        passed: problems.length === 0,
        summary:
          problems.length === 0
            ? `dual commitment active from height ${activation}: ${dualBlocks} dual block(s), ${epochsChecked} dual epoch(s) checked`
            : `dual commitment active from height ${activation}: ${problems.length} problem(s): ${problems
                .slice(0, 5)
                .map((p) => (p.repository === '*' ? p.message : `${p.repository}@${p.height} ${p.field}`))
                .join(', ')}`,
        details: { activated: true, activationHeight: activation, sha3Available: sha3, dualBlocks, epochsChecked, problems: problems.slice(0, maxListed) },
      };
    },
  };
}

async function scope(ctx: GovernanceJobContext): Promise<string[]> {
  return ctx.repository !== undefined ? [ctx.repository] : ctx.ledger.repositories();
}

/** 100 → `100%`, 97.5 → `97.5%`, 33.33 → `33.33%`. */
export function formatPercent(rate: number): string {
  return `${Number(rate.toFixed(2))}%`;
}

