/**
 * The remote analysis request: what the CLI collects survives the JSON trip
 * (and gives the function the same report), every field is checked with an
 * error naming it, and the 5 MB limit is enforced before anything is sent.
 */
import { InputError, PhaseMirrorError } from '../../src/errors';
import { runOracle } from '../../src/oracle/pipeline';
import { MAX_REMOTE_PAYLOAD_BYTES, type RemoteAnalyzeRequest } from '../../src/remote/contract';
import { assertPayloadSize, formatBytes, parseRequest, payloadBytes, serializeRequest, toRemoteRequest } from '../../src/remote/request';
import { BUILTIN_RULES, enabledRules } from '../../src/rules/registry';
import { usePipelineState } from '../oracle/pipeline-fixtures';
import { plantedInput, richInput } from './fixtures';

const pipeline = usePipelineState('pm-remote');

/** A fresh JSON copy of the rich request, to mutate. */
async function richRequest(): Promise<Record<string, any>> {
  return JSON.parse(serializeRequest(await richInput())) as Record<string, any>;
}

function rejection(payload: unknown): InputError {
  try {
    parseRequest(payload);
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
  throw new Error('parseRequest accepted the payload');
}

describe('serializeRequest and parseRequest', () => {
  it('round-trips what the collector reads from a repository', async () => {
    // Prepare
    const input = await plantedInput();

    // Act
    const parsed = parseRequest(JSON.parse(serializeRequest(input)));

    // Assess
    expect(parsed).toEqual(input);
    expect(parsed.artifacts.workflows.length).toBeGreaterThan(0);
  });

  it('round-trips every optional member: CODEOWNERS with rejected lines, protection, pull request, organisation, baseline, skipped files', async () => {
    // Prepare
    const input = await richInput();

    // Act
    const parsed = parseRequest(serializeRequest(input, { name: 'phase-mirror', version: '1.2.3' }));

    // Assess
    const { client, ...oracleInput } = parsed;
    expect(client).toEqual({ name: 'phase-mirror', version: '1.2.3' });
    expect(oracleInput).toEqual(input);
    const codeowners = parsed.artifacts.codeowners!;
    expect(codeowners.errors).toHaveLength(4);
    expect(codeowners.errors).toEqual(input.artifacts.codeowners!.errors);
    for (const path of ['README.md', 'web/app.js', 'docs/guide.md', 'build/logs/today.txt', 'apps/github/x.ts', 'assets/My Images/logo.png', 'a/logs']) {
      expect(codeowners.ownersOf(path)).toEqual(input.artifacts.codeowners!.ownersOf(path));
    }
    expect(parsed.artifacts.baselineCurrent).toBeInstanceOf(Map);
  });

  it('sends workflows as their text, CODEOWNERS as rules, and the current baseline hashes as pairs', async () => {
    const request = toRemoteRequest(await richInput());

    expect(Object.keys(request.artifacts.workflows[0]!).sort()).toEqual(['path', 'text']);
    expect(Object.keys(request.artifacts.codeowners!).sort()).toEqual(['errors', 'path', 'rules']);
    expect(request.artifacts.baselineCurrent).toEqual([
      ['src/auth/login.ts', 'b'.repeat(64)],
      ['.github/workflows/ci.yml', 'c'.repeat(64)],
    ]);
    expect(request.version).toBe(1);
  });

  it('gives the function the report the caller would have produced in-process', async () => {
    // Prepare
    const input = await richInput();
    const remote = parseRequest(serializeRequest(input));
    const rules = enabledRules(input.settings, BUILTIN_RULES);

    // Act
    const local = await runOracle(input, pipeline.deps(rules, { newRunId: () => 'local' }));
    const fromRequest = await runOracle(remote, pipeline.deps(enabledRules(remote.settings, BUILTIN_RULES), { newRunId: () => 'remote' }));

    // Assess
    expect(local.report.items.length).toBeGreaterThan(0);
    expect({ ...fromRequest.report, meta: { ...fromRequest.report.meta, run_id: 'x' } }).toEqual({ ...local.report, meta: { ...local.report.meta, run_id: 'x' } });
  });

  it('accepts the request as text or as UTF-8 bytes', async () => {
    const input = await plantedInput();
    const text = serializeRequest(input);

    expect(parseRequest(text)).toEqual(input);
    expect(parseRequest(Buffer.from(text, 'utf8'))).toEqual(input);
  });
});

describe('parseRequest rejects an invalid request, naming the field', () => {
  const cases: [string, (request: Record<string, any>) => void, string][] = [
    ['an unknown protocol version', (r) => (r.version = 2), 'version'],
    ['a missing event', (r) => delete r.event, 'event'],
    ['an unknown mode', (r) => (r.event.mode = 'push'), 'event.mode'],
    ['a PR number of 0', (r) => (r.event.prNumber = 0), 'event.prNumber'],
    ['a repository spanning lines', (r) => (r.event.repository = 'acme/x\nacme/y'), 'event.repository'],
    ['a non-boolean strict', (r) => (r.event.strict = 'yes'), 'event.strict'],
    ['an absolute changed file', (r) => (r.event.changedFiles = ['/etc/passwd']), 'event.changedFiles[0]'],
    ['an unknown artifacts member', (r) => (r.artifacts.extra = 1), 'artifacts.extra'],
    ['a path leaving the repository', (r) => (r.artifacts.fileList[1] = 'src/../../etc/passwd'), 'artifacts.fileList[1]'],
    ['a workflow outside .github/workflows', (r) => (r.artifacts.workflows[0].path = 'ci.yml'), 'artifacts.workflows[0].path'],
    ['a workflow that does not parse', (r) => (r.artifacts.workflows[0].text = 'on: [push\njobs: {'), 'artifacts.workflows[0].text'],
    ['a manifest with a negative size', (r) => (r.artifacts.manifests[0].size = -1), 'artifacts.manifests[0].size'],
    ['a malformed current hash', (r) => (r.artifacts.baselineCurrent[0][1] = 'xyz'), 'artifacts.baselineCurrent[0][1]'],
    ['a current hash listed twice', (r) => (r.artifacts.baselineCurrent[1][0] = r.artifacts.baselineCurrent[0][0]), 'artifacts.baselineCurrent[1][0]'],
    ['a current hash that is not a pair', (r) => (r.artifacts.baselineCurrent[0] = ['a']), 'artifacts.baselineCurrent[0]'],
    ['a baseline with a bad file hash', (r) => (r.artifacts.baseline.files['src/auth/login.ts'] = 'nope'), 'artifacts.baseline.files["src/auth/login.ts"]'],
    ['a baseline of another version', (r) => (r.artifacts.baseline.version = 2), 'artifacts.baseline.version'],
    ['a CODEOWNERS rule at line 0', (r) => (r.artifacts.codeowners.rules[0].line = 0), 'artifacts.codeowners.rules[0].line'],
    ['a CODEOWNERS rule GitHub rejects', (r) => (r.artifacts.codeowners.rules[1].pattern = '!negated'), 'artifacts.codeowners.rules[1]'],
    ['CODEOWNERS rules out of order', (r) => (r.artifacts.codeowners.rules[1].line = 1), 'artifacts.codeowners.rules[1].line'],
    ['a CODEOWNERS error on a rule line', (r) => (r.artifacts.codeowners.errors[0].line = r.artifacts.codeowners.rules[0].line), 'artifacts.codeowners.errors[0].line'],
    ['an unknown CODEOWNERS location', (r) => (r.artifacts.codeowners.path = 'OWNERS'), 'artifacts.codeowners.path'],
    ['a review count that is not a number', (r) => (r.artifacts.branchProtection.requiredApprovingReviewCount = 'two'), 'artifacts.branchProtection.requiredApprovingReviewCount'],
    ['an unknown review state', (r) => (r.artifacts.pullRequest.reviews[0].state = 'LGTM'), 'artifacts.pullRequest.reviews[0].state'],
    ['a policy line below 0', (r) => (r.artifacts.policy.requiredStatusChecks[0].line = -1), 'artifacts.policy.requiredStatusChecks[0].line'],
    ['an unknown skip reason', (r) => (r.artifacts.skipped[0].reason = 'vanished'), 'artifacts.skipped[0].reason'],
    ['an unknown exemption requirement', (r) => (r.artifacts.organization.manifest.exemptions[0].requirements[0] = 'everything'), 'artifacts.organization.manifest.exemptions[0].requirements[0]'],
    ['a classification visibility that does not exist', (r) => (r.artifacts.organization.manifest.classifications[0].match.visibility[0] = 'secret'), 'artifacts.organization.manifest.classifications[0].match.visibility[0]'],
    ['an org-scan state off its schema', (r) => (r.artifacts.organization.states.repositories[0].visibility = 'secret'), 'artifacts.organization.states.repositories.0.visibility'],
    ['a negative threshold', (r) => (r.settings.thresholds.default.high = -1), 'settings.thresholds.default.high'],
    ['a breaker threshold of 0', (r) => (r.settings.circuitBreaker.threshold = 0), 'settings.circuitBreaker.threshold'],
    ['a drift bound of 0', (r) => (r.settings.l0.driftBound = 0), 'settings.l0.driftBound'],
    ['a disabled rule that is not a rule id', (r) => (r.settings.disabledRules[0] = 'rm -rf'), 'settings.disabledRules[0]'],
    ['a job-intent command with nested repetition', (r) => (r.settings.ruleOptions.jobIntents.fuzz.commands[0] = '(a+)+$'), 'settings.ruleOptions.jobIntents.fuzz.commands[0]'],
    ['a job intent without keywords', (r) => (r.settings.ruleOptions.jobIntents.fuzz.keywords = []), 'settings.ruleOptions.jobIntents.fuzz.keywords'],
  ];

  it.each(cases)('%s', async (_name, mutate, field) => {
    // Prepare
    const request = await richRequest();
    mutate(request);

    // Act
    const error = rejection(request);

    // Assess
    expect(error.code).toBe('INPUT_INVALID');
    expect(error.location.field).toBe(field);
    expect(error.message).toContain(`remote analysis request: ${field}`);
  });

  it('rejects a job intent named __proto__ instead of changing a prototype', async () => {
    const text = serializeRequest(await richInput()).replace('"jobIntents":{', '"jobIntents":{"__proto__":{"keywords":["x"],"actions":[],"commands":[]},');

    expect(rejection(text).location.field).toBe('settings.ruleOptions.jobIntents.__proto__');
  });

  it('rejects text that is not JSON at the root', () => {
    const error = rejection('{"version":1,');
    expect(error.location.field).toBe('(root)');
    expect(error.message).toContain('is not valid JSON');
  });

  it.each<[string, (request: Record<string, any>) => void]>([
    ['a workflow path', (r) => (r.artifacts.workflows[0].path = 'hunter2hunter2.yml')],
    ['a manifest size', (r) => (r.artifacts.manifests[0].size = 'hunter2hunter2')],
    ['a disabled rule', (r) => (r.settings.disabledRules[0] = 'hunter2hunter2')],
    ['a review state longer than an enum value', (r) => (r.artifacts.pullRequest.reviews[0].state = 'hunter2hunter2 '.repeat(4))],
  ])('never echoes the value of %s in its message', async (_name, mutate) => {
    const request = await richRequest();
    mutate(request);

    const error = rejection(request);

    expect(error.message).not.toContain('hunter2');
  });

  it('answers typed errors only (PhaseMirrorError), never a TypeError, for any shape of payload', () => {
    for (const payload of [null, 42, 'null', [], { version: 1 }, { version: 1, artifacts: [], event: {}, settings: {} }]) {
      expect(() => parseRequest(payload)).toThrow(PhaseMirrorError);
    }
  });
});

describe('assertPayloadSize', () => {
  it('accepts a payload of exactly 5 MB', () => {
    expect(() => assertPayloadSize('x'.repeat(MAX_REMOTE_PAYLOAD_BYTES))).not.toThrow();
  });

  it('refuses one byte more, naming the size and the limit', () => {
    // Act
    let error: unknown;
    try {
      assertPayloadSize(Buffer.alloc(MAX_REMOTE_PAYLOAD_BYTES + 1));
    } catch (caught) {
      error = caught;
    }

    // Assess
    expect(error).toBeInstanceOf(InputError);
    const inputError = error as InputError;
    expect(inputError.code).toBe('INPUT_INVALID');
    expect(inputError.location.flag).toBe('--remote');
    expect(inputError.message).toContain(`(${MAX_REMOTE_PAYLOAD_BYTES + 1} bytes)`);
    expect(inputError.message).toContain(`5 MB (${MAX_REMOTE_PAYLOAD_BYTES} bytes) limit`);
  });

  it('counts UTF-8 bytes, not characters', () => {
    const text = 'é'.repeat(MAX_REMOTE_PAYLOAD_BYTES / 2 + 1);

    expect(text.length).toBeLessThan(MAX_REMOTE_PAYLOAD_BYTES);
    expect(payloadBytes(text)).toBe(MAX_REMOTE_PAYLOAD_BYTES + 2);
    expect(() => assertPayloadSize(text)).toThrow(/over the 5 MB/);
  });

  it('takes a smaller limit', () => {
    expect(() => assertPayloadSize('abcd', 3)).toThrow('the remote analysis request is 4 B (4 bytes), over the 3 B (3 bytes) limit');
  });

  it('formats sizes in binary units', () => {
    expect([formatBytes(512), formatBytes(1024), formatBytes(1536), formatBytes(5 * 1024 * 1024), formatBytes(5.5 * 1024 * 1024)]).toEqual([
      '512 B',
      '1 KB',
      '1.5 KB',
      '5 MB',
      '5.5 MB',
    ]);
  });
});

// Keeps the request type in view: a test that builds one by hand must satisfy the contract.
export type { RemoteAnalyzeRequest };
