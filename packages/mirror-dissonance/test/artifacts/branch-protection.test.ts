import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBranchProtection } from '../../src/artifacts/branch-protection';

const FULL = join(__dirname, '..', 'fixtures', 'artifacts', 'branch-protection', 'rest-full.json');

function file(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'pm-bp-')), 'protection.json');
  writeFileSync(path, text);
  return path;
}

describe('loadBranchProtection', () => {
  it('reads every field of a full REST protection object', () => {
    // Act
    const protection = loadBranchProtection(FULL);

    // Assess
    expect(protection).toEqual({
      path: FULL,
      source: 'file',
      branch: 'release/v2',
      enabled: true,
      requiredContexts: [
        { value: 'test', path: FULL, line: 7 },
        { value: 'lint', path: FULL, line: 8 },
        { value: 'security-scan', path: FULL, line: 17 },
      ],
      strictStatusChecks: true,
      requirePullRequest: true,
      requiredApprovingReviewCount: 2,
      requireCodeOwnerReviews: true,
      dismissStaleReviews: true,
      enforceAdmins: true,
      requireLinearHistory: true,
      allowForcePushes: false,
      mergeQueueRequired: false,
      pushRestricted: true,
    });
  });

  it('reads contexts and checks of the full protection object with their lines', () => {
    const path = file('{\n  "required_status_checks": {\n    "contexts": ["test", "lint"],\n    "checks": [\n      { "context": "lint" },\n      { "context": "e2e", "app_id": 15368 }\n    ]\n  }\n}\n');
    expect(loadBranchProtection(path).requiredContexts).toEqual([
      { value: 'test', path, line: 3 },
      { value: 'lint', path, line: 3 },
      { value: 'e2e', path, line: 6 },
    ]);
  });

  it('reads omitted sections as off: no reviews, admins not enforced, no restrictions, no force pushes', () => {
    const path = file('{"required_status_checks": {"strict": false, "contexts": ["ci"]}}');
    expect(loadBranchProtection(path)).toEqual({
      path,
      source: 'file',
      enabled: true,
      requiredContexts: [{ value: 'ci', path, line: 1 }],
      strictStatusChecks: false,
      requirePullRequest: false,
      requiredApprovingReviewCount: 0,
      requireCodeOwnerReviews: false,
      dismissStaleReviews: false,
      enforceAdmins: false,
      requireLinearHistory: false,
      allowForcePushes: false,
      mergeQueueRequired: false,
      pushRestricted: false,
    });
  });

  it('reads a protection object without status checks, and the boolean toggles of a PUT body', () => {
    const path = file(
      JSON.stringify({
        required_status_checks: null,
        enforce_admins: false,
        required_linear_history: true,
        allow_force_pushes: true,
        required_pull_request_reviews: { require_code_owner_reviews: true },
        restrictions: null,
      }),
    );
    expect(loadBranchProtection(path)).toMatchObject({
      requiredContexts: [],
      enforceAdmins: false,
      requireLinearHistory: true,
      allowForcePushes: true,
      requirePullRequest: true,
      requiredApprovingReviewCount: 0,
      requireCodeOwnerReviews: true,
      dismissStaleReviews: false,
      pushRestricted: false,
    });
  });

  it('accepts the required_status_checks member alone', () => {
    const path = file('{"strict": true, "contexts": ["build"]}');
    const protection = loadBranchProtection(path);
    expect(protection.requiredContexts.map((c) => c.value)).toEqual(['build']);
    expect(protection).toMatchObject({ source: 'file', enabled: true, strictStatusChecks: true, requirePullRequest: false, enforceAdmins: false });
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
    ['strict not a boolean', '{"contexts": [], "strict": "yes"}', 'strict must be a boolean'],
    ['reviews not an object', '{"required_pull_request_reviews": true}', 'required_pull_request_reviews must be an object or null'],
    ['a negative review count', '{"required_pull_request_reviews": {"required_approving_review_count": -1}}', 'must be a non-negative integer'],
    ['code owner reviews not a boolean', '{"required_pull_request_reviews": {"require_code_owner_reviews": "yes"}}', 'require_code_owner_reviews must be a boolean'],
    ['an enforce_admins without enabled', '{"enforce_admins": {"url": "x"}}', 'enforce_admins must be {"enabled": boolean} or a boolean'],
    ['a force-push toggle of the wrong type', '{"allow_force_pushes": "no"}', 'allow_force_pushes must be {"enabled": boolean} or a boolean'],
    ['restrictions not an object', '{"restrictions": []}', 'restrictions must be an object or null'],
  ])('rejects %s with a clear message', (_label, text, message) => {
    const path = file(text);
    expect(() => loadBranchProtection(path)).toThrow(message);
  });

  it('locates an invalid field by line and dotted path', () => {
    const path = file('{\n  "required_pull_request_reviews": {\n    "required_approving_review_count": "two"\n  }\n}\n');
    expect(() => loadBranchProtection(path)).toThrow(
      expect.objectContaining({
        code: 'INPUT_INVALID',
        location: { file: path, line: 3, field: 'required_pull_request_reviews.required_approving_review_count' },
      }),
    );
  });

  it('names the document when the member alone has neither contexts nor checks', () => {
    const path = file('{}');
    expect(() => loadBranchProtection(path)).toThrow(expect.objectContaining({ location: { file: path, line: 1, field: '(document)' } }));
  });

  it('names the flag when the file cannot be read', () => {
    expect(() => loadBranchProtection('/nonexistent/protection.json')).toThrow(expect.objectContaining({ code: 'FILE_UNREADABLE', location: { file: '/nonexistent/protection.json', flag: '--branch-protection' } }));
  });
});
