import { BUILTIN_RULES, journalAction, UsageError, type FpEvent } from '@phase-mirror/mirror-dissonance';
import { withStores } from '../stores';
import { EXIT } from '../exit-codes';
import type { Io } from '../io';
import { openWorkspace } from '../workspace';

/** `fp list`: recorded finding events, most recent first. */
export async function fpListCommand(
  path: string | undefined,
  options: { stateDir?: string; config?: string; backend?: string; rule?: string; finding?: string; marked?: boolean; limit: string; format: string },
  io: Io,
): Promise<number> {
  const limit = Number(options.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new UsageError('--limit must be a positive integer', { location: { flag: '--limit' } });
  const workspace = openWorkspace(io.cwd, path, options);
  return withStores(workspace, options.backend, io, async (stores) => {
    const events = await stores.fpStore.list({
      ...(options.rule ? { ruleId: options.rule } : {}),
      ...(options.finding ? { findingId: options.finding } : {}),
      markedOnly: options.marked === true,
      limit,
    });
    if (options.format === 'json') io.out(JSON.stringify(events, null, 2));
    else if (events.length === 0) io.out('no FP events recorded');
    else for (const event of events) io.out(describeEvent(event));
    return EXIT.OK;
  });
}

/** `fp mark`: a reviewer declares one observed finding a false positive; later runs suppress it. */
export async function fpMarkCommand(
  eventId: string,
  path: string | undefined,
  options: { stateDir?: string; config?: string; backend?: string; reviewer: string; reason: string; ticket?: string },
  io: Io,
): Promise<number> {
  if (!options.reviewer.trim()) throw new UsageError('--reviewer must not be empty', { location: { flag: '--reviewer' } });
  if (!options.reason.trim()) throw new UsageError('--reason must not be empty', { location: { flag: '--reason' } });
  const workspace = openWorkspace(io.cwd, path, options);
  return withStores(workspace, options.backend, io, async (stores) => {
    const event = await stores.fpStore.markFalsePositive(eventId, {
      reviewer: options.reviewer,
      reason: options.reason,
      ...(options.ticket ? { ticket: options.ticket } : {}),
      markedAt: new Date().toISOString(),
    });
    await journalAction(stores.ledger, { repository: event.repository }, {
      kind: 'fp_mark',
      actor: options.reviewer,
      at: event.falsePositive?.markedAt ?? new Date().toISOString(),
      subject: event.eventId,
      detail: options.ticket ? `${options.reason} (${options.ticket})` : options.reason,
    });
    io.out(`marked ${event.eventId} (${event.ruleId}, finding ${event.findingId.slice(0, 12)}) as a false positive; later runs suppress this finding`);
    return EXIT.OK;
  });
}

/**
 * `fp stats`: per rule, the observed false-positive rate over its window and
 * whether it is demoted (FPR above its ceiling over at least a full window).
 */
export async function fpStatsCommand(
  path: string | undefined,
  options: { stateDir?: string; config?: string; backend?: string; format: string },
  io: Io,
): Promise<number> {
  const workspace = openWorkspace(io.cwd, path, options);
  return withStores(workspace, options.backend, io, async (stores) => {
    const recorded = new Set(await stores.fpStore.ruleIds());
    const rows = [];
    for (const rule of BUILTIN_RULES) {
      if (!recorded.has(rule.id)) continue;
      const stats = await stores.fpStore.ruleStats(rule.id, rule.fpTolerance.window);
      const demoted = stats.reviewed >= rule.fpTolerance.window && stats.fpr > rule.fpTolerance.ceiling;
      rows.push({ ...stats, window: rule.fpTolerance.window, ceiling: rule.fpTolerance.ceiling, demoted });
    }
    if (options.format === 'json') {
      io.out(JSON.stringify(rows, null, 2));
    } else if (rows.length === 0) {
      io.out('no FP events recorded');
    } else {
      io.out('rule     events  reviewed  false-pos  FPR     ceiling  window  status');
      for (const row of rows) {
        const status = row.demoted ? 'DEMOTED (cannot block)' : row.reviewed < row.window ? `collecting (${row.reviewed}/${row.window} reviewed)` : 'blocking';
        io.out(
          `${row.ruleId.padEnd(8)} ${String(row.total).padStart(6)}  ${String(row.reviewed).padStart(8)}  ${String(row.falsePositives).padStart(9)}  ${row.fpr.toFixed(3).padStart(5)}  ${row.ceiling.toFixed(2).padStart(7)}  ${String(row.window).padStart(6)}  ${status}`,
        );
      }
    }
    return EXIT.OK;
  });
}

function describeEvent(event: FpEvent): string {
  const mark = event.falsePositive
    ? `  FALSE POSITIVE by ${event.falsePositive.reviewer} at ${event.falsePositive.markedAt}: ${event.falsePositive.reason}${event.falsePositive.ticket ? ` [${event.falsePositive.ticket}]` : ''}`
    : '';
  return `${event.eventId}  ${event.observedAt}  ${event.ruleId}  ${event.findingId.slice(0, 12)}  ${event.path}${mark}`;
}
