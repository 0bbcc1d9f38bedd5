/**
 * Contract of the FpStore port (DESIGN §7). Any adapter passes it:
 * `describeFpStoreContract('sqlite', makeStore)`.
 */
import { ConflictError, InputError, NotFoundError } from '../../../src/errors';
import type { FpStore, NewFpEvent } from '../../../src/store/ports';
import { daysAgo, uniqueId, withStore, type MakeStore } from './harness';

function event(overrides: Partial<NewFpEvent> & Pick<NewFpEvent, 'eventId' | 'ruleId' | 'observedAt'>): NewFpEvent {
  return {
    ruleVersion: '1.0.0',
    findingId: uniqueId('finding'),
    repository: 'acme/widgets',
    runId: 'run-1',
    path: '.github/workflows/ci.yml',
    ...overrides,
  };
}

const mark = { reviewer: 'alice', reason: 'test fixture, not production', markedAt: '2030-01-01T00:00:00.000Z' };

export function describeFpStoreContract(name: string, makeStore: MakeStore<FpStore>): void {
  describe(`FpStore contract (${name})`, () => {
    it('records events and lists them most recent first, ties by event id', async () => {
      await withStore(makeStore, async (store) => {
        // Prepare
        const ruleId = uniqueId('rule');
        const events = [
          event({ eventId: 'e-b', ruleId, observedAt: daysAgo(2) }),
          event({ eventId: 'e-c', ruleId, observedAt: daysAgo(1) }),
          event({ eventId: 'e-a', ruleId, observedAt: daysAgo(1) }),
          event({ eventId: 'e-d', ruleId, observedAt: daysAgo(3) }),
        ];
        events[2].observedAt = events[1].observedAt;

        // Act
        await store.recordEvents(events);
        const listed = await store.list({ ruleId, limit: 10 });

        // Assess
        expect(listed.map((e) => e.eventId)).toEqual(['e-a', 'e-c', 'e-b', 'e-d']);
        expect(listed[0]).toEqual({ ...events[2] });
        expect(listed[0].falsePositive).toBeUndefined();
      });
    });

    it('accepts an empty batch', async () => {
      await withStore(makeStore, async (store) => {
        await expect(store.recordEvents([])).resolves.toBeUndefined();
        expect(await store.list({ limit: 10 })).toEqual([]);
      });
    });

    it('rejects a duplicate event id with ConflictError and records nothing from that batch', async () => {
      await withStore(makeStore, async (store) => {
        // Prepare
        const ruleId = uniqueId('rule');
        await store.recordEvents([event({ eventId: 'dup-1', ruleId, observedAt: daysAgo(1) })]);

        // Act
        const attempt = store.recordEvents([
          event({ eventId: 'fresh-1', ruleId, observedAt: daysAgo(1) }),
          event({ eventId: 'dup-1', ruleId, observedAt: daysAgo(1) }),
          event({ eventId: 'fresh-2', ruleId, observedAt: daysAgo(1) }),
        ]);

        // Assess
        await expect(attempt).rejects.toBeInstanceOf(ConflictError);
        await expect(attempt).rejects.toMatchObject({ code: 'DUPLICATE_EVENT', message: expect.stringContaining('dup-1') });
        const listed = await store.list({ ruleId, limit: 10 });
        expect(listed.map((e) => e.eventId)).toEqual(['dup-1']);
      });
    });

    it('rejects a duplicate inside one batch and records none of it', async () => {
      await withStore(makeStore, async (store) => {
        const ruleId = uniqueId('rule');
        const attempt = store.recordEvents([
          event({ eventId: 'same', ruleId, observedAt: daysAgo(1) }),
          event({ eventId: 'same', ruleId, observedAt: daysAgo(2) }),
        ]);
        await expect(attempt).rejects.toMatchObject({ code: 'DUPLICATE_EVENT', context: expect.objectContaining({ eventId: 'same' }) });
        expect(await store.list({ ruleId, limit: 10 })).toEqual([]);
      });
    });

    it('rejects an event whose observedAt is not an ISO date-time, naming the field', async () => {
      await withStore(makeStore, async (store) => {
        const ruleId = uniqueId('rule');
        const attempt = store.recordEvents([
          event({ eventId: 'ok', ruleId, observedAt: daysAgo(1) }),
          event({ eventId: 'bad', ruleId, observedAt: 'yesterday' }),
        ]);
        await expect(attempt).rejects.toBeInstanceOf(InputError);
        await expect(attempt).rejects.toMatchObject({ code: 'INPUT_INVALID', location: { field: 'events[1].observedAt' } });
        expect(await store.list({ ruleId, limit: 10 })).toEqual([]);
      });
    });

    it('rejects an event with an empty identifier, naming the field', async () => {
      await withStore(makeStore, async (store) => {
        const attempt = store.recordEvents([event({ eventId: 'x', ruleId: '', observedAt: daysAgo(1) })]);
        await expect(attempt).rejects.toMatchObject({ code: 'INPUT_INVALID', location: { field: 'events[0].ruleId' } });
      });
    });

    it('marks an event a false positive and returns it with the mark', async () => {
      await withStore(makeStore, async (store) => {
        // Prepare
        const ruleId = uniqueId('rule');
        const recorded = event({ eventId: 'm-1', ruleId, observedAt: daysAgo(1) });
        await store.recordEvents([recorded]);

        // Act
        const marked = await store.markFalsePositive('m-1', { ...mark, ticket: 'SEC-42' });

        // Assess
        expect(marked).toEqual({ ...recorded, falsePositive: { ...mark, ticket: 'SEC-42' } });
        expect(await store.list({ ruleId, limit: 1 })).toEqual([marked]);
      });
    });

    it('replaces the mark when an event is marked again (latest review stands)', async () => {
      await withStore(makeStore, async (store) => {
        const ruleId = uniqueId('rule');
        await store.recordEvents([event({ eventId: 'm-2', ruleId, observedAt: daysAgo(1) })]);
        await store.markFalsePositive('m-2', { ...mark, ticket: 'SEC-1' });

        const again = await store.markFalsePositive('m-2', {
          reviewer: 'bob',
          reason: 'confirmed by owner',
          markedAt: '2030-02-01T00:00:00.000Z',
        });

        expect(again.falsePositive).toEqual({ reviewer: 'bob', reason: 'confirmed by owner', markedAt: '2030-02-01T00:00:00.000Z' });
        expect((await store.list({ ruleId, limit: 1 }))[0].falsePositive).toEqual(again.falsePositive);
      });
    });

    it('throws NotFoundError for an unknown event id', async () => {
      await withStore(makeStore, async (store) => {
        const attempt = store.markFalsePositive(uniqueId('missing'), mark);
        await expect(attempt).rejects.toBeInstanceOf(NotFoundError);
        await expect(attempt).rejects.toMatchObject({ code: 'NOT_FOUND' });
      });
    });

    it('rejects a mark without reviewer or with an invalid markedAt', async () => {
      await withStore(makeStore, async (store) => {
        const ruleId = uniqueId('rule');
        await store.recordEvents([event({ eventId: 'm-3', ruleId, observedAt: daysAgo(1) })]);
        await expect(store.markFalsePositive('m-3', { ...mark, reviewer: '' })).rejects.toMatchObject({
          code: 'INPUT_INVALID',
          location: { field: 'reviewer' },
        });
        await expect(store.markFalsePositive('m-3', { ...mark, markedAt: 'soon' })).rejects.toMatchObject({
          code: 'INPUT_INVALID',
          location: { field: 'markedAt' },
        });
        expect((await store.list({ ruleId, limit: 1 }))[0].falsePositive).toBeUndefined();
      });
    });

    it('returns, per finding with a marked event, the earliest-marked event', async () => {
      await withStore(makeStore, async (store) => {
        // Prepare
        const ruleId = uniqueId('rule');
        const [f1, f2, f3] = [uniqueId('f1'), uniqueId('f2'), uniqueId('f3')];
        await store.recordEvents([
          event({ eventId: 'a1', ruleId, findingId: f1, observedAt: daysAgo(3) }),
          event({ eventId: 'a2', ruleId, findingId: f1, observedAt: daysAgo(2) }),
          event({ eventId: 'a3', ruleId, findingId: f1, observedAt: daysAgo(1) }),
          event({ eventId: 'b1', ruleId, findingId: f2, observedAt: daysAgo(1) }),
        ]);
        await store.markFalsePositive('a2', { ...mark, markedAt: '2030-01-02T00:00:00.000Z' });
        await store.markFalsePositive('a3', { ...mark, markedAt: '2030-01-01T00:00:00.000Z' });

        // Act
        const found = await store.markedFindings([f1, f2, f3, f1]);

        // Assess
        expect([...found.keys()]).toEqual([f1]);
        expect(found.get(f1)?.eventId).toBe('a3');
        expect(found.get(f1)?.falsePositive?.markedAt).toBe('2030-01-01T00:00:00.000Z');
        expect(await store.markedFindings([])).toEqual(new Map());
      });
    });

    it('answers markedFindings for more than 1000 finding ids at once', async () => {
      await withStore(makeStore, async (store) => {
        // Prepare
        const ruleId = uniqueId('rule');
        const findingIds = Array.from({ length: 1200 }, (_, i) => `${ruleId}-finding-${i}`);
        await store.recordEvents(
          findingIds.map((findingId, i) => event({ eventId: `${ruleId}-e-${i}`, ruleId, findingId, observedAt: daysAgo(1) })),
        );
        const markedIndexes = [0, 998, 999, 1000, 1001, 1199];
        for (const i of markedIndexes) await store.markFalsePositive(`${ruleId}-e-${i}`, mark);

        // Act
        const found = await store.markedFindings(findingIds);

        // Assess
        expect([...found.keys()].sort()).toEqual(markedIndexes.map((i) => findingIds[i]).sort());
        expect(found.get(findingIds[1199])?.eventId).toBe(`${ruleId}-e-1199`);
      });
    });

    it('filters list by rule, finding and marked-only, and honours the limit', async () => {
      await withStore(makeStore, async (store) => {
        // Prepare
        const [r1, r2] = [uniqueId('r1'), uniqueId('r2')];
        const finding = uniqueId('finding');
        await store.recordEvents([
          event({ eventId: 'l1', ruleId: r1, findingId: finding, observedAt: daysAgo(4) }),
          event({ eventId: 'l2', ruleId: r1, observedAt: daysAgo(3) }),
          event({ eventId: 'l3', ruleId: r1, findingId: finding, observedAt: daysAgo(2) }),
          event({ eventId: 'l4', ruleId: r2, findingId: finding, observedAt: daysAgo(1) }),
        ]);
        await store.markFalsePositive('l1', mark);
        await store.markFalsePositive('l4', mark);

        // Act / Assess
        const ids = async (filter: Parameters<FpStore['list']>[0]) => (await store.list(filter)).map((e) => e.eventId);
        expect(await ids({ limit: 10 })).toEqual(['l4', 'l3', 'l2', 'l1']);
        expect(await ids({ ruleId: r1, limit: 10 })).toEqual(['l3', 'l2', 'l1']);
        expect(await ids({ findingId: finding, limit: 10 })).toEqual(['l4', 'l3', 'l1']);
        expect(await ids({ ruleId: r1, findingId: finding, limit: 10 })).toEqual(['l3', 'l1']);
        expect(await ids({ markedOnly: true, limit: 10 })).toEqual(['l4', 'l1']);
        expect(await ids({ ruleId: r1, markedOnly: true, limit: 10 })).toEqual(['l1']);
        expect(await ids({ ruleId: r1, limit: 2 })).toEqual(['l3', 'l2']);
      });
    });

    it('rejects a list limit that is not a positive integer', async () => {
      await withStore(makeStore, async (store) => {
        await expect(store.list({ limit: 0 })).rejects.toMatchObject({ code: 'INPUT_INVALID', location: { field: 'limit' } });
        await expect(store.list({ limit: 1.5 })).rejects.toMatchObject({ code: 'INPUT_INVALID' });
      });
    });

    it('computes rule statistics over the last `window` events only', async () => {
      await withStore(makeStore, async (store) => {
        // Prepare: 6 events of the rule, the 2 oldest and 1 recent marked; another rule's events do not count.
        const ruleId = uniqueId('rule');
        const other = uniqueId('other');
        await store.recordEvents([
          ...[6, 5, 4, 3, 2, 1].map((age) => event({ eventId: `${ruleId}-${age}`, ruleId, observedAt: daysAgo(age) })),
          event({ eventId: `${other}-1`, ruleId: other, observedAt: daysAgo(1) }),
        ]);
        for (const age of [6, 5, 2]) await store.markFalsePositive(`${ruleId}-${age}`, mark);
        await store.markFalsePositive(`${other}-1`, mark);

        // Act
        const recent = await store.ruleStats(ruleId, 3);
        const all = await store.ruleStats(ruleId, 100);

        // Assess
        expect(recent).toEqual({ ruleId, total: 3, reviewed: 1, falsePositives: 1, fpr: 1 });
        expect(all).toEqual({ ruleId, total: 6, reviewed: 3, falsePositives: 3, fpr: 1 });
      });
    });

    it('reports an FPR of 0 when nothing in the window was reviewed', async () => {
      await withStore(makeStore, async (store) => {
        const ruleId = uniqueId('rule');
        await store.recordEvents([
          event({ eventId: `${ruleId}-old`, ruleId, observedAt: daysAgo(5) }),
          event({ eventId: `${ruleId}-new`, ruleId, observedAt: daysAgo(1) }),
        ]);
        await store.markFalsePositive(`${ruleId}-old`, mark);

        expect(await store.ruleStats(ruleId, 1)).toEqual({ ruleId, total: 1, reviewed: 0, falsePositives: 0, fpr: 0 });
        expect(await store.ruleStats(uniqueId('unknown'), 20)).toMatchObject({ total: 0, reviewed: 0, fpr: 0 });
        await expect(store.ruleStats(ruleId, 0)).rejects.toMatchObject({ code: 'INPUT_INVALID', location: { field: 'window' } });
      });
    });

    it('hides events older than 90 days from every read and cannot mark them', async () => {
      await withStore(makeStore, async (store) => {
        // Prepare
        const ruleId = uniqueId('rule');
        const [oldFinding, liveFinding] = [uniqueId('old'), uniqueId('live')];
        await store.recordEvents([
          event({ eventId: `${ruleId}-expired`, ruleId, findingId: oldFinding, observedAt: daysAgo(91) }),
          event({ eventId: `${ruleId}-live`, ruleId, findingId: liveFinding, observedAt: daysAgo(89) }),
        ]);
        await store.markFalsePositive(`${ruleId}-live`, mark);

        // Act / Assess
        expect((await store.list({ ruleId, limit: 10 })).map((e) => e.eventId)).toEqual([`${ruleId}-live`]);
        expect(await store.ruleStats(ruleId, 10)).toMatchObject({ total: 1, reviewed: 1 });
        expect([...(await store.markedFindings([oldFinding, liveFinding])).keys()]).toEqual([liveFinding]);
        await expect(store.markFalsePositive(`${ruleId}-expired`, mark)).rejects.toMatchObject({ code: 'NOT_FOUND' });
      });
    });

    it('lets an expired event id be recorded again', async () => {
      await withStore(makeStore, async (store) => {
        const ruleId = uniqueId('rule');
        await store.recordEvents([event({ eventId: `${ruleId}-x`, ruleId, observedAt: daysAgo(120) })]);

        await store.recordEvents([event({ eventId: `${ruleId}-x`, ruleId, observedAt: daysAgo(1) })]);

        expect((await store.list({ ruleId, limit: 10 })).map((e) => e.eventId)).toEqual([`${ruleId}-x`]);
      });
    });

    it('rejects a duplicate at the end of a large batch and records none of the batch', async () => {
      await withStore(makeStore, async (store) => {
        // Prepare: a batch larger than one DynamoDB transaction, whose last event repeats a recorded id
        const ruleId = uniqueId('rule');
        await store.recordEvents([event({ eventId: `${ruleId}-taken`, ruleId, observedAt: daysAgo(2) })]);
        const batch = Array.from({ length: 130 }, (_, i) => event({ eventId: `${ruleId}-b${i}`, ruleId, observedAt: daysAgo(1) }));
        batch.push(event({ eventId: `${ruleId}-taken`, ruleId, observedAt: daysAgo(1) }));

        // Act
        const attempt = store.recordEvents(batch);

        // Assess
        await expect(attempt).rejects.toMatchObject({ code: 'DUPLICATE_EVENT', context: expect.objectContaining({ eventId: `${ruleId}-taken` }) });
        expect((await store.windowByCount(ruleId, 500)).map((e) => e.eventId)).toEqual([`${ruleId}-taken`]);
      });
    });

    it('orders by instant whatever the offset or precision observedAt was written with, returning it unchanged', async () => {
      await withStore(makeStore, async (store) => {
        // Prepare: 10:30+02:00 is 08:30Z, earlier than 09:00Z; 09:00:00.5Z is later than 09:00Z
        const ruleId = uniqueId('rule');
        const day = daysAgo(2).slice(0, 10);
        await store.recordEvents([
          event({ eventId: 'o-1', ruleId, observedAt: `${day}T09:00:00Z` }),
          event({ eventId: 'o-2', ruleId, observedAt: `${day}T10:30:00+02:00` }),
          event({ eventId: 'o-3', ruleId, observedAt: `${day}T09:00:00.500Z` }),
        ]);

        // Act
        const newest = await store.windowByCount(ruleId, 10);

        // Assess
        expect(newest.map((e) => [e.eventId, e.observedAt])).toEqual([
          ['o-3', `${day}T09:00:00.500Z`],
          ['o-1', `${day}T09:00:00Z`],
          ['o-2', `${day}T10:30:00+02:00`],
        ]);
      });
    });

    describe('windowByCount', () => {
      it('returns the last `count` live events of the rule, most recent first', async () => {
        await withStore(makeStore, async (store) => {
          // Prepare: 5 live events, 1 expired, 1 of another rule
          const ruleId = uniqueId('rule');
          await store.recordEvents([
            ...[5, 4, 3, 2, 1].map((age) => event({ eventId: `w-${age}`, ruleId, observedAt: daysAgo(age) })),
            event({ eventId: 'w-expired', ruleId, observedAt: daysAgo(95) }),
            event({ eventId: 'w-other', ruleId: uniqueId('other'), observedAt: daysAgo(0.5) }),
          ]);
          await store.markFalsePositive('w-2', mark);

          // Act
          const last3 = await store.windowByCount(ruleId, 3);
          const all = await store.windowByCount(ruleId, 100);

          // Assess
          expect(last3.map((e) => e.eventId)).toEqual(['w-1', 'w-2', 'w-3']);
          expect(last3[1].falsePositive).toEqual(mark);
          expect(all.map((e) => e.eventId)).toEqual(['w-1', 'w-2', 'w-3', 'w-4', 'w-5']);
          expect(await store.windowByCount(uniqueId('unknown'), 10)).toEqual([]);
        });
      });

      it('breaks ties at the cut by event id, like list', async () => {
        await withStore(makeStore, async (store) => {
          // Prepare: three events in the same millisecond, written in reverse id order
          const ruleId = uniqueId('rule');
          const at = daysAgo(1);
          await store.recordEvents([
            event({ eventId: 't-c', ruleId, observedAt: at }),
            event({ eventId: 't-b', ruleId, observedAt: at }),
            event({ eventId: 't-a', ruleId, observedAt: at }),
            event({ eventId: 't-old', ruleId, observedAt: daysAgo(2) }),
          ]);

          // Act / Assess
          expect((await store.windowByCount(ruleId, 1)).map((e) => e.eventId)).toEqual(['t-a']);
          expect((await store.windowByCount(ruleId, 2)).map((e) => e.eventId)).toEqual(['t-a', 't-b']);
          expect((await store.list({ ruleId, limit: 2 })).map((e) => e.eventId)).toEqual(['t-a', 't-b']);
          expect((await store.windowByCount(ruleId, 4)).map((e) => e.eventId)).toEqual(['t-a', 't-b', 't-c', 't-old']);
        });
      });

      it('rejects a count that is not a positive integer and an empty rule id', async () => {
        await withStore(makeStore, async (store) => {
          await expect(store.windowByCount('MD-001', 0)).rejects.toMatchObject({ code: 'INPUT_INVALID', location: { field: 'count' } });
          await expect(store.windowByCount('MD-001', 2.5)).rejects.toMatchObject({ code: 'INPUT_INVALID', location: { field: 'count' } });
          await expect(store.windowByCount('', 5)).rejects.toMatchObject({ code: 'INPUT_INVALID', location: { field: 'ruleId' } });
        });
      });
    });

    describe('windowByTime', () => {
      it('returns every live event of the rule in [since, until), oldest first, ties by event id', async () => {
        await withStore(makeStore, async (store) => {
          // Prepare
          const ruleId = uniqueId('rule');
          const base = Date.now() - 10 * 24 * 60 * 60 * 1000;
          const at = (hours: number): string => new Date(base + hours * 60 * 60 * 1000).toISOString();
          await store.recordEvents([
            event({ eventId: 'before', ruleId, observedAt: at(-1) }),
            event({ eventId: 'at-since-b', ruleId, observedAt: at(0) }),
            event({ eventId: 'at-since-a', ruleId, observedAt: at(0) }),
            event({ eventId: 'inside', ruleId, observedAt: at(5) }),
            event({ eventId: 'at-until', ruleId, observedAt: at(10) }),
            event({ eventId: 'other-rule', ruleId: uniqueId('other'), observedAt: at(5) }),
          ]);

          // Act
          const window = await store.windowByTime(ruleId, new Date(at(0)), new Date(at(10)));

          // Assess
          expect(window.map((e) => e.eventId)).toEqual(['at-since-a', 'at-since-b', 'inside']);
          expect(window[2]).toEqual(expect.objectContaining({ ruleId, observedAt: at(5) }));
        });
      });

      it('excludes expired events even when the window reaches back past the retention', async () => {
        await withStore(makeStore, async (store) => {
          const ruleId = uniqueId('rule');
          await store.recordEvents([
            event({ eventId: 'x-expired', ruleId, observedAt: daysAgo(100) }),
            event({ eventId: 'x-live', ruleId, observedAt: daysAgo(80) }),
          ]);
          const window = await store.windowByTime(ruleId, new Date(daysAgo(365)), new Date());
          expect(window.map((e) => e.eventId)).toEqual(['x-live']);
          expect(await store.windowByTime(ruleId, new Date(daysAgo(365)), new Date(daysAgo(95)))).toEqual([]);
        });
      });

      it('returns every event of a large window, not one page', async () => {
        await withStore(makeStore, async (store) => {
          // Prepare: 600 events with long paths (~1.2 MB, more than one DynamoDB page)
          const ruleId = uniqueId('rule');
          const start = Date.now() - 3 * 24 * 60 * 60 * 1000;
          const longPath = `src/${'deeply/nested/'.repeat(140)}file.ts`;
          const events = Array.from({ length: 600 }, (_, i) =>
            event({ eventId: `${ruleId}-p${String(i).padStart(4, '0')}`, ruleId, path: longPath, observedAt: new Date(start + i * 1000).toISOString() }),
          );
          for (let i = 0; i < events.length; i += 100) await store.recordEvents(events.slice(i, i + 100));

          // Act
          const window = await store.windowByTime(ruleId, new Date(start), new Date(start + 600 * 1000));

          // Assess
          expect(window).toHaveLength(600);
          expect(window.map((e) => e.eventId)).toEqual(events.map((e) => e.eventId));
        });
      });

      it('is empty for an empty window and rejects invalid or reversed bounds', async () => {
        await withStore(makeStore, async (store) => {
          const ruleId = uniqueId('rule');
          const at = daysAgo(1);
          await store.recordEvents([event({ eventId: 'e-1', ruleId, observedAt: at })]);
          expect(await store.windowByTime(ruleId, new Date(at), new Date(at))).toEqual([]);
          await expect(store.windowByTime(ruleId, new Date('nope'), new Date())).rejects.toMatchObject({
            code: 'INPUT_INVALID',
            location: { field: 'since' },
          });
          await expect(store.windowByTime(ruleId, new Date(), new Date(Number.NaN))).rejects.toMatchObject({
            code: 'INPUT_INVALID',
            location: { field: 'until' },
          });
          await expect(store.windowByTime(ruleId, new Date(), new Date(daysAgo(2)))).rejects.toMatchObject({
            code: 'INPUT_INVALID',
            location: { field: 'until' },
          });
          await expect(store.windowByTime('', new Date(daysAgo(2)), new Date())).rejects.toMatchObject({ location: { field: 'ruleId' } });
        });
      });
    });

    describe('ruleIds', () => {
      it('lists the rules with at least one live event, sorted, once each', async () => {
        await withStore(makeStore, async (store) => {
          // Prepare
          const prefix = uniqueId('r');
          const [a, b, c, gone] = [`${prefix}-a`, `${prefix}-b`, `${prefix}-c`, `${prefix}-gone`];
          await store.recordEvents([
            event({ eventId: `${c}-1`, ruleId: c, observedAt: daysAgo(1) }),
            event({ eventId: `${a}-1`, ruleId: a, observedAt: daysAgo(2) }),
            event({ eventId: `${a}-2`, ruleId: a, observedAt: daysAgo(3) }),
            event({ eventId: `${b}-1`, ruleId: b, observedAt: daysAgo(89) }),
            event({ eventId: `${gone}-1`, ruleId: gone, observedAt: daysAgo(91) }),
          ]);
          await store.markFalsePositive(`${a}-1`, mark);

          // Act / Assess
          expect(await store.ruleIds()).toEqual([a, b, c]);
        });
      });

      it('is empty for an empty store', async () => {
        await withStore(makeStore, async (store) => {
          expect(await store.ruleIds()).toEqual([]);
        });
      });
    });
  });
}
