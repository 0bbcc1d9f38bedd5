import { openStateDatabase, UsageError, type FpEvent } from '@phase-mirror/mirror-dissonance';
import { EXIT } from '../exit-codes';
import type { Io } from '../io';
import { openWorkspace } from '../workspace';

/** `fp list`: recorded finding events, most recent first. */
export async function fpListCommand(
  path: string | undefined,
  options: { stateDir?: string; config?: string; rule?: string; finding?: string; marked?: boolean; limit: string; format: string },
  io: Io,
): Promise<number> {
  const limit = Number(options.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new UsageError('--limit must be a positive integer', { location: { flag: '--limit' } });
  const workspace = openWorkspace(io.cwd, path, options);
  const state = openStateDatabase(workspace.stateDir);
  try {
    const events = await state.fpStore.list({
      ...(options.rule ? { ruleId: options.rule } : {}),
      ...(options.finding ? { findingId: options.finding } : {}),
      markedOnly: options.marked === true,
      limit,
    });
    if (options.format === 'json') io.out(JSON.stringify(events, null, 2));
    else if (events.length === 0) io.out('no FP events recorded');
    else for (const event of events) io.out(describeEvent(event));
  } finally {
    state.close();
  }
  return EXIT.OK;
}

/** `fp mark`: a reviewer declares one observed finding a false positive; later runs suppress it. */
export async function fpMarkCommand(
  eventId: string,
  path: string | undefined,
  options: { stateDir?: string; config?: string; reviewer: string; reason: string; ticket?: string },
  io: Io,
): Promise<number> {
  if (!options.reviewer.trim()) throw new UsageError('--reviewer must not be empty', { location: { flag: '--reviewer' } });
  if (!options.reason.trim()) throw new UsageError('--reason must not be empty', { location: { flag: '--reason' } });
  const workspace = openWorkspace(io.cwd, path, options);
  const state = openStateDatabase(workspace.stateDir);
  try {
    const event = await state.fpStore.markFalsePositive(eventId, {
      reviewer: options.reviewer,
      reason: options.reason,
      ...(options.ticket ? { ticket: options.ticket } : {}),
      markedAt: new Date().toISOString(),
    });
    io.out(`marked ${event.eventId} (${event.ruleId}, finding ${event.findingId.slice(0, 12)}) as a false positive; later runs suppress this finding`);
  } finally {
    state.close();
  }
  return EXIT.OK;
}

function describeEvent(event: FpEvent): string {
  const mark = event.falsePositive
    ? `  FALSE POSITIVE by ${event.falsePositive.reviewer} at ${event.falsePositive.markedAt}: ${event.falsePositive.reason}${event.falsePositive.ticket ? ` [${event.falsePositive.ticket}]` : ''}`
    : '';
  return `${event.eventId}  ${event.observedAt}  ${event.ruleId}  ${event.findingId.slice(0, 12)}  ${event.path}${mark}`;
}
