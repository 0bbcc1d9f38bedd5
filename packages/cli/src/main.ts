import { Command, CommanderError, Option } from 'commander';
import { CONSENT_RESOURCES, MODES, packageVersion, PhaseMirrorError, type NonceSecretStore, type Stores } from '@phase-mirror/mirror-dissonance';
import { analyzeCommand, REPORT_FORMATS, type AnalyzeOptions } from './commands/analyze';
import { baselineCreateCommand, baselineShowCommand } from './commands/baseline';
import { configShowCommand, configValidateCommand } from './commands/config';
import { fpListCommand, fpMarkCommand, fpStatsCommand } from './commands/fp';
import { initCommand } from './commands/init';
import { orgScanCommand } from './commands/org-scan';
import { INIT_TEMPLATES } from './commands/init-templates';
import { validateCommand } from './commands/validate';
import { EXIT, exitCodeFor } from './exit-codes';
import { processIo, type Io } from './io';
import { BACKENDS, nonceStoreFor, withStores } from './stores';
import { openWorkspace, type Workspace } from './workspace';
import { calibrationAggregateCommand, calibrationIngestCommand, calibrationShowCommand } from './commands/calibration';
import { registerLedgerCommands } from './ledger-commands';
import { nonceRotateCommand, nonceStatusCommand, nonceVerifyCommand } from './commands/nonce';
import { consentCheckCommand, consentGrantCommand, consentListCommand, consentRevokeCommand } from './commands/consent';

type Action = (io: Io) => Promise<number>;

function backendOption(): Option {
  return new Option('--backend <backend>', 'state backend (default: storage.backend of the configuration, else embedded)').choices([...BACKENDS]);
}

function eventOptions(command: Command): Command {
  return command
    .addOption(new Option('--mode <mode>', 'event mode').choices(MODES as string[]))
    .option('--event-name <name>', 'GitHub event name (default: GITHUB_EVENT_NAME, else the mode)')
    .option('--repository <owner/name>', 'repository (default: GITHUB_REPOSITORY, else the folder name)')
    .option('--pr <number>', 'pull request number')
    .option('--sha <commit>', 'commit SHA (default: GITHUB_SHA)')
    .option('--head-ref <ref>', 'head branch')
    .option('--base <ref>', 'base ref; changed files come from `git diff --name-only <base>...HEAD`')
    .option('--author <login>', 'change author (default: PR author from the event payload, else GITHUB_ACTOR)')
    .option('--strict', 'strict thresholds (critical > 0, high > 0, medium > 5)')
    .option('--dry-run', 'report block as warn ("would block")')
    .option('--branch-protection <file>', 'branch-protection JSON (GitHub REST shape); default: the GitHub API when GITHUB_TOKEN is set')
    .option('--org-manifest <file>', 'organisation governance manifest (MD-101)')
    .option('--org-states <file>', 'repository states from `phase-mirror org-scan` (default: scan with GITHUB_TOKEN)')
    .option('-c, --config <file>', 'configuration file (default: <path>/.phase-mirror.yml)')
    .option('--state-dir <dir>', 'embedded state folder (default: <path>/.phase-mirror)')
    .addOption(backendOption())
    .option('-o, --output <file>', 'report file', 'dissonance_report.json')
    .option('--sarif <file>', 'also write SARIF 2.1.0 to this file (for code-scanning upload)')
    .option('--remote <function>', 'run the oracle in this Lambda function (name or ARN): send the collected artifacts (at most 5 MB), needs only lambda:InvokeFunction')
    .addOption(new Option('-f, --format <format>', 'stdout format').choices(REPORT_FORMATS as unknown as string[]).default('text'));
}

/** Builds the command tree. Only working commands are registered, so --help lists exactly what works. */
export function buildProgram(run: (action: Action) => void, io: Pick<Io, 'out' | 'err'>): Command {
  const program = new Command('phase-mirror')
    // Set before subcommands are added: they inherit it when created.
    .configureOutput({ writeOut: (text) => io.out(text), writeErr: (text) => io.err(text) })
    .description('Phase Mirror: finds the dissonance between what a repository declares and what it is')
    .version(packageVersion(), '-V, --version')
    .option('--debug', 'print stack traces of errors')
    .option('--no-color', 'no colours (also NO_COLOR)')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  eventOptions(program.command('analyze [path]').description('analyze a repository and write dissonance_report.json (exit 0 pass/warn, 1 block, 2 undecidable, 3 usage)'))
    .action((path: string | undefined, options: AnalyzeOptions) => run((io) => analyzeCommand(path, options, io)));

  const drift = program.command('drift [path]').description('drift check against the integrity baseline: a report in mode drift');
  eventOptions(drift).action((path: string | undefined, options: AnalyzeOptions) =>
    run((io) => analyzeCommand(path, { ...options, mode: 'drift', eventName: options.eventName ?? 'schedule' }, io)),
  );

  program
    .command('validate [path]')
    .description('check configuration, workflow parsing and the L0 invariants without running rules')
    .option('-c, --config <file>', 'configuration file')
    .option('--state-dir <dir>', 'embedded state folder')
    .addOption(new Option('-f, --format <format>').choices(['text', 'json']).default('text'))
    .action((path: string | undefined, options: { config?: string; stateDir?: string; format: string }) => run((io) => validateCommand(path, options, io)));

  const baseline = program.command('baseline').description('the integrity baseline (MD-005)');
  baseline
    .command('create [path]')
    .description('pin the SHA-256 of the files matching policy.baseline.globs')
    .option('-c, --config <file>', 'configuration file')
    .option('--glob <pattern...>', 'globs to pin instead of policy.baseline.globs')
    .option('--force', 'replace an existing baseline')
    .action((path: string | undefined, options: { config?: string; glob?: string[]; force?: boolean }) => run((io) => baselineCreateCommand(path, options, io)));
  baseline
    .command('show [path]')
    .description('show what the baseline pins and the current drift')
    .option('-c, --config <file>', 'configuration file')
    .addOption(new Option('-f, --format <format>').choices(['text', 'json']).default('text'))
    .action((path: string | undefined, options: { config?: string; format: string }) => run((io) => baselineShowCommand(path, options, io)));

  const fp = program.command('fp').description('false-positive events');
  fp.command('list [path]')
    .description('list recorded finding events, most recent first')
    .option('--state-dir <dir>', 'embedded state folder')
    .option('--rule <id>', 'only this rule')
    .option('--finding <id>', 'only this finding fingerprint')
    .option('--marked', 'only events marked false positive')
    .option('--limit <n>', 'at most this many', '50')
    .addOption(backendOption())
    .addOption(new Option('-f, --format <format>').choices(['text', 'json']).default('text'))
    .action((path: string | undefined, options: Parameters<typeof fpListCommand>[1]) => run((io) => fpListCommand(path, options, io)));
  fp.command('mark <event-id> [path]')
    .description('mark an event a false positive; later runs suppress its finding')
    .requiredOption('--reviewer <name>', 'who reviewed it')
    .requiredOption('--reason <text>', 'why it is a false positive')
    .option('--ticket <ref>', 'tracking ticket')
    .option('--state-dir <dir>', 'embedded state folder')
    .addOption(backendOption())
    .action((eventId: string, path: string | undefined, options: Parameters<typeof fpMarkCommand>[2]) => run((io) => fpMarkCommand(eventId, path, options, io)));

  fp.command('stats [path]')
    .description('per-rule observed false-positive rate over its window, and whether it is demoted')
    .option('--state-dir <dir>', 'embedded state folder')
    .addOption(backendOption())
    .addOption(new Option('-f, --format <format>').choices(['text', 'json']).default('text'))
    .action((path: string | undefined, options: Parameters<typeof fpStatsCommand>[1]) => run((io) => fpStatsCommand(path, options, io)));

  program
    .command('init [path]')
    .description('write a commented .phase-mirror.yml (never prompts)')
    .addOption(new Option('--template <name>').choices(INIT_TEMPLATES as unknown as string[]).default('standard'))
    .option('--force', 'replace an existing .phase-mirror.yml')
    .action((path: string | undefined, options: { template: string; force?: boolean }) => run((io) => initCommand(path, options, io)));

  program
    .command('org-scan')
    .description('read the governance state of every repository of an organisation from the GitHub API (needs GITHUB_TOKEN)')
    .requiredOption('--org <login>', 'organisation')
    .option('-o, --output <file>', 'write the JSON here instead of stdout')
    .action((options: { org: string; output?: string }) => run((io) => orgScanCommand(options, io)));

  const consent = program.command('consent').description('consent to share calibration data, per organisation or repository');
  const scoped = (command: Command): Command =>
    command
      .requiredOption('--org <id>', 'organisation')
      .option('--repo <owner/name>', 'one repository (default: the whole organisation)')
      .requiredOption('--resource <resource>', `one of ${CONSENT_RESOURCES.join(', ')}`)
      .option('--state-dir <dir>', 'embedded state folder')
      .addOption(backendOption());
  scoped(consent.command('grant [path]').description('grant consent for a resource'))
    .requiredOption('--by <name>', 'who grants')
    .option('--expires <iso>', 'when the grant ends')
    .option('--days <n>', 'grant for this many days')
    .action((path: string | undefined, options: Parameters<typeof consentGrantCommand>[0] & StoreFlags) =>
      run((io) => withCommandStores(io, path, options, (stores) => consentGrantCommand(options, stores, io))),
    );
  scoped(consent.command('revoke [path]').description('revoke consent for a resource'))
    .requiredOption('--by <name>', 'who revokes')
    .action((path: string | undefined, options: Parameters<typeof consentRevokeCommand>[0] & StoreFlags) =>
      run((io) => withCommandStores(io, path, options, (stores) => consentRevokeCommand(options, stores, io))),
    );
  scoped(consent.command('check [path]').description('print the consent state (exit 0 only when granted)')).action(
    (path: string | undefined, options: Parameters<typeof consentCheckCommand>[0] & StoreFlags) =>
      run((io) => withCommandStores(io, path, options, (stores) => consentCheckCommand(options, stores, io))),
  );
  consent
    .command('list [path]')
    .description("an organisation's current consent records (and history)")
    .requiredOption('--org <id>', 'organisation')
    .option('--history', 'also every grant and revocation')
    .option('--state-dir <dir>', 'embedded state folder')
    .addOption(backendOption())
    .addOption(new Option('-f, --format <format>').choices(['text', 'json']).default('text'))
    .action((path: string | undefined, options: Parameters<typeof consentListCommand>[0] & StoreFlags) =>
      run((io) => withCommandStores(io, path, options, (stores) => consentListCommand(options, stores, io))),
    );

  const calibration = program.command('calibration').description('k-anonymous false-positive calibration across organisations');
  calibration
    .command('ingest [path]')
    .description('record one anonymized false-positive outcome (needs rule_calibration consent)')
    .requiredOption('--org <id>', 'organisation (stored only as an HMAC)')
    .option('--repo <owner/name>', 'repository, for the consent check')
    .requiredOption('--rule <id>', 'rule id')
    .option('--fp', 'the finding was a false positive')
    .option('--tp', 'the finding was a true positive')
    .option('--at <iso>', 'when it was observed (default now; never in the future)')
    .option('--state-dir <dir>', 'embedded state folder')
    .addOption(backendOption())
    .addOption(new Option('-f, --format <format>').choices(['text', 'json']).default('text'))
    .action((path: string | undefined, options: Parameters<typeof calibrationIngestCommand>[0] & StoreFlags) =>
      run((io) => withCommandStores(io, path, options, (stores) => calibrationIngestCommand(options, calibrationDeps(stores), io))),
    );
  calibration
    .command('aggregate [path]')
    .description('a rule\'s aggregate, released only when at least k organisations contribute')
    .requiredOption('--rule <id>', 'rule id')
    .option('--k <n>', 'minimum distinct organisations (at least 10)')
    .option('--state-dir <dir>', 'embedded state folder')
    .addOption(backendOption())
    .addOption(new Option('-f, --format <format>').choices(['text', 'json']).default('text'))
    .action((path: string | undefined, options: Parameters<typeof calibrationAggregateCommand>[0] & StoreFlags) =>
      run((io) => withCommandStores(io, path, options, (stores) => calibrationAggregateCommand(options, calibrationDeps(stores), io))),
    );
  calibration
    .command('show [path]')
    .description('every rule: its aggregate, or withheld below k organisations')
    .option('--k <n>', 'minimum distinct organisations (at least 10)')
    .option('--state-dir <dir>', 'embedded state folder')
    .addOption(backendOption())
    .addOption(new Option('-f, --format <format>').choices(['text', 'json']).default('text'))
    .action((path: string | undefined, options: Parameters<typeof calibrationShowCommand>[0] & StoreFlags) =>
      run((io) => withCommandStores(io, path, options, (stores) => calibrationShowCommand(options, calibrationDeps(stores), io))),
    );

  const nonce = program.command('nonce').description('the redaction nonce: versions, rotation with a grace period, report verification');
  const nonceScoped = (command: Command): Command =>
    command
      .option('-c, --config <file>', 'configuration file (default: <path>/.phase-mirror.yml)')
      .option('--state-dir <dir>', 'embedded state folder')
      .addOption(backendOption())
      .addOption(new Option('-f, --format <format>').choices(['text', 'json']).default('text'));
  nonceScoped(nonce.command('status [path]').description('list the nonce versions: which signs, which verify until when, which expired')).action(
    (path: string | undefined, options: { format?: string } & StoreFlags & { config?: string }) =>
      run((io) => withNonceStore(io, path, options, (store, workspace) => nonceStatusCommand(options, store, workspace, io))),
  );
  nonceScoped(
    nonce
      .command('rotate [path]')
      .description('create the next nonce version; the previous one verifies for nonce.gracePeriodSeconds (default 3600), expired ones are deleted'),
  ).action((path: string | undefined, options: { format?: string } & StoreFlags & { config?: string }) =>
    run((io) => withNonceStore(io, path, options, (store, workspace) => nonceRotateCommand(options, store, workspace, io))),
  );
  nonceScoped(nonce.command('verify <report> [path]').description('verify every redacted snippet of a report (exit 0 verified, 1 failed)')).action(
    (report: string, path: string | undefined, options: { format?: string } & StoreFlags & { config?: string }) =>
      run((io) => withNonceStore(io, path, options, (store, workspace) => nonceVerifyCommand(report, options, store, workspace, io))),
  );

  registerLedgerCommands(program, run);

  const config = program.command('config').description('the configuration in force');
  config
    .command('show [path]')
    .description('print the resolved configuration as JSON')
    .option('-c, --config <file>', 'configuration file')
    .action((path: string | undefined, options: { config?: string }) => run((io) => configShowCommand(path, options, io)));
  config
    .command('validate [path]')
    .description('validate .phase-mirror.yml and the policy against their schemas')
    .option('-c, --config <file>', 'configuration file')
    .action((path: string | undefined, options: { config?: string }) => run((io) => configValidateCommand(path, options, io)));

  return program;
}

interface StoreFlags {
  stateDir?: string;
  backend?: string;
}

function withCommandStores(io: Io, path: string | undefined, flags: StoreFlags, work: (stores: Stores) => Promise<number>): Promise<number> {
  return withStores(openWorkspace(io.cwd, path, flags), flags.backend, io, work);
}

/** Runs a `nonce` command on the configured nonce store alone: no state database is opened. */
function withNonceStore(
  io: Io,
  path: string | undefined,
  flags: StoreFlags & { config?: string },
  work: (store: NonceSecretStore, workspace: Workspace) => Promise<number>,
): Promise<number> {
  const workspace = openWorkspace(io.cwd, path, flags);
  return work(nonceStoreFor(workspace, flags.backend, io).store, workspace);
}

function calibrationDeps(stores: Stores): { consent: Stores['consent']; calibration: Stores['calibration']; salt: () => Promise<string> } {
  return { consent: stores.consent, calibration: stores.calibration, salt: () => stores.salt() };
}

/**
 * Runs the CLI and resolves to the exit code; never throws. `ioOverride`
 * lets tests run commands in-process with captured output.
 */
export async function main(argv: readonly string[], ioOverride?: Io): Promise<number> {
  const debug = argv.includes('--debug');
  const noColor = argv.includes('--no-color');
  const io = ioOverride ?? processIo(noColor);
  let pending: Action | undefined;
  const program = buildProgram((action) => {
    pending = action;
  }, io);
  try {
    await program.parseAsync([...argv]);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has already printed its message to stderr.
      return error.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    }
    throw error;
  }
  if (pending === undefined) {
    program.outputHelp({ error: true });
    return EXIT.USAGE;
  }
  try {
    return await pending(io);
  } catch (error) {
    io.err(`phase-mirror: ${describeError(error)}`);
    if (debug && error instanceof Error && error.stack) io.err(error.stack);
    return exitCodeFor(error);
  }
}

function describeError(error: unknown): string {
  if (error instanceof PhaseMirrorError) return `${error.describe()} [${error.code}]`;
  return `internal error: ${error instanceof Error ? error.message : String(error)} (run with --debug for the stack)`;
}
