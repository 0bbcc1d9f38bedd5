/**
 * Physical names of the stage's resources, in one place: the stateful stack
 * creates resources with these names and the other stacks build their IAM
 * resources, environment variables and alarm dimensions from the same names,
 * so policies are literal ARNs (reviewable, no cross-stack tokens).
 */
import type { StageConfig } from './config';

export function resourceName(stage: string, part: string): string {
  return `phase-mirror-${stage}-${part}`;
}

/** The table of `suffix` (TABLE_DEFINITIONS[id].suffix): the adapters' default names (defaultTableNames). */
export function tableName(stage: string, suffix: string): string {
  return resourceName(stage, suffix);
}

export function functionName(stage: string, name: string): string {
  return resourceName(stage, name);
}

/** Bucket names are global: account and region make them unique. */
export function baselinesBucketName(config: Pick<StageConfig, 'name' | 'account' | 'region'>): string {
  return bucketName(`phase-mirror-${config.name}-baselines-${config.account}-${config.region}`);
}

export function accessLogsBucketName(config: Pick<StageConfig, 'name' | 'account' | 'region'>): string {
  return bucketName(`phase-mirror-${config.name}-logs-${config.account}-${config.region}`);
}

/** The audit stack's CloudTrail bucket. */
export function auditBucketName(config: Pick<StageConfig, 'name' | 'account' | 'region'>): string {
  return bucketName(`phase-mirror-${config.name}-audit-${config.account}-${config.region}`);
}

/** The access-log bucket of the CloudTrail bucket. */
export function auditAccessLogsBucketName(config: Pick<StageConfig, 'name' | 'account' | 'region'>): string {
  return bucketName(`phase-mirror-${config.name}-audit-logs-${config.account}-${config.region}`);
}

function bucketName(name: string): string {
  if (name.length > 63) throw new Error(`bucket name ${name} is longer than 63 characters: use a shorter stage name`);
  return name;
}
