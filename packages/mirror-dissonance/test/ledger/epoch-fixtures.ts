/**
 * Block streams for the epoch and proof tests: real blocks (buildBlock) over
 * small reports, appended to a MemoryLedgerStore with a deterministic clock.
 */
import { buildBlock, type StoredBlock } from '../../src/ledger/block';
import type { DissonanceReport } from '../../src/types';
import { itemOf, reportOf } from '../nonce/reports';
import type { MemoryLedgerStore } from './memory-ledger-store';

export const T0 = Date.parse('2026-11-23T12:00:00.000Z');

/** The report of decision `height`: every third one has a finding, outcomes vary. */
function reportFor(height: number): DissonanceReport {
  const report = reportOf(height % 3 === 0 ? [itemOf(`MD-00${(height % 9) + 1}`, [])] : [], new Date(T0 + height * 1000));
  report.machine_decision.outcome = (['pass', 'warn', 'block'] as const)[height % 3]!;
  return report;
}

/**
 * Appends `count` blocks to `repository`'s stream (after its current head);
 * blocks from `dualFrom` on are dual-v1. Returns the appended blocks.
 */
export async function appendBlocks(
  store: MemoryLedgerStore,
  repository: string,
  count: number,
  options: { dualFrom?: number } = {},
): Promise<StoredBlock[]> {
  let previous = await store.head(repository);
  const appended: StoredBlock[] = [];
  for (let i = 0; i < count; i += 1) {
    const height = previous === undefined ? 0 : previous.height + 1;
    const block = buildBlock({
      report: reportFor(height),
      repository,
      mode: 'pull_request',
      commit: height.toString(16).padStart(40, '0'),
      previous,
      actions: [],
      dualActivationHeight: options.dualFrom,
      timestamp: new Date(T0 + height * 1000),
    });
    await store.append(block);
    appended.push(block);
    previous = block;
  }
  return appended;
}

/** A clock stepping one minute per call from `start`. */
export function steppingClock(start = T0 + 86_400_000): () => Date {
  let now = start;
  return () => {
    const at = new Date(now);
    now += 60_000;
    return at;
  };
}
