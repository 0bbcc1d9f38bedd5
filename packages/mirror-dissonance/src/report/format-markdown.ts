import type { DissonanceReport } from '../types';
import { formatJobSummary } from './format-github';

/**
 * Marks a pull-request comment as Phase Mirror's, so a workflow can find and
 * update its previous comment instead of adding one per run.
 */
export const MARKDOWN_COMMENT_MARKER = '<!-- phase-mirror:dissonance-report -->';

/** `--format markdown`: the decision and findings as a pull-request comment body. */
export function formatMarkdown(report: DissonanceReport): string {
  return `${MARKDOWN_COMMENT_MARKER}\n${formatJobSummary(report)}`;
}
