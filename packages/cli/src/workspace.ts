import { realpathSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InputError, loadConfig, STATE_DIR_NAME, type ResolvedConfig } from '@phase-mirror/mirror-dissonance';

/** A repository the CLI works on: its real root, configuration and state folder. */
export interface Workspace {
  root: string;
  config: ResolvedConfig;
  /** `.phase-mirror/` under the root unless --state-dir says otherwise. */
  stateDir: string;
}

export interface WorkspaceOptions {
  config?: string;
  stateDir?: string;
}

/** Resolves and checks the repository path given on the command line. */
export function resolveRoot(cwd: string, path: string | undefined): string {
  const candidate = resolve(cwd, path ?? '.');
  let stat;
  try {
    stat = statSync(candidate);
  } catch {
    throw new InputError('REPO_NOT_FOUND', 'repository path does not exist', { location: { file: candidate } });
  }
  if (!stat.isDirectory()) throw new InputError('REPO_NOT_FOUND', 'repository path is not a directory', { location: { file: candidate } });
  return realpathSync(candidate);
}

export function openWorkspace(cwd: string, path: string | undefined, options: WorkspaceOptions): Workspace {
  const root = resolveRoot(cwd, path);
  const config = loadConfig(root, options.config === undefined ? undefined : resolve(cwd, options.config));
  return { root, config, stateDir: options.stateDir === undefined ? join(root, STATE_DIR_NAME) : resolve(cwd, options.stateDir) };
}
