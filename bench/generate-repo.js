'use strict';
// Generates a synthetic repository of N files shaped like a real service:
// source trees, a few workflows with findings, CODEOWNERS, policy and a baseline.
const { mkdirSync, writeFileSync, existsSync, rmSync } = require('node:fs');
const { join, dirname } = require('node:path');
const { createHash } = require('node:crypto');

const WORKFLOWS = {
  '.github/workflows/ci.yml': `name: CI
on:
  pull_request:
  push:
    branches: [main]
jobs:
  test:
    name: test (\${{ matrix.os }})
    runs-on: \${{ matrix.os }}
    strategy:
      matrix:
        os: [ubuntu-latest, macos-latest]
    steps:
      - uses: actions/checkout@v4
      - run: npm ci && npm test
  lint:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: echo "\${{ github.event.pull_request.title }}"
`,
  '.github/workflows/release.yml': `name: Release
on:
  pull_request_target:
permissions: write-all
jobs:
  publish:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          ref: \${{ github.event.pull_request.head.sha }}
      - uses: some-org/publish-action@v2
        env:
          TOKEN: \${{ secrets.NPM_TOKEN }}
`,
};

/** Writes the repository if it does not exist yet; returns its root. */
function generateRepo(root, fileCount) {
  const marker = join(root, '.generated');
  if (existsSync(marker)) return root;
  rmSync(root, { recursive: true, force: true });
  const files = new Map(Object.entries(WORKFLOWS));
  files.set('.github/CODEOWNERS', '* @acme/platform\n/src/auth/ @acme/security\n');
  files.set('.gitignore', 'node_modules/\n*.log\n');
  files.set('package.json', JSON.stringify({ name: 'bench-repo', version: '1.0.0' }, null, 2));
  files.set(
    '.phase-mirror.yml',
    'version: 1\npolicy:\n  requiredStatusChecks: [test (ubuntu-latest), lint, security-scan]\n  criticalPaths: [src/auth/**, .github/workflows/**]\n  baseline:\n    globs: [.github/workflows/**, src/auth/**]\n',
  );
  const remaining = fileCount - files.size - 1;
  for (let i = 0; i < remaining; i++) {
    const dir = i % 50 === 0 ? 'src/auth' : `src/module${Math.floor(i / 100)}`;
    files.set(`${dir}/file${i}.ts`, `export const value${i} = ${i};\n`);
  }
  for (const [path, text] of files) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  // Baseline pinned before one workflow is edited, so the drift rule has work to do.
  const pinned = {};
  for (const [path, text] of files) {
    if (path.startsWith('.github/workflows/') || path.startsWith('src/auth/')) pinned[path] = createHash('sha256').update(text).digest('hex');
  }
  const sorted = Object.fromEntries(Object.entries(pinned).sort(([a], [b]) => (a < b ? -1 : 1)));
  const baseline = { version: 1, createdAt: '2026-01-01T00:00:00.000Z', globs: ['.github/workflows/**', 'src/auth/**'], files: sorted };
  mkdirSync(join(root, '.github/phase-mirror'), { recursive: true });
  writeFileSync(join(root, '.github/phase-mirror/baseline.json'), `${JSON.stringify(baseline, null, 2)}\n`);
  writeFileSync(join(root, '.github/workflows/ci.yml'), `${WORKFLOWS['.github/workflows/ci.yml']}# edited\n`);
  writeFileSync(marker, String(fileCount));
  return root;
}

module.exports = { generateRepo };
