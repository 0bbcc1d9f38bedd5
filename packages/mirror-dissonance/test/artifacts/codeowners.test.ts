import { readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { CODEOWNERS_LOCATIONS, CodeownersFile, compilePattern, findCodeowners } from '../../src/artifacts/codeowners';
import { makeTree, removeTrees, writeTreeFile } from './tmp-tree';

const FIXTURES = join(__dirname, '..', 'fixtures', 'artifacts', 'codeowners');

afterEach(removeTrees);

describe('CodeownersFile parsing', () => {
  const annotated = new CodeownersFile('.github/CODEOWNERS', readFileSync(join(FIXTURES, 'annotated.CODEOWNERS'), 'utf8'));

  it('keeps every valid rule with its pattern, owners and 1-based line, dropping comments', () => {
    expect(annotated.path).toBe('.github/CODEOWNERS');
    expect(annotated.rules).toEqual([
      { pattern: '*', owners: ['@acme/platform'], line: 2 },
      { pattern: '*.js', owners: ['@acme/frontend'], line: 5 },
      { pattern: '/docs/', owners: ['@acme/docs', 'octocat@example.com'], line: 8 },
      { pattern: '/build/logs/*', owners: ['@acme/sre'], line: 11 },
      { pattern: 'apps/', owners: ['@acme/apps'], line: 14 },
      { pattern: '/apps/github', owners: [], line: 17 },
      { pattern: '**/logs', owners: ['@acme/observability'], line: 20 },
      { pattern: 'assets/My\\ Images/', owners: ['@acme/design'], line: 23 },
    ]);
  });

  it('records the lines GitHub rejects in errors, with their line numbers', () => {
    expect(annotated.errors.map((error) => error.line)).toEqual([26, 27, 28, 29]);
    expect(annotated.errors[0].message).toMatch(/negation/);
    expect(annotated.errors[1].message).toMatch(/character ranges/);
    expect(annotated.errors[2].message).toMatch(/escaping a leading "#"/);
    expect(annotated.errors[3].message).toMatch(/invalid owner "acme-without-at"/);
  });

  it('accepts CRLF line endings and tab separators', () => {
    const file = new CodeownersFile('CODEOWNERS', '# c\r\n*.ts\t@a\t@org/team-1\r\n');

    expect(file.rules).toEqual([{ pattern: '*.ts', owners: ['@a', '@org/team-1'], line: 2 }]);
    expect(file.errors).toEqual([]);
  });

  it('treats # inside a pattern as a literal and # starting a token as a comment', () => {
    const file = new CodeownersFile('CODEOWNERS', 'notes#1.md @a # trailing\n');

    expect(file.rules).toEqual([{ pattern: 'notes#1.md', owners: ['@a'], line: 1 }]);
    expect(file.ownersOf('notes#1.md')?.owners).toEqual(['@a']);
  });

  it('rejects triple asterisks and a bare slash', () => {
    const file = new CodeownersFile('CODEOWNERS', 'a/***/b @a\n/ @a\n');

    expect(file.rules).toEqual([]);
    expect(file.errors).toEqual([
      { line: 1, message: expect.stringContaining('three consecutive') },
      { line: 2, message: expect.stringContaining('matches no file') },
    ]);
  });

  it('accepts an escaped bracket as a literal character', () => {
    const file = new CodeownersFile('CODEOWNERS', 'src/\\[id\\].ts @a\n');

    expect(file.errors).toEqual([]);
    expect(file.ownersOf('src/[id].ts')?.owners).toEqual(['@a']);
    expect(file.ownersOf('src/i.ts')).toBeUndefined();
  });
});

describe('CodeownersFile.ownersOf', () => {
  const annotated = new CodeownersFile('.github/CODEOWNERS', readFileSync(join(FIXTURES, 'annotated.CODEOWNERS'), 'utf8'));

  it.each([
    ['README.md', ['@acme/platform'], 2],
    ['web/app.js', ['@acme/frontend'], 5],
    ['docs/app.js', ['@acme/docs', 'octocat@example.com'], 8],
    ['docs/guide/intro.md', ['@acme/docs', 'octocat@example.com'], 8],
    ['src/docs/intro.md', ['@acme/platform'], 2],
    ['build/logs/a.log', ['@acme/observability'], 20],
    ['build/logs/deep/a.txt', ['@acme/observability'], 20],
    ['services/apps/main.go', ['@acme/apps'], 14],
    ['assets/My Images/logo.svg', ['@acme/design'], 23],
  ])('gives %s the owners of the last matching rule', (path, owners, line) => {
    expect(annotated.ownersOf(path)).toEqual(expect.objectContaining({ owners, line }));
  });

  it('returns owners [] with the un-owning rule for a path matched last by a rule without owners', () => {
    expect(annotated.ownersOf('apps/github/ci.yml')).toEqual({ owners: [], line: 17, pattern: '/apps/github' });
  });

  it('returns undefined when no rule matches', () => {
    const file = new CodeownersFile('CODEOWNERS', '/src/ @a\n');

    expect(file.ownersOf('lib/x.ts')).toBeUndefined();
  });

  it('lets a later rule override an earlier one, and an earlier one not override a later one', () => {
    const file = new CodeownersFile('CODEOWNERS', '/src/ @early\n/src/auth/ @late\n');
    const reversed = new CodeownersFile('CODEOWNERS', '/src/auth/ @late\n/src/ @early\n');

    expect(file.ownersOf('src/auth/login.ts')?.owners).toEqual(['@late']);
    expect(reversed.ownersOf('src/auth/login.ts')?.owners).toEqual(['@early']);
  });

  it('ignores skipped error lines when matching', () => {
    const file = new CodeownersFile('CODEOWNERS', '* @a\n!*.md @b\n');

    expect(file.ownersOf('README.md')).toEqual({ owners: ['@a'], line: 1, pattern: '*' });
  });

  it('accepts a path with a leading slash', () => {
    const file = new CodeownersFile('CODEOWNERS', '/src/ @a\n');

    expect(file.ownersOf('/src/x.ts')?.owners).toEqual(['@a']);
  });

  it('matches case-sensitively', () => {
    const file = new CodeownersFile('CODEOWNERS', '/Docs/ @a\n');

    expect(file.ownersOf('docs/x.md')).toBeUndefined();
    expect(file.ownersOf('Docs/x.md')?.owners).toEqual(['@a']);
  });
});

describe('compilePattern', () => {
  const cases: Array<[string, Record<string, boolean>]> = [
    ['foo', { foo: true, 'foo.txt': false, 'foo/bar': true, 'bar/foo': true, 'bar/foo/baz': true, 'bar/baz': false }],
    ['/foo', { foo: true, 'foo/bar': true, 'bar/foo': false, 'fool.txt': false }],
    ['foo/', { foo: false, 'foo/bar': true, 'bar/foo/baz': true, 'bar/foo': false }],
    ['/foo/', { 'foo/bar': true, 'bar/foo/baz': false, foo: false }],
    ['foo/bar', { 'foo/bar': true, 'foo/bar/baz': true, 'baz/foo/bar': false, 'foo/bart': false }],
    ['*', { foo: true, 'foo/bar': true, 'a/b/c': true }],
    ['/*', { foo: true, 'foo/bar': false }],
    ['f*', { foo: true, 'foo/bar': true, 'bar/foo': true, xfoo: false }],
    ['foo/*', { 'foo/bar': true, 'foo/bar/baz': false, foo: false }],
    ['foo/*.txt', { 'foo/a.txt': true, 'foo/a/b.txt': false, 'x/foo/a.txt': false }],
    ['foo/*/baz', { 'foo/bar/baz': true, 'foo/bar/baz/qux': true, 'foo/baz': false }],
    ['f?o', { foo: true, fo: false, fooo: false }],
    ['f\\*o', { 'f*o': true, foo: false }],
    ['**/foo/bar', { 'foo/bar': true, 'x/foo/bar': true, 'x/foo/bar/baz': true, 'foo/x/bar': false }],
    ['foo/bar/**', { 'foo/bar/baz': true, 'foo/bar/a/b': true, 'foo/bar': false, 'x/foo/bar/baz': false }],
    ['foo/**/bar', { 'foo/bar': true, 'foo/a/b/bar': true, 'foo/a/bar/x': true, 'x/foo/bar': false }],
    ['**', { a: true, 'a/b': true }],
    ['*.md', { 'README.md': true, 'docs/a.md': true, 'a.mdx': false }],
  ];

  it.each(cases)('compiles %s with GitHub semantics', (pattern, expectations) => {
    const regex = compilePattern(pattern);
    const actual = Object.fromEntries(Object.keys(expectations).map((path) => [path, regex.test(path)]));

    expect(actual).toEqual(expectations);
  });
});

describe('findCodeowners', () => {
  const precedence = join(FIXTURES, 'precedence');
  const all = ['.github/CODEOWNERS', 'CODEOWNERS', 'docs/CODEOWNERS', 'src/a.ts'];

  it('checks the locations in GitHub order', () => {
    expect(CODEOWNERS_LOCATIONS).toEqual(['.github/CODEOWNERS', 'CODEOWNERS', 'docs/CODEOWNERS']);
  });

  it('uses .github/CODEOWNERS when all three exist', () => {
    const file = findCodeowners(precedence, all);

    expect(file?.path).toBe('.github/CODEOWNERS');
    expect(file?.ownersOf('src/a.ts')).toEqual({ owners: ['@acme/from-dot-github'], line: 2, pattern: '*' });
  });

  it('uses the root CODEOWNERS when .github/CODEOWNERS is absent', () => {
    const file = findCodeowners(precedence, ['CODEOWNERS', 'docs/CODEOWNERS']);

    expect(file?.path).toBe('CODEOWNERS');
    expect(file?.ownersOf('src/a.ts')?.owners).toEqual(['@acme/from-root']);
  });

  it('uses docs/CODEOWNERS only when it is the sole one', () => {
    const file = findCodeowners(precedence, ['docs/CODEOWNERS', 'src/a.ts']);

    expect(file?.path).toBe('docs/CODEOWNERS');
    expect(file?.ownersOf('src/a.ts')?.owners).toEqual(['@acme/from-docs']);
  });

  it('returns undefined when no location is in the file list (a git-ignored CODEOWNERS does not count)', () => {
    expect(findCodeowners(precedence, ['src/a.ts', 'lib/CODEOWNERS', '.github/codeowners'])).toBeUndefined();
  });

  it('throws FILE_UNREADABLE naming the file when the CODEOWNERS in force is binary', () => {
    const root = makeTree({ CODEOWNERS: Buffer.from([0x2a, 0x20, 0x00, 0x40]) });

    expect(() => findCodeowners(root, ['CODEOWNERS'])).toThrow(
      expect.objectContaining({ code: 'FILE_UNREADABLE', location: { file: 'CODEOWNERS' }, context: { reason: 'binary' } }),
    );
  });

  it('throws FILE_UNREADABLE when the CODEOWNERS in force links outside the root', () => {
    const outside = makeTree({ owners: '* @evil\n' });
    const root = makeTree();
    writeTreeFile(root, '.github/keep', '');
    symlinkSync(join(outside, 'owners'), join(root, '.github', 'CODEOWNERS'));

    expect(() => findCodeowners(root, ['.github/CODEOWNERS'])).toThrow(
      expect.objectContaining({ code: 'FILE_UNREADABLE', context: { reason: 'symlink_outside_root' } }),
    );
  });

});

describe('CodeownersFile.ownersOf at scale', () => {
  it('answers exactly like a last-to-first scan of every rule (the prefix index only prunes)', () => {
    const patterns = ['*', '/src/', 'src/auth/', '/src/auth/*', 'src/*/keys', '/src/**/secret.ts', '*.ts', 'auth', '/docs',
      '/src/auth/login.ts', 'src/auth/**', '/src/a\\uth/', '/lib/*', 'lib/', '**/keys/**', '/src/auth'];
    const file = new CodeownersFile('CODEOWNERS', patterns.map((pattern, index) => `${pattern} @o${index}`).join('\n'));
    const paths = ['src/auth/login.ts', 'src/auth/x/y.ts', 'src/a/keys', 'src/a/keys/k', 'src/secret.ts', 'src/x/y/secret.ts',
      'docs/a.md', 'docs', 'lib/a.js', 'lib/a/b.js', 'x/lib/c.js', 'auth/z', 'x/keys/y', 'README.md', 'src/auth'];
    const regexes = patterns.map(compilePattern);
    const scan = (path: string): number | undefined => {
      for (let index = regexes.length - 1; index >= 0; index--) if (regexes[index].test(path)) return index + 1;
      return undefined;
    };

    const indexed = paths.map((path) => file.ownersOf(path)?.line);

    expect(indexed).toEqual(paths.map(scan));
    expect(new Set(indexed).size).toBeGreaterThan(6);
  });

  it('answers 50,000 lookups against 5,000 rules through the prefix trie', () => {
    const lines = Array.from({ length: 5000 }, (_, index) => `/src/module-${index}/ @acme/team-${index % 40}`);
    const file = new CodeownersFile('CODEOWNERS', ['* @acme/default', ...lines].join('\n'));
    const paths = Array.from({ length: 50_000 }, (_, index) => `src/module-${index % 6000}/file-${index}.ts`);

    const owned = paths.filter((path) => file.ownersOf(path)?.owners[0] !== '@acme/default').length;

    expect(owned).toBe(42_000);
  });
});
