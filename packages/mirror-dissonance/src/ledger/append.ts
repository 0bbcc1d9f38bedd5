/**
 * Appending an oracle decision to its repository's ledger stream (DESIGN §3,
 * last stage of the pipeline). Fail closed (DESIGN §6): a head whose stored
 * hash does not match its bytes is an IntegrityError, never extended; a lost
 * race on the height is retried on the new head, a bounded number of times.
 */
import { IntegrityError, PhaseMirrorError } from '../errors';
import type { DissonanceReport } from '../types';
import { buildBlock, type StoredBlock } from './block';
import { digest } from './hash';
import type { LedgerStore } from './store';

/** Attempts before a stream that keeps moving under us is reported. */
const MAX_ATTEMPTS = 8;

export interface AppendDecisionInput {
  report: DissonanceReport;
  repository: string;
  mode: string;
  commit: string | undefined;
  clock?: () => Date;
}

/**
 * Appends the decision as the stream's next block and returns it. The report
 * is not changed; callers record `{ height, hash }` in `meta.ledger`.
 *
 * @throws IntegrityError LEDGER_INVALID when the head is corrupt, LEDGER_CONFLICT after repeated lost races
 */
export async function appendDecision(ledger: LedgerStore, input: AppendDecisionInput): Promise<StoredBlock> {
  const clock = input.clock ?? (() => new Date());
  const activation = await ledger.getSetting('dual_activation_height');
  const dualActivationHeight = activation === undefined ? undefined : Number(activation);
  for (let attempt = 1; ; attempt++) {
    const previous = await ledger.head(input.repository);
    if (previous !== undefined) assertHeadIntact(previous);
    const actions = await ledger.actionsAfter(input.repository, previous?.fields.ui_through_seq ?? 0);
    const block = buildBlock({
      report: input.report,
      repository: input.repository,
      mode: input.mode,
      commit: input.commit,
      previous,
      actions,
      dualActivationHeight,
      timestamp: clock(),
    });
    try {
      await ledger.append(block);
      return block;
    } catch (error) {
      const conflict = error instanceof PhaseMirrorError && error.code === 'LEDGER_CONFLICT';
      if (!conflict || attempt >= MAX_ATTEMPTS) throw error;
    }
  }
}

/** The head must hash to its stored hash: extending a tampered head would bless it. */
function assertHeadIntact(head: StoredBlock): void {
  const actual = digest('sha256', head.canonical).toString('hex');
  if (actual !== head.hash) {
    throw new IntegrityError(
      'LEDGER_INVALID',
      `ledger head of ${head.repository} at height ${head.height} does not match its stored hash (stored ${head.hash.slice(0, 12)}…, bytes hash to ${actual.slice(0, 12)}…): run \`phase-mirror ledger replay\``,
      { location: { field: 'hash' }, context: { repository: head.repository, height: head.height } },
    );
  }
}
