/**
 * The baseline-loader Lambda (issue 7): S3 `ObjectCreated` events on the
 * baselines bucket under `baselines/<owner>/<repo>/<name>.json`. Each new
 * object (the exact version of the event) is read and checked with the
 * core's `parseBaseline`:
 *
 * - valid ⇒ recorded as the repository's current baseline in the governance
 *   cache (S3 key, version id, sha256, loadedAt), unless an object written
 *   later is already current (an out-of-order event); emits `BaselineLoaded`.
 * - invalid (not a baseline, not UTF-8, too large, or a key outside the
 *   layout) ⇒ copied to `quarantine/<original key>`, the original version
 *   deleted, the reason recorded in the governance cache
 *   (`quarantine#<owner/repo>`) and logged; emits `BaselineQuarantined`.
 *
 * Keys outside `baselines/` and events other than ObjectCreated are ignored
 * (logged). A record whose object is already gone is skipped. S3 or DynamoDB
 * failures emit `BaselineLoadFailure` and fail the invocation after the other
 * records were handled, so the asynchronous retry (and then the DLQ) takes
 * over; handling a record again is idempotent.
 *
 * Environment: PHASE_MIRROR_STAGE (default table name
 * `phase-mirror-<stage>-governance-cache`), GOVERNANCE_CACHE_TABLE (optional
 * override), AWS_REGION (set by Lambda), AWS_ENDPOINT_URL (emulator only).
 */
import { createHash } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import {
  defaultTableNames,
  dynamoDocumentClient,
  DynamoGovernanceCache,
  parseBaseline,
  PhaseMirrorError,
  UsageError,
} from '@phase-mirror/mirror-dissonance';
import { requiredEnv } from '../shared/env';
import { createLogger, createMetrics, PowertoolsMetricsSink } from '../shared/observability';

const SERVICE = 'baseline-loader';
export const BASELINES_PREFIX = 'baselines/';
export const QUARANTINE_PREFIX = 'quarantine/';
/** `baselines/<owner>/<repo>/<name>.json`: GitHub owner and repository name rules. */
const BASELINE_KEY = /^baselines\/([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))\/([A-Za-z0-9._-]{1,100})\/(?:[^/]+\/)*[^/]+\.json$/;
/** Larger objects are quarantined unread. */
export const MAX_BASELINE_BYTES = 10 * 1024 * 1024;
const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;

/** The parts of an S3 event notification record the loader reads. */
export interface S3EventRecord {
  eventName?: string;
  s3: {
    bucket: { name: string };
    object: { key: string; size?: number; versionId?: string; sequencer?: string };
  };
}

export interface S3Event {
  Records?: S3EventRecord[];
}

export interface LoadedBaseline {
  repository: string;
  key: string;
  versionId?: string;
  sha256: string;
  outcome: 'recorded' | 'superseded';
}

export interface QuarantinedBaseline {
  repository?: string;
  key: string;
  versionId?: string;
  quarantineKey: string;
  reason: string;
}

export interface BaselineLoaderResult {
  loaded: LoadedBaseline[];
  quarantined: QuarantinedBaseline[];
  /** Records not handled, and why (not ObjectCreated, outside baselines/, object already gone). */
  ignored: { key: string; reason: string }[];
}

export interface BaselineLoaderOptions {
  clock?: () => Date;
}

export type BaselineLoaderHandler = (event: unknown, env?: NodeJS.ProcessEnv) => Promise<BaselineLoaderResult>;

interface LoaderConfig {
  region: string;
  endpoint?: string;
  tableName: string;
}

function loaderConfig(env: NodeJS.ProcessEnv): LoaderConfig {
  const region = requiredEnv(env, 'AWS_REGION');
  const override = env.GOVERNANCE_CACHE_TABLE;
  let tableName: string;
  if (override !== undefined && override !== '') {
    if (!TABLE_NAME.test(override)) {
      throw new UsageError(`environment variable GOVERNANCE_CACHE_TABLE must be a DynamoDB table name (${TABLE_NAME.source})`, {
        location: { field: 'GOVERNANCE_CACHE_TABLE' },
      });
    }
    tableName = override;
  } else {
    tableName = defaultTableNames(requiredEnv(env, 'PHASE_MIRROR_STAGE')).governanceCache;
  }
  const endpoint = env.AWS_ENDPOINT_URL || undefined;
  return { region, ...(endpoint !== undefined ? { endpoint } : {}), tableName };
}

const s3Clients = new Map<string, S3Client>();

/** One S3 client per region and endpoint for the process; path-style addressing for an endpoint override (emulators). */
function s3Client(config: LoaderConfig): S3Client {
  const key = `${config.region}|${config.endpoint ?? ''}`;
  let client = s3Clients.get(key);
  if (client === undefined) {
    const { S3Client: Client } = require('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3');
    client = new Client({
      region: config.region,
      maxAttempts: 4,
      ...(config.endpoint !== undefined ? { endpoint: config.endpoint, forcePathStyle: true } : {}),
    });
    s3Clients.set(key, client);
  }
  return client;
}

/** The object key of an event record: S3 URL-encodes it, with `+` for spaces. */
export function decodeEventKey(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, '%20'));
  } catch {
    return raw;
  }
}

/** `owner/repo` of a key in the baselines layout; undefined outside it. */
export function repositoryOfKey(key: string): string | undefined {
  const match = BASELINE_KEY.exec(key);
  return match === null ? undefined : `${match[1]}/${match[2]}`;
}

export function createBaselineLoader(options: BaselineLoaderOptions = {}): BaselineLoaderHandler {
  const clock = options.clock ?? (() => new Date());
  const logger = createLogger(SERVICE);
  const metrics = createMetrics(SERVICE);

  return async (event, env = process.env) => {
    const sink = new PowertoolsMetricsSink(metrics);
    let config: LoaderConfig;
    try {
      config = loaderConfig(env);
    } catch (error) {
      sink.count('BaselineLoadFailure', 1, {});
      logger.error('baseline loader is misconfigured', { error: describe(error) });
      throw error;
    }
    const s3 = s3Client(config);
    const cache = new DynamoGovernanceCache({
      client: dynamoDocumentClient({ region: config.region, ...(config.endpoint !== undefined ? { endpoint: config.endpoint } : {}) }),
      tableName: config.tableName,
    });
    const result: BaselineLoaderResult = { loaded: [], quarantined: [], ignored: [] };
    const failures: unknown[] = [];
    const records = Array.isArray((event as S3Event | null)?.Records) ? (event as S3Event).Records! : [];
    for (const record of records) {
      const key = decodeEventKey(record?.s3?.object?.key ?? '');
      try {
        await handleRecord(record, key);
      } catch (error) {
        failures.push(error);
        sink.count('BaselineLoadFailure', 1, {});
        logger.error('baseline could not be handled', { bucket: record?.s3?.bucket?.name, key, error: describe(error) });
      }
    }
    if (failures.length > 0) {
      const first = failures[0];
      if (failures.length === 1 && first instanceof Error) throw first;
      throw new AggregateError(failures, `${failures.length} of ${records.length} baseline records failed; the first: ${describe(first).message}`);
    }
    return result;

    async function handleRecord(record: S3EventRecord, key: string): Promise<void> {
      const bucket = record?.s3?.bucket?.name;
      if (typeof bucket !== 'string' || bucket === '' || key === '') {
        result.ignored.push({ key, reason: 'not an S3 event record' });
        logger.warn('ignored a record that is not an S3 event record', { key });
        return;
      }
      if (typeof record.eventName === 'string' && !record.eventName.startsWith('ObjectCreated:')) {
        result.ignored.push({ key, reason: `event ${record.eventName} is not ObjectCreated` });
        return;
      }
      if (!key.startsWith(BASELINES_PREFIX)) {
        result.ignored.push({ key, reason: `outside ${BASELINES_PREFIX}` });
        logger.warn('ignored an object outside the baselines prefix (check the notification filter)', { bucket, key });
        return;
      }
      const versionId = record.s3.object.versionId || undefined;
      const repository = repositoryOfKey(key);
      const target = { bucket, key, ...(versionId !== undefined ? { versionId } : {}), ...(repository !== undefined ? { repository } : {}) };
      if (repository === undefined) {
        await quarantine(target, `the key does not follow ${BASELINES_PREFIX}<owner>/<repo>/<name>.json`);
        return;
      }
      const announced = record.s3.object.size;
      if (typeof announced === 'number' && announced > MAX_BASELINE_BYTES) {
        await quarantine(target, `the object is ${announced} bytes; baselines are limited to ${MAX_BASELINE_BYTES}`);
        return;
      }
      const object = await readObject(bucket, key, versionId);
      if (object === undefined) {
        result.ignored.push({ key, reason: 'the object (version) no longer exists' });
        logger.info('baseline object already gone', { bucket, key, versionId });
        return;
      }
      if (object.bytes === undefined) {
        await quarantine(target, `the object is ${object.size} bytes; baselines are limited to ${MAX_BASELINE_BYTES}`);
        return;
      }
      let text: string;
      try {
        text = new TextDecoder('utf-8', { fatal: true }).decode(object.bytes);
      } catch {
        await quarantine(target, 'the object is not UTF-8 text');
        return;
      }
      let baseline;
      try {
        baseline = parseBaseline(key, text);
      } catch (error) {
        if (!(error instanceof PhaseMirrorError)) throw error;
        await quarantine(target, error.describe());
        return;
      }
      const sha256 = createHash('sha256').update(object.bytes).digest('hex');
      const recordedVersion = versionId ?? object.versionId;
      const outcome = await cache.recordBaseline({
        repository,
        bucket,
        key,
        ...(recordedVersion !== undefined ? { versionId: recordedVersion } : {}),
        sha256,
        size: object.bytes.length,
        objectLastModified: (object.lastModified ?? clock()).toISOString(),
        baselineCreatedAt: new Date(baseline.createdAt).toISOString(),
        fileCount: Object.keys(baseline.files).length,
        loadedAt: clock().toISOString(),
      });
      result.loaded.push({ repository, key, ...(recordedVersion !== undefined ? { versionId: recordedVersion } : {}), sha256, outcome });
      if (outcome === 'recorded') {
        sink.count('BaselineLoaded', 1, {});
        logger.info('baseline loaded', { repository, bucket, key, versionId: recordedVersion, sha256, files: Object.keys(baseline.files).length });
      } else {
        logger.info('baseline not recorded: a baseline written later is already current', { repository, bucket, key, versionId: recordedVersion });
      }
    }

    async function readObject(
      bucket: string,
      key: string,
      versionId: string | undefined,
    ): Promise<{ bytes?: Uint8Array; size: number; versionId?: string; lastModified?: Date } | undefined> {
      const { GetObjectCommand } = require('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3');
      try {
        const output = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...(versionId !== undefined ? { VersionId: versionId } : {}) }));
        if (typeof output.ContentLength === 'number' && output.ContentLength > MAX_BASELINE_BYTES) {
          // Not read: the size alone disqualifies it.
          (output.Body as { destroy?: () => void } | undefined)?.destroy?.();
          return { size: output.ContentLength };
        }
        const bytes = output.Body === undefined ? new Uint8Array() : await output.Body.transformToByteArray();
        if (bytes.length > MAX_BASELINE_BYTES) return { size: bytes.length };
        return {
          bytes,
          size: bytes.length,
          ...(output.VersionId !== undefined ? { versionId: output.VersionId } : {}),
          ...(output.LastModified !== undefined ? { lastModified: output.LastModified } : {}),
        };
      } catch (error) {
        const name = (error as { name?: string } | null)?.name;
        if (name === 'NoSuchKey' || name === 'NoSuchVersion' || name === 'NotFound') return undefined;
        throw error;
      }
    }

    async function quarantine(target: { bucket: string; key: string; versionId?: string; repository?: string }, reason: string): Promise<void> {
      const { CopyObjectCommand, DeleteObjectCommand } = require('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3');
      const quarantineKey = `${QUARANTINE_PREFIX}${target.key}`;
      const source = `${target.bucket}/${target.key.split('/').map(encodeURIComponent).join('/')}${target.versionId !== undefined ? `?versionId=${encodeURIComponent(target.versionId)}` : ''}`;
      try {
        await s3.send(new CopyObjectCommand({ Bucket: target.bucket, Key: quarantineKey, CopySource: source, MetadataDirective: 'COPY' }));
      } catch (error) {
        const name = (error as { name?: string } | null)?.name;
        if (name === 'NoSuchKey' || name === 'NoSuchVersion') {
          result.ignored.push({ key: target.key, reason: 'the object (version) no longer exists' });
          return;
        }
        throw error;
      }
      // The exact version is deleted: a newer upload of the same key is left alone.
      await s3.send(new DeleteObjectCommand({ Bucket: target.bucket, Key: target.key, ...(target.versionId !== undefined ? { VersionId: target.versionId } : {}) }));
      const quarantinedAt = clock().toISOString();
      await cache.recordQuarantine({ ...target, quarantineKey, reason, quarantinedAt });
      result.quarantined.push({ ...target, quarantineKey, reason });
      sink.count('BaselineQuarantined', 1, {});
      logger.warn('baseline quarantined', { ...target, quarantineKey, reason });
    }
  };
}

const defaultLoader = createBaselineLoader();

/** The Lambda entry point (event, context): configuration comes from the function's environment. */
export async function handler(event: unknown): Promise<BaselineLoaderResult> {
  return defaultLoader(event, process.env);
}

/** Name, code and message only: SDK errors can carry request details, which are not logged. */
function describe(error: unknown): { name: string; code?: string; message: string } {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const code = error instanceof PhaseMirrorError ? error.code : (error as { code?: unknown }).code;
  return { name: error.name, ...(typeof code === 'string' ? { code } : {}), message: error.message };
}
