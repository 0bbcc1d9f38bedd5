import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hashBaselineFiles, parseBaseline, type IntegrityBaseline } from '../baseline/baseline';
import { InputError } from '../errors';
import { PACKAGE_ROOT } from '../package-root';
import type { Artifacts, BranchProtection, OrganizationInputs, Policy, PullRequestFacts, RepoFile, SkippedFile } from '../types';
import { findCodeowners } from './codeowners';
import { isManifest } from './manifests';
import { readRepoFile } from './read-file';
import { walkRepository } from './walk';
import { parseWorkflow, type WorkflowFile } from './workflow';

const WORKFLOW_FILE = /^\.github\/workflows\/[^/]+\.ya?ml$/;

export interface CollectOptions {
  policy: Policy;
  branchProtection?: BranchProtection;
  pullRequest?: PullRequestFacts;
  organization?: OrganizationInputs;
}

/**
 * Reads, once, everything the rules need from a repository root: the file
 * list (gitignore respected, symlinks confined to the root), workflows,
 * CODEOWNERS, manifests and the integrity baseline with current hashes.
 * Unreadable, binary and oversized files are skipped and listed; a malformed
 * workflow or baseline is an input error naming file and line.
 */
export async function collectArtifacts(root: string, options: CollectOptions): Promise<Artifacts> {
  const walk = await walkRepository(root);
  const skipped: SkippedFile[] = [...walk.skipped];
  // A workflow the oracle cannot read would make it judge a repository it has
  // not seen: fail as an input error instead of skipping it.
  for (const entry of walk.skipped) if (WORKFLOW_FILE.test(entry.path)) throw unreadableWorkflow(entry);
  const readText = (path: string): RepoFile | undefined => {
    const result = readRepoFile(root, path);
    if ('skipped' in result) {
      skipped.push(result.skipped);
      return undefined;
    }
    return result.file;
  };

  const workflows: WorkflowFile[] = [];
  const manifests: RepoFile[] = [];
  for (const path of walk.files) {
    if (WORKFLOW_FILE.test(path)) {
      const result = readRepoFile(root, path);
      if ('skipped' in result) throw unreadableWorkflow(result.skipped);
      workflows.push(parseWorkflow(result.file.path, result.file.text));
    } else if (isManifest(path)) {
      const file = readText(path);
      if (file) manifests.push(file);
    }
  }

  const codeowners = findCodeowners(root, walk.files);
  const baselinePath = options.policy.baseline.path;
  let baseline: IntegrityBaseline | undefined;
  if (walk.files.includes(baselinePath)) {
    const file = readText(baselinePath);
    if (file === undefined) {
      throw new InputError('BASELINE_INVALID', 'integrity baseline cannot be read (see skipped files)', { location: { file: baselinePath } });
    }
    baseline = parseBaseline(baselinePath, file.text);
  }
  const baselineCurrent = baseline
    ? hashBaselineFiles(root, walk.files, baseline.globs, { exclude: [baselinePath] })
    : new Map<string, string>();

  return {
    root,
    fileList: walk.files,
    workflows,
    ...(codeowners ? { codeowners } : {}),
    manifests,
    policy: options.policy,
    ...(options.branchProtection ? { branchProtection: options.branchProtection } : {}),
    ...(options.pullRequest ? { pullRequest: options.pullRequest } : {}),
    ...(options.organization ? { organization: options.organization } : {}),
    ...(baseline ? { baseline } : {}),
    baselineCurrent,
    skipped: skipped.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)),
  };
}

function unreadableWorkflow(entry: SkippedFile): InputError {
  const code = entry.reason === 'symlink_outside_root' ? 'PATH_OUTSIDE_ROOT' : 'FILE_UNREADABLE';
  return new InputError(code, `workflow cannot be analyzed (${entry.reason.replace(/_/g, ' ')}: ${entry.detail})`, {
    location: { file: entry.path },
  });
}

/** Reads the package version once, for the report's `meta.tool`. */
export function packageVersion(): string {
  const text = readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8');
  return (JSON.parse(text) as { version: string }).version;
}
