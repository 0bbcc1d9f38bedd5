/**
 * DynamoConsentStore against a mocked SDK: the exact requests and items (keys
 * per table-definitions.ts), atomic current + history writes, retries after a
 * lost race, every page read, and error mapping. The same adapter runs the
 * shared contract on the emulator in test/integration/consent-store.int.test.ts.
 */
import { DynamoDBClient, ResourceNotFoundException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, QueryCommand, TransactGetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { consentAllows } from '../../../src/consent/consent';
import { consentCurrentKey, consentHistoryKey, DynamoConsentStore } from '../../../src/store/aws/consent-store';
import { TABLE_DEFINITIONS } from '../../../src/store/aws/table-definitions';

const dynamo = mockClient(DynamoDBDocumentClient);
const client = DynamoDBDocumentClient.from(
  new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }),
);
const TABLE = 'pm-test-consent';
const store = new DynamoConsentStore({ client, tableName: TABLE });

const org = { orgId: 'acme', resource: 'fp_patterns' } as const;
const repo = { orgId: 'acme', resource: 'fp_patterns', repository: 'acme/widgets' } as const;
const currentItem = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  pk: 'org#acme',
  sk: 'current#fp_patterns#org',
  orgId: 'acme',
  resource: 'fp_patterns',
  grantedBy: 'alice',
  grantedAt: '2030-01-01T00:00:00Z',
  rev: 'rev-1',
  ...overrides,
});

function cancelled(...codes: string[]): TransactionCanceledException {
  return new TransactionCanceledException({
    message: 'Transaction cancelled',
    $metadata: {},
    CancellationReasons: codes.map((Code) => ({ Code })),
  });
}

afterEach(() => dynamo.reset());

describe('DynamoConsentStore', () => {
  it('uses the key names of the consent table definition and builds the documented keys', () => {
    expect(TABLE_DEFINITIONS.consent.partitionKey.name).toBe('pk');
    expect(TABLE_DEFINITIONS.consent.sortKey?.name).toBe('sk');
    expect(TABLE_DEFINITIONS.consent.timeToLiveAttribute).toBeUndefined();
    expect(consentCurrentKey(org)).toBe('current#fp_patterns#org');
    expect(consentCurrentKey(repo)).toBe('current#fp_patterns#repo:acme/widgets');
    expect(consentHistoryKey(repo, Date.parse('2030-01-01T01:00:00+01:00'), 'u1')).toBe(
      'history#2030-01-01T00:00:00.000Z#fp_patterns#repo:acme/widgets#u1',
    );
  });

  describe('grant', () => {
    it('writes the current record and a history entry in one transaction', async () => {
      // Prepare
      dynamo.on(TransactWriteCommand).resolves({});

      // Act
      const record = await store.grant(repo, { grantedBy: 'alice', grantedAt: '2030-01-01T00:00:00Z', expiresAt: '2030-02-01T00:00:00Z' });

      // Assess
      expect(record).toEqual({ ...repo, grantedBy: 'alice', grantedAt: '2030-01-01T00:00:00Z', expiresAt: '2030-02-01T00:00:00Z' });
      const calls = dynamo.commandCalls(TransactWriteCommand);
      expect(calls).toHaveLength(1);
      const input = calls[0].args[0].input;
      expect(input.ClientRequestToken).toMatch(/^[0-9a-f-]{36}$/);
      const [current, history] = input.TransactItems ?? [];
      expect(current.Put).toEqual({
        TableName: TABLE,
        Item: {
          pk: 'org#acme',
          sk: 'current#fp_patterns#repo:acme/widgets',
          orgId: 'acme',
          resource: 'fp_patterns',
          repository: 'acme/widgets',
          grantedBy: 'alice',
          grantedAt: '2030-01-01T00:00:00Z',
          consentExpiresAt: '2030-02-01T00:00:00Z',
          rev: expect.stringMatching(/^[0-9a-f-]{36}$/),
        },
      });
      expect(history.Put).toEqual({
        TableName: TABLE,
        Item: {
          pk: 'org#acme',
          sk: expect.stringMatching(/^history#2030-01-01T00:00:00\.000Z#fp_patterns#repo:acme\/widgets#[0-9a-f-]{36}$/),
          orgId: 'acme',
          resource: 'fp_patterns',
          repository: 'acme/widgets',
          action: 'grant',
          actor: 'alice',
          at: '2030-01-01T00:00:00Z',
          consentExpiresAt: '2030-02-01T00:00:00Z',
        },
        ConditionExpression: 'attribute_not_exists(sk)',
      });
    });

    it('writes an org-wide grant without repository or expiry attributes', async () => {
      dynamo.on(TransactWriteCommand).resolves({});
      await store.grant(org, { grantedBy: 'alice', grantedAt: '2030-01-01T00:00:00Z' });
      const [current, history] = dynamo.commandCalls(TransactWriteCommand)[0].args[0].input.TransactItems ?? [];
      expect(Object.keys(current.Put?.Item ?? {}).sort()).toEqual(['grantedAt', 'grantedBy', 'orgId', 'pk', 'resource', 'rev', 'sk']);
      expect(Object.keys(history.Put?.Item ?? {}).sort()).toEqual(['action', 'actor', 'at', 'orgId', 'pk', 'resource', 'sk']);
    });

    it('retries with a fresh history key when the transaction is cancelled by a condition', async () => {
      // Prepare
      dynamo.on(TransactWriteCommand).rejectsOnce(cancelled('None', 'ConditionalCheckFailed')).resolves({});

      // Act
      await store.grant(org, { grantedBy: 'alice', grantedAt: '2030-01-01T00:00:00Z' });

      // Assess
      const calls = dynamo.commandCalls(TransactWriteCommand).map((call) => call.args[0].input);
      expect(calls).toHaveLength(2);
      expect(calls[0].TransactItems?.[1].Put?.Item?.sk).not.toBe(calls[1].TransactItems?.[1].Put?.Item?.sk);
      expect(calls[0].ClientRequestToken).not.toBe(calls[1].ClientRequestToken);
    });

    it('gives up with STORE_FAILED after the configured attempts', async () => {
      dynamo.on(TransactWriteCommand).rejects(cancelled('TransactionConflict', 'None'));
      const impatient = new DynamoConsentStore({ client, tableName: TABLE, maxConflictAttempts: 3 });
      await expect(impatient.grant(org, { grantedBy: 'alice', grantedAt: '2030-01-01T00:00:00Z' })).rejects.toMatchObject({
        name: 'DependencyError',
        code: 'STORE_FAILED',
        message: expect.stringContaining('kept changing under concurrent writes (3 attempts)'),
        context: { resource: `DynamoDB table ${TABLE}`, operation: 'grant consent', attempts: 3 },
      });
      expect(dynamo.commandCalls(TransactWriteCommand)).toHaveLength(3);
    });

    it('does not retry other failures: STORE_FAILED naming the table and TransactWriteItems', async () => {
      dynamo.on(TransactWriteCommand).rejects(cancelled('ValidationError', 'None'));
      await expect(store.grant(org, { grantedBy: 'alice', grantedAt: '2030-01-01T00:00:00Z' })).rejects.toMatchObject({
        code: 'STORE_FAILED',
        context: { resource: `DynamoDB table ${TABLE}`, operation: 'TransactWriteItems' },
      });
      dynamo.reset();
      dynamo.on(TransactWriteCommand).rejects(new ResourceNotFoundException({ message: 'no table', $metadata: {} }));
      await expect(store.grant(org, { grantedBy: 'alice', grantedAt: '2030-01-01T00:00:00Z' })).rejects.toMatchObject({
        code: 'STORE_FAILED',
        message: expect.stringContaining(`DynamoDB table ${TABLE} does not exist`),
      });
      expect(dynamo.commandCalls(TransactWriteCommand)).toHaveLength(1);
    });

    it('validates before any request', async () => {
      await expect(store.grant({ ...org, resource: 'all' as never }, { grantedBy: 'alice', grantedAt: '2030-01-01T00:00:00Z' })).rejects.toMatchObject({
        code: 'INPUT_INVALID',
        location: { field: 'resource' },
      });
      expect(dynamo.calls()).toHaveLength(0);
    });
  });

  describe('revoke', () => {
    it('reads the current record strongly consistently and writes it back on condition it is unchanged', async () => {
      // Prepare
      dynamo.on(GetCommand).resolves({ Item: currentItem({ consentExpiresAt: '2030-03-01T00:00:00Z' }) });
      dynamo.on(TransactWriteCommand).resolves({});

      // Act
      const record = await store.revoke(org, { revokedBy: 'bob', revokedAt: '2030-01-02T00:00:00Z' });

      // Assess
      expect(record).toEqual({
        ...org,
        grantedBy: 'alice',
        grantedAt: '2030-01-01T00:00:00Z',
        expiresAt: '2030-03-01T00:00:00Z',
        revokedBy: 'bob',
        revokedAt: '2030-01-02T00:00:00Z',
      });
      expect(dynamo.commandCalls(GetCommand)[0].args[0].input).toEqual({
        TableName: TABLE,
        Key: { pk: 'org#acme', sk: 'current#fp_patterns#org' },
        ConsistentRead: true,
      });
      const [current, history] = dynamo.commandCalls(TransactWriteCommand)[0].args[0].input.TransactItems ?? [];
      expect(current.Put).toMatchObject({
        Item: { sk: 'current#fp_patterns#org', revokedBy: 'bob', revokedAt: '2030-01-02T00:00:00Z', consentExpiresAt: '2030-03-01T00:00:00Z' },
        ConditionExpression: '#rev = :rev',
        ExpressionAttributeNames: { '#rev': 'rev' },
        ExpressionAttributeValues: { ':rev': 'rev-1' },
      });
      expect(current.Put?.Item?.rev).not.toBe('rev-1');
      expect(history.Put?.Item).toMatchObject({ action: 'revoke', actor: 'bob', at: '2030-01-02T00:00:00Z' });
      expect(history.Put?.Item).not.toHaveProperty('consentExpiresAt');
    });

    it('conditions on the record existing without a revision when an item predates revisions', async () => {
      dynamo.on(GetCommand).resolves({ Item: currentItem({ rev: undefined }) });
      dynamo.on(TransactWriteCommand).resolves({});
      await store.revoke(org, { revokedBy: 'bob', revokedAt: '2030-01-02T00:00:00Z' });
      const [current] = dynamo.commandCalls(TransactWriteCommand)[0].args[0].input.TransactItems ?? [];
      expect(current.Put).toMatchObject({
        ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(#rev)',
        ExpressionAttributeNames: { '#rev': 'rev' },
      });
      expect(current.Put).not.toHaveProperty('ExpressionAttributeValues');
    });

    it('re-reads and retries when the record changed between its read and its write', async () => {
      // Prepare: the second read sees a re-grant by carol
      dynamo
        .on(GetCommand)
        .resolvesOnce({ Item: currentItem() })
        .resolves({ Item: currentItem({ grantedBy: 'carol', grantedAt: '2030-01-01T12:00:00Z', rev: 'rev-2' }) });
      dynamo.on(TransactWriteCommand).rejectsOnce(cancelled('ConditionalCheckFailed', 'None')).resolves({});

      // Act
      const record = await store.revoke(org, { revokedBy: 'bob', revokedAt: '2030-01-02T00:00:00Z' });

      // Assess
      expect(record).toMatchObject({ grantedBy: 'carol', revokedBy: 'bob' });
      const conditions = dynamo.commandCalls(TransactWriteCommand).map((call) => call.args[0].input.TransactItems?.[0].Put?.ExpressionAttributeValues);
      expect(conditions).toEqual([{ ':rev': 'rev-1' }, { ':rev': 'rev-2' }]);
    });

    it('throws NotFoundError without writing when the scope was never granted', async () => {
      dynamo.on(GetCommand).resolves({});
      await expect(store.revoke(repo, { revokedBy: 'bob', revokedAt: '2030-01-02T00:00:00Z' })).rejects.toMatchObject({
        name: 'NotFoundError',
        code: 'NOT_FOUND',
        message: 'consent for fp_patterns (org acme, repository acme/widgets) was never granted: nothing to revoke',
      });
      expect(dynamo.commandCalls(TransactWriteCommand)).toHaveLength(0);
    });

    it('maps a failed read to STORE_FAILED naming GetItem', async () => {
      dynamo.on(GetCommand).rejects(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
      await expect(store.revoke(org, { revokedBy: 'bob', revokedAt: '2030-01-02T00:00:00Z' })).rejects.toMatchObject({
        code: 'STORE_FAILED',
        message: `GetItem on DynamoDB table ${TABLE} failed: the AWS endpoint is unreachable (ECONNREFUSED)`,
      });
    });
  });

  describe('check', () => {
    it('reads the repository and org-wide records in one TransactGetItems and lets the repository decide', async () => {
      // Prepare: org-wide granted, repository revoked
      dynamo.on(TransactGetCommand).resolves({
        Responses: [
          { Item: currentItem({ sk: 'current#fp_patterns#repo:acme/widgets', repository: 'acme/widgets', revokedBy: 'bob', revokedAt: '2030-01-02T00:00:00Z' }) },
          { Item: currentItem() },
        ],
      });

      // Act
      const state = await store.check({ ...repo, repository: 'ACME/Widgets' }, new Date('2030-01-03T00:00:00Z'));

      // Assess
      expect(state).toBe('revoked');
      expect(dynamo.commandCalls(TransactGetCommand)[0].args[0].input).toEqual({
        TransactItems: [
          { Get: { TableName: TABLE, Key: { pk: 'org#acme', sk: 'current#fp_patterns#repo:acme/widgets' } } },
          { Get: { TableName: TABLE, Key: { pk: 'org#acme', sk: 'current#fp_patterns#org' } } },
        ],
      });
    });

    it('falls back to the org-wide record, and answers not_requested when there is none', async () => {
      const at = new Date('2030-01-03T00:00:00Z');
      dynamo
        .on(TransactGetCommand)
        .resolvesOnce({ Responses: [{}, { Item: currentItem({ consentExpiresAt: '2030-01-03T00:00:00Z' }) }] })
        .resolvesOnce({ Responses: [{}, {}] })
        .resolvesOnce({ Responses: [{ Item: currentItem() }] });
      expect(await store.check(repo, at)).toBe('expired');
      expect(await store.check(repo, at)).toBe('not_requested');
      expect(await store.check(org, at)).toBe('granted');
      expect(dynamo.commandCalls(TransactGetCommand)[2].args[0].input.TransactItems).toHaveLength(1);
    });

    it('fails with STORE_FAILED on an answer of the wrong shape or a malformed item', async () => {
      const at = new Date('2030-01-03T00:00:00Z');
      dynamo
        .on(TransactGetCommand)
        .resolvesOnce({})
        .resolvesOnce({ Responses: [{ Item: { pk: 'org#acme', sk: 'current#fp_patterns#org', orgId: 'acme' } }] });
      await expect(store.check(repo, at)).rejects.toMatchObject({ code: 'STORE_FAILED', message: expect.stringContaining('0 responses for 2 keys') });
      await expect(store.check(org, at)).rejects.toMatchObject({
        code: 'STORE_FAILED',
        message: expect.stringContaining('consent item org#acme / current#fp_patterns#org lacks'),
      });
    });

    it('fails with STORE_FAILED when the read fails, which consentAllows turns into a denial', async () => {
      // Prepare
      dynamo.on(TransactGetCommand).rejects(Object.assign(new Error('throttled'), { name: 'ThrottlingException' }));

      // Act
      const decision = await consentAllows(store, org, new Date('2030-01-03T00:00:00Z'));

      // Assess
      await expect(store.check(org, new Date())).rejects.toMatchObject({ code: 'STORE_FAILED', context: { operation: 'TransactGetItems' } });
      expect(decision).toEqual({
        allowed: false,
        state: 'error',
        reason: expect.stringContaining(`TransactGetItems on DynamoDB table ${TABLE} failed: throttled by AWS`),
      });
    });
  });

  describe('list and history', () => {
    it('lists current records from every page, sorted', async () => {
      // Prepare: two pages, out of order
      dynamo
        .on(QueryCommand)
        .resolvesOnce({
          Items: [currentItem({ sk: 'current#rule_calibration#org', resource: 'rule_calibration' })],
          LastEvaluatedKey: { pk: 'org#acme', sk: 'current#rule_calibration#org' },
        })
        .resolvesOnce({ Items: [currentItem({ sk: 'current#fp_patterns#repo:acme/a', repository: 'acme/a' }), currentItem()] });

      // Act
      const records = await store.list('acme');

      // Assess
      expect(records.map((record) => [record.resource, record.repository])).toEqual([
        ['fp_patterns', undefined],
        ['fp_patterns', 'acme/a'],
        ['rule_calibration', undefined],
      ]);
      const inputs = dynamo.commandCalls(QueryCommand).map((call) => call.args[0].input);
      expect(inputs[0]).toEqual({
        TableName: TABLE,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': 'org#acme', ':prefix': 'current#' },
        ConsistentRead: true,
      });
      expect(inputs[1].ExclusiveStartKey).toEqual({ pk: 'org#acme', sk: 'current#rule_calibration#org' });
    });

    it('reads the history from every page in key order', async () => {
      // Prepare
      const entry = (actor: string, at: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
        pk: 'org#acme',
        sk: `history#${at}#fp_patterns#org#x`,
        orgId: 'acme',
        resource: 'fp_patterns',
        action: 'grant',
        actor,
        at,
        ...extra,
      });
      dynamo
        .on(QueryCommand)
        .resolvesOnce({ Items: [entry('alice', '2030-01-01T00:00:00.000Z', { consentExpiresAt: '2030-02-01T00:00:00Z' })], LastEvaluatedKey: { pk: 'org#acme', sk: 'k' } })
        .resolvesOnce({ Items: [entry('bob', '2030-01-02T00:00:00.000Z', { action: 'revoke', repository: 'acme/widgets' })] });

      // Act
      const history = await store.history('acme');

      // Assess
      expect(history).toEqual([
        { orgId: 'acme', resource: 'fp_patterns', action: 'grant', actor: 'alice', at: '2030-01-01T00:00:00.000Z', expiresAt: '2030-02-01T00:00:00Z' },
        { orgId: 'acme', resource: 'fp_patterns', repository: 'acme/widgets', action: 'revoke', actor: 'bob', at: '2030-01-02T00:00:00.000Z' },
      ]);
      expect(dynamo.commandCalls(QueryCommand)[0].args[0].input.ExpressionAttributeValues).toEqual({ ':pk': 'org#acme', ':prefix': 'history#' });
    });

    it('fails with STORE_FAILED on a malformed history item or a failed query', async () => {
      dynamo
        .on(QueryCommand)
        .resolvesOnce({ Items: [{ pk: 'org#acme', sk: 'history#x', orgId: 'acme', resource: 'fp_patterns', action: 'delete', actor: 'a', at: 'x' }] })
        .rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
      await expect(store.history('acme')).rejects.toMatchObject({ code: 'STORE_FAILED', context: { operation: 'Query' } });
      await expect(store.list('acme')).rejects.toMatchObject({
        code: 'STORE_FAILED',
        message: `Query on DynamoDB table ${TABLE} failed: access denied: the credentials may not Query on DynamoDB table ${TABLE}`,
      });
    });
  });
});
