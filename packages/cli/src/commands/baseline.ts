import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  compareBaseline,
  createBaseline,
  hashBaselineFiles,
  parseBaseline,
  serializeBaseline,
  UsageError,
  walkRepository,
} from '@phase-mirror/mirror-dissonance';
import { writeFileAtomic } from '../atomic-write';
import { EXIT } from '../exit-codes';
import type { Io } from '../io';
import { openWorkspace } from '../workspace';

/**
 * `baseline create`: pins the SHA-256 of every file matching the policy's
 * baseline globs (or --glob) into the committed baseline file.
 */
export async function baselineCreateCommand(
  path: string | undefined,
  options: { config?: string; glob?: string[]; force?: boolean },
  io: Io,
): Promise<number> {
  const workspace = openWorkspace(io.cwd, path, options);
  const globs = options.glob?.length ? options.glob : [...workspace.config.policy.baseline.globs];
  if (globs.length === 0) {
    throw new UsageError('no files to pin: declare policy.baseline.globs in the configuration or pass --glob', { location: { flag: '--glob' } });
  }
  const target = join(workspace.root, workspace.config.policy.baseline.path);
  if (existsSync(target) && options.force !== true) {
    throw new UsageError(`${workspace.config.policy.baseline.path} already exists; pass --force to replace it`, { location: { flag: '--force' } });
  }
  const walk = await walkRepository(workspace.root);
  const hashes = hashBaselineFiles(workspace.root, walk.files, globs, { exclude: [workspace.config.policy.baseline.path] });
  if (hashes.size === 0) throw new UsageError(`no file matches the globs ${globs.join(', ')}`, { location: { flag: '--glob' } });
  const baseline = createBaseline(globs, hashes, new Date());
  mkdirSync(dirname(target), { recursive: true });
  writeFileAtomic(target, serializeBaseline(baseline));
  io.out(`pinned ${hashes.size} files matching ${globs.join(', ')} in ${workspace.config.policy.baseline.path}`);
  return EXIT.OK;
}

/** `baseline show`: what the baseline pins and how far the repository has drifted from it. */
export async function baselineShowCommand(path: string | undefined, options: { config?: string; format: string }, io: Io): Promise<number> {
  const workspace = openWorkspace(io.cwd, path, options);
  const relPath = workspace.config.policy.baseline.path;
  const target = join(workspace.root, relPath);
  if (!existsSync(target)) throw new UsageError(`${relPath} not found; create it with \`phase-mirror baseline create\``);
  const baseline = parseBaseline(relPath, readFileSync(target, 'utf8'));
  const walk = await walkRepository(workspace.root);
  const current = hashBaselineFiles(workspace.root, walk.files, baseline.globs, { exclude: [relPath] });
  const drift = compareBaseline(baseline, current);
  const threshold = workspace.config.policy.baseline.threshold;
  if (options.format === 'json') {
    io.out(JSON.stringify({ path: relPath, createdAt: baseline.createdAt, globs: baseline.globs, declared: drift.declared, threshold, drift }, null, 2));
    return EXIT.OK;
  }
  io.out(`baseline ${relPath} (created ${baseline.createdAt})`);
  io.out(`  globs: ${baseline.globs.join(', ')}`);
  io.out(`  pinned files: ${drift.declared}`);
  io.out(`  drift: ${drift.added.length} added, ${drift.removed.length} removed, ${drift.modified.length} modified; magnitude ${drift.magnitude.toFixed(3)} (threshold ${threshold})`);
  for (const p of drift.added) io.out(`    + ${p}`);
  for (const p of drift.removed) io.out(`    - ${p}`);
  for (const m of drift.modified) io.out(`    ~ ${m.path}`);
  return EXIT.OK;
}
