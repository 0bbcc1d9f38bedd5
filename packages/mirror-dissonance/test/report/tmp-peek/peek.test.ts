import { formatText } from '../../../src/report/format-text';
import { formatGithub, formatJobSummary } from '../../../src/report/format-github';
import { formatSarif } from '../../../src/report/format-sarif';
import { fullReport } from '../../../test/report/report-fixture';
it('peek', () => {
  const r = fullReport();
  r.items[0].evidence[0].snippet.value = 'line1\r\n\u001b[31mline2\tx';
  process.stdout.write(formatText(r, { color: false }));
  process.stdout.write(formatGithub(r));
  process.stdout.write(formatJobSummary(r));
  process.stdout.write(JSON.stringify(formatSarif(r, { toolVersion: '0.1.0', rules: [] }), null, 1).slice(0, 1500));
});
