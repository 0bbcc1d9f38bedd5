import { formatMarkdown, MARKDOWN_COMMENT_MARKER } from '../../src/report/format-markdown';
import { formatJobSummary } from '../../src/report/format-github';
import { validReport } from './report-fixture';

describe('formatMarkdown', () => {
  it('is the job summary behind a marker a workflow can find to update its comment', () => {
    const report = validReport();
    const markdown = formatMarkdown(report);
    expect(markdown.startsWith(`${MARKDOWN_COMMENT_MARKER}\n## Phase Mirror: `)).toBe(true);
    expect(markdown.slice(MARKDOWN_COMMENT_MARKER.length + 1)).toBe(formatJobSummary(report));
  });
});
