/**
 * The `ledger` and `db` command groups (issue 6): commander wiring only; the
 * commands live in commands/ledger-*.ts and commands/db.ts. Every ledger
 * command works on the configured backend's ledger (embedded SQLite or
 * DynamoDB); epoch keys are the embedded Ed25519 (and ML-DSA-44) keys or the
 * configured KMS keys.
 */
import {
  activateDual,
  awsSettings,
  trustVerifiedEpochs,
  UsageError,
  verifyEpochs,
  type LedgerStore,
  type Stores,
} from '@phase-mirror/mirror-dissonance';
import { Command, Option } from 'commander';
import { dbMigrateCommand, dbRollbackCommand, dbStatusCommand } from './commands/db';
import {
  embeddedEpochsContext,
  kmsEpochsContext,
  ledgerBackfillCommand,
  ledgerProveCommand,
  ledgerProveConsistencyCommand,
  ledgerPublicKeyCommand,
  ledgerSealCommand,
  ledgerVerifyEpochsCommand,
  ledgerVerifyProofCommand,
  type LedgerEpochsContext,
} from './commands/ledger-epochs';
import { auditReportCommand, governanceChainCommand, ledgerDriftRadarCommand, ledgerReplayCommand } from './commands/ledger-audit';
import { EXIT } from './exit-codes';
import type { Io } from './io';
import { BACKENDS, backendFor, withStores } from './stores';
import { openWorkspace, type Workspace } from './workspace';

type Action = (io: Io) => Promise<number>;

export interface LedgerFlags {
  config?: string;
  stateDir?: string;
  backend?: string;
}

function scoped(command: Command): Command {
  return command
    .option('-c, --config <file>', 'configuration file (default: <path>/.phase-mirror.yml)')
    .option('--state-dir <dir>', 'embedded state folder (default: <path>/.phase-mirror)')
    .addOption(new Option('--backend <backend>', 'state backend (default: storage.backend, else embedded)').choices([...BACKENDS]));
}

function format(command: Command): Command {
  return command.addOption(new Option('-f, --format <format>').choices(['text', 'json']).default('text'));
}

/** The epoch keys of the workspace's backend: embedded key files, or the KMS keys of `ledger.signingKeyId` / `ledger.mlDsaKeyId`. */
export function epochsContextFor(workspace: Workspace, backend: Stores['backend'], io: Io): LedgerEpochsContext {
  const { ledger, storage } = workspace.config;
  if (backend === 'embedded') return embeddedEpochsContext(workspace.stateDir, { postQuantum: ledger.postQuantum });
  if (ledger.signingKeyId === undefined) {
    throw new UsageError('the aws backend signs epochs with a KMS key: set ledger.signingKeyId (an ECC_NIST_P256 key) in .phase-mirror.yml', {
      location: { field: 'ledger.signingKeyId' },
    });
  }
  return kmsEpochsContext({
    aws: awsSettings(storage, io.env),
    ecdsaKeyId: ledger.signingKeyId,
    ...(ledger.mlDsaKeyId !== undefined ? { mlDsaKeyId: ledger.mlDsaKeyId } : {}),
  });
}

/** Opens the workspace and its stores, runs `work` with the ledger. */
export function withLedger(
  io: Io,
  path: string | undefined,
  flags: LedgerFlags,
  work: (ledger: LedgerStore, workspace: Workspace, stores: Stores) => Promise<number>,
): Promise<number> {
  const workspace = openWorkspace(io.cwd, path, flags);
  return withStores(workspace, flags.backend, io, (stores) => work(stores.ledger, workspace, stores));
}

export function registerLedgerCommands(program: Command, run: (action: Action) => void): Command {
  const ledger = program.command('ledger').description('the decision ledger: epochs, proofs, dual commitment, replay and drift radar');

  format(scoped(ledger.command('seal [path]').description('seal every complete, unsealed epoch (default 100 blocks) and sign it')))
    .option('--repository <owner/name>', 'one stream (default: every repository)')
    .option('--epoch-size <blocks>', "blocks per epoch (default: the ledger's, else 100)")
    .action((path: string | undefined, options: LedgerFlags & Parameters<typeof ledgerSealCommand>[0]) =>
      run((io) => withLedger(io, path, options, (store, workspace, stores) => ledgerSealCommand(options, store, epochsContextFor(workspace, stores.backend, io), io))),
    );
  format(scoped(ledger.command('backfill [path]').description('seal the epochs of history that have none; --dry-run only lists them')))
    .option('--repository <owner/name>', 'one stream (default: every repository)')
    .option('--epoch-size <blocks>', "blocks per epoch (default: the ledger's, else 100)")
    .option('--dry-run', 'print `Dry-run: Would create K epochs (a-b)` and change nothing')
    .action((path: string | undefined, options: LedgerFlags & Parameters<typeof ledgerBackfillCommand>[0]) =>
      run((io) =>
        withLedger(io, path, options, (store, workspace, stores) => ledgerBackfillCommand(options, store, epochsContextFor(workspace, stores.backend, io), io)),
      ),
    );
  format(scoped(ledger.command('verify-epochs [path]').description('recompute every epoch root and verify its signatures with the public keys')))
    .option('--repository <owner/name>', 'one stream (default: every repository)')
    .option('--public-key <file>', 'trusted public keys (PEM from `ledger public-key`; default: the configured keys)')
    .action((path: string | undefined, options: LedgerFlags & Parameters<typeof ledgerVerifyEpochsCommand>[0]) =>
      run((io) =>
        withLedger(io, path, options, (store, workspace, stores) => ledgerVerifyEpochsCommand(options, store, epochsContextFor(workspace, stores.backend, io), io)),
      ),
    );
  scoped(ledger.command('prove <repository> <height> [path]').description('inclusion proof of a block in its sealed epoch (JSON)'))
    .option('-o, --output <file>', 'write the proof here instead of stdout')
    .action((repository: string, height: string, path: string | undefined, options: LedgerFlags & { output?: string }) =>
      run((io) => withLedger(io, path, options, (store) => ledgerProveCommand(repository, height, options, store, io))),
    );
  scoped(ledger.command('prove-consistency <repository> [path]').description('proof that the stream at --new-size extends the stream at --old-size (RFC 6962 §2.1.2)'))
    .requiredOption('--old-size <blocks>', 'size of the earlier checkpoint')
    .option('--new-size <blocks>', 'size of the later checkpoint (default: the whole stream)')
    .option('-o, --output <file>', 'write the proof here instead of stdout')
    .action((repository: string, path: string | undefined, options: LedgerFlags & Parameters<typeof ledgerProveConsistencyCommand>[1]) =>
      run((io) => withLedger(io, path, options, (store) => ledgerProveConsistencyCommand(repository, options, store, io))),
    );
  format(scoped(ledger.command('verify-proof <file> [path]').description('verify a proof offline: every path link, the epoch statement and its signatures')))
    .option('--public-key <file>', 'trusted public keys (PEM from `ledger public-key`; default: the configured keys)')
    .action((file: string, path: string | undefined, options: LedgerFlags & Parameters<typeof ledgerVerifyProofCommand>[1]) =>
      run((io) => {
        const workspace = openWorkspace(io.cwd, path, options);
        return ledgerVerifyProofCommand(file, options, epochsContextFor(workspace, backendFor(workspace, options.backend), io), io);
      }),
    );
  format(scoped(ledger.command('public-key [path]').description('the public keys that verify sealed epochs (PEM, for auditors)')))
    .option('-o, --output <file>', 'write the keys here instead of stdout')
    .action((path: string | undefined, options: LedgerFlags & Parameters<typeof ledgerPublicKeyCommand>[0]) =>
      run((io) => {
        const workspace = openWorkspace(io.cwd, path, options);
        return ledgerPublicKeyCommand(options, epochsContextFor(workspace, backendFor(workspace, options.backend), io), io);
      }),
    );
  scoped(ledger.command('activate-dual [path]').description('from height H on, blocks and epoch roots carry SHA-256 and SHA3-256 commitments'))
    .requiredOption('--at <height>', 'activation height (ahead of every stream)')
    .option('--dry-run', 'check and print, record nothing')
    .action((path: string | undefined, options: LedgerFlags & { at: string; dryRun?: boolean }) =>
      run((io) => withLedger(io, path, options, (store) => activateDualCommand(options, store, io))),
    );

  scoped(ledger.command('replay [path]').description('recompute every hash, root and link; `Replayed N blocks, Success rate: X%` (exit 1 on any failure)'))
    .addOption(new Option('--strategy <strategy>', 'full_chain, or sliding_window from the last trusted sealed epoch').choices(['full_chain', 'sliding_window']).default('full_chain'))
    .option('--window <blocks>', 'sliding_window: blocks to replay (default 1000)')
    .option('--start <height>', 'first height')
    .option('--end <height>', 'last height')
    .option('--repository <owner/name>', 'one stream (default: every repository)')
    .option('--read-only', 'open the ledger read-only (replay never writes)')
    .option('-o, --output <file>', 'write the JSON results (every failing height and field)')
    .action((path: string | undefined, flags: LedgerFlags & Parameters<typeof ledgerReplayCommand>[0] & { repository?: string }) =>
      run((io) => {
        const options = withRepo(flags);
        return withLedger(io, path, options, async (store, workspace, stores) => {
          // A sliding window starts only from an epoch whose signatures verify with the configured keys.
          const trusted = async (): Promise<ReturnType<typeof trustVerifiedEpochs>> => {
            const keys = await epochsContextFor(workspace, stores.backend, io).trustedKeys();
            return trustVerifiedEpochs(await verifyEpochs(store, keys, options.repo !== undefined ? { repository: options.repo } : {}));
          };
          return ledgerReplayCommand(options, store, options.strategy === 'sliding_window' ? { trustedEpochs: await trusted() } : {}, io);
        });
      }),
    );
  scoped(ledger.command('drift-radar [path]').description('schema, hash-delta, metadata and statement drift; prints `GOVERNANCE SIGNAL: OK|WARN|BLOCK` (exit 1 on BLOCK)'))
    .option('--scan-types <types>', 'comma-separated: schema,hash-delta,metadata,statement (default: all)')
    .addOption(new Option('--governance-policy <policy>', 'how signals map to OK/WARN/BLOCK').choices(['strict', 'moderate', 'permissive']).default('moderate'))
    .option('--output <file>', 'write the signals (drift_signals.json)')
    .option('--evidence-pack <file>', 'write the signals with the blocks and proofs behind them')
    .option('--repository <owner/name>', 'one stream (default: every repository)')
    .option('--start <height>', 'first height')
    .option('--end <height>', 'last height')
    .action((path: string | undefined, flags: LedgerFlags & Parameters<typeof ledgerDriftRadarCommand>[0] & { repository?: string }) =>
      run((io) => withLedger(io, path, flags, (store) => ledgerDriftRadarCommand(withRepo(flags), store, {}, io))),
    );

  scoped(
    program
      .command('governance-chain [path]')
      .description('six ledger jobs: schema/migrations, replay, epochs, drift radar, attestation sweep, dual readiness (exit 1 unless 6/6 pass)'),
  )
    .option('--start-block <height>', 'first height')
    .option('--end-block <height>', 'last height')
    .option('--repository <owner/name>', 'one stream (default: every repository)')
    .addOption(new Option('--governance-policy <policy>', 'drift radar policy of the drift job').choices(['strict', 'moderate', 'permissive']))
    .option('-o, --output <file>', 'write the JSON results')
    .action((path: string | undefined, flags: LedgerFlags & Parameters<typeof governanceChainCommand>[0] & { repository?: string }) =>
      run((io) =>
        withLedger(io, path, flags, (store, workspace, stores) =>
          governanceChainCommand(
            withRepo(flags),
            store,
            {
              ...(stores.migrationStatus !== undefined ? { migrationStatus: stores.migrationStatus } : {}),
              verifyEpochs: async (scope) => verifyEpochs(store, await epochsContextFor(workspace, stores.backend, io).trustedKeys(), scope),
            },
            io,
          ),
        ),
      ),
    );
  program
    .command('audit-report')
    .description('a markdown audit report from replay results and drift signals')
    .requiredOption('--replay-results <file>', 'JSON from `ledger replay --output`')
    .requiredOption('--drift-signals <file>', 'JSON from `ledger drift-radar --output`')
    .option('--governance <file>', 'JSON from `governance-chain --output`')
    .option('-o, --output <file>', 'the markdown file (default: stdout)')
    .action((options: Parameters<typeof auditReportCommand>[0]) => run((io) => auditReportCommand(options, {}, io)));

  const db = program.command('db').description('the embedded state database: schema migrations');
  format(db.command('migrate [path]').description('apply pending migrations').option('--state-dir <dir>', 'embedded state folder')).action(
    (path: string | undefined, options: { stateDir?: string; format?: string }) =>
      run((io) => dbMigrateCommand(options, openWorkspace(io.cwd, path, options), io)),
  );
  format(
    db
      .command('rollback [path]')
      .description('roll migrations back down to --to (refuses to delete data without --force)')
      .requiredOption('--to <version>', 'schema version to roll back to')
      .option('--force', 'roll back even if tables holding data are dropped')
      .option('--state-dir <dir>', 'embedded state folder'),
  ).action((path: string | undefined, options: { stateDir?: string; to: string; force?: boolean; format?: string }) =>
    run((io) => dbRollbackCommand(options, openWorkspace(io.cwd, path, options), io)),
  );
  format(db.command('status [path]').description('applied and pending migrations').option('--state-dir <dir>', 'embedded state folder')).action(
    (path: string | undefined, options: { stateDir?: string; format?: string }) =>
      run((io) => dbStatusCommand(options, openWorkspace(io.cwd, path, options), io)),
  );
  return ledger;
}

/** The audit commands name the stream `repo`; the CLI flag is `--repository`, as on every other command. */
function withRepo<T extends { repository?: string }>(flags: T): T & { repo?: string } {
  return flags.repository === undefined ? flags : { ...flags, repo: flags.repository };
}

/** `ledger activate-dual --at H [--dry-run]`. */
async function activateDualCommand(options: { at: string; dryRun?: boolean }, store: LedgerStore, io: Io): Promise<number> {
  const height = /^[0-9]+$/.test(options.at) ? Number(options.at) : Number.NaN;
  if (!Number.isSafeInteger(height)) throw new UsageError(`--at must be a block height (a whole number), got "${options.at}"`, { location: { flag: '--at' } });
  const plan = await activateDual(store, height, { dryRun: options.dryRun === true });
  const streams = plan.streams.length === 0 ? 'no streams yet' : plan.streams.map((s) => `${s.repository} next ${s.nextHeight}`).join(', ');
  if (plan.alreadyActive) io.out(`dual commitment (sha256 + sha3-256) is already active from height ${height} (${streams})`);
  else if (options.dryRun === true) io.out(`Dry-run: would activate dual commitment (dual-v1) from height ${height} (${streams})`);
  else io.out(`dual commitment (dual-v1) active from height ${height} (${streams})`);
  return EXIT.OK;
}
