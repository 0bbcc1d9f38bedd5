/**
 * The typed configuration of one deployment stage. `bin/phase-mirror.ts` is
 * the only reader of `cdk.json` context: it passes the raw object of each stage
 * through `parseStageConfig`, and the stacks receive the typed result.
 */
import { Duration } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';

/** Alarm thresholds; an alarm fires when the value in one period is >= the threshold. */
export interface AlarmThresholds {
  /** Lambda `Errors` per function per 5 minutes. */
  functionErrors: number;
  /** Lambda `Throttles` per function per 5 minutes. */
  functionThrottles: number;
  /** DynamoDB throttled requests (read + write) per table per 5 minutes. */
  tableThrottles: number;
  /** Circuit-breaker trips (all repositories) per hour. */
  circuitBreakerTrips: number;
  /** Messages waiting in a dead-letter queue. */
  deadLetters: number;
}

export interface GitHubConfig {
  owner: string;
  repo: string;
  /**
   * ARN of an existing `token.actions.githubusercontent.com` provider in the
   * account: an account holds one provider per URL, so the second stage in
   * the same account imports the first one's.
   */
  oidcProviderArn?: string;
}

export interface StageConfig {
  /** Stage name: resource names, SSM path `/guardian/<name>/`, OIDC `environment:<name>`. */
  name: string;
  account: string;
  region: string;
  /** Ephemeral stages are destroyable: no deletion protection, removal policy DESTROY. */
  ephemeral: boolean;
  github: GitHubConfig;
  alarmEmail: string;
  thresholds: AlarmThresholds;
  nonceRotationRate: Duration;
  /** Grace period of the previous nonce version (NONCE_GRACE_SECONDS). */
  nonceGracePeriod: Duration;
  epochSealingRate: Duration;
  /** Leaves per epoch for the first seal (EPOCH_SIZE); the ledger's pinned size wins afterwards. */
  epochSize?: number;
  /** Also sign epochs with an ML-DSA-44 KMS key. */
  mlDsaEpochSigning: boolean;
  logRetention: RetentionDays;
  /** Deploy the audit stack (CloudTrail into an encrypted, TLS-only bucket). Off by default: an organization trail may already cover the account. */
  audit: boolean;
  /** Back the tables up with AWS Backup (daily 7 d, weekly 30 d, monthly 90 d). */
  backup: boolean;
}

/** Where a configuration error is, for messages like `stages.prod.account`. */
class ConfigError extends Error {
  constructor(path: string, message: string) {
    super(`cdk.json context ${path}: ${message}`);
    this.name = 'ConfigError';
  }
}

const STAGE_NAME = /^[a-z][a-z0-9-]{0,19}$/;
const GITHUB_NAME = /^[A-Za-z0-9_.-]{1,100}$/;
const RATE = /^([1-9][0-9]*) (minute|minutes|hour|hours|day|days)$/;
const DEFAULT_THRESHOLDS: AlarmThresholds = {
  functionErrors: 1,
  functionThrottles: 1,
  tableThrottles: 1,
  circuitBreakerTrips: 1,
  deadLetters: 1,
};
const RETENTION_DAYS = new Set<number>(Object.values(RetentionDays).filter((value): value is number => typeof value === 'number'));

/**
 * Validates the raw context object of stage `name` and applies defaults.
 * @throws ConfigError naming the offending context path.
 */
export function parseStageConfig(name: string, raw: unknown): StageConfig {
  const at = `stages.${name}`;
  if (!STAGE_NAME.test(name)) throw new ConfigError(at, 'a stage name is 1-20 lowercase letters, digits or dashes, starting with a letter');
  const input = record(at, raw);
  const github = record(`${at}.github`, input.github);
  const thresholds = input.thresholds === undefined ? {} : record(`${at}.thresholds`, input.thresholds);
  const nonceRotationRate = rate(`${at}.nonceRotationRate`, input.nonceRotationRate);
  // The heartbeat alarm looks back two rotation periods; CloudWatch evaluates at most 7 days.
  if (nonceRotationRate.toSeconds() * 2 > Duration.days(7).toSeconds()) {
    throw new ConfigError(`${at}.nonceRotationRate`, 'must be at most 3 days (the heartbeat alarm spans two periods, CloudWatch allows 7 days)');
  }
  if (nonceRotationRate.toSeconds() < Duration.hours(1).toSeconds()) {
    throw new ConfigError(`${at}.nonceRotationRate`, 'must be at least 1 hour (a nonce version stays valid for the grace period after the next rotation)');
  }
  const epochSealingRate = rate(`${at}.epochSealingRate`, input.epochSealingRate);
  if (epochSealingRate.toSeconds() * 2 > Duration.days(7).toSeconds()) {
    throw new ConfigError(`${at}.epochSealingRate`, 'must be at most 3 days (the sealer heartbeat alarm spans two periods, CloudWatch allows 7 days)');
  }
  if (epochSealingRate.toSeconds() < Duration.minutes(5).toSeconds()) {
    throw new ConfigError(`${at}.epochSealingRate`, 'must be at least 5 minutes');
  }
  const nonceGracePeriod = Duration.seconds(integer(`${at}.nonceGraceSeconds`, input.nonceGraceSeconds ?? 3600, 60, 7 * 24 * 3600));
  const logRetentionDays = integer(`${at}.logRetentionDays`, input.logRetentionDays ?? 90, 1, 3653);
  if (!RETENTION_DAYS.has(logRetentionDays)) throw new ConfigError(`${at}.logRetentionDays`, `must be one of ${[...RETENTION_DAYS].sort((a, b) => a - b).join(', ')}`);
  const oidcProviderArn = github.oidcProviderArn === undefined ? undefined : text(`${at}.github.oidcProviderArn`, github.oidcProviderArn, /^arn:aws[a-z-]*:iam::[0-9]{12}:oidc-provider\/token\.actions\.githubusercontent\.com$/);
  return {
    name,
    account: text(`${at}.account`, input.account, /^[0-9]{12}$/),
    region: text(`${at}.region`, input.region, /^[a-z]{2}(-[a-z]+)+-[0-9]$/),
    ephemeral: bool(`${at}.ephemeral`, input.ephemeral ?? false),
    github: {
      owner: text(`${at}.github.owner`, github.owner, GITHUB_NAME),
      repo: text(`${at}.github.repo`, github.repo, GITHUB_NAME),
      ...(oidcProviderArn === undefined ? {} : { oidcProviderArn }),
    },
    alarmEmail: text(`${at}.alarmEmail`, input.alarmEmail, /^[^@\s]+@[^@\s]+\.[^@\s]+$/),
    thresholds: {
      functionErrors: integer(`${at}.thresholds.functionErrors`, thresholds.functionErrors ?? DEFAULT_THRESHOLDS.functionErrors, 1, 1_000_000),
      functionThrottles: integer(`${at}.thresholds.functionThrottles`, thresholds.functionThrottles ?? DEFAULT_THRESHOLDS.functionThrottles, 1, 1_000_000),
      tableThrottles: integer(`${at}.thresholds.tableThrottles`, thresholds.tableThrottles ?? DEFAULT_THRESHOLDS.tableThrottles, 1, 1_000_000),
      circuitBreakerTrips: integer(`${at}.thresholds.circuitBreakerTrips`, thresholds.circuitBreakerTrips ?? DEFAULT_THRESHOLDS.circuitBreakerTrips, 1, 1_000_000),
      deadLetters: integer(`${at}.thresholds.deadLetters`, thresholds.deadLetters ?? DEFAULT_THRESHOLDS.deadLetters, 1, 1_000_000),
    },
    nonceRotationRate,
    nonceGracePeriod,
    epochSealingRate,
    ...(input.epochSize === undefined ? {} : { epochSize: integer(`${at}.epochSize`, input.epochSize, 1, 1_000_000) }),
    mlDsaEpochSigning: bool(`${at}.mlDsaEpochSigning`, input.mlDsaEpochSigning ?? false),
    logRetention: logRetentionDays as RetentionDays,
    audit: bool(`${at}.audit`, input.audit ?? false),
    backup: bool(`${at}.backup`, input.backup ?? false),
  };
}

/** Every stage of the `stages` context object, in its key order. */
export function parseStages(raw: unknown): StageConfig[] {
  const stages = record('stages', raw);
  const names = Object.keys(stages);
  if (names.length === 0) throw new ConfigError('stages', 'defines no stage');
  return names.map((name) => parseStageConfig(name, stages[name]));
}

function record(path: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ConfigError(path, 'must be an object');
  return value as Record<string, unknown>;
}

function text(path: string, value: unknown, pattern: RegExp): string {
  if (typeof value !== 'string' || !pattern.test(value)) throw new ConfigError(path, `must be a string matching ${pattern}, got ${JSON.stringify(value)}`);
  return value;
}

function bool(path: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new ConfigError(path, `must be true or false, got ${JSON.stringify(value)}`);
  return value;
}

function integer(path: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(path, `must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** `"<n> minute(s)|hour(s)|day(s)"` as a Duration. */
function rate(path: string, value: unknown): Duration {
  const match = typeof value === 'string' ? RATE.exec(value) : null;
  if (match === null) throw new ConfigError(path, `must be "<n> minutes|hours|days", got ${JSON.stringify(value)}`);
  const amount = Number(match[1]);
  const unit = match[2] as string;
  if (unit.startsWith('minute')) return Duration.minutes(amount);
  if (unit.startsWith('hour')) return Duration.hours(amount);
  return Duration.days(amount);
}
