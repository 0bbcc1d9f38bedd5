#!/usr/bin/env node
'use strict';
/**
 * Build step after `tsc` and the schema stamp: bundles the CLI into one file,
 * packages/cli/dist/phase-mirror.js, because resolving and loading ~100 small
 * modules costs ~30 ms of every invocation. better-sqlite3 (native), ajv
 * (only loaded when generated validators do not match the shipped schemas or
 * for the organisation manifest), Octokit (only with GITHUB_TOKEN) and the
 * AWS SDK (only with storage: aws) stay
 * external and resolve from node_modules.
 */
const path = require('node:path');
const fs = require('node:fs');
const vm = require('node:vm');
const Module = require('node:module');
const esbuild = require('esbuild');

/**
 * Compiles the bundle the way bin/phase-mirror.js loads it, runs its top level
 * (so the functions it defines are compiled too) and stores V8's code cache.
 */
function writeCodeCache(file) {
  const script = new vm.Script(Module.wrap(fs.readFileSync(file, 'utf8')), { filename: file });
  const bundle = new Module(file, module);
  bundle.filename = file;
  bundle.paths = Module._nodeModulePaths(path.dirname(file));
  script.runInThisContext()(bundle.exports, Module.createRequire(file), bundle, file, path.dirname(file));
  fs.writeFileSync(`${file}.cache`, script.createCachedData());
}

const cliDir = path.join(__dirname, '..', 'packages', 'cli');
esbuild
  .build({
    entryPoints: [path.join(cliDir, 'dist', 'main.js')],
    outfile: path.join(cliDir, 'dist', 'phase-mirror.js'),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    // Octokit (GITHUB_TOKEN) and the AWS SDK (storage: aws) load only when used: kept out of the bundle.
    external: ['better-sqlite3', 'ajv', 'ajv/*', 'ajv-formats', '@octokit/*', '@aws-sdk/*', '@smithy/*', '@phase-mirror/mirror-dissonance/package.json'],
    minifyWhitespace: true,
    minifySyntax: true,
    // Identifiers are kept, so --debug stack traces name the functions.
    logLevel: 'warning',
  })
  .then(() => {
    writeCodeCache(path.join(cliDir, 'dist', 'phase-mirror.js'));
    process.stdout.write('bundle-cli: wrote packages/cli/dist/phase-mirror.js and its V8 code cache\n');
  })
  .catch(() => {
    process.exitCode = 1;
  });
