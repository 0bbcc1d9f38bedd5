import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBranchProtection } from '../../src/artifacts/branch-protection';

function file(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'pm-bp-')), 'protection.json');
  writeFileSync(path, text);
  return path;
}

describe('loadBranchProtection', () => {
  it('reads contexts and checks of the full protection object with their lines', () => {
    const path = file('{\n  "required_status_checks": {\n    "contexts": ["test", "lint"],\n    "checks": [\n      { "context": "lint" },\n      { "context": "e2e", "app_id": 15368 }\n    ]\n  }\n}\n');
    expect(loadBranchProtection(path).requiredContexts).toEqual([
      { value: 'test', path, line: 3 },
      { value: 'lint', path, line: 3 },
      { value: 'e2e', path, line: 6 },
    ]);
  });

  it('accepts the required_status_checks member alone', () => {
    const path = file('{"strict": true, "contexts": ["build"]}');
    expect(loadBranchProtection(path).requiredContexts.map((c) => c.value)).toEqual(['build']);
  });

  it('treats disabled status checks (null) as none required', () => {
    expect(loadBranchProtection(file('{"required_status_checks": null}')).requiredContexts).toEqual([]);
  });

  it.each([
    ['an array document', '[1]', 'must be a JSON object'],
    ['no contexts or checks', '{"required_status_checks": {"strict": true}}', 'expected required_status_checks'],
    ['contexts not an array', '{"contexts": "test"}', 'contexts must be an array'],
    ['a non-string context', '{"contexts": [1]}', 'must be a string'],
    ['checks not an array', '{"checks": {}}', 'checks must be an array'],
    ['a check without context', '{"checks": [{"app_id": 1}]}', 'needs a string context'],
  ])('rejects %s with a clear message', (_label, text, message) => {
    const path = file(text);
    expect(() => loadBranchProtection(path)).toThrow(message);
  });

  it('names the flag when the file cannot be read', () => {
    expect(() => loadBranchProtection('/nonexistent/protection.json')).toThrow(expect.objectContaining({ code: 'FILE_UNREADABLE', location: { file: '/nonexistent/protection.json', flag: '--branch-protection' } }));
  });
});
