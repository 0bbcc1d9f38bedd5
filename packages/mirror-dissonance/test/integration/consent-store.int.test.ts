/**
 * The DynamoDB consent store against the emulator: the same ConsentStore
 * contract the SQLite adapter runs, plus the item layout of
 * table-definitions.ts, concurrent revocations and a missing table.
 */
import { GetCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoConsentStore } from '../../src/store/aws/consent-store';
import type { ConsentStore } from '../../src/store/ports';
import { describeConsentStoreContract } from '../store/contract/consent-store.contract';
import { uniqueId, type MakeStore } from '../store/contract/harness';
import { useSuiteTables } from './tables';

const tables = useSuiteTables('consent');

// One table for the suite: every contract test works in its own random organisation.
const makeStore: MakeStore<ConsentStore> = async () => ({
  store: new DynamoConsentStore({ client: tables.documents, tableName: tables.names.consent }),
  close: async () => undefined,
});

describeConsentStoreContract('dynamodb', makeStore);

describe('DynamoConsentStore on the emulator', () => {
  it('writes the current record and the history under the documented keys', async () => {
    // Prepare
    const store = new DynamoConsentStore({ client: tables.documents, tableName: tables.names.consent });
    const orgId = uniqueId('org');
    const scope = { orgId, resource: 'fp_metrics' as const, repository: 'acme/widgets' };

    // Act
    await store.grant(scope, { grantedBy: 'alice', grantedAt: '2030-01-01T01:00:00+01:00', expiresAt: '2030-02-01T00:00:00Z' });

    // Assess
    const current = await tables.documents.send(
      new GetCommand({ TableName: tables.names.consent, Key: { pk: `org#${orgId}`, sk: 'current#fp_metrics#repo:acme/widgets' }, ConsistentRead: true }),
    );
    expect(current.Item).toMatchObject({ orgId, resource: 'fp_metrics', repository: 'acme/widgets', grantedBy: 'alice', consentExpiresAt: '2030-02-01T00:00:00Z' });
    expect(current.Item).not.toHaveProperty('expiresAt');
    const history = await tables.documents.send(
      new QueryCommand({
        TableName: tables.names.consent,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': `org#${orgId}`, ':prefix': 'history#' },
      }),
    );
    expect(history.Items).toHaveLength(1);
    expect(String(history.Items?.[0]?.sk)).toMatch(/^history#2030-01-01T00:00:00\.000Z#fp_metrics#repo:acme\/widgets#[0-9a-f-]{36}$/);
  });

  // Concurrent transactions are not exercised here: moto restores a whole
  // table snapshot when a transaction is cancelled, which is not safe under
  // concurrent requests. The race is interleaved deterministically instead.
  it('re-reads and retries a revocation when a grant lands between its read and its write', async () => {
    // Prepare: a client that lets a re-grant in right after the revocation's first read
    const store = new DynamoConsentStore({ client: tables.documents, tableName: tables.names.consent });
    const scope = { orgId: uniqueId('org'), resource: 'audit_logs' as const };
    await store.grant(scope, { grantedBy: 'alice', grantedAt: '2030-01-01T00:00:00Z' });
    let interleaved = false;
    const racing = {
      send: async (command: Parameters<DynamoDBDocumentClient['send']>[0]) => {
        const output = await tables.documents.send(command);
        if (command instanceof GetCommand && !interleaved) {
          interleaved = true;
          await store.grant(scope, { grantedBy: 'carol', grantedAt: '2030-01-01T12:00:00Z', expiresAt: '2030-06-01T00:00:00Z' });
        }
        return output;
      },
    } as unknown as DynamoDBDocumentClient;
    const revoking = new DynamoConsentStore({ client: racing, tableName: tables.names.consent });

    // Act
    const revoked = await revoking.revoke(scope, { revokedBy: 'bob', revokedAt: '2030-01-02T00:00:00Z' });

    // Assess: the revocation applies to carol's grant, and the history holds each action once
    expect(interleaved).toBe(true);
    expect(revoked).toEqual({ ...scope, grantedBy: 'carol', grantedAt: '2030-01-01T12:00:00Z', expiresAt: '2030-06-01T00:00:00Z', revokedBy: 'bob', revokedAt: '2030-01-02T00:00:00Z' });
    expect(await store.list(scope.orgId)).toEqual([revoked]);
    expect((await store.history(scope.orgId)).map((entry) => [entry.action, entry.actor])).toEqual([
      ['grant', 'alice'],
      ['grant', 'carol'],
      ['revoke', 'bob'],
    ]);
  });

  it('fails with STORE_FAILED naming the table when it does not exist', async () => {
    const store = new DynamoConsentStore({ client: tables.documents, tableName: `${tables.names.consent}-missing` });
    const scope = { orgId: 'acme', resource: 'fp_patterns' as const };
    await expect(store.check(scope, new Date())).rejects.toMatchObject({ name: 'DependencyError', code: 'STORE_FAILED' });
    await expect(store.grant(scope, { grantedBy: 'alice', grantedAt: '2030-01-01T00:00:00Z' })).rejects.toMatchObject({
      code: 'STORE_FAILED',
      message: expect.stringContaining(`${tables.names.consent}-missing`),
    });
    await expect(store.list('acme')).rejects.toMatchObject({ code: 'STORE_FAILED' });
  });
});
