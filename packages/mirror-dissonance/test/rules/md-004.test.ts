import { CodeownersFile } from '../../src/artifacts/codeowners';
import { MAX_LISTED_FILES, md004 } from '../../src/rules/md-004-accountability';
import type { Artifacts, EventContext, LocatedString, RuleContext } from '../../src/types';
import { NO_GOVERNANCE, NO_OPTIONS } from './builders';

const POLICY_FILE = '.github/phase-mirror/policy.yml';

function critical(value: string, line: number): LocatedString {
  return { value, path: POLICY_FILE, line };
}

function context(options: {
  criticalPaths: LocatedString[];
  files: string[];
  codeowners?: string;
  codeownersPath?: string;
  event?: Partial<EventContext>;
  policySource?: string;
}): RuleContext {
  const artifacts: Artifacts = {
    root: '/repo',
    fileList: options.files,
    workflows: [],
    ...(options.codeowners === undefined
      ? {}
      : { codeowners: new CodeownersFile(options.codeownersPath ?? '.github/CODEOWNERS', options.codeowners) }),
    manifests: [],
    policy: {
      ...(options.policySource === undefined ? {} : { source: options.policySource }),
      requiredStatusChecks: [],
      criticalPaths: options.criticalPaths,
      ...NO_GOVERNANCE,
      baseline: { path: '.github/phase-mirror/baseline.json', globs: [], threshold: 0.15 },
    },
    baselineCurrent: new Map(),
    skipped: [],
  };
  const event: EventContext = {
    mode: 'pull_request',
    eventName: 'pull_request',
    repository: 'acme/widgets',
    commitSha: '0123456789abcdef0123456789abcdef01234567',
    author: 'octocat',
    strict: false,
    dryRun: false,
    ...options.event,
  };
  return { artifacts, event, options: NO_OPTIONS };
}

const FILES = [
  '.github/workflows/ci.yml',
  'README.md',
  'infra/main.tf',
  'infra/modules/net.tf',
  'src/app.ts',
  'src/auth/login.ts',
  'src/auth/tokens.ts',
];

describe('md004 metadata', () => {
  it('declares id, version, severity and FP tolerance', () => {
    expect(md004).toMatchObject({
      id: 'MD-004',
      version: '1.0.0',
      severity: 'high',
      fpTolerance: { ceiling: 0.1, window: 20 },
    });
    expect(md004.title.length).toBeGreaterThan(0);
    expect(md004.description.length).toBeGreaterThan(0);
  });
});

describe('md004.evaluate: critical paths', () => {
  it('reports nothing when every file of every critical path has an owner', () => {
    const ctx = context({
      criticalPaths: [critical('src/auth/**', 4), critical('infra/', 5), critical('.github/workflows/*.yml', 6)],
      files: FILES,
      codeowners: '/src/auth/ @acme/security\n/infra/ @acme/sre\n/.github/ @acme/platform\n',
    });

    expect(md004.evaluate(ctx)).toEqual([]);
  });

  it('reports nothing when there are no critical paths, even without CODEOWNERS', () => {
    expect(md004.evaluate(context({ criticalPaths: [], files: FILES }))).toEqual([]);
  });

  it('reports one finding per critical path when there is no CODEOWNERS file at all', () => {
    const ctx = context({ criticalPaths: [critical('src/auth/**', 4), critical('infra/', 5)], files: FILES });

    const findings = md004.evaluate(ctx);

    expect(findings).toEqual([
      {
        key: 'critical-path:src/auth/**#no-codeowners',
        title: 'Critical path "src/auth/**" has no owner: the repository has no CODEOWNERS file',
        evidence: [{ path: POLICY_FILE, line: 4, snippet: 'critical path: src/auth/**' }],
      },
      {
        key: 'critical-path:infra/#no-codeowners',
        title: 'Critical path "infra/" has no owner: the repository has no CODEOWNERS file',
        evidence: [{ path: POLICY_FILE, line: 5, snippet: 'critical path: infra/' }],
      },
    ]);
  });

  it('lists the matched files that no CODEOWNERS rule covers, with line 0', () => {
    const ctx = context({
      criticalPaths: [critical('src/auth/**', 7)],
      files: FILES,
      codeowners: '/src/auth/login.ts @acme/security\n',
    });

    const findings = md004.evaluate(ctx);

    expect(findings).toEqual([
      {
        key: 'critical-path:src/auth/**#unowned',
        title: 'Critical path "src/auth/**": 1 file has no CODEOWNERS owner in .github/CODEOWNERS',
        evidence: [
          { path: POLICY_FILE, line: 7, snippet: 'critical path: src/auth/**' },
          { path: 'src/auth/tokens.ts', line: 0, snippet: 'src/auth/tokens.ts: no CODEOWNERS rule matches' },
        ],
      },
    ]);
  });

  it('points at the CODEOWNERS line of a later owner-less rule that un-owned files (last match wins)', () => {
    const ctx = context({
      criticalPaths: [critical('infra', 3)],
      files: FILES,
      codeowners: '# owners\n/infra/ @acme/sre\n/infra/modules/\n',
      codeownersPath: 'CODEOWNERS',
    });

    const findings = md004.evaluate(ctx);

    expect(findings).toHaveLength(1);
    expect(findings[0].key).toBe('critical-path:infra#unowned');
    expect(findings[0].title).toBe('Critical path "infra": 1 file has no CODEOWNERS owner in CODEOWNERS');
    expect(findings[0].evidence).toEqual([
      { path: POLICY_FILE, line: 3, snippet: 'critical path: infra' },
      { path: 'CODEOWNERS', line: 3, snippet: 'infra/modules/net.tf: un-owned by CODEOWNERS rule "/infra/modules/", which lists no owners' },
    ]);
  });

  it('treats an owner given by an earlier rule as overridden by a later owner-less one, and not the reverse', () => {
    const overridden = context({ criticalPaths: [critical('README.md', 1)], files: FILES, codeowners: '* @acme/all\nREADME.md\n' });
    const restored = context({ criticalPaths: [critical('README.md', 1)], files: FILES, codeowners: 'README.md\n* @acme/all\n' });

    expect(md004.evaluate(overridden)).toHaveLength(1);
    expect(md004.evaluate(restored)).toEqual([]);
  });

  it('checks the declared path itself when no file matches it', () => {
    const owned = context({ criticalPaths: [critical('secrets/', 2)], files: FILES, codeowners: '/secrets/ @acme/security\n' });
    const unowned = context({ criticalPaths: [critical('secrets/', 2)], files: FILES, codeowners: '/src/ @acme/dev\n' });

    expect(md004.evaluate(owned)).toEqual([]);
    expect(md004.evaluate(unowned)).toEqual([
      {
        key: 'critical-path:secrets/#unowned',
        title: 'Critical path "secrets/": 1 file has no CODEOWNERS owner in .github/CODEOWNERS',
        evidence: [
          { path: POLICY_FILE, line: 2, snippet: 'critical path: secrets/' },
          { path: 'secrets', line: 0, snippet: 'secrets: no CODEOWNERS rule matches' },
        ],
      },
    ]);
  });

  it('reports a declared path with no files that an owner-less rule un-owns, citing that rule', () => {
    const ctx = context({ criticalPaths: [critical('vault.hcl', 9)], files: FILES, codeowners: '* @acme/all\nvault.hcl\n' });

    const [finding] = md004.evaluate(ctx);

    expect(finding.evidence[1]).toEqual({
      path: '.github/CODEOWNERS',
      line: 2,
      snippet: 'vault.hcl: un-owned by CODEOWNERS rule "vault.hcl", which lists no owners',
    });
  });

  it('matches a glob against files, including dotfiles and directory contents', () => {
    const ctx = context({
      criticalPaths: [critical('.github/**', 1), critical('**/*.tf', 2), critical('src/*', 3)],
      files: FILES,
      codeowners: '/src/app.ts @acme/dev\n',
    });

    const findings = md004.evaluate(ctx);

    expect(findings.map((finding) => [finding.key, finding.evidence.slice(1).map((evidence) => evidence.path)])).toEqual([
      ['critical-path:.github/**#unowned', ['.github/workflows/ci.yml']],
      ['critical-path:**/*.tf#unowned', ['infra/main.tf', 'infra/modules/net.tf']],
      ['critical-path:src/*#unowned', ['src/auth/login.ts', 'src/auth/tokens.ts']],
    ]);
  });

  it('accepts ./ and / prefixes on declared paths and does not match a sibling sharing the prefix', () => {
    const ctx = context({
      criticalPaths: [critical('./infra', 1), critical('/src/auth', 2)],
      files: [...FILES, 'infra-old/x.tf', 'src/authz.ts'],
      codeowners: '/infra/ @acme/sre\n/src/auth/ @acme/security\n',
    });

    expect(md004.evaluate(ctx)).toEqual([]);
  });

  it('reports a duplicated declaration once, at its first line', () => {
    const ctx = context({ criticalPaths: [critical('infra/', 3), critical('infra/', 8)], files: FILES });

    const findings = md004.evaluate(ctx);

    expect(findings).toHaveLength(1);
    expect(findings[0].evidence[0].line).toBe(3);
  });

  it('keeps finding keys independent of line numbers', () => {
    const first = md004.evaluate(context({ criticalPaths: [critical('infra/', 3)], files: FILES, codeowners: '/src/ @a\n' }));
    const moved = md004.evaluate(
      context({ criticalPaths: [critical('infra/', 30)], files: FILES, codeowners: '# moved\n\n/src/ @a\n' }),
    );

    expect(moved.map((finding) => finding.key)).toEqual(first.map((finding) => finding.key));
    expect(moved[0].evidence[0].line).not.toBe(first[0].evidence[0].line);
  });

  it(`lists at most ${MAX_LISTED_FILES} unowned files and counts the rest`, () => {
    const files = Array.from({ length: MAX_LISTED_FILES + 7 }, (_, index) => `gen/file-${String(index).padStart(3, '0')}.ts`);
    const ctx = context({ criticalPaths: [critical('gen/', 4)], files, codeowners: '/src/ @a\n' });

    const [finding] = md004.evaluate(ctx);

    expect(finding.title).toBe(`Critical path "gen/": ${MAX_LISTED_FILES + 7} files have no CODEOWNERS owner in .github/CODEOWNERS`);
    expect(finding.evidence).toHaveLength(MAX_LISTED_FILES + 2);
    expect(finding.evidence[MAX_LISTED_FILES + 1]).toEqual({
      path: POLICY_FILE,
      line: 4,
      snippet: '7 more unowned files under gen/ not listed',
    });
  });
});

describe('md004.evaluate: strict mode', () => {
  it('reports a critical finding for a missing author, citing the policy source at line 1', () => {
    const ctx = context({
      criticalPaths: [],
      files: FILES,
      policySource: '.phase-mirror.yml',
      event: { strict: true, author: undefined },
    });

    expect(md004.evaluate(ctx)).toEqual([
      {
        key: 'strict#missing-author',
        title: 'Strict mode: the change has no author, so it cannot be attributed',
        severity: 'critical',
        evidence: [
          {
            path: '.phase-mirror.yml',
            line: 1,
            snippet: 'strict mode requires the change author; none came from --author, the event payload or GITHUB_ACTOR',
          },
        ],
      },
    ]);
  });

  it('reports a missing commit SHA, defaulting the evidence path to .phase-mirror.yml', () => {
    const ctx = context({ criticalPaths: [], files: FILES, event: { strict: true, commitSha: undefined } });

    const findings = md004.evaluate(ctx);

    expect(findings.map((finding) => [finding.key, finding.severity, finding.evidence[0].path, finding.evidence[0].line])).toEqual([
      ['strict#missing-commit-sha', 'critical', '.phase-mirror.yml', 1],
    ]);
  });

  it('reports both when both are missing or blank, after the critical-path findings', () => {
    const ctx = context({
      criticalPaths: [critical('infra/', 2)],
      files: FILES,
      policySource: POLICY_FILE,
      event: { strict: true, author: '  ', commitSha: undefined },
    });

    const findings = md004.evaluate(ctx);

    expect(findings.map((finding) => finding.key)).toEqual([
      'critical-path:infra/#no-codeowners',
      'strict#missing-author',
      'strict#missing-commit-sha',
    ]);
    expect(findings[1].evidence[0].path).toBe(POLICY_FILE);
  });

  it('does not require author or SHA outside strict mode', () => {
    const ctx = context({ criticalPaths: [], files: FILES, event: { strict: false, author: undefined, commitSha: undefined } });

    expect(md004.evaluate(ctx)).toEqual([]);
  });

  it('reports nothing in strict mode when author and SHA are present', () => {
    const ctx = context({ criticalPaths: [], files: FILES, event: { strict: true } });

    expect(md004.evaluate(ctx)).toEqual([]);
  });
});
