import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DEFAULT_SETTINGS, loadConfig } from '../../src/config/load-config';
import { InputError } from '../../src/errors';

function repo(files: Record<string, string | Buffer>): string {
  const root = mkdtempSync(join(tmpdir(), 'pm-config-'));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

function errorOf(fn: () => unknown): InputError {
  try {
    fn();
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
  throw new Error('expected an InputError');
}

describe('loadConfig', () => {
  it('applies defaults when the repository has no configuration', () => {
    const config = loadConfig(repo({}));
    expect(config.configFile).toBeUndefined();
    expect(config.policyFile).toBeUndefined();
    expect(config.settings).toEqual({ ...DEFAULT_SETTINGS, disabledRules: [] });
    expect(config.policy.baseline).toEqual({ path: '.github/phase-mirror/baseline.json', globs: [], threshold: 0.15 });
  });

  it('reads the policy block with the line of every declared value', () => {
    const root = repo({
      '.phase-mirror.yml': 'version: 1\nstrict: true\npolicy:\n  requiredStatusChecks:\n    - test\n    - "CI / lint"\n  criticalPaths: [src/auth/**]\n',
    });
    const config = loadConfig(root);
    expect(config.strict).toBe(true);
    expect(config.configFile).toBe('.phase-mirror.yml');
    expect(config.policyFile).toBe('.phase-mirror.yml');
    expect(config.policy.requiredStatusChecks).toEqual([
      { value: 'test', path: '.phase-mirror.yml', line: 5 },
      { value: 'CI / lint', path: '.phase-mirror.yml', line: 6 },
    ]);
    expect(config.policy.criticalPaths).toEqual([{ value: 'src/auth/**', path: '.phase-mirror.yml', line: 7 }]);
  });

  it('merges partial thresholds and breaker settings over the defaults', () => {
    const root = repo({ '.phase-mirror.yml': 'version: 1\nthresholds:\n  default: { high: 7 }\ncircuitBreaker:\n  threshold: 20\nrules:\n  disabled: [MD-001]\n' });
    const { settings } = loadConfig(root);
    expect(settings.thresholds.default).toEqual({ critical: 0, high: 7, medium: 10 });
    expect(settings.circuitBreaker).toEqual({ threshold: 20, strictThreshold: 50 });
    expect(settings.disabledRules).toEqual(['MD-001']);
  });

  it('reads a standalone policy file, YAML or JSON', () => {
    const yamlRoot = repo({ '.github/phase-mirror/policy.yml': 'criticalPaths:\n  - infra/**\n' });
    expect(loadConfig(yamlRoot).policy.criticalPaths).toEqual([{ value: 'infra/**', path: '.github/phase-mirror/policy.yml', line: 2 }]);
    const jsonRoot = repo({ '.github/phase-mirror/policy.json': '{\n  "requiredStatusChecks": ["build"]\n}\n' });
    const config = loadConfig(jsonRoot);
    expect(config.policyFile).toBe('.github/phase-mirror/policy.json');
    expect(config.policy.requiredStatusChecks).toEqual([{ value: 'build', path: '.github/phase-mirror/policy.json', line: 2 }]);
  });

  it('refuses a policy declared in two places, naming the line', () => {
    const root = repo({
      '.phase-mirror.yml': 'version: 1\npolicy:\n  criticalPaths: [a]\n',
      '.github/phase-mirror/policy.yml': 'criticalPaths: [b]\n',
    });
    const error = errorOf(() => loadConfig(root));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.describe()).toMatch(/^\.phase-mirror\.yml:2(:\d+)?: policy is declared both here and in \.github\/phase-mirror\/policy\.yml/);
  });

  it('names file, line and field of an unknown field', () => {
    const root = repo({ '.phase-mirror.yml': 'version: 1\npolicy:\n  requiredChecks: [x]\n' });
    const error = errorOf(() => loadConfig(root));
    expect(error.location).toMatchObject({ file: '.phase-mirror.yml', line: 3, field: 'policy.requiredChecks' });
    expect(error.message).toContain('policy.requiredChecks: unknown field');
  });

  it('names the line of a value of the wrong type', () => {
    const root = repo({ '.phase-mirror.yml': 'version: 1\ncircuitBreaker:\n  threshold: lots\n' });
    const error = errorOf(() => loadConfig(root));
    expect(error.location).toMatchObject({ line: 3, field: 'circuitBreaker.threshold' });
    expect(error.message).toContain('must be integer');
  });

  it('requires the version field', () => {
    const error = errorOf(() => loadConfig(repo({ '.phase-mirror.yml': 'strict: true\n' })));
    expect(error.message).toBe('version: required field is missing');
    expect(error.location.field).toBe('version');
    expect(error.location.line).toBe(1);
  });

  it('reports YAML syntax errors with their line', () => {
    const error = errorOf(() => loadConfig(repo({ '.phase-mirror.yml': 'version: 1\npolicy:\n  criticalPaths: [a\n' })));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.location.file).toBe('.phase-mirror.yml');
    expect(error.location.line).toBeGreaterThanOrEqual(3);
    expect(error.message).toMatch(/invalid YAML/);
  });

  it('refuses binary and oversized configuration files', () => {
    expect(errorOf(() => loadConfig(repo({ '.phase-mirror.yml': Buffer.from([0x76, 0, 0x31]) }))).message).toContain('binary');
    expect(errorOf(() => loadConfig(repo({ '.phase-mirror.yml': 'x'.repeat(1024 * 1024 + 1) }))).message).toContain('limited to');
  });

  it('fails when an explicit --config file does not exist', () => {
    const root = repo({});
    const error = errorOf(() => loadConfig(root, join(root, 'missing.yml')));
    expect(error.location).toMatchObject({ file: 'missing.yml', flag: '--config' });
  });

  it('rejects a rule id that is not an MD rule', () => {
    const error = errorOf(() => loadConfig(repo({ '.phase-mirror.yml': 'version: 1\nrules:\n  disabled: [nope]\n' })));
    expect(error.location).toMatchObject({ line: 3, field: 'rules.disabled.0' });
  });
});

describe('generated configuration validators (scripts/stamp-schema.js)', () => {
  const { generateConfigValidators } = require('../../../../scripts/stamp-schema.js') as { generateConfigValidators: (dir: string) => string };

  it('accept and reject exactly what the shipped schemas do', () => {
    // Prepare: a package folder with the shipped schemas and the repository's node_modules.
    const workDir = mkdtempSync(join(tmpdir(), 'pm-config-gen-'));
    symlinkSync(join(__dirname, '..', '..', '..', '..', 'node_modules'), join(workDir, 'node_modules'), 'dir');
    const packageDir = join(workDir, 'pkg');
    mkdirSync(join(packageDir, 'schemas'), { recursive: true });
    mkdirSync(join(packageDir, 'dist'));
    for (const name of ['policy.schema.json', 'phase-mirror-config.schema.json']) {
      writeFileSync(join(packageDir, 'schemas', name), readFileSync(join(__dirname, '..', '..', 'schemas', name)));
    }
    // Act
    const file = generateConfigValidators(packageDir);
    const generated = require(file) as { config: (v: unknown) => boolean; policy: (v: unknown) => boolean; sourceSha256: string };
    // Assess
    expect(generated.sourceSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(generated.config({ version: 1, policy: { criticalPaths: ['a'] } })).toBe(true);
    expect(generated.config({ version: 2 })).toBe(false);
    expect(generated.policy({ requiredStatusChecks: ['x'] })).toBe(true);
    expect(generated.policy({ unknown: true })).toBe(false);
  });
});

describe('loadConfig policy locations', () => {
  it('refuses two policy files', () => {
    const root = repo({ '.github/phase-mirror/policy.yml': 'criticalPaths: [a]\n', '.github/phase-mirror/policy.json': '{}' });
    expect(() => loadConfig(root)).toThrow('policy is declared in .github/phase-mirror/policy.yml and .github/phase-mirror/policy.json; keep one');
  });

  it('reads every issue-3 policy member with lines and defaults', () => {
    const root = repo({
      '.github/phase-mirror/policy.yml': [
        'mergeQueue:',
        '  requireLinearHistory: true',
        'automation:',
        '  authors: ["dependabot[bot]", "*[bot]"]',
        '  branchPrefixes: [agent/]',
        'protectedPaths: [infra/**]',
        'probabilistic:',
        '  paths: [models/**]',
        '  evaluationJobs: [eval]',
        '',
      ].join('\n'),
    });
    const { policy } = loadConfig(root);
    const file = '.github/phase-mirror/policy.yml';
    expect(policy.mergeQueue).toEqual({ path: file, line: 1, requiredForDefaultBranch: true, allowBypassForAdmins: false, requireLinearHistory: true, allowDirectPushes: false });
    expect(policy.automation.authors).toEqual([
      { value: 'dependabot[bot]', path: file, line: 4 },
      { value: '*[bot]', path: file, line: 4 },
    ]);
    expect(policy.automation.branchPrefixes).toEqual([{ value: 'agent/', path: file, line: 5 }]);
    expect(policy.protectedPaths).toEqual([{ value: 'infra/**', path: file, line: 6 }]);
    expect(policy.probabilistic).toEqual({ paths: [{ value: 'models/**', path: file, line: 8 }], evaluationJobs: [{ value: 'eval', path: file, line: 9 }] });
  });

  it('names the field of an invalid automation login', () => {
    const root = repo({ '.github/phase-mirror/policy.yml': 'automation:\n  authors:\n    - "not a login"\n' });
    expect(() => loadConfig(root)).toThrow(expect.objectContaining({ location: expect.objectContaining({ line: 3, field: 'automation.authors.0' }) }));
  });

  it('merges configured job intents over the built-in ones and checks their patterns', () => {
    const root = repo({ '.phase-mirror.yml': 'version: 1\nrules:\n  options:\n    jobIntents:\n      docs:\n        keywords: [docs]\n        commands: ["mkdocs build"]\n' });
    const intents = loadConfig(root).settings.ruleOptions.jobIntents;
    expect(intents.docs).toEqual({ keywords: ['docs'], actions: [], commands: ['mkdocs build'] });
    expect(Object.keys(intents)).toEqual(expect.arrayContaining(['test', 'lint', 'security', 'build', 'deploy', 'docs']));
    const bad = repo({ '.phase-mirror.yml': 'version: 1\nrules:\n  options:\n    jobIntents:\n      docs:\n        keywords: [docs]\n        commands: ["(unclosed"]\n' });
    expect(() => loadConfig(bad)).toThrow(expect.objectContaining({ location: expect.objectContaining({ line: 7, field: 'rules.options.jobIntents.docs.commands.0' }) }));
  });
});
