import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InputError } from '../../src/errors';
import {
  compareBaseline,
  compileBaselineGlobs,
  createBaseline,
  DEFAULT_BASELINE_PATH,
  hashBaselineFiles,
  jsonSyntaxErrorOffset,
  parseBaseline,
  serializeBaseline,
  type IntegrityBaseline,
} from '../../src/baseline/baseline';

const ROOT = path.join(__dirname, '..', 'fixtures', 'baseline', 'repo');
const FILE_LIST = ['.github/workflows/ci.yml', 'README.md', 'docs/guide.md', 'src/a.ts', 'src/b.ts'];
const FILE = DEFAULT_BASELINE_PATH;
const NOW = new Date('2030-01-02T03:04:05.678Z');
const H = (char: string): string => char.repeat(64);

function sha256OfFixture(file: string): string {
  return createHash('sha256').update(fs.readFileSync(path.join(ROOT, file))).digest('hex');
}

/** Runs `fn`, expecting an InputError; returns it for field assertions. */
function inputError(fn: () => unknown): InputError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return error as InputError;
  }
  throw new Error('expected an InputError, nothing was thrown');
}

function baselineJson(overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({ version: 1, createdAt: NOW.toISOString(), globs: ['src/**'], files: { 'src/a.ts': H('a') }, ...overrides });
}

describe('hashBaselineFiles', () => {
  it('hashes the bytes of every listed file matching a glob, dot directories included', () => {
    // Act
    const hashes = hashBaselineFiles(ROOT, FILE_LIST, ['.github/**', 'src/*.ts']);

    // Assess
    expect([...hashes.keys()]).toEqual(['.github/workflows/ci.yml', 'src/a.ts', 'src/b.ts']);
    expect(hashes.get('src/a.ts')).toBe(sha256OfFixture('src/a.ts'));
    expect(hashes.get('.github/workflows/ci.yml')).toBe(sha256OfFixture('.github/workflows/ci.yml'));
  });

  it('hashes nothing when no glob is given or nothing matches', () => {
    expect(hashBaselineFiles(ROOT, FILE_LIST, []).size).toBe(0);
    expect(hashBaselineFiles(ROOT, FILE_LIST, ['lib/**']).size).toBe(0);
  });

  it('skips excluded paths such as the baseline file itself', () => {
    const hashes = hashBaselineFiles(ROOT, FILE_LIST, ['**'], { exclude: ['README.md'] });
    expect(hashes.has('README.md')).toBe(false);
    expect(hashes.size).toBe(4);
  });

  it('reports a listed file that cannot be read as FILE_UNREADABLE naming it', () => {
    const error = inputError(() => hashBaselineFiles(ROOT, ['src/missing.ts'], ['src/**']));
    expect(error).toMatchObject({ code: 'FILE_UNREADABLE', location: { file: 'src/missing.ts' } });
  });
});

describe('compileBaselineGlobs', () => {
  it('matches dot files and never matches with no globs', () => {
    expect(compileBaselineGlobs(['**/*.yml'])('.github/workflows/ci.yml')).toBe(true);
    expect(compileBaselineGlobs([])('anything')).toBe(false);
  });
});

describe('createBaseline / serializeBaseline / parseBaseline', () => {
  it('round-trips a baseline created from real hashes', () => {
    // Prepare
    const hashes = hashBaselineFiles(ROOT, FILE_LIST, ['src/**', '.github/**']);

    // Act
    const baseline = createBaseline(['src/**', '.github/**'], hashes, NOW);
    const text = serializeBaseline(baseline);
    const parsed = parseBaseline(FILE, text);

    // Assess
    expect(parsed).toEqual(baseline);
    expect(baseline.createdAt).toBe('2030-01-02T03:04:05.678Z');
    expect(Object.keys(baseline.files)).toEqual(['.github/workflows/ci.yml', 'src/a.ts', 'src/b.ts']);
  });

  it('serializes deterministically: fixed member order, sorted files, 2 spaces, trailing newline', () => {
    // Prepare: the same content built in different orders
    const one = createBaseline(['src/**'], new Map([['src/b.ts', H('b')], ['src/a.ts', H('a')]]), NOW);
    const two: IntegrityBaseline = { files: { 'src/a.ts': H('a'), 'src/b.ts': H('b') }, globs: ['src/**'], createdAt: NOW.toISOString(), version: 1 };

    // Act
    const text = serializeBaseline(one);

    // Assess
    expect(serializeBaseline(two)).toBe(text);
    expect(text).toBe(
      [
        '{',
        '  "version": 1,',
        '  "createdAt": "2030-01-02T03:04:05.678Z",',
        '  "globs": [',
        '    "src/**"',
        '  ],',
        '  "files": {',
        `    "src/a.ts": "${H('a')}",`,
        `    "src/b.ts": "${H('b')}"`,
        '  }',
        '}',
        '',
      ].join('\n'),
    );
  });

  it('accepts a byte-order mark and an empty files map', () => {
    const parsed = parseBaseline(FILE, `\uFEFF${baselineJson({ files: {} })}`);
    expect(parsed.files).toEqual({});
  });
});

describe('parseBaseline errors (BASELINE_INVALID)', () => {
  it.each([
    ['the root is not an object', '[]', '(root)'],
    ['an unknown field', baselineJson({ extra: true }), 'extra'],
    ['version is missing', JSON.stringify({ createdAt: NOW.toISOString(), globs: ['a'], files: {} }), 'version'],
    ['version is 2', baselineJson({ version: 2 }), 'version'],
    ['createdAt is not a date-time', baselineJson({ createdAt: 'yesterday' }), 'createdAt'],
    ['createdAt is a date only', baselineJson({ createdAt: '2030-01-02' }), 'createdAt'],
    ['createdAt is not a string', baselineJson({ createdAt: 5 }), 'createdAt'],
    ['globs is not an array', baselineJson({ globs: 'src/**' }), 'globs'],
    ['globs is empty', baselineJson({ globs: [] }), 'globs'],
    ['a glob is not a string', baselineJson({ globs: ['src/**', 7] }), 'globs[1]'],
    ['a glob is blank', baselineJson({ globs: ['  '] }), 'globs[0]'],
    ['files is an array', baselineJson({ files: [] }), 'files'],
    ['files is null', baselineJson({ files: null }), 'files'],
    ['a hash is too short', baselineJson({ files: { 'src/a.ts': 'abc' } }), 'files["src/a.ts"]'],
    ['a hash is uppercase', baselineJson({ files: { 'src/a.ts': H('A') } }), 'files["src/a.ts"]'],
    ['a hash is not a string', baselineJson({ files: { 'src/a.ts': 1 } }), 'files["src/a.ts"]'],
    ['a path is absolute', baselineJson({ files: { '/etc/passwd': H('a') } }), 'files["/etc/passwd"]'],
    ['a path escapes the root', baselineJson({ files: { '../x': H('a') } }), 'files["../x"]'],
    ['a path uses backslashes', baselineJson({ files: { 'src\\a.ts': H('a') } }), 'files["src\\\\a.ts"]'],
  ])('rejects a baseline where %s, naming the field', (_case, text, field) => {
    const error = inputError(() => parseBaseline(FILE, text));
    expect(error).toMatchObject({ code: 'BASELINE_INVALID', location: { file: FILE, field } });
    expect(error.describe()).toContain(FILE);
  });

  it('reports a JSON syntax error with the line V8 gives a position for', () => {
    const text = '{\n  "version": 1,\n  "globs": ["a"]\n  "files": {}\n}\n';
    const error = inputError(() => parseBaseline(FILE, text));
    expect(error).toMatchObject({ code: 'BASELINE_INVALID', location: { file: FILE, line: 4, column: 3 } });
  });

  it('locates "Unexpected token" errors (no position from V8) with its own scanner', () => {
    // Prepare: valid strings, escapes, numbers and literals before the error on line 5
    const text = [
      '{',
      '  "s": "x\\n\\u0041\\"", "n": -1.5e+3, "z": 0, "f": 2.25E-2,',
      '  "a": [true, false, null, {}, [], {"k": [1, 2]}],',
      '  "o": {"p": "q"},',
      '  "bad": oops',
      '}',
    ].join('\n');

    // Act
    const error = inputError(() => parseBaseline(FILE, text));

    // Assess
    expect(error).toMatchObject({ code: 'BASELINE_INVALID', location: { file: FILE, line: 5, column: 10 } });
  });

  it.each([
    ['a value is missing', '{"a":}', 1, 6],
    ['an array closes with a brace', '[1, }', 1, 5],
    ['a literal is misspelled', '\n\n[trux]', 3, 5],
    ['a key is not a string', '{\n  a: 1}', 2, 3],
    ['a bad escape', '{"a": "\\x"}', 1, 9],
    ['a bad unicode escape', '{"a": "\\u00g0"}', 1, 12],
    ['a number has no digits after the sign', '[-]', 1, 3],
    ['a number has no digits after the point', '[1.]', 1, 4],
    ['trailing text', '{}\n x', 2, 2],
    ['text ends early', '{"a": [1, 2', 1, 12],
    ['an empty file', '', 1, 1],
  ])('locates the syntax error when %s', (_case, text, line, column) => {
    const error = inputError(() => parseBaseline(FILE, text));
    expect(error).toMatchObject({ code: 'BASELINE_INVALID', location: { file: FILE, line, column } });
  });
});

describe('jsonSyntaxErrorOffset', () => {
  const invalid = [
    '{"a":}', '[1, }', '[trux]', '{\n  a: 1}', '{"a": "\\x"}', '{"a": "\\u00g0"}', '[-]', '[1.]', '[1e]', '[01]',
    '{}\n x', '{"a": [1, 2', '', '   ', '{"a" 1}', '{"a":1,}', '[1,]', '"tab\there"', 'nul', '{"a":1 "b":2}', '[1 2]',
    '-', '"unterminated', '"\\', '{"k":"v"', '[{"a":[true,fals]}]',
  ];

  it.each(invalid)('agrees with JSON.parse that %j is invalid, at the position V8 reports when it reports one', (text) => {
    // Act
    const offset = jsonSyntaxErrorOffset(text);
    let message = '';
    try {
      JSON.parse(text);
    } catch (error) {
      message = (error as Error).message;
    }

    // Assess
    expect(message).not.toBe('');
    expect(offset).toBeDefined();
    const reported = /at position (\d+)/.exec(message);
    if (reported !== null) expect(offset).toBe(Number(reported[1]));
    if (message === 'Unexpected end of JSON input') expect(offset).toBe(text.length);
  });

  it.each(['{}', '[]', ' 0 ', '-0.5e-7', '"\\u00e9\\n"', '{"a":[1,{"b":null}],"c":true}', 'false'])(
    'finds no error in valid JSON %j',
    (text) => {
      expect(() => JSON.parse(text)).not.toThrow();
      expect(jsonSyntaxErrorOffset(text)).toBeUndefined();
    },
  );
});

describe('compareBaseline', () => {
  const baseline: IntegrityBaseline = {
    version: 1,
    createdAt: NOW.toISOString(),
    globs: ['src/**', '.github/**'],
    files: { 'src/a.ts': H('a'), 'src/b.ts': H('b'), 'src/c.ts': H('c'), '.github/ci.yml': H('d') },
  };

  it('reports added, removed and modified files with the magnitude over declared files', () => {
    // Prepare
    const current = new Map([
      ['src/a.ts', H('a')],
      ['src/b.ts', H('e')],
      ['src/z.ts', H('f')],
      ['.github/ci.yml', H('d')],
      ['.github/new.yml', H('1')],
      ['docs/outside.md', H('2')],
    ]);

    // Act
    const drift = compareBaseline(baseline, current);

    // Assess
    expect(drift).toEqual({
      added: ['.github/new.yml', 'src/z.ts'],
      removed: ['src/c.ts'],
      modified: [{ path: 'src/b.ts', oldHash: H('b'), newHash: H('e') }],
      declared: 4,
      magnitude: 1,
    });
  });

  it('reports no drift when every pinned file is unchanged', () => {
    const current = new Map(Object.entries(baseline.files));
    expect(compareBaseline(baseline, current)).toEqual({ added: [], removed: [], modified: [], declared: 4, magnitude: 0 });
  });

  it('gives a fractional magnitude for partial drift', () => {
    const current = new Map(Object.entries({ ...baseline.files, 'src/a.ts': H('9') }));
    expect(compareBaseline(baseline, current).magnitude).toBe(0.25);
  });

  it('uses the number of changes as magnitude for an empty baseline, 0 when nothing changed', () => {
    const empty: IntegrityBaseline = { ...baseline, files: {} };
    expect(compareBaseline(empty, new Map()).magnitude).toBe(0);
    expect(compareBaseline(empty, new Map([['src/a.ts', H('a')], ['src/b.ts', H('b')]]))).toMatchObject({
      added: ['src/a.ts', 'src/b.ts'],
      declared: 0,
      magnitude: 2,
    });
  });

  it('does not treat inherited object members as pinned files', () => {
    const current = new Map([['constructor', H('a')], ['toString', H('b')]]);
    const everything: IntegrityBaseline = { ...baseline, globs: ['**'], files: {} };
    expect(compareBaseline(everything, current).added).toEqual(['constructor', 'toString']);
  });
});
