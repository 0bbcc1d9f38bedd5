/**
 * Contract of the BlockCounter port (DESIGN §7): atomic increments with
 * expiry, exact under concurrency.
 */
import type { BlockCounter } from '../../../src/store/ports';
import { uniqueId, withStore, type MakeStore } from './harness';

const inAnHour = (): Date => new Date(Date.now() + 60 * 60 * 1000);

export function describeBlockCounterContract(name: string, makeStore: MakeStore<BlockCounter>): void {
  describe(`BlockCounter contract (${name})`, () => {
    it('counts from 1 and returns each new value', async () => {
      await withStore(makeStore, async (counter) => {
        const key = uniqueId('repo#hour');
        expect(await counter.increment(key, inAnHour())).toBe(1);
        expect(await counter.increment(key, inAnHour())).toBe(2);
        expect(await counter.increment(key, inAnHour())).toBe(3);
        expect(await counter.get(key)).toBe(3);
      });
    });

    it('returns 0 for a key never incremented', async () => {
      await withStore(makeStore, async (counter) => {
        expect(await counter.get(uniqueId('absent'))).toBe(0);
      });
    });

    it('keeps keys independent', async () => {
      await withStore(makeStore, async (counter) => {
        const [a, b] = [uniqueId('a'), uniqueId('b')];
        await counter.increment(a, inAnHour());
        await counter.increment(a, inAnHour());
        await counter.increment(b, inAnHour());
        expect([await counter.get(a), await counter.get(b)]).toEqual([2, 1]);
      });
    });

    it('treats an expired counter as absent and restarts it at 1', async () => {
      await withStore(makeStore, async (counter) => {
        // Prepare: a counter whose expiry has already passed
        const key = uniqueId('expired');
        const past = new Date(Date.now() - 1000);
        await counter.increment(key, past);
        await counter.increment(key, past);

        // Act / Assess
        expect(await counter.get(key)).toBe(0);
        expect(await counter.increment(key, inAnHour())).toBe(1);
        expect(await counter.get(key)).toBe(1);
      });
    });

    it('is exact under concurrent increments: every returned value is unique', async () => {
      await withStore(makeStore, async (counter) => {
        const key = uniqueId('concurrent');
        const values = await Promise.all(Array.from({ length: 50 }, () => counter.increment(key, inAnHour())));
        expect([...values].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
        expect(await counter.get(key)).toBe(50);
      });
    });

    it('rejects an invalid expiry', async () => {
      await withStore(makeStore, async (counter) => {
        await expect(counter.increment(uniqueId('k'), new Date(Number.NaN))).rejects.toMatchObject({
          code: 'INPUT_INVALID',
          location: { field: 'expiresAt' },
        });
        await expect(counter.increment('', inAnHour())).rejects.toMatchObject({ code: 'INPUT_INVALID', location: { field: 'key' } });
      });
    });
  });
}
