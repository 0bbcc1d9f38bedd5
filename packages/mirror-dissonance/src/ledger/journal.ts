/**
 * Journaling human actions for the next block's `ui_root` (docs/ledger.md):
 * false-positive marks and consent changes. An organisation-wide consent
 * change is journaled in every stream of that organisation's repositories
 * (`<org>/<name>`), so each of their next blocks attests it.
 */
import { DependencyError, PhaseMirrorError } from '../errors';
import type { LedgerAction } from './block';
import type { LedgerStore } from './store';

/** Journals `action` for `repository`, or for every `<org>/…` stream when only an organisation is given. */
export async function journalAction(ledger: LedgerStore, target: { repository?: string; org?: string }, action: LedgerAction): Promise<string[]> {
  let repositories: string[];
  if (target.repository !== undefined) repositories = [target.repository];
  else if (target.org !== undefined) {
    const prefix = `${target.org}/`;
    repositories = (await ledger.repositories()).filter((repository) => repository.startsWith(prefix));
  } else repositories = [];
  try {
    for (const repository of repositories) await ledger.recordAction(repository, action);
  } catch (error) {
    const cause = error instanceof Error ? error.message : String(error);
    throw new DependencyError(
      error instanceof PhaseMirrorError ? error.code : 'STORE_FAILED',
      `the ${action.kind.replace('_', ' ')} was saved, but journaling it in the ledger at ${ledger.location} failed: ${cause}; repeat the command to attest it`,
      { context: { subject: action.subject }, cause: error },
    );
  }
  return repositories;
}
