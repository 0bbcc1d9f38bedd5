/** Contract of the FprHistory port: the last FPR snapshot per rule. */
import type { FprHistory } from '../../../src/store/ports';
import { uniqueId, withStore, type MakeStore } from './harness';

export function describeFprHistoryContract(name: string, makeStore: MakeStore<FprHistory>): void {
  describe(`FprHistory contract (${name})`, () => {
    it('has no snapshot for a rule never recorded', async () => {
      await withStore(makeStore, async (history) => {
        expect(await history.last(uniqueId('rule'))).toBeUndefined();
      });
    });

    it('returns the latest snapshot of each rule', async () => {
      await withStore(makeStore, async (history) => {
        // Prepare
        const [r1, r2] = [uniqueId('r1'), uniqueId('r2')];
        await history.record(r1, { fpr: 0.5, reviewed: 4, at: '2030-01-01T00:00:00.000Z' });
        await history.record(r1, { fpr: 0.25, reviewed: 8, at: '2030-01-02T00:00:00.000Z' });
        await history.record(r2, { fpr: 0, reviewed: 0, at: '2030-01-03T00:00:00.000Z' });

        // Act / Assess
        expect(await history.last(r1)).toEqual({ fpr: 0.25, reviewed: 8 });
        expect(await history.last(r2)).toEqual({ fpr: 0, reviewed: 0 });
      });
    });

    it('orders snapshots by their time, not by when they were recorded', async () => {
      await withStore(makeStore, async (history) => {
        const rule = uniqueId('rule');
        await history.record(rule, { fpr: 0.1, reviewed: 10, at: '2030-01-05T00:00:00.000Z' });
        await history.record(rule, { fpr: 0.9, reviewed: 10, at: '2030-01-04T00:00:00.000Z' });
        expect(await history.last(rule)).toEqual({ fpr: 0.1, reviewed: 10 });
      });
    });

    it('keeps the latest snapshot even when older ones are pruned', async () => {
      await withStore(makeStore, async (history) => {
        const rule = uniqueId('rule');
        await history.record(rule, { fpr: 0.3, reviewed: 3, at: '2030-01-01T00:00:00.000Z' });
        await history.record(rule, { fpr: 0.2, reviewed: 5, at: '2031-01-01T00:00:00.000Z' });
        expect(await history.last(rule)).toEqual({ fpr: 0.2, reviewed: 5 });
      });
    });

    it('rejects snapshots with an FPR outside [0, 1], a negative count or a bad time', async () => {
      await withStore(makeStore, async (history) => {
        const rule = uniqueId('rule');
        const at = '2030-01-01T00:00:00.000Z';
        await expect(history.record(rule, { fpr: 1.5, reviewed: 1, at })).rejects.toMatchObject({ location: { field: 'fpr' } });
        await expect(history.record(rule, { fpr: Number.NaN, reviewed: 1, at })).rejects.toMatchObject({ location: { field: 'fpr' } });
        await expect(history.record(rule, { fpr: 0.5, reviewed: -1, at })).rejects.toMatchObject({ location: { field: 'reviewed' } });
        await expect(history.record(rule, { fpr: 0.5, reviewed: 1, at: 'now' })).rejects.toMatchObject({ location: { field: 'at' } });
        await expect(history.record('', { fpr: 0.5, reviewed: 1, at })).rejects.toMatchObject({ location: { field: 'ruleId' } });
        expect(await history.last(rule)).toBeUndefined();
      });
    });
  });
}
