#!/usr/bin/env node
'use strict';
/**
 * `npm run lint:workflows`: every workflow of the repository and the example
 * workflows in docs/ must be clean under actionlint (which also checks the
 * local action's inputs where a workflow uses `./`). actionlint comes from
 * $ACTIONLINT or PATH; `.ci/run` installs a pinned one from the Go proxy.
 */
const { spawnSync } = require('node:child_process');
const { readdirSync, existsSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const files = [];
for (const dir of ['.github/workflows', 'docs/examples']) {
  const abs = join(root, dir);
  if (!existsSync(abs)) continue;
  for (const name of readdirSync(abs).sort()) if (/\.ya?ml$/.test(name)) files.push(join(dir, name));
}
const actionlint = process.env.ACTIONLINT || 'actionlint';
const result = spawnSync(actionlint, files, { cwd: root, stdio: 'inherit' });
if (result.error) {
  console.error(`lint-workflows: cannot run ${actionlint}: ${result.error.message} (install it: go install github.com/rhysd/actionlint/cmd/actionlint@v1.7.12)`);
  process.exit(2);
}
if (result.status === 0) console.log(`lint-workflows: ${files.length} workflow files clean under actionlint`);
process.exit(result.status ?? 1);
