import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../src/errors';
import {
  findInExpressions,
  lineOfTextOffset,
  lineStartsOf,
  parseWorkflow,
  sourceLineText,
  workflowRunsOn,
} from '../../src/artifacts/workflow';
import type { WorkflowFile } from '../../src/artifacts/workflow';

const FIXTURES = join(__dirname, '..', 'fixtures', 'workflows');

function load(relative: string): WorkflowFile {
  const text = readFileSync(join(FIXTURES, relative), 'utf8');
  return parseWorkflow(`.github/workflows/${relative.split('/').pop()}`, text);
}

function parseError(relative: string): InputError {
  const text = readFileSync(join(FIXTURES, relative), 'utf8');
  try {
    parseWorkflow(relative, text);
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
  throw new Error(`expected ${relative} to fail to parse`);
}

describe('parseWorkflow', () => {
  describe('a full workflow', () => {
    const workflow = load('parse/ci.yml');
    const job = (key: string) => {
      const found = workflow.jobs.find((j) => j.key === key);
      if (found === undefined) throw new Error(`no job ${key}`);
      return found;
    };

    it('keeps the path, text and workflow name', () => {
      expect(workflow.path).toBe('.github/workflows/ci.yml');
      expect(workflow.text).toBe(readFileSync(join(FIXTURES, 'parse/ci.yml'), 'utf8'));
      expect(workflow.name).toBe('CI');
    });

    it('reads mapping-form triggers with their lines, branches and types', () => {
      expect(workflow.triggers).toEqual([
        { event: 'push', line: 3, branches: ['main', 'release/**'] },
        { event: 'pull_request', line: 5, types: ['opened', 'synchronize'] },
        { event: 'workflow_dispatch', line: 9 },
      ]);
    });

    it('reads workflow permissions scopes as written, each at its line', () => {
      expect(workflow.permissions).toEqual({
        line: 10,
        scopes: [
          { name: 'contents', level: 'read', line: 11 },
          { name: 'pull-requests', level: 'write', line: 12 },
        ],
      });
    });

    it('stringifies workflow env values and keeps their lines', () => {
      expect(workflow.env).toEqual({
        NODE_VERSION: { value: '20', line: 14 },
        TOKEN: { value: '${{ secrets.NPM_TOKEN }}', line: 15 },
      });
    });

    it('reads jobs in order with key lines, names, conditions and environments', () => {
      expect(workflow.jobs.map((j) => [j.key, j.line])).toEqual([
        ['test', 17],
        ['deploy', 49],
        ['lint', 55],
      ]);
      expect(job('test').name).toEqual({ value: 'test (${{ matrix.os }}, node ${{ matrix.node }})', line: 18 });
      expect(job('test').ifCondition).toBe("github.event_name != 'push' || secrets.DEPLOY_KEY != ''");
      expect(job('test').environment).toBe('staging');
      expect(job('deploy').environment).toBe('production');
      expect(job('lint').name).toBeUndefined();
    });

    it('folds matrix include values into the axes and ignores exclude', () => {
      expect(job('test').matrix).toEqual({ os: ['ubuntu-latest', 'windows-latest', 'macos-latest'], node: [18, 20] });
      expect(job('lint').matrix).toBeUndefined();
    });

    it('distinguishes write-all, empty and scoped job permissions', () => {
      expect(job('deploy').permissions).toEqual({ line: 51, shorthand: 'write-all', scopes: [] });
      expect(job('lint').permissions).toEqual({ line: 57, scopes: [] });
      expect(job('test').permissions).toBeUndefined();
    });

    it('reads a reusable workflow call and secrets: inherit', () => {
      expect(job('deploy').uses).toEqual({ value: './.github/workflows/deploy.yml', line: 53 });
      expect(job('deploy').steps).toEqual([]);
      expect(job('deploy').secrets).toEqual([{ name: 'inherit', line: 54 }]);
    });

    it('collects secret references from if, env and multi-line run scripts at their exact lines', () => {
      expect(job('test').secrets).toEqual([
        { name: 'DEPLOY_KEY', line: 20 },
        { name: 'NPM_TOKEN', line: 43 },
        { name: 'API_TOKEN', line: 48 },
      ]);
      expect(job('lint').secrets).toEqual([]);
    });

    it('reads steps with index, line, name, id, uses, with and env', () => {
      const [checkout, install] = job('test').steps;
      expect(checkout).toEqual({
        index: 0,
        line: 35,
        uses: { value: 'actions/checkout@v4', line: 35 },
        with: { 'fetch-depth': { value: '0', line: 37 }, 'persist-credentials': { value: 'false', line: 38 } },
        env: {},
      });
      expect(install).toEqual({
        index: 1,
        line: 39,
        name: 'Install',
        id: 'install',
        run: { text: 'npm ci', line: 41 },
        with: {},
        env: { NPM_TOKEN: { value: '${{ secrets.NPM_TOKEN }}', line: 43 } },
      });
    });

    it('places a block-scalar run on its first content line, not on the key', () => {
      const script = job('test').steps[2].run;
      expect(script).toEqual({
        text: 'echo "testing"\n\nnpm test -- --token=${{ secrets[\'API_TOKEN\'] }}\n',
        line: 46,
      });
      expect(job('lint').steps[0].run).toEqual({ text: 'npm run lint --max-warnings 0', line: 60 });
    });
  });

  describe('trigger forms', () => {
    it('reads a flow list of events, each at its line', () => {
      expect(load('parse/on-list.yml').triggers).toEqual([
        { event: 'push', line: 1 },
        { event: 'pull_request', line: 1 },
      ]);
    });

    it('reads a single event name', () => {
      const workflow = load('parse/on-scalar.yml');
      expect(workflow.triggers).toEqual([{ event: 'merge_group', line: 2 }]);
      expect(workflow.permissions).toBeUndefined();
      expect(workflow.env).toEqual({});
    });

    it('reads the key `on` as "on" even under a YAML 1.1 directive, where it would be a boolean', () => {
      const workflow = load('parse/yaml11.yml');
      expect(workflow.triggers).toEqual([{ event: 'pull_request_target', line: 4, branches: ['main'] }]);
      expect(workflow.jobs.map((j) => j.key)).toEqual(['label']);
    });

    it('keeps `on` a string under the default YAML 1.2 schema, quoted or not', () => {
      const workflow = parseWorkflow('w.yml', '"on": push\njobs:\n  a:\n    steps:\n      - run: x\n');
      expect(workflow.triggers).toEqual([{ event: 'push', line: 1 }]);
    });
  });

  describe('anchors and dynamic matrices', () => {
    const workflow = load('parse/anchors.yml');

    it('follows aliases so secrets behind an anchor count for every job using it', () => {
      expect(workflow.jobs[0].secrets).toEqual([{ name: 'SHARED', line: 7 }]);
      expect(workflow.jobs[1].secrets).toEqual([{ name: 'SHARED', line: 7 }]);
    });

    it('represents a matrix given as an expression as a matrix with unknown axes', () => {
      expect(workflow.jobs[1].matrix).toEqual({});
      expect(workflow.jobs[0].matrix).toBeUndefined();
    });

    it('reads a trigger with an empty value', () => {
      expect(workflow.triggers).toEqual([{ event: 'pull_request', line: 2 }]);
    });
  });

  describe('WORKFLOW_PARSE errors', () => {
    it.each([
      ['invalid/malformed.yml', 6, /invalid YAML/],
      ['invalid/duplicate-job.yml', 7, /invalid YAML: Map keys must be unique/],
      ['invalid/no-jobs.yml', 1, /no `jobs` key/],
      ['invalid/no-on.yml', 1, /no `on` key/],
      ['invalid/list.yml', 1, /must be a mapping, found a list/],
      ['invalid/empty.yml', 1, /workflow is empty/],
      ['invalid/bad-permissions.yml', 2, /`permissions` must be read-all, write-all or a mapping/],
      ['invalid/jobs-not-mapping.yml', 3, /`jobs` must be a mapping/],
      ['invalid/job-not-mapping.yml', 3, /job `build` must be a mapping/],
      ['invalid/steps-not-list.yml', 6, /`steps` must be a list/],
      ['invalid/empty-on.yml', 1, /`on` is empty/],
      ['invalid/no-job.yml', 2, /`jobs` declares no job/],
    ])('rejects %s at line %i', (fixture, line, message) => {
      const error = parseError(fixture);
      expect(error.code).toBe('WORKFLOW_PARSE');
      expect(error.location).toEqual({ file: fixture, line, column: expect.any(Number) });
      expect(error.location.column).toBeGreaterThanOrEqual(1);
      expect(error.message).toMatch(message);
    });

    it('reports the column of the offending node', () => {
      const error = parseError('invalid/bad-permissions.yml');
      expect(error.location.column).toBe(14);
      expect(error.describe()).toBe(
        'invalid/bad-permissions.yml:2:14: `permissions` must be read-all, write-all or a mapping of scopes',
      );
    });

    it('rejects a scalar document, naming what it found', () => {
      expect(() => parseWorkflow('s.yml', '\n\njust text\n')).toThrow(
        expect.objectContaining({
          code: 'WORKFLOW_PARSE',
          message: 'workflow must be a mapping, found a scalar ("just text")',
          location: { file: 's.yml', line: 3, column: 1 },
        }),
      );
    });

    it('rejects a document holding several YAML documents', () => {
      expect(() => parseWorkflow('multi.yml', 'on: push\njobs: {a: {}}\n---\non: push\n')).toThrow(
        expect.objectContaining({ code: 'WORKFLOW_PARSE', location: expect.objectContaining({ line: 3 }) }),
      );
    });

    it('rejects a non-string run, step and empty trigger list entry', () => {
      expect(() => parseWorkflow('w.yml', 'on: push\njobs:\n  a:\n    steps:\n      - run: [x]\n')).toThrow(/`run` must be a string/);
      expect(() => parseWorkflow('w.yml', 'on: push\njobs:\n  a:\n    steps:\n      - just text\n')).toThrow(/step 1 must be a mapping/);
      expect(() => parseWorkflow('w.yml', 'on: [push, {a: 1}]\njobs:\n  a:\n    steps: []\n')).toThrow(/`on` list entries/);
      expect(() => parseWorkflow('w.yml', "on: ''\njobs:\n  a:\n    steps: []\n")).toThrow(/`on` is empty/);
      expect(() => parseWorkflow('w.yml', 'on: push\njobs:\n  a:\n    name:\n    steps: []\n')).toThrow(/`name` must be a string/);
      expect(() => parseWorkflow('w.yml', 'on: push\n? [a]\n: 1\njobs:\n  a:\n    steps: []\n')).toThrow(/mapping keys must be plain scalars/);
    });
  });
});

describe('workflowRunsOn', () => {
  it('matches every form of `on` by exact event name', () => {
    expect(workflowRunsOn(load('parse/on-list.yml'), 'pull_request')).toBe(true);
    expect(workflowRunsOn(load('parse/on-list.yml'), 'pull_request_target')).toBe(false);
    expect(workflowRunsOn(load('parse/on-scalar.yml'), 'merge_group')).toBe(true);
    expect(workflowRunsOn(load('parse/on-scalar.yml'), 'push')).toBe(false);
    expect(workflowRunsOn(load('parse/ci.yml'), 'workflow_dispatch')).toBe(true);
  });

  it('counts pull_request_target only for pull_request_target', () => {
    const workflow = load('parse/yaml11.yml');
    expect(workflowRunsOn(workflow, 'pull_request_target')).toBe(true);
    expect(workflowRunsOn(workflow, 'pull_request')).toBe(false);
  });
});

describe('line helpers', () => {
  it('maps offsets to 1-based lines', () => {
    const starts = lineStartsOf('a\nbb\n\nccc');
    expect(starts).toEqual([0, 2, 5, 6]);
    expect([0, 1, 2, 4, 5, 6, 9].map((offset) => lineOfTextOffset(starts, offset))).toEqual([1, 1, 2, 2, 3, 4, 4]);
  });

  it('returns the trimmed source line, empty out of range', () => {
    const workflow = parseWorkflow('w.yml', 'on: push\r\njobs:\r\n  a:\r\n    steps: []\r\n');
    expect(sourceLineText(workflow, 4)).toBe('steps: []');
    expect(sourceLineText(workflow, 1)).toBe('on: push');
    expect(sourceLineText(workflow, 0)).toBe('');
    expect(sourceLineText(workflow, 99)).toBe('');
  });
});

describe('findInExpressions', () => {
  const text = [
    'on: issues', //                                         1
    'jobs:', //                                              2
    '  a:', //                                               3
    '    steps:', //                                         4
    '      - { name: "${{ github.event.issue.title }}", run: "echo ${{ github.event.issue.body }}" }', // 5
    '      - run: |', //                                     6
    '          echo "${{ github.event.issue.title }}"', //   7
    '          # ${{ github.event.issue.number }}', //       8
    '          echo "${{', //                                9
    '            github.event.issue.body }}"', //            10
    '      - run: echo hi # ${{ github.event.issue.title }}', // 11
    '      - run: >', //                                     12
    '          echo ${{ github.event.issue.title }}', //     13
    '          ${{ github.event.issue.body }}', //           14
  ].join('\n');
  const workflow = parseWorkflow('w.yml', text);
  const steps = workflow.jobs[0].steps;
  const pattern = /github\.event\.issue\.(?:title|body)/g;

  it('finds matches at their exact lines inside multi-line literal scripts and expressions', () => {
    const matches = findInExpressions(workflow, steps[1].run!, pattern);
    expect(matches.map((m) => [m.match, m.line])).toEqual([
      ['github.event.issue.title', 7],
      ['github.event.issue.body', 10],
    ]);
    expect(matches[1].expression).toBe('${{\n            github.event.issue.body }}');
  });

  it('ignores expressions in trailing comments outside the scalar', () => {
    expect(steps[2].run).toEqual({ text: 'echo hi', line: 11 });
    expect(findInExpressions(workflow, steps[2].run!, pattern)).toEqual([]);
  });

  it('finds matches in folded scripts, line by line', () => {
    expect(findInExpressions(workflow, steps[3].run!, pattern).map((m) => m.line)).toEqual([13, 14]);
  });

  it('keeps lines right for a flow-mapping step sharing its line with other expressions', () => {
    expect(findInExpressions(workflow, steps[0].run!, pattern).map((m) => [m.match, m.line])).toEqual([
      ['github.event.issue.body', 5],
    ]);
  });

  it('reports an expression altered by a YAML escape on the scalar line, still finding its matches', () => {
    const escaped = parseWorkflow(
      'e.yml',
      'on: issues\njobs:\n  a:\n    steps:\n      - run: "echo first\n          ${{ format(\'\\u0041{0}\', github.event.issue.title) }}"\n',
    );
    const run = escaped.jobs[0].steps[0].run!;
    expect(run.text).toContain("format('A{0}'");
    expect(findInExpressions(escaped, run, pattern).map((m) => [m.match, m.line])).toEqual([['github.event.issue.title', 5]]);
  });

  it('requires a global pattern', () => {
    expect(() => findInExpressions(workflow, steps[1].run!, /issue/)).toThrow(TypeError);
  });
});
