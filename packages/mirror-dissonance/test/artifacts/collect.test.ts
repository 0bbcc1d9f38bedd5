import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { collectArtifacts, packageVersion } from '../../src/artifacts/collect';
import { createBaseline, hashBaselineFiles, serializeBaseline } from '../../src/baseline/baseline';
import { InputError } from '../../src/errors';
import type { Policy } from '../../src/types';
import { NO_GOVERNANCE } from '../rules/builders';

function repo(files: Record<string, string | Buffer>): string {
  const root = mkdtempSync(join(tmpdir(), 'pm-collect-'));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

const policy: Policy = {
  requiredStatusChecks: [],
  criticalPaths: [],
  ...NO_GOVERNANCE,
  baseline: { path: '.github/phase-mirror/baseline.json', globs: ['src/**'], threshold: 0.15 },
};
const workflow = 'on: pull_request\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: npm test\n';

describe('collectArtifacts', () => {
  it('reads workflows, CODEOWNERS, manifests and the baseline with current hashes', async () => {
    // Prepare
    const root = repo({
      '.github/workflows/ci.yml': workflow,
      '.github/workflows/notes.txt': 'not a workflow',
      '.github/CODEOWNERS': '* @acme/all\n',
      'package.json': '{"name":"x"}',
      'services/api/go.mod': 'module x\n',
      'src/a.ts': 'a',
      'src/b.ts': 'b',
      '.phase-mirror/state.db': 'state is never part of the repository',
    });
    const hashes = hashBaselineFiles(root, ['src/a.ts', 'src/b.ts'], ['src/**']);
    mkdirSync(join(root, '.github/phase-mirror'), { recursive: true });
    writeFileSync(join(root, '.github/phase-mirror/baseline.json'), serializeBaseline(createBaseline(['src/**'], hashes, new Date('2026-01-01T00:00:00Z'))));
    writeFileSync(join(root, 'src/b.ts'), 'changed');
    // Act
    const artifacts = await collectArtifacts(root, { policy });
    // Assess
    expect(artifacts.workflows.map((w) => w.path)).toEqual(['.github/workflows/ci.yml']);
    expect(artifacts.codeowners?.path).toBe('.github/CODEOWNERS');
    expect(artifacts.manifests.map((m) => m.path)).toEqual(['package.json', 'services/api/go.mod']);
    expect(artifacts.fileList.some((f) => f.startsWith('.phase-mirror/'))).toBe(false);
    expect(artifacts.baseline?.globs).toEqual(['src/**']);
    expect(artifacts.baselineCurrent.get('src/a.ts')).toBe(hashes.get('src/a.ts'));
    expect(artifacts.baselineCurrent.get('src/b.ts')).not.toBe(hashes.get('src/b.ts'));
  });

  it('skips unreadable manifests with a note instead of failing', async () => {
    const root = repo({ 'package-lock.json': Buffer.alloc(1024 * 1024 + 1, 0x20), 'yarn.lock': Buffer.from([0, 1, 2]) });
    const artifacts = await collectArtifacts(root, { policy });
    expect(artifacts.manifests).toEqual([]);
    expect(artifacts.skipped.map((s) => `${s.path}:${s.reason}`)).toEqual(['package-lock.json:too_large', 'yarn.lock:binary']);
  });

  it('refuses a workflow it cannot read, naming the file', async () => {
    const root = repo({ '.github/workflows/blob.yaml': Buffer.from([0x6f, 0, 0x6e]) });
    await expect(collectArtifacts(root, { policy })).rejects.toMatchObject({ code: 'FILE_UNREADABLE', location: { file: '.github/workflows/blob.yaml' } });
  });

  it('refuses a workflow linked from outside the root', async () => {
    const outside = repo({ 'ci.yml': workflow });
    const root = repo({});
    mkdirSync(join(root, '.github/workflows'), { recursive: true });
    symlinkSync(join(outside, 'ci.yml'), join(root, '.github/workflows/ci.yml'));
    const error = await collectArtifacts(root, { policy }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect(error).toMatchObject({ code: 'PATH_OUTSIDE_ROOT', location: { file: '.github/workflows/ci.yml' } });
  });

  it('refuses an invalid baseline, naming the file', async () => {
    const root = repo({ '.github/phase-mirror/baseline.json': '{"version": 2}' });
    await expect(collectArtifacts(root, { policy })).rejects.toMatchObject({ code: 'BASELINE_INVALID' });
  });

  it('reads the package version for the report', () => {
    expect(packageVersion()).toMatch(/^\d+\.\d+\.\d+/);
  });
});
