/**
 * Contract of the CalibrationStore port (DESIGN §7): anonymized outcome
 * records in, raw counts per rule out (k-anonymity is decided upstream).
 * Any adapter passes it: `describeCalibrationStoreContract('sqlite', makeStore)`.
 */
import { createHash } from 'node:crypto';
import { InputError } from '../../../src/errors';
import type { CalibrationRecord, CalibrationStore } from '../../../src/store/ports';
import { uniqueId, withStore, type MakeStore } from './harness';

/** A 64-hex stand-in for HMAC(salt, org): the store only sees hashes. */
export function orgHashOf(org: string): string {
  return createHash('sha256').update(org).digest('hex');
}

function record(ruleId: string, org: string, falsePositive: boolean, bucket = '2030-01-01T10:00:00.000Z'): CalibrationRecord {
  return { ruleId, orgHash: orgHashOf(org), bucket, falsePositive };
}

export function describeCalibrationStoreContract(name: string, makeStore: MakeStore<CalibrationStore>): void {
  describe(`CalibrationStore contract (${name})`, () => {
    it('counts nothing for a rule without records', async () => {
      await withStore(makeStore, async (store) => {
        const ruleId = uniqueId('rule');
        expect(await store.counts(ruleId)).toEqual({ ruleId, distinctOrgs: 0, outcomes: 0, falsePositives: 0 });
        expect(await store.ruleIds()).toEqual([]);
      });
    });

    it('counts outcomes, false positives and distinct organisations of a rule', async () => {
      await withStore(makeStore, async (store) => {
        // Prepare: three orgs; org-a reports twice in the same hour (two outcomes, one org)
        const ruleId = uniqueId('rule');
        const records = [
          record(ruleId, 'org-a', true),
          record(ruleId, 'org-a', true),
          record(ruleId, 'org-b', false, '2030-01-01T11:00:00.000Z'),
          record(ruleId, 'org-c', true, '2030-01-02T00:00:00.000Z'),
          record(ruleId, 'org-c', false, '2030-01-02T00:00:00.000Z'),
        ];

        // Act
        for (const r of records) await store.ingest(r);

        // Assess
        expect(await store.counts(ruleId)).toEqual({ ruleId, distinctOrgs: 3, outcomes: 5, falsePositives: 3 });
      });
    });

    it('keeps rules independent and lists rule ids with records, sorted', async () => {
      await withStore(makeStore, async (store) => {
        // Prepare
        await store.ingest(record('MD-002', 'org-a', true));
        await store.ingest(record('MD-001', 'org-a', false));
        await store.ingest(record('MD-001', 'org-b', true));
        await store.ingest(record('MD-010', 'org-b', true));
        await store.ingest(record('MD-001#sub', 'org-c', true));

        // Act
        const rules = await store.ruleIds();

        // Assess
        expect(rules).toEqual(['MD-001', 'MD-001#sub', 'MD-002', 'MD-010']);
        expect(await store.counts('MD-001')).toEqual({ ruleId: 'MD-001', distinctOrgs: 2, outcomes: 2, falsePositives: 1 });
        expect(await store.counts('MD-002')).toEqual({ ruleId: 'MD-002', distinctOrgs: 1, outcomes: 1, falsePositives: 1 });
        expect(await store.counts('MD-001#sub')).toEqual({ ruleId: 'MD-001#sub', distinctOrgs: 1, outcomes: 1, falsePositives: 1 });
      });
    });

    it('counts every record of concurrent ingests', async () => {
      await withStore(makeStore, async (store) => {
        // Prepare
        const ruleId = uniqueId('rule');
        const records = Array.from({ length: 40 }, (_, i) => record(ruleId, `org-${i % 12}`, i % 4 === 0));

        // Act
        await Promise.all(records.map((r) => store.ingest(r)));

        // Assess
        expect(await store.counts(ruleId)).toEqual({ ruleId, distinctOrgs: 12, outcomes: 40, falsePositives: 10 });
      });
    });

    it.each([
      ['ruleId', { ruleId: '' }],
      ['orgHash', { orgHash: 'org-a' }],
      ['orgHash', { orgHash: 'A'.repeat(64) }],
      ['bucket', { bucket: '2030-01-01T10:30:00.000Z' }],
      ['bucket', { bucket: '2030-01-01T10:00:00Z' }],
      ['bucket', { bucket: '2030-02-30T10:00:00.000Z' }],
      ['falsePositive', { falsePositive: 'yes' }],
    ])('rejects a record with an invalid %s (case %#) and stores nothing', async (field, override) => {
      await withStore(makeStore, async (store) => {
        // Prepare
        const ruleId = uniqueId('rule');
        const bad = { ...record(ruleId, 'org-a', true), ...override } as unknown as CalibrationRecord;

        // Act
        const attempt = store.ingest(bad);

        // Assess
        await expect(attempt).rejects.toBeInstanceOf(InputError);
        await expect(store.ingest(bad)).rejects.toMatchObject({ code: 'INPUT_INVALID', location: { field } });
        expect(await store.ruleIds()).toEqual([]);
      });
    });

    it('rejects counts of an empty rule id', async () => {
      await withStore(makeStore, async (store) => {
        await expect(store.counts('')).rejects.toMatchObject({ code: 'INPUT_INVALID', location: { field: 'ruleId' } });
      });
    });
  });
}
