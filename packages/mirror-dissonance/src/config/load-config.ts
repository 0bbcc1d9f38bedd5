import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { PACKAGE_ROOT } from '../package-root';
import { validateYamlSource, type SchemaValidateFunction } from './schema-errors';
import { readShippedSchemaText } from './shipped-schema';
import type { ValidateFunction } from 'ajv';
import { DEFAULT_NONCE_GRACE_MS } from '../nonce/validity';
import { createHash } from 'node:crypto';
import { DEFAULT_BASELINE_PATH } from '../baseline/baseline';
import { InputError } from '../errors';
import { compileJobIntents, DEFAULT_JOB_INTENTS } from '../rules/job-intents';
import type { TableId } from '../store/aws/table-definitions';
import type { JobIntent, LocatedString, MergeQueuePolicy, OracleSettings, Policy } from '../types';
import { parseYamlSource, type YamlSource } from './yaml-source';

export const CONFIG_FILE = '.phase-mirror.yml';
/** Locations of a standalone policy file, in the order they are looked for. */
export const POLICY_FILES = [
  '.github/phase-mirror/policy.yml',
  '.github/phase-mirror/policy.yaml',
  '.github/phase-mirror/policy.json',
] as const;
const MAX_CONFIG_BYTES = 1024 * 1024;

export const DEFAULT_SETTINGS: OracleSettings = Object.freeze({
  thresholds: {
    default: { critical: 0, high: 3, medium: 10 },
    strict: { critical: 0, high: 0, medium: 5 },
  },
  circuitBreaker: { threshold: 100, strictThreshold: 50 },
  l0: { driftBound: 1, contractionWitnessMin: 5 },
  disabledRules: [],
  ruleOptions: { jobIntents: DEFAULT_JOB_INTENTS },
});

/** The configuration in force for a run, with where each part came from. */
export interface ResolvedConfig {
  /** Repository-relative path of the config file; undefined when none exists. */
  configFile?: string;
  /** Repository-relative path of the file the policy came from; undefined when defaults apply. */
  policyFile?: string;
  strict: boolean;
  dryRun: boolean;
  policy: Policy;
  settings: OracleSettings;
  storage: StorageConfig;
  nonce: NonceConfig;
  ledger: LedgerConfig;
}

/** Who signs sealed ledger epochs. */
export interface LedgerConfig {
  /** aws: ECC_NIST_P256 KMS key. */
  signingKeyId?: string;
  /** aws: ML_DSA_44 KMS key (optional second signature). */
  mlDsaKeyId?: string;
  /** embedded: also sign with ML-DSA-44. */
  postQuantum: boolean;
}

/** The redaction nonce lifecycle (DESIGN §8). */
export interface NonceConfig {
  /** How long a superseded version keeps verifying. @default 1 h */
  gracePeriodMs: number;
}

/** Where state lives. `aws` fields are resolved (environment defaults applied) by the backend factory. */
export interface StorageConfig {
  backend: 'embedded' | 'aws';
  region?: string;
  endpoint?: string;
  stage: string;
  tables: Partial<Record<TableId, string>>;
  /** KMS key for new SSM nonce versions (aws backend). */
  kmsKeyId?: string;
}

interface RawPolicy {
  requiredStatusChecks?: string[];
  mergeQueue?: Partial<Omit<MergeQueuePolicy, 'path' | 'line'>>;
  automation?: { authors?: string[]; branchPrefixes?: string[] };
  protectedPaths?: string[];
  criticalPaths?: string[];
  probabilistic?: { paths: string[]; evaluationJobs: string[] };
  baseline?: { path?: string; globs?: string[]; threshold?: number };
}

interface RawConfig {
  version: 1;
  strict?: boolean;
  dryRun?: boolean;
  policy?: RawPolicy;
  thresholds?: { default?: Partial<OracleSettings['thresholds']['default']>; strict?: Partial<OracleSettings['thresholds']['strict']> };
  circuitBreaker?: Partial<OracleSettings['circuitBreaker']>;
  l0?: Partial<OracleSettings['l0']>;
  storage?: {
    backend?: 'embedded' | 'aws';
    region?: string;
    endpoint?: string;
    stage?: string;
    tables?: Partial<Record<TableId, string>>;
    kmsKeyId?: string;
  };
  nonce?: { gracePeriodSeconds?: number };
  ledger?: { signingKeyId?: string; mlDsaKeyId?: string; postQuantum?: boolean };
  rules?: { disabled?: string[]; options?: { jobIntents?: Record<string, { keywords: string[]; actions?: string[]; commands?: string[] }> } };
}

let validators: { config: SchemaValidateFunction; policy: SchemaValidateFunction } | undefined;

/**
 * The config and policy validators. The build generates standalone code for
 * both (scripts/stamp-schema.js) so no CLI call pays ajv's ~100 ms compile;
 * it is used only when generated from the very schema files shipped here,
 * otherwise the shipped schemas are compiled.
 */
function getValidators(): { config: SchemaValidateFunction; policy: SchemaValidateFunction } {
  if (validators !== undefined) return validators;
  const schemaFiles = ['policy.schema.json', 'phase-mirror-config.schema.json'];
  const texts = schemaFiles.map(readShippedSchemaText);
  const sourceSha256 = createHash('sha256');
  for (const text of texts) sourceSha256.update(text);
  const generatedFile = join(PACKAGE_ROOT, 'dist', 'config-validators.js');
  if (existsSync(generatedFile)) {
    const generated = require(generatedFile) as { config: SchemaValidateFunction; policy: SchemaValidateFunction; sourceSha256: string };
    if (generated.sourceSha256 === sourceSha256.digest('hex')) {
      validators = { config: generated.config, policy: generated.policy };
      return validators;
    }
  }
  // Loaded lazily: ajv costs ~30 ms to require, avoided when the generated validators apply.
  const { default: Ajv2020 } = require('ajv/dist/2020') as typeof import('ajv/dist/2020');
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  const [policySchema, configSchema] = texts.map((text) => JSON.parse(text) as { $id: string });
  ajv.addSchema(policySchema!);
  validators = { config: ajv.compile(configSchema!), policy: ajv.getSchema(policySchema!.$id) as ValidateFunction };
  return validators;
}

/**
 * Loads `.phase-mirror.yml` (or `explicitConfig`) and the policy, validates
 * both against their JSON Schemas, and resolves defaults. Every error names
 * the file, the line and the field.
 */
export function loadConfig(root: string, explicitConfig?: string): ResolvedConfig {
  const configPath = explicitConfig ?? join(root, CONFIG_FILE);
  const configLabel = displayPath(root, configPath);
  let raw: RawConfig | undefined;
  let configSource: YamlSource | undefined;
  if (existsSync(configPath)) {
    configSource = parseYamlSource(configLabel, readConfigText(configPath, configLabel));
    raw = validateYamlSource(getValidators().config, configSource, 'CONFIG_INVALID') as RawConfig;
  } else if (explicitConfig !== undefined) {
    throw new InputError('CONFIG_INVALID', 'configuration file not found', { location: { file: configLabel, flag: '--config' } });
  }

  const policyFiles = POLICY_FILES.filter((candidate) => existsSync(join(root, candidate)));
  if (policyFiles.length > 1) {
    throw new InputError('CONFIG_INVALID', `policy is declared in ${policyFiles.join(' and ')}; keep one`, { location: { file: policyFiles[1] } });
  }
  const policyFile = policyFiles[0];
  let policy: Policy;
  if (policyFile !== undefined) {
    if (raw?.policy !== undefined && configSource !== undefined) {
      throw new InputError(
        'CONFIG_INVALID',
        `policy is declared both here and in ${policyFile}; keep one`,
        { location: { file: configLabel, line: configSource.lineOf(['policy']), field: 'policy' } },
      );
    }
    const source = parseYamlSource(policyFile, readConfigText(join(root, policyFile), policyFile));
    const rawPolicy = validateYamlSource(getValidators().policy, source, 'CONFIG_INVALID') as RawPolicy;
    policy = resolvePolicy(rawPolicy, source, []);
  } else if (raw?.policy !== undefined && configSource !== undefined) {
    policy = resolvePolicy(raw.policy, configSource, ['policy']);
  } else {
    policy = resolvePolicy({}, undefined, []);
  }

  const settings: OracleSettings = {
    thresholds: {
      default: { ...DEFAULT_SETTINGS.thresholds.default, ...raw?.thresholds?.default },
      strict: { ...DEFAULT_SETTINGS.thresholds.strict, ...raw?.thresholds?.strict },
    },
    circuitBreaker: { ...DEFAULT_SETTINGS.circuitBreaker, ...raw?.circuitBreaker },
    l0: { ...DEFAULT_SETTINGS.l0, ...raw?.l0 },
    disabledRules: raw?.rules?.disabled ?? [],
    ruleOptions: { jobIntents: resolveJobIntents(raw?.rules?.options?.jobIntents, configSource) },
  };
  return {
    ...(configSource ? { configFile: configLabel } : {}),
    ...(policyFile !== undefined ? { policyFile } : raw?.policy !== undefined ? { policyFile: configLabel } : {}),
    strict: raw?.strict ?? false,
    dryRun: raw?.dryRun ?? false,
    policy,
    settings,
    storage: {
      backend: raw?.storage?.backend ?? 'embedded',
      ...(raw?.storage?.region !== undefined ? { region: raw.storage.region } : {}),
      ...(raw?.storage?.endpoint !== undefined ? { endpoint: raw.storage.endpoint } : {}),
      stage: raw?.storage?.stage ?? 'dev',
      tables: raw?.storage?.tables ?? {},
      ...(raw?.storage?.kmsKeyId !== undefined ? { kmsKeyId: raw.storage.kmsKeyId } : {}),
    },
    nonce: { gracePeriodMs: (raw?.nonce?.gracePeriodSeconds ?? DEFAULT_NONCE_GRACE_MS / 1000) * 1000 },
    ledger: {
      ...(raw?.ledger?.signingKeyId !== undefined ? { signingKeyId: raw.ledger.signingKeyId } : {}),
      ...(raw?.ledger?.mlDsaKeyId !== undefined ? { mlDsaKeyId: raw.ledger.mlDsaKeyId } : {}),
      postQuantum: raw?.ledger?.postQuantum ?? false,
    },
  };
}

function readConfigText(absolute: string, label: string): string {
  try {
    const size = statSync(absolute).size;
    if (size > MAX_CONFIG_BYTES) {
      throw new InputError('CONFIG_INVALID', `file is ${size} bytes; configuration is limited to ${MAX_CONFIG_BYTES}`, { location: { file: label } });
    }
    const bytes = readFileSync(absolute);
    if (bytes.includes(0)) throw new InputError('CONFIG_INVALID', 'file is binary, expected YAML or JSON', { location: { file: label } });
    return bytes.toString('utf8');
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError('FILE_UNREADABLE', `cannot read file: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, {
      location: { file: label },
      cause: error,
    });
  }
}

function resolvePolicy(raw: RawPolicy, source: YamlSource | undefined, prefix: (string | number)[]): Policy {
  const file = source?.path ?? CONFIG_FILE;
  const located = (values: readonly string[] | undefined, ...field: string[]): LocatedString[] =>
    (values ?? []).map((value, index) => ({ value, path: file, line: source ? source.lineOf([...prefix, ...field, index]) : 0 }));
  const policy: Policy = {
    ...(source ? { source: source.path } : {}),
    requiredStatusChecks: located(raw.requiredStatusChecks, 'requiredStatusChecks'),
    criticalPaths: located(raw.criticalPaths, 'criticalPaths'),
    protectedPaths: located(raw.protectedPaths, 'protectedPaths'),
    automation: {
      authors: located(raw.automation?.authors, 'automation', 'authors'),
      branchPrefixes: located(raw.automation?.branchPrefixes, 'automation', 'branchPrefixes'),
    },
    baseline: {
      path: raw.baseline?.path ?? DEFAULT_BASELINE_PATH,
      globs: raw.baseline?.globs ?? [],
      threshold: raw.baseline?.threshold ?? 0.15,
    },
  };
  if (raw.mergeQueue !== undefined) {
    policy.mergeQueue = {
      path: file,
      line: source ? source.lineOf([...prefix, 'mergeQueue']) : 0,
      requiredForDefaultBranch: raw.mergeQueue.requiredForDefaultBranch ?? true,
      allowBypassForAdmins: raw.mergeQueue.allowBypassForAdmins ?? false,
      requireLinearHistory: raw.mergeQueue.requireLinearHistory ?? false,
      allowDirectPushes: raw.mergeQueue.allowDirectPushes ?? false,
    };
  }
  if (raw.probabilistic !== undefined) {
    policy.probabilistic = {
      paths: located(raw.probabilistic.paths, 'probabilistic', 'paths'),
      evaluationJobs: located(raw.probabilistic.evaluationJobs, 'probabilistic', 'evaluationJobs'),
    };
  }
  return policy;
}

/**
 * MD-100 job intents: the built-in ones, with configured intents replacing
 * (same name) or adding to them. They are compiled here so a bad pattern
 * (invalid, or with nested repetition) is a configuration error naming its line.
 */
function resolveJobIntents(
  configured: Record<string, { keywords: string[]; actions?: string[]; commands?: string[] }> | undefined,
  source: YamlSource | undefined,
): Readonly<Record<string, JobIntent>> {
  // The built-in intents are known good (tested); only configured ones need checking here.
  if (configured === undefined) return DEFAULT_JOB_INTENTS;
  const intents: Record<string, JobIntent> = { ...DEFAULT_JOB_INTENTS };
  for (const [name, intent] of Object.entries(configured)) {
    intents[name] = { keywords: intent.keywords, actions: intent.actions ?? [], commands: intent.commands ?? [] };
  }
  try {
    // Compiling proves every configured pattern is a linear regular expression, at load time.
    compileJobIntents(intents);
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    const field = error.location.field ?? '';
    const segments = field
      .replace(/\[(\d+)\]/g, '.$1')
      .split('.')
      .filter((part) => part !== '')
      .map((part) => (/^\d+$/.test(part) ? Number(part) : part));
    throw new InputError('CONFIG_INVALID', error.message, {
      location: { file: source?.path ?? CONFIG_FILE, line: source?.lineOf(segments) ?? 0, field: segments.join('.') },
    });
  }
  return intents;
}

function displayPath(root: string, absolute: string): string {
  const rel = relative(root, absolute);
  return rel.startsWith('..') || rel === '' ? absolute : rel.split('\\').join('/');
}
