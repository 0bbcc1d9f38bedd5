/**
 * Dual-commitment activation (docs/ledger.md): from the recorded height on,
 * every stream's blocks are `dual-v1`. The height must lie ahead of every
 * stream's head, so no block already written changes its meaning, and it is
 * recorded once (a different height later is refused).
 */
import { InputError } from '../errors';
import type { LedgerStore } from './store';

export interface DualActivationPlan {
  height: number;
  /** Already recorded at this height: nothing to do. */
  alreadyActive: boolean;
  /** Each stream's next height, for the dry-run message. */
  streams: { repository: string; nextHeight: number }[];
}

/** Checks `height` against every stream and, unless `dryRun`, records it. */
export async function activateDual(ledger: LedgerStore, height: number, options: { dryRun?: boolean } = {}): Promise<DualActivationPlan> {
  if (!Number.isSafeInteger(height) || height < 0) {
    throw new InputError('INPUT_INVALID', `activation height must be a whole number ≥ 0, got ${String(height)}`, { location: { flag: '--at' } });
  }
  const recorded = await ledger.getSetting('dual_activation_height');
  if (recorded !== undefined && Number(recorded) !== height) {
    throw new InputError('INPUT_INVALID', `dual commitment is already active from height ${recorded}; it cannot move to ${height}`, {
      location: { flag: '--at' },
    });
  }
  const streams: DualActivationPlan['streams'] = [];
  for (const repository of await ledger.repositories()) {
    const head = await ledger.head(repository);
    streams.push({ repository, nextHeight: head === undefined ? 0 : head.height + 1 });
  }
  if (recorded === undefined) {
    const behind = streams.filter((stream) => stream.nextHeight > height);
    if (behind.length > 0) {
      throw new InputError(
        'INPUT_INVALID',
        `height ${height} is already written in ${behind.map((s) => `${s.repository} (next ${s.nextHeight})`).join(', ')}; choose a height ≥ ${Math.max(...behind.map((s) => s.nextHeight))}`,
        { location: { flag: '--at' } },
      );
    }
    if (options.dryRun !== true) await ledger.putSetting('dual_activation_height', String(height));
  }
  return { height, alreadyActive: recorded !== undefined, streams };
}
