#!/usr/bin/env node
'use strict';
/**
 * `npm run check:templates`: the synthesized CloudFormation templates must be
 * clean under cfn-lint (no error, no warning) and checkov's CloudFormation
 * checks (no failed check). Both come from PyPI, pinned with every transitive
 * dependency in security/requirements.txt, installed into security/.venv
 * (created when missing, reinstalled when the requirements change).
 *
 * The app is synthesized first (`npm run synth`, into cdk.out) unless
 * CHECK_TEMPLATES_SKIP_SYNTH=1 and cdk.out already holds templates.
 * A finding is fixed in lib/*.ts or suppressed on its own resource with a
 * reason (lib/nag.ts: skipCheckov, ignoreCfnLint), never here.
 * Plain Node, no dependencies. Exit 0 clean, 1 findings, 2 setup failure.
 */
const childProcess = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
const DIR = path.join(ROOT, 'security');
const REQUIREMENTS = path.join(DIR, 'requirements.txt');
const VENV = path.join(DIR, '.venv');
const BIN = path.join(VENV, 'bin');
const VENV_PYTHON = path.join(BIN, 'python');
const STAMP = path.join(VENV, '.requirements.sha256');
const CDK_OUT = path.join(ROOT, 'cdk.out');
const MIN_PYTHON = [3, 11];

class SetupError extends Error {}

function say(message) {
  console.log(`check-templates: ${message}`);
}

function relative(file) {
  return path.relative(ROOT, file) || '.';
}

function pythonVersion(python) {
  const result = childProcess.spawnSync(python, ['-c', 'import sys; print("%d.%d.%d" % sys.version_info[:3])'], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

/** Creates security/.venv when missing or broken and installs the pinned requirements when they changed. */
function prepareVenv() {
  let version = fs.existsSync(VENV_PYTHON) ? pythonVersion(VENV_PYTHON) : undefined;
  if (version === undefined) {
    const system = pythonVersion('python3');
    if (system === undefined) throw new SetupError(`python3 >= ${MIN_PYTHON.join('.')} with its venv module is required (Debian/Ubuntu: apt-get install python3 python3-venv)`);
    const [major, minor] = system.split('.').map(Number);
    if (major < MIN_PYTHON[0] || (major === MIN_PYTHON[0] && minor < MIN_PYTHON[1])) {
      throw new SetupError(`python3 is ${system}; ${relative(REQUIREMENTS)} needs Python >= ${MIN_PYTHON.join('.')}`);
    }
    fs.rmSync(VENV, { recursive: true, force: true });
    say(`creating ${relative(VENV)} with python3 ${system}`);
    const created = childProcess.spawnSync('python3', ['-m', 'venv', VENV], { encoding: 'utf8' });
    if (created.status !== 0) throw new SetupError(`python3 -m venv ${relative(VENV)} failed:\n${(created.stderr || created.stdout).trim()}`);
    version = pythonVersion(VENV_PYTHON);
    if (version === undefined) throw new SetupError(`${relative(VENV)} was created but its python does not run`);
  }
  const wanted = `${crypto.createHash('sha256').update(fs.readFileSync(REQUIREMENTS)).digest('hex')} python-${version}`;
  const stamp = fs.existsSync(STAMP) ? fs.readFileSync(STAMP, 'utf8').trim() : undefined;
  if (stamp === wanted && fs.existsSync(path.join(BIN, 'cfn-lint')) && fs.existsSync(path.join(BIN, 'checkov'))) return;
  say(`installing ${relative(REQUIREMENTS)} into ${relative(VENV)}`);
  fs.rmSync(STAMP, { force: true });
  const installed = childProcess.spawnSync(
    VENV_PYTHON,
    ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-input', '-r', REQUIREMENTS],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  if (installed.status !== 0) {
    const detail = `${installed.stdout}\n${installed.stderr}`.trim().split('\n').slice(-30).join('\n');
    throw new SetupError(`pip install -r ${relative(REQUIREMENTS)} failed:\n${detail}`);
  }
  fs.writeFileSync(STAMP, `${wanted}\n`);
}

/** Every *.template.json under cdk.out (nested stage assemblies included), sorted. */
function templates(dir = CDK_OUT) {
  if (!fs.existsSync(dir)) return [];
  const found = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory() && !entry.name.startsWith('asset.')) found.push(...templates(file));
    else if (entry.isFile() && entry.name.endsWith('.template.json')) found.push(file);
  }
  return found.sort();
}

function run(command, args, options = {}) {
  const result = childProcess.spawnSync(command, args, { cwd: ROOT, stdio: 'inherit', ...options });
  if (result.error) throw new SetupError(`cannot run ${command}: ${result.error.message}`);
  return result.status ?? 1;
}

function main() {
  const started = Date.now();
  prepareVenv();
  if (process.env.CHECK_TEMPLATES_SKIP_SYNTH === '1' && templates().length > 0) {
    say('CHECK_TEMPLATES_SKIP_SYNTH=1: checking the templates already in cdk.out');
  } else {
    say('synthesizing (npm run synth)');
    if (run('npm', ['run', '-s', 'synth']) !== 0) throw new SetupError('npm run synth failed');
  }
  const files = templates();
  if (files.length === 0) throw new SetupError(`no *.template.json under ${relative(CDK_OUT)}`);
  say(`${files.length} templates`);

  // cfn-lint exit status is a bit mask: 2 errors, 4 warnings, 8 informational. Errors and warnings fail.
  const lintStatus = run(path.join(BIN, 'cfn-lint'), ['--format', 'parseable', '--', ...files.map(relative)]);
  const lintFailed = lintStatus !== 0 && (lintStatus & 0b111) !== 0;
  say(lintFailed ? `cfn-lint: findings (exit ${lintStatus})` : 'cfn-lint: clean');

  // checkov offline: no Prisma Cloud guideline download, no platform upload.
  const env = { ...process.env, BC_SKIP_MAPPING: 'TRUE', CHECKOV_EXPERIMENTAL_IMAGE_REFERENCING: 'False' };
  const checkovStatus = run(
    path.join(BIN, 'checkov'),
    ['--framework', 'cloudformation', '--directory', relative(CDK_OUT), '--quiet', '--compact', '--skip-download', '--output', 'cli'],
    { env },
  );
  say(checkovStatus === 0 ? 'checkov: clean' : `checkov: findings (exit ${checkovStatus})`);

  say(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return lintFailed || checkovStatus !== 0 ? 1 : 0;
}

try {
  process.exitCode = main();
} catch (error) {
  if (!(error instanceof SetupError)) throw error;
  console.error(`check-templates: ${error.message}`);
  process.exitCode = 2;
}
