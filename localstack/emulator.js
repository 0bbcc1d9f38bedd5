#!/usr/bin/env node
'use strict';
/**
 * The AWS emulator for the integration tests: moto's standalone server on
 * 127.0.0.1:4566, installed into localstack/.venv from requirements.txt.
 *
 *   node localstack/emulator.js start    install if needed, start, wait until healthy
 *   node localstack/emulator.js stop     stop the server this harness started
 *   node localstack/emulator.js status   running / not running (exit 0 / 1)
 *   node localstack/emulator.js ensure   start quietly; stdout: "started" | "already running"
 *
 * A moto or LocalStack already answering on the port is reused, never doubled.
 * EMULATOR_PORT overrides the port (default 4566). Plain Node, no dependencies;
 * scripts/test-integration.js requires this module and calls ensure()/stop().
 */
const childProcess = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');

const DIR = __dirname;
const VENV = path.join(DIR, '.venv');
const VENV_PYTHON = path.join(VENV, 'bin', 'python');
const MOTO_SERVER = path.join(VENV, 'bin', 'moto_server');
/** moto's server with requests serialized, so DynamoDB writes stay atomic as on AWS (see the file). */
const SERIAL_LAUNCHER = path.join(DIR, 'moto_server_serial.py');
const REQUIREMENTS = path.join(DIR, 'requirements.txt');
/** sha256 of requirements.txt and the venv's Python version at the last successful install. */
const STAMP = path.join(VENV, '.requirements.sha256');
const PID_FILE = path.join(DIR, '.moto.pid');
const LOG_FILE = path.join(DIR, '.moto.log');
const HOST = '127.0.0.1';
const MIN_PYTHON = [3, 11];
const START_TIMEOUT_MS = 60_000;
const POLL_INTERVAL_MS = 200;
const PROBE_TIMEOUT_MS = 5_000;
const STOP_TIMEOUT_MS = 10_000;
const LOG_TAIL_LINES = 30;

/** A failure with a message a person can act on; the CLI prints it and exits 1. */
class EmulatorError extends Error {
  constructor(message) {
    super(message);
    this.name = 'EmulatorError';
  }
}

function port() {
  const raw = process.env.EMULATOR_PORT;
  if (raw === undefined || raw === '') return 4566;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    throw new EmulatorError(`EMULATOR_PORT must be a TCP port (1-65535), got ${JSON.stringify(raw)}`);
  }
  return value;
}

/** The endpoint the SDK should use for the emulator this module manages. */
function endpoint() {
  return `http://${HOST}:${port()}`;
}

function relative(file) {
  return path.relative(process.cwd(), file) || '.';
}

// ---------------------------------------------------------------- probing

/** One GET; resolves { status, body } or { error } (never rejects). */
function get(urlPath) {
  return new Promise((resolve) => {
    const request = http.get({ host: HOST, port: port(), path: urlPath, timeout: PROBE_TIMEOUT_MS }, (response) => {
      const chunks = [];
      let size = 0;
      response.on('data', (chunk) => {
        // The bodies we look at are small; never buffer more than 64 KiB.
        if (size < 65_536) chunks.push(chunk);
        size += chunk.length;
      });
      response.on('end', () => resolve({ status: response.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', (error) => resolve({ error }));
    });
    request.on('timeout', () => request.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    request.on('error', (error) => resolve({ error }));
  });
}

/**
 * What answers on the port: 'localstack' (GET /_localstack/health lists
 * services), 'moto' (GET /moto-api/ is moto's dashboard), 'none' (connection
 * refused), 'unresponsive' (accepts connections, answers nothing within 5 s)
 * or 'other' (something else holds the port).
 */
async function probe() {
  const health = await get('/_localstack/health');
  if (health.error !== undefined) {
    if (health.error.code === 'ECONNREFUSED') return 'none';
    return health.error.code === 'ETIMEDOUT' ? 'unresponsive' : 'other';
  }
  if (health.status === 200) {
    try {
      const parsed = JSON.parse(health.body);
      if (parsed !== null && typeof parsed === 'object' && typeof parsed.services === 'object') return 'localstack';
    } catch {
      // Not LocalStack's JSON: try moto below.
    }
  }
  const dashboard = await get('/moto-api/');
  if (dashboard.error !== undefined && dashboard.error.code === 'ETIMEDOUT') return 'unresponsive';
  if (dashboard.error === undefined && dashboard.status === 200 && dashboard.body.includes('<title>Moto</title>')) return 'moto';
  return 'other';
}

// ---------------------------------------------------------------- processes

/** True while the process exists and has not exited (a zombie awaiting its reaper counts as exited). */
function isAlive(pid) {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if (error.code !== 'EPERM') return false;
  }
  try {
    // /proc/<pid>/stat: "pid (comm) state ..."; comm may contain spaces or parentheses.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch (error) {
    // No /proc (macOS): the signal probe above is the answer.
    return error.code !== 'ENOENT' || !fs.existsSync('/proc/self');
  }
}

/** The process's command line, or undefined when it cannot be read. */
function commandLine(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    // No /proc (macOS): ask ps.
    const result = childProcess.spawnSync('ps', ['-p', String(pid), '-o', 'command='], { encoding: 'utf8' });
    return result.status === 0 ? result.stdout.trim() : undefined;
  }
}

/**
 * Whether `pid` holds the listening socket on the port (Linux: /proc/net/tcp
 * inodes against /proc/<pid>/fd); undefined where /proc cannot tell. Tells our
 * own server from one another process started on the port at the same time.
 */
function ownsListeningSocket(pid) {
  if (!fs.existsSync('/proc/net/tcp')) return undefined;
  const hexPort = port().toString(16).toUpperCase().padStart(4, '0');
  const inodes = new Set();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text;
    try {
      text = fs.readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      // sl local_address rem_address st ... inode (field 9); 0A = LISTEN.
      if (fields.length > 9 && fields[1].endsWith(`:${hexPort}`) && fields[3] === '0A') inodes.add(fields[9]);
    }
  }
  const fdDir = `/proc/${pid}/fd`;
  let fds;
  try {
    fds = fs.readdirSync(fdDir);
  } catch {
    return false; // The process is gone.
  }
  for (const fd of fds) {
    let target;
    try {
      target = fs.readlinkSync(`${fdDir}/${fd}`);
    } catch {
      continue;
    }
    const match = /^socket:\[(\d+)\]$/.exec(target);
    if (match !== null && inodes.has(match[1])) return true;
  }
  return false;
}

function isMoto(pid) {
  const command = commandLine(pid);
  return command !== undefined && command.includes('moto_server');
}

/** The pid recorded in .moto.pid, or undefined when there is no (valid) pid file. */
function recordedPid() {
  let text;
  try {
    text = fs.readFileSync(PID_FILE, 'utf8').trim();
  } catch (error) {
    if (error.code === 'ENOENT') return undefined;
    throw new EmulatorError(`cannot read ${relative(PID_FILE)}: ${error.message}`);
  }
  const pid = Number(text);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** The pid of a live moto server started by this harness, or undefined. */
function runningPid() {
  const pid = recordedPid();
  return pid !== undefined && isAlive(pid) && isMoto(pid) ? pid : undefined;
}

function removePidFile() {
  fs.rmSync(PID_FILE, { force: true });
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function logTail() {
  let text;
  try {
    text = fs.readFileSync(LOG_FILE, 'utf8');
  } catch {
    return '(no log written)';
  }
  const lines = text.trimEnd().split('\n');
  return lines.slice(-LOG_TAIL_LINES).join('\n') || '(log is empty)';
}

// ---------------------------------------------------------------- installation

function sha256(text) {
  return crypto.createHash('sha256').update(text).digest('hex');
}

/** The system python3's version, or a clear error when it is missing or too old. */
function checkSystemPython() {
  const result = childProcess.spawnSync('python3', ['-c', 'import sys; print("%d.%d.%d" % sys.version_info[:3])'], {
    encoding: 'utf8',
  });
  if (result.error !== undefined) {
    throw new EmulatorError(
      `python3 is required to run the AWS emulator (moto) and was not found (${result.error.code}). ` +
        `Install Python >= ${MIN_PYTHON.join('.')} with its venv module (Debian/Ubuntu: apt-get install python3 python3-venv), ` +
        'or point AWS_ENDPOINT_URL at a running LocalStack (see localstack/README.md).',
    );
  }
  if (result.status !== 0) {
    throw new EmulatorError(`python3 failed to report its version: ${result.stderr.trim()}`);
  }
  const version = result.stdout.trim();
  const [major, minor] = version.split('.').map(Number);
  if (major < MIN_PYTHON[0] || (major === MIN_PYTHON[0] && minor < MIN_PYTHON[1])) {
    throw new EmulatorError(
      `python3 is ${version}; the pinned emulator requirements (localstack/requirements.txt) need Python >= ${MIN_PYTHON.join('.')}`,
    );
  }
  return version;
}

/** The venv's Python version, or undefined when the venv is missing or broken. */
function venvPythonVersion() {
  if (!fs.existsSync(VENV_PYTHON)) return undefined;
  const result = childProcess.spawnSync(VENV_PYTHON, ['-c', 'import sys; print("%d.%d.%d" % sys.version_info[:3])'], {
    encoding: 'utf8',
  });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

/**
 * Creates localstack/.venv when missing (or broken, e.g. after a Python
 * upgrade) and installs requirements.txt when the venv lacks it or the file
 * changed since the last install. Returns what it did, for the caller to print.
 */
function prepareVenv(say) {
  const actions = [];
  let venvVersion = venvPythonVersion();
  if (venvVersion === undefined) {
    const systemVersion = checkSystemPython();
    if (fs.existsSync(VENV)) {
      say(`${relative(VENV)} is broken (its python does not run): recreating it`);
      fs.rmSync(VENV, { recursive: true, force: true });
    }
    say(`creating ${relative(VENV)} with python3 ${systemVersion}`);
    const created = childProcess.spawnSync('python3', ['-m', 'venv', VENV], { encoding: 'utf8' });
    if (created.status !== 0) {
      fs.rmSync(VENV, { recursive: true, force: true });
      const detail = (created.stderr || created.stdout || String(created.error)).trim();
      throw new EmulatorError(
        `python3 -m venv ${relative(VENV)} failed (Debian/Ubuntu: apt-get install python3-venv):\n${detail}`,
      );
    }
    venvVersion = venvPythonVersion();
    if (venvVersion === undefined) throw new EmulatorError(`${relative(VENV)} was created but its python does not run`);
    actions.push('created venv');
  }
  const requirements = fs.readFileSync(REQUIREMENTS, 'utf8');
  const wanted = `${sha256(requirements)} python-${venvVersion}`;
  let stamp;
  try {
    stamp = fs.readFileSync(STAMP, 'utf8').trim();
  } catch {
    stamp = undefined;
  }
  if (stamp !== wanted || !fs.existsSync(MOTO_SERVER)) {
    say(stamp === undefined ? `installing ${relative(REQUIREMENTS)} into ${relative(VENV)}` : `${relative(REQUIREMENTS)} changed: reinstalling`);
    fs.rmSync(STAMP, { force: true });
    const installed = childProcess.spawnSync(
      VENV_PYTHON,
      ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-input', '-r', REQUIREMENTS],
      { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
    );
    if (installed.status !== 0) {
      const detail = `${installed.stdout}\n${installed.stderr}`.trim().split('\n').slice(-LOG_TAIL_LINES).join('\n');
      const why = installed.error !== undefined ? String(installed.error) : `exit ${installed.status ?? installed.signal}`;
      throw new EmulatorError(`pip install -r ${relative(REQUIREMENTS)} failed (${why}):\n${detail}`);
    }
    if (!fs.existsSync(MOTO_SERVER)) {
      throw new EmulatorError(`pip installed ${relative(REQUIREMENTS)} but ${relative(MOTO_SERVER)} is missing`);
    }
    fs.writeFileSync(STAMP, `${wanted}\n`);
    actions.push('installed requirements');
  }
  return actions;
}

// ---------------------------------------------------------------- start / stop

/** The moto child being started, so an interrupted caller can end it (cancelPendingStart). */
let pending;

/**
 * Spawns moto_server detached (output to .moto.log) and waits until its
 * dashboard answers. Resolves its pid; rejects with the log's last lines when
 * it exits or does not become healthy within 60 s.
 */
async function spawnMoto() {
  const log = fs.openSync(LOG_FILE, 'w');
  let child;
  try {
    child = childProcess.spawn(VENV_PYTHON, [SERIAL_LAUNCHER, '-H', HOST, '-p', String(port())], {
      detached: true,
      stdio: ['ignore', log, log],
    });
  } finally {
    fs.closeSync(log);
  }
  let exited;
  child.on('exit', (code, signal) => {
    exited = signal ?? `code ${code}`;
  });
  const spawnFailure = new Promise((resolve) => child.once('error', resolve));
  child.unref();
  pending = child;
  try {
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      const failed = await Promise.race([spawnFailure, sleep(POLL_INTERVAL_MS).then(() => undefined)]);
      if (failed !== undefined) throw new EmulatorError(`cannot run ${relative(SERIAL_LAUNCHER)}: ${failed.message}`);
      if (exited !== undefined) {
        if (pending === undefined) throw new EmulatorError('emulator start was cancelled');
        throw new EmulatorError(`moto_server exited (${exited}) before becoming healthy; last lines of ${relative(LOG_FILE)}:\n${logTail()}`);
      }
      // Healthy, and the server answering is ours (not one started concurrently by another caller).
      if ((await probe()) === 'moto' && ownsListeningSocket(child.pid) !== false) break;
      if (Date.now() > deadline) {
        killGroup(child.pid, 'SIGKILL');
        throw new EmulatorError(
          `moto_server did not become healthy on ${endpoint()} within ${START_TIMEOUT_MS / 1000} s; last lines of ${relative(LOG_FILE)}:\n${logTail()}`,
        );
      }
    }
    fs.writeFileSync(PID_FILE, `${child.pid}\n`);
    return child.pid;
  } finally {
    pending = undefined;
  }
}

/** Ends a start in progress (the caller was interrupted); no-op otherwise. */
function cancelPendingStart() {
  const child = pending;
  if (child === undefined) return;
  pending = undefined;
  killGroup(child.pid, 'SIGKILL');
}

/** Signals the detached server's process group (it leads one), or the process alone. */
function killGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // Already gone.
    }
  }
}

/**
 * Makes sure an emulator answers on the port. Reuses a running moto or
 * LocalStack; otherwise prepares the venv and starts moto.
 * @param {{ say?: (line: string) => void }} [options] progress lines (default: none)
 * @returns {Promise<{ state: 'started' | 'already running', kind: 'moto' | 'localstack', pid?: number, endpoint: string, actions: string[], seconds: number }>}
 */
async function ensure(options = {}) {
  const say = options.say ?? (() => {});
  const began = Date.now();
  const seconds = () => Math.round((Date.now() - began) / 100) / 10;
  const found = await probe();
  if (found === 'moto' || found === 'localstack') {
    const pid = found === 'moto' ? runningPid() : undefined;
    return { state: 'already running', kind: found, ...(pid !== undefined ? { pid } : {}), endpoint: endpoint(), actions: [], seconds: seconds() };
  }
  if (found === 'other') {
    throw new EmulatorError(
      `port ${port()} on ${HOST} is in use by something that is neither moto nor LocalStack; stop it or set EMULATOR_PORT`,
    );
  }
  if (found === 'unresponsive') {
    throw new EmulatorError(
      `port ${port()} on ${HOST} accepts connections but answered no health check within ${PROBE_TIMEOUT_MS / 1000} s ` +
        '(an overloaded emulator, or another program); check it (node localstack/emulator.js status) or set EMULATOR_PORT',
    );
  }
  const stale = recordedPid();
  if (stale !== undefined) {
    say(`removing stale ${relative(PID_FILE)} (pid ${stale} no longer serves the port)`);
    if (isAlive(stale) && isMoto(stale)) killGroup(stale, 'SIGKILL');
    removePidFile();
  }
  const actions = prepareVenv(say);
  say(`starting moto_server on ${endpoint()} (log: ${relative(LOG_FILE)})`);
  try {
    const pid = await spawnMoto();
    return { state: 'started', kind: 'moto', pid, endpoint: endpoint(), actions, seconds: seconds() };
  } catch (error) {
    // Someone else may have started an emulator on the port meanwhile: share it.
    const now = await probe();
    if (now === 'moto' || now === 'localstack') {
      const pid = now === 'moto' ? runningPid() : undefined;
      return { state: 'already running', kind: now, ...(pid !== undefined ? { pid } : {}), endpoint: endpoint(), actions, seconds: seconds() };
    }
    throw error;
  }
}

/**
 * Stops the moto server recorded in .moto.pid, when that process is alive and
 * is moto; removes the pid file either way.
 * @param {{ pid?: number }} [options] stop only if the recorded server is this one (default: whichever is recorded)
 * @returns {Promise<{ state: 'stopped' | 'not running' | 'stale pid file removed' | 'not ours', pid?: number }>}
 */
async function stop(options = {}) {
  const pid = recordedPid();
  if (pid === undefined) {
    removePidFile();
    return { state: 'not running' };
  }
  if (options.pid !== undefined && options.pid !== pid) return { state: 'not ours', pid };
  if (!isAlive(pid) || !isMoto(pid)) {
    removePidFile();
    return { state: 'stale pid file removed', pid };
  }
  killGroup(pid, 'SIGTERM');
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (isAlive(pid) && Date.now() < deadline) await sleep(100);
  if (isAlive(pid)) {
    killGroup(pid, 'SIGKILL');
    while (isAlive(pid)) await sleep(50);
  }
  removePidFile();
  return { state: 'stopped', pid };
}

/**
 * What runs: the harness's moto (pid), another moto or LocalStack on the port, or nothing.
 * @returns {Promise<{ running: boolean, kind?: string, pid?: number, endpoint: string, note?: string }>}
 */
async function status() {
  const found = await probe();
  const pid = runningPid();
  if (found === 'moto' || found === 'localstack') {
    return { running: true, kind: found, ...(pid !== undefined ? { pid } : {}), endpoint: endpoint() };
  }
  if (found === 'other') {
    return { running: false, endpoint: endpoint(), note: `port ${port()} is held by something that is neither moto nor LocalStack` };
  }
  if (found === 'unresponsive') {
    return {
      running: false,
      endpoint: endpoint(),
      ...(pid !== undefined ? { pid } : {}),
      note: `port ${port()} accepts connections but answered no health check within ${PROBE_TIMEOUT_MS / 1000} s`,
    };
  }
  return { running: false, endpoint: endpoint(), ...(pid !== undefined ? { pid, note: `pid ${pid} is moto but does not answer` } : {}) };
}

// ---------------------------------------------------------------- CLI

async function main(argv) {
  const command = argv[0];
  const out = (line) => process.stdout.write(`${line}\n`);
  const err = (line) => process.stderr.write(`${line}\n`);
  switch (command) {
    case 'start': {
      const result = await ensure({ say: (line) => out(`emulator: ${line}`) });
      if (result.state === 'already running') {
        const who = result.pid !== undefined ? `pid ${result.pid}, started by this harness` : 'not started by this harness';
        out(`emulator: ${result.kind} already running on ${result.endpoint} (${who}); not starting another`);
      } else {
        out(`emulator: moto started on ${result.endpoint} (pid ${result.pid}) in ${result.seconds} s` +
          (result.actions.length > 0 ? ` (${result.actions.join(', ')})` : ''));
      }
      return 0;
    }
    case 'ensure': {
      const result = await ensure({ say: (line) => err(`emulator: ${line}`) });
      out(result.state);
      return 0;
    }
    case 'stop': {
      const result = await stop();
      if (result.state === 'stopped') out(`emulator: stopped moto (pid ${result.pid})`);
      else if (result.state === 'stale pid file removed') out(`emulator: not running (pid ${result.pid} is gone or not moto; removed ${relative(PID_FILE)})`);
      else {
        const found = await probe();
        out(found === 'moto' || found === 'localstack'
          ? `emulator: nothing to stop: the ${found} on ${endpoint()} was not started by this harness (no ${relative(PID_FILE)}); left running`
          : 'emulator: not running (no pid file)');
      }
      return 0;
    }
    case 'status': {
      const result = await status();
      if (result.running) {
        const who = result.pid !== undefined ? `pid ${result.pid}` : 'not started by this harness';
        out(`emulator: running: ${result.kind} on ${result.endpoint} (${who})`);
        return 0;
      }
      out(`emulator: not running on ${result.endpoint}${result.note !== undefined ? ` (${result.note})` : ''}`);
      return 1;
    }
    default:
      err('usage: node localstack/emulator.js start|stop|status|ensure');
      return 2;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error) => {
      process.stderr.write(`emulator: ${error instanceof EmulatorError ? error.message : error.stack}\n`);
      process.exitCode = 1;
    },
  );
}

module.exports = { ensure, stop, status, probe, endpoint, port, cancelPendingStart, EmulatorError };
