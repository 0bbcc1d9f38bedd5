/**
 * `ledger seal | verify-epochs | backfill | prove | prove-consistency |
 * verify-proof | public-key` (issue 6, epochs and proofs). Epochs are signed
 * by the embedded Ed25519 key (and ML-DSA-44 with post-quantum signing) or
 * by AWS KMS keys (ECDSA P-256, optionally ML-DSA-44); verification needs
 * only public keys — the configured ones, or a PEM file given with
 * `--public-key` (what `ledger public-key` prints). Proofs are JSON files
 * verified offline. Data goes to stdout, diagnostics to stderr; exit 0 when
 * everything verifies, 1 when something does not, 3 for bad input.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  embeddedPublicKeys,
  embeddedSigners,
  formatPublicKeys,
  InputError,
  KmsEcdsaSigner,
  KmsMlDsaSigner,
  parsePublicKeys,
  planBackfill,
  proveConsistency,
  proveInclusion,
  sealEpochs,
  UsageError,
  verifyEpochs,
  verifyProof,
  type AwsSettings,
  type EpochPublicKey,
  type EpochSigner,
  type LedgerStore,
  type PlannedEpoch,
} from '@phase-mirror/mirror-dissonance';
import { writeFileAtomic } from '../atomic-write';
import { EXIT } from '../exit-codes';
import type { Io } from '../io';

/** Where the epoch keys come from; built by the caller for the configured backend. */
export interface LedgerEpochsContext {
  /** The signers of `seal` and `backfill` (embedded: creates the key files on first use). */
  signers(): Promise<EpochSigner[]>;
  /** The public keys `verify-epochs` and `verify-proof` trust when no `--public-key` file is given. */
  trustedKeys(): Promise<EpochPublicKey[]>;
  /** What the keys are, for messages: `embedded keys in <dir>`, `KMS key <id>`. */
  keySource: string;
  /** The clock of `sealed_at`. @default () => new Date() */
  now?: () => Date;
}

/**
 * Embedded keys in the state folder: Ed25519 always, ML-DSA-44 too with
 * `postQuantum`. Verification trusts every embedded key file that exists and
 * never creates one.
 */
export function embeddedEpochsContext(stateDir: string, options: { postQuantum?: boolean; now?: () => Date } = {}): LedgerEpochsContext {
  return {
    signers: async () => embeddedSigners(stateDir, { postQuantum: options.postQuantum === true }),
    trustedKeys: () => embeddedPublicKeys(stateDir),
    keySource: `embedded keys in ${stateDir}`,
    ...(options.now !== undefined ? { now: options.now } : {}),
  };
}

/** AWS KMS keys: an ECC_NIST_P256 key, and an ML_DSA_44 key when `mlDsaKeyId` is set. Trusted keys come from GetPublicKey. */
export function kmsEpochsContext(options: { aws: AwsSettings; ecdsaKeyId: string; mlDsaKeyId?: string; now?: () => Date }): LedgerEpochsContext {
  const signers: EpochSigner[] = [new KmsEcdsaSigner({ keyId: options.ecdsaKeyId, aws: options.aws })];
  if (options.mlDsaKeyId !== undefined) signers.push(new KmsMlDsaSigner({ keyId: options.mlDsaKeyId, aws: options.aws }));
  return {
    signers: async () => signers,
    trustedKeys: () => Promise.all(signers.map((signer) => signer.publicKey())),
    keySource: `KMS key${signers.length > 1 ? 's' : ''} ${signers.map((signer) => signer.keyId).join(', ')}`,
    ...(options.now !== undefined ? { now: options.now } : {}),
  };
}

const FORMATS = ['text', 'json'] as const;
type Format = (typeof FORMATS)[number];

function parseFormat(value: string | undefined): Format {
  const format = value ?? 'text';
  if ((FORMATS as readonly string[]).includes(format)) return format as Format;
  throw new UsageError(`unknown format "${format}"; use text or json`, { location: { flag: '--format' } });
}

function parseInteger(value: string | undefined, flag: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  const number = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(number) || number < min) {
    throw new UsageError(`${flag} must be an integer of at least ${min}, got ${JSON.stringify(value)}`, { location: { flag } });
  }
  return number;
}

function requireRepository(repository: string | undefined, what: string): string {
  if (repository === undefined || repository.trim() === '') throw new UsageError(`${what} needs a repository (owner/name)`);
  return repository;
}

/** `0-2`, or `0-1, 4` when the numbers are not contiguous. */
function ranges(numbers: readonly number[]): string {
  const parts: string[] = [];
  let start = numbers[0]!;
  let previous = start;
  for (const number of [...numbers.slice(1), Number.NaN]) {
    if (number === previous + 1) {
      previous = number;
      continue;
    }
    parts.push(`${start}-${previous}`);
    start = number;
    previous = number;
  }
  return parts.join(', ');
}

function byRepository<T extends { repository: string }>(items: readonly T[]): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const group = groups.get(item.repository) ?? [];
    group.push(item);
    groups.set(item.repository, group);
  }
  return groups;
}

function describeEpochs(verb: string, epochs: readonly PlannedEpoch[]): string[] {
  if (epochs.length === 0) return [`${verb} 0 epochs`];
  return [...byRepository(epochs)].map(
    ([repository, group]) =>
      `${verb} ${group.length} epochs (${ranges(group.map((epoch) => epoch.number))}) in ${repository}, heights ${group[0]!.startHeight}-${group.at(-1)!.endHeight}`,
  );
}

export interface SealCommandOptions {
  /** One stream; default: every repository of the ledger. */
  repository?: string;
  /** Blocks per epoch (default: the ledger's, else 100). */
  epochSize?: string;
  format?: string;
}

async function seal(options: SealCommandOptions, ledger: LedgerStore, context: LedgerEpochsContext, io: Io, verb: string): Promise<number> {
  const format = parseFormat(options.format);
  const epochSize = parseInteger(options.epochSize, '--epoch-size', 1);
  const signers = await context.signers();
  const result = await sealEpochs(ledger, signers, {
    ...(options.repository !== undefined ? { repository: options.repository } : {}),
    ...(epochSize !== undefined ? { epochSize } : {}),
    ...(context.now !== undefined ? { clock: context.now } : {}),
  });
  if (format === 'json') {
    io.out(
      JSON.stringify(
        {
          location: ledger.location,
          epochSize: result.epochSize,
          signers: signers.map((signer) => ({ algorithm: signer.algorithm, keyId: signer.keyId })),
          sealed: result.sealed.map((epoch) => ({
            repository: epoch.repository,
            number: epoch.number,
            startHeight: epoch.startHeight,
            endHeight: epoch.endHeight,
            root: epoch.root,
            ...(epoch.rootSha3 !== undefined ? { rootSha3: epoch.rootSha3 } : {}),
            sealedAt: epoch.sealedAt,
          })),
          sealedConcurrently: result.sealedConcurrently,
        },
        null,
        2,
      ),
    );
    return EXIT.OK;
  }
  if (result.sealed.length === 0) {
    io.out(`${verb} 0 epochs: no complete, unsealed epoch of ${result.epochSize} blocks in ${ledger.location}`);
  } else {
    for (const line of describeEpochs(verb, result.sealed)) io.out(line);
    io.out(`signed by ${signers.map((signer) => `${signer.algorithm} ${signer.keyId}`).join(', ')} (epoch size ${result.epochSize})`);
  }
  // Not an error: a concurrent sealer stored these first (the store's conditional put).
  if (result.sealedConcurrently.length > 0) for (const line of describeEpochs('Sealed concurrently by another run:', result.sealedConcurrently)) io.err(line);
  return EXIT.OK;
}

/** `ledger seal`: seals every complete, unsealed epoch (the scheduled run). */
export function ledgerSealCommand(options: SealCommandOptions, ledger: LedgerStore, context: LedgerEpochsContext, io: Io): Promise<number> {
  return seal(options, ledger, context, io, 'Sealed');
}

export interface BackfillCommandOptions extends SealCommandOptions {
  /** Only print what would be created. */
  dryRun?: boolean;
}

/** `ledger backfill [--dry-run]`: seals the epochs of history that have none (`Dry-run: Would create K epochs (a-b)`). */
export async function ledgerBackfillCommand(options: BackfillCommandOptions, ledger: LedgerStore, context: LedgerEpochsContext, io: Io): Promise<number> {
  if (options.dryRun !== true) return seal(options, ledger, context, io, 'Created');
  const format = parseFormat(options.format);
  const epochSize = parseInteger(options.epochSize, '--epoch-size', 1);
  const planned = await planBackfill(ledger, {
    ...(options.repository !== undefined ? { repository: options.repository } : {}),
    ...(epochSize !== undefined ? { epochSize } : {}),
  });
  if (format === 'json') {
    io.out(JSON.stringify({ dryRun: true, location: ledger.location, epochs: planned }, null, 2));
    return EXIT.OK;
  }
  for (const line of describeEpochs('Dry-run: Would create', planned)) io.out(line);
  return EXIT.OK;
}

export interface VerifyEpochsCommandOptions {
  repository?: string;
  /** PEM file of trusted public keys (default: the configured keys). */
  publicKey?: string;
  format?: string;
}

function readTextFile(file: string, label: string, cwd: string): string {
  try {
    return readFileSync(resolve(cwd, file), 'utf8');
  } catch (error) {
    throw new InputError('FILE_UNREADABLE', `cannot read ${label}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, {
      location: { file },
      cause: error,
    });
  }
}

async function trustedKeys(publicKeyFile: string | undefined, context: LedgerEpochsContext, io: Io): Promise<{ keys: EpochPublicKey[]; source: string }> {
  if (publicKeyFile !== undefined) return { keys: parsePublicKeys(readTextFile(publicKeyFile, 'public key file', io.cwd), publicKeyFile), source: publicKeyFile };
  return { keys: await context.trustedKeys(), source: context.keySource };
}

/** `ledger verify-epochs`: recomputes every sealed root from the stored blocks and checks every signature. Exit 1 on any failure. */
export async function ledgerVerifyEpochsCommand(options: VerifyEpochsCommandOptions, ledger: LedgerStore, context: LedgerEpochsContext, io: Io): Promise<number> {
  const format = parseFormat(options.format);
  const { keys, source } = await trustedKeys(options.publicKey, context, io);
  const results = await verifyEpochs(ledger, keys, options.repository !== undefined ? { repository: options.repository } : {});
  const failed = results.filter((result) => !result.ok);
  if (format === 'json') {
    io.out(JSON.stringify({ location: ledger.location, keys: keys.map((key) => ({ algorithm: key.algorithm, keyId: key.keyId })), ok: failed.length === 0, epochs: results }, null, 2));
    return failed.length === 0 ? EXIT.OK : EXIT.BLOCK;
  }
  if (keys.length === 0) io.err(`warning: no trusted public key (${source}); no signature can verify`);
  for (const result of results) {
    const where = `${result.repository} epoch ${result.number} (heights ${result.startHeight}-${result.endHeight})`;
    if (result.ok) {
      io.out(`OK    ${where}: root and ${result.signatures.map((check) => check.algorithm).join(' + ')} signature${result.signatures.length > 1 ? 's' : ''} verified`);
      continue;
    }
    for (const failure of result.failures) io.out(`FAIL  ${where}: ${failure.field}${failure.height !== undefined ? ` @${failure.height}` : ''}: ${failure.message}`);
  }
  io.out(
    results.length === 0
      ? `no sealed epoch in ${ledger.location}`
      : failed.length === 0
        ? `Verified ${results.length} epoch${results.length === 1 ? '' : 's'} with ${source}`
        : `${failed.length} of ${results.length} epochs failed verification`,
  );
  return failed.length === 0 ? EXIT.OK : EXIT.BLOCK;
}

export interface ProveCommandOptions {
  /** Write the proof here instead of stdout. */
  output?: string;
}

function emitProof(proof: unknown, options: ProveCommandOptions, io: Io, what: string): number {
  const text = `${JSON.stringify(proof, null, 2)}\n`;
  if (options.output === undefined) io.out(text);
  else {
    writeFileAtomic(resolve(io.cwd, options.output), text);
    io.err(`wrote the ${what} to ${options.output}`);
  }
  return EXIT.OK;
}

/** `ledger prove <repository> <height>`: the inclusion proof of a block in its sealed epoch. */
export async function ledgerProveCommand(repository: string, height: string, options: ProveCommandOptions, ledger: LedgerStore, io: Io): Promise<number> {
  const at = parseInteger(height, '<height>', 0)!;
  const proof = await proveInclusion(ledger, requireRepository(repository, 'ledger prove'), at);
  return emitProof(proof, options, io, `inclusion proof of ${repository}@${at}`);
}

export interface ProveConsistencyCommandOptions extends ProveCommandOptions {
  /** Blocks in the earlier checkpoint (required). */
  oldSize?: string;
  /** Blocks in the later one (default: the whole stream). */
  newSize?: string;
}

/** `ledger prove-consistency <repository> --old-size N [--new-size M]`: the later tree head extends the earlier one. */
export async function ledgerProveConsistencyCommand(repository: string, options: ProveConsistencyCommandOptions, ledger: LedgerStore, io: Io): Promise<number> {
  const oldSize = parseInteger(options.oldSize, '--old-size', 1);
  if (oldSize === undefined) throw new UsageError('ledger prove-consistency needs --old-size <blocks>', { location: { flag: '--old-size' } });
  const newSize = parseInteger(options.newSize, '--new-size', 1);
  const proof = await proveConsistency(ledger, requireRepository(repository, 'ledger prove-consistency'), oldSize, newSize);
  return emitProof(proof, options, io, `consistency proof ${proof.old_size} → ${proof.new_size} of ${repository}`);
}

export interface VerifyProofCommandOptions {
  publicKey?: string;
  format?: string;
}

/** `ledger verify-proof <file>`: verifies an inclusion or consistency proof offline. Exit 1 when it does not verify, 3 when the file is unreadable or not JSON. */
export async function ledgerVerifyProofCommand(file: string, options: VerifyProofCommandOptions, context: LedgerEpochsContext, io: Io): Promise<number> {
  const format = parseFormat(options.format);
  const text = readTextFile(file, 'proof', io.cwd);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new InputError('INPUT_INVALID', `not JSON: ${(error as Error).message}`, { location: { file } });
  }
  const type = (parsed as { type?: unknown } | null)?.type;
  // A consistency proof carries no signature: it needs no key.
  const { keys, source } = type === 'consistency' ? { keys: [], source: 'no key needed' } : await trustedKeys(options.publicKey, context, io);
  const result = verifyProof(parsed, keys);
  if (format === 'json') {
    io.out(JSON.stringify({ proof: file, ...result }, null, 2));
    return result.ok ? EXIT.OK : EXIT.BLOCK;
  }
  if (!result.ok) {
    for (const failure of result.failures) io.out(`FAIL  ${failure}`);
    io.out(`${file}: the proof does not verify (${result.failures.length} problem${result.failures.length === 1 ? '' : 's'})`);
    return EXIT.BLOCK;
  }
  const proof = parsed as { repository: string; height?: number; epoch?: { number: number; root: string }; old_size?: number; new_size?: number };
  if (result.type === 'inclusion') {
    io.out(
      `OK  block ${proof.height} of ${proof.repository} is in epoch ${proof.epoch!.number} (root ${proof.epoch!.root}), ` +
        `signed by ${result.signatures.map((check) => `${check.algorithm} ${check.keyId}`).join(', ')}; keys: ${source}`,
    );
  } else {
    io.out(`OK  the ${proof.old_size}-block tree head of ${proof.repository} is a prefix of its ${proof.new_size}-block tree head`);
  }
  return EXIT.OK;
}

export interface PublicKeyCommandOptions {
  output?: string;
  format?: string;
}

/** `ledger public-key`: the signers' public keys as PEM (the file `--public-key` reads), or JSON. */
export async function ledgerPublicKeyCommand(options: PublicKeyCommandOptions, context: LedgerEpochsContext, io: Io): Promise<number> {
  const format = parseFormat(options.format);
  const keys = await Promise.all((await context.signers()).map((signer) => signer.publicKey()));
  const text =
    format === 'json'
      ? `${JSON.stringify(
          keys.map((key) => ({ algorithm: key.algorithm, keyId: key.keyId, spki: key.spki.toString('base64') })),
          null,
          2,
        )}\n`
      : formatPublicKeys(keys);
  if (options.output === undefined) io.out(text);
  else {
    writeFileAtomic(resolve(io.cwd, options.output), text);
    io.err(`wrote ${keys.length} public key${keys.length === 1 ? '' : 's'} (${context.keySource}) to ${options.output}`);
  }
  return EXIT.OK;
}
