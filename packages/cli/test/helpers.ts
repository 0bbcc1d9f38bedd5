import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Io } from '../src/io';

export const CLI = join(__dirname, '..', 'bin', 'phase-mirror.js');
export const FIXTURES = join(__dirname, 'fixtures');

/** Copies a fixture repository to a fresh temporary folder (state stays out of the fixture). */
export function copyFixture(name: string): string {
  const root = mkdtempSync(join(tmpdir(), `pm-cli-${name}-`));
  cpSync(join(FIXTURES, name), root, { recursive: true });
  return root;
}

export interface SpawnResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built binary as a user would, with a clean GitHub-free environment. */
export function runCli(args: readonly string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): SpawnResult {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1', ...options.env };
  const result = spawnSync(process.execPath, [CLI, ...args], { cwd: options.cwd, env, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** An in-process Io capturing output, for tests that call `main` directly. */
export function captureIo(cwd: string, env: NodeJS.ProcessEnv = {}): Io & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    stdout,
    stderr,
    out: (text) => stdout.push(text),
    err: (text) => stderr.push(text),
    color: false,
    interactive: false,
    env,
    cwd,
  };
}
