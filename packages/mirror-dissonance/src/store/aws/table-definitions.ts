/**
 * The DynamoDB tables of the AWS backend, defined once: the adapters read
 * their key names from here, integration tests create the emulator's tables
 * from here, and the CDK stacks (issue 7) will build their `Table`s from
 * here. Plain data, no SDK or CDK types, so every consumer can map it.
 */

export interface AttributeDefinition {
  name: string;
  type: 'S' | 'N';
}

export interface GlobalSecondaryIndex {
  indexName: string;
  partitionKey: AttributeDefinition;
  sortKey?: AttributeDefinition;
  /** ALL: items projected whole. */
  projection: 'ALL' | 'KEYS_ONLY';
}

export interface TableDefinition {
  /** Logical id used in configuration (`storage.tables.<id>`) and CDK construct ids. */
  id: TableId;
  /** Default physical name suffix: `phase-mirror-<stage>-<suffix>`. */
  suffix: string;
  partitionKey: AttributeDefinition;
  sortKey?: AttributeDefinition;
  globalSecondaryIndexes: readonly GlobalSecondaryIndex[];
  /** TTL attribute (epoch seconds) when records expire. */
  timeToLiveAttribute?: 'expiresAt';
}

export type TableId = 'fpEvents' | 'consent' | 'blockCounter' | 'fprHistory' | 'calibration' | 'ledger' | 'ledgerEpochs' | 'governanceCache';

/** The TTL attribute: the same name in code and tables (DESIGN §7). */
export const TTL_ATTRIBUTE = 'expiresAt' as const;

export const TABLE_DEFINITIONS: Readonly<Record<TableId, TableDefinition>> = Object.freeze({
  /** pk `rule#<ruleId>`, sk `event#<iso>#<eventId>`; GSIs by finding and by event id. */
  fpEvents: {
    id: 'fpEvents',
    suffix: 'fp-events',
    partitionKey: { name: 'pk', type: 'S' },
    sortKey: { name: 'sk', type: 'S' },
    globalSecondaryIndexes: [
      { indexName: 'FindingIndex', partitionKey: { name: 'findingId', type: 'S' }, sortKey: { name: 'sk', type: 'S' }, projection: 'ALL' },
      { indexName: 'EventIndex', partitionKey: { name: 'eventId', type: 'S' }, projection: 'ALL' },
    ],
    timeToLiveAttribute: TTL_ATTRIBUTE,
  },
  /** pk `org#<orgId>`, sk `current#<resource>#<scope>` or `history#<iso>#<resource>#<scope>#<n>`. */
  consent: {
    id: 'consent',
    suffix: 'consent',
    partitionKey: { name: 'pk', type: 'S' },
    sortKey: { name: 'sk', type: 'S' },
    globalSecondaryIndexes: [],
  },
  /** pk `counter#<key>`; `count` incremented atomically; expires with the hour. */
  blockCounter: {
    id: 'blockCounter',
    suffix: 'block-counter',
    partitionKey: { name: 'pk', type: 'S' },
    globalSecondaryIndexes: [],
    timeToLiveAttribute: TTL_ATTRIBUTE,
  },
  /** pk `rule#<ruleId>`, sk `snapshot#<iso>`. */
  fprHistory: {
    id: 'fprHistory',
    suffix: 'fpr-history',
    partitionKey: { name: 'pk', type: 'S' },
    sortKey: { name: 'sk', type: 'S' },
    globalSecondaryIndexes: [],
    timeToLiveAttribute: TTL_ATTRIBUTE,
  },
  /** pk `rule#<ruleId>`, sk `record#<bucket>#<orgHash>#<id>`. */
  calibration: {
    id: 'calibration',
    suffix: 'calibration',
    partitionKey: { name: 'pk', type: 'S' },
    sortKey: { name: 'sk', type: 'S' },
    globalSecondaryIndexes: [],
  },
  /**
   * The decision ledger (src/store/aws/ledger-store.ts), permanent: no TTL.
   * One partition per stream, pk `repo#<repository>`, holding its blocks
   * (sk `block#<height, 12 digits>`), the leaf chunks of blocks too large for
   * one item (sk `leaves#<height>#<chunk, 3 digits>`), the action journal (sk
   * `action#<seq, 12 digits>`) and the journal's sequence counter (sk
   * `journal`); pk `ledger#repositories` lists the streams (sk
   * `repo#<repository>`, written with block 0) and pk `ledger#settings`
   * holds the ledger settings (sk `setting#<key>`). A block, its chunks and
   * its stream's registration are written in one transaction, conditional on
   * the height being free and the previous height existing.
   */
  ledger: {
    id: 'ledger',
    suffix: 'ledger',
    partitionKey: { name: 'pk', type: 'S' },
    sortKey: { name: 'sk', type: 'S' },
    globalSecondaryIndexes: [],
  },
  /**
   * Sealed epochs, permanent: pk `repo#<repository>`, sk `epoch#<number, 12 digits>`.
   * A table of its own so the epoch sealer can be granted writes here and only
   * reads on `ledger`, and the oracle the reverse.
   */
  ledgerEpochs: {
    id: 'ledgerEpochs',
    suffix: 'ledger-epochs',
    partitionKey: { name: 'pk', type: 'S' },
    sortKey: { name: 'sk', type: 'S' },
    globalSecondaryIndexes: [],
  },
  /**
   * The governance cache (src/store/aws/governance-cache.ts), written by the
   * baseline-loader function: pk `baseline#<owner/repo>` (lowercase) holds the
   * repository's current baseline (S3 bucket, key, version id, sha256,
   * loadedAt); pk `quarantine#<owner/repo>` the last baseline quarantined and
   * why. Small, permanent: no sort key, no TTL.
   */
  governanceCache: {
    id: 'governanceCache',
    suffix: 'governance-cache',
    partitionKey: { name: 'pk', type: 'S' },
    globalSecondaryIndexes: [],
  },
});

/** Physical table names for a stage, unless configuration names them. */
export function defaultTableNames(stage: string): Record<TableId, string> {
  const names = {} as Record<TableId, string>;
  for (const definition of Object.values(TABLE_DEFINITIONS)) names[definition.id] = `phase-mirror-${stage}-${definition.suffix}`;
  return names;
}
