import fs, { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InputError, IntegrityError } from '../../src/errors';
import { serializeReport, writeReport } from '../../src/report/emit';
import type { DissonanceReport } from '../../src/types';
import { validReport } from './report-fixture';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'pm-report-emit-'));
});
afterEach(() => {
  jest.restoreAllMocks();
  rmSync(dir, { recursive: true, force: true });
});

const accept = (): void => undefined;

describe('serializeReport', () => {
  it('pretty-prints with two spaces and a trailing newline', () => {
    const text = serializeReport(validReport());
    expect(text.endsWith('}\n')).toBe(true);
    expect(text.split('\n')[1]).toBe('  "meta": {');
    expect(JSON.parse(text)).toEqual(validReport());
  });

  it('keeps the key order the report was constructed with', () => {
    // Prepare
    const report = validReport();
    const reordered = { machine_decision: report.machine_decision, summary: report.summary, items: report.items, meta: report.meta };

    // Act
    const keys = (text: string): string[] => Object.keys(JSON.parse(text) as object);

    // Assess
    expect(keys(serializeReport(report))).toEqual(['meta', 'items', 'summary', 'machine_decision']);
    expect(keys(serializeReport(reordered))).toEqual(['machine_decision', 'summary', 'items', 'meta']);
    expect(serializeReport(report)).toBe(serializeReport(validReport()));
  });
});

describe('writeReport', () => {
  it('writes the validated, verified report', () => {
    // Prepare
    const file = path.join(dir, 'dissonance_report.json');
    const verify = jest.fn();
    const report = validReport();

    // Act
    writeReport(report, file, verify);

    // Assess
    expect(verify).toHaveBeenCalledWith(report);
    expect(readFileSync(file, 'utf8')).toBe(serializeReport(report));
    expect(readdirSync(dir)).toEqual(['dissonance_report.json']);
  });

  it('writes nothing and does not verify when the report is not schema-valid', () => {
    // Prepare
    const file = path.join(dir, 'dissonance_report.json');
    const verify = jest.fn();
    const report = validReport();
    (report.items[0] as { severity: string }).severity = 'severe';

    // Act / Assess
    expect(() => writeReport(report, file, verify)).toThrow(IntegrityError);
    expect(verify).not.toHaveBeenCalled();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('writes nothing when verification throws, and rethrows its error', () => {
    // Prepare
    const file = path.join(dir, 'dissonance_report.json');
    const failure = new IntegrityError('REDACTION_VERIFY_FAILED', 'MAC mismatch at /items/0/evidence/0/snippet');

    // Act
    let thrown: unknown;
    try {
      writeReport(validReport(), file, () => {
        throw failure;
      });
    } catch (error) {
      thrown = error;
    }

    // Assess
    expect(thrown).toBe(failure);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('replaces an existing report only on success', () => {
    // Prepare
    const file = path.join(dir, 'dissonance_report.json');
    writeFileSync(file, 'previous\n');
    const invalid = validReport();
    delete (invalid.meta as { run_id?: string }).run_id;
    const next: DissonanceReport = { ...validReport(), machine_decision: { outcome: 'pass', degraded: false, reason: 'no findings' } };

    // Act / Assess: invalid report and failed verification leave the previous file
    expect(() => writeReport(invalid, file, accept)).toThrow("/meta: must have required property 'run_id'");
    expect(readFileSync(file, 'utf8')).toBe('previous\n');
    expect(() =>
      writeReport(validReport(), file, () => {
        throw new Error('unverifiable');
      }),
    ).toThrow('unverifiable');
    expect(readFileSync(file, 'utf8')).toBe('previous\n');

    // Act / Assess: a good report replaces it
    writeReport(next, file, accept);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(next);
    expect(readdirSync(dir)).toEqual(['dissonance_report.json']);
  });

  it('throws an InputError with the file when the directory does not exist', () => {
    // Prepare
    const file = path.join(dir, 'missing', 'dissonance_report.json');

    // Act
    let thrown: unknown;
    try {
      writeReport(validReport(), file, accept);
    } catch (error) {
      thrown = error;
    }

    // Assess
    expect(thrown).toBeInstanceOf(InputError);
    expect((thrown as InputError).location.file).toBe(file);
    expect((thrown as InputError).context).toEqual({ operation: 'write', errno: 'ENOENT' });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('removes the temp file when the rename fails and leaves the target as it was', () => {
    // Prepare: a non-empty directory cannot be replaced by a file
    const file = path.join(dir, 'dissonance_report.json');
    mkdirSync(path.join(file, 'inside'), { recursive: true });

    // Act / Assess
    expect(() => writeReport(validReport(), file, accept)).toThrow(/cannot write the report/);
    expect(readdirSync(dir)).toEqual(['dissonance_report.json']);
    expect(readdirSync(file)).toEqual(['inside']);
  });

  it('closes and removes the temp file when the data cannot be flushed', () => {
    // Prepare
    const file = path.join(dir, 'dissonance_report.json');
    jest.spyOn(fs, 'fsyncSync').mockImplementationOnce(() => {
      throw Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' });
    });

    // Act / Assess
    expect(() => writeReport(validReport(), file, accept)).toThrow('cannot write the report: EIO: i/o error, fsync');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('reports a directory that cannot be synced after the rename', () => {
    // Prepare
    const file = path.join(dir, 'dissonance_report.json');
    const realOpen = fs.openSync;
    jest.spyOn(fs, 'openSync').mockImplementation(((target: fs.PathLike, flags?: fs.OpenMode, mode?: fs.Mode) => {
      if (target === dir && flags === 'r') throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
      return realOpen(target, flags as fs.OpenMode, mode);
    }) as typeof fs.openSync);

    // Act
    let thrown: unknown;
    try {
      writeReport(validReport(), file, accept);
    } catch (error) {
      thrown = error;
    }

    // Assess
    expect(thrown).toBeInstanceOf(InputError);
    expect((thrown as InputError).message).toContain('renamed into place but its directory could not be synced');
    expect((thrown as InputError).context).toEqual({ operation: 'fsync', errno: 'EACCES' });
    expect(readdirSync(dir)).toEqual(['dissonance_report.json']);
  });
});
