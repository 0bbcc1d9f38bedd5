/**
 * Writing `dissonance_report.json`. A report is only written once it is
 * schema-valid and its redactions verify, and it is written atomically: a
 * reader (the workflow, the ledger, an auditor) sees either the previous file
 * or the complete new one, never a partial or unverified report.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { InputError } from '../errors';
import type { DissonanceReport } from '../types';
import { validateReport } from './validate';

/**
 * The report as written: JSON with 2-space indentation in the key order the
 * report was constructed with (deterministic for a deterministic pipeline),
 * followed by a newline.
 */
export function serializeReport(report: DissonanceReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

/**
 * Validates the report against the schema, runs `verify` (the redaction
 * verifier), then writes it atomically: temp file in the target directory,
 * fsync, rename over the target. On any failure nothing is written, no temp
 * file remains and an existing target is left untouched.
 * @throws IntegrityError (REPORT_INVALID) when the report is not schema-valid;
 *   whatever `verify` throws; InputError (FILE_UNREADABLE, operation write) when the file cannot be written.
 */
export function writeReport(report: DissonanceReport, file: string, verify: (report: DissonanceReport) => void): void {
  validateReport(report);
  verify(report);
  writeFileAtomic(file, serializeReport(report));
}

function writeFileAtomic(file: string, content: string): void {
  const target = path.resolve(file);
  const directory = path.dirname(target);
  const temp = path.join(directory, `.${path.basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let fd: number | undefined;
  let tempCreated = false;
  try {
    fd = openSync(temp, 'wx', 0o644);
    tempCreated = true;
    const data = Buffer.from(content, 'utf8');
    let offset = 0;
    while (offset < data.length) offset += writeSync(fd, data, offset, data.length - offset);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(temp, target);
    tempCreated = false;
  } catch (error) {
    if (fd !== undefined) closeQuietly(fd);
    if (tempCreated) removeQuietly(temp);
    throw new InputError('FILE_UNREADABLE', `cannot write the report: ${(error as Error).message}`, {
      location: { file },
      context: { operation: 'write', errno: (error as NodeJS.ErrnoException).code },
      cause: error,
    });
  }
  syncDirectory(directory);
}

/** Makes the rename durable; platforms that cannot open a directory (Windows) do not need it. */
function syncDirectory(directory: string): void {
  if (process.platform === 'win32') return;
  try {
    const fd = openSync(directory, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    throw new InputError('FILE_UNREADABLE', `the report was renamed into place but its directory could not be synced: ${(error as Error).message}`, {
      location: { file: directory },
      context: { operation: 'fsync', errno: (error as NodeJS.ErrnoException).code },
      cause: error,
    });
  }
}

// Cleanup after a failure that is already being reported: a second error here
// must not replace the first one.
function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    /* the original write error is the one thrown */
  }
}

function removeQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    /* the original write error is the one thrown */
  }
}
