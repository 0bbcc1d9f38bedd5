#!/usr/bin/env node
'use strict';
/**
 * `npm run test:integration`: runs the *.int.test.ts suites against an AWS
 * emulator. Starts moto (localstack/emulator.js) when nothing answers on the
 * port, runs jest with jest.integration.config.js (extra arguments are passed
 * through), and always stops the emulator it started: on success, on failure
 * and on Ctrl-C. Exits with jest's status. A missing python3 or a failed pip
 * install fails the run: the suites are never skipped.
 *
 * AWS_ENDPOINT_URL already set to another endpoint (e.g. a LocalStack on
 * another host or port) is used as is, and no emulator is started.
 */
const { spawn } = require('node:child_process');
const os = require('node:os');
const path = require('node:path');
const emulator = require('../localstack/emulator.js');

const ROOT = path.resolve(__dirname, '..');
const SIGNAL_EXIT = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };

function say(line) {
  process.stderr.write(`test-integration: ${line}\n`);
}

/** True when the endpoint is the one emulator.js manages (127.0.0.1 or localhost, same port). */
function isManagedEndpoint(url) {
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    throw new emulator.EmulatorError(`AWS_ENDPOINT_URL is not a URL: ${JSON.stringify(url)}`);
  }
  const port = parsed.port === '' ? (parsed.protocol === 'https:' ? 443 : 80) : Number(parsed.port);
  return ['127.0.0.1', 'localhost', '[::1]'].includes(parsed.hostname) && port === emulator.port();
}

async function main() {
  const extraArgs = process.argv.slice(2);
  const env = { ...process.env };
  env.AWS_ENDPOINT_URL = env.AWS_ENDPOINT_URL || emulator.endpoint();
  env.AWS_ACCESS_KEY_ID = env.AWS_ACCESS_KEY_ID || 'test';
  env.AWS_SECRET_ACCESS_KEY = env.AWS_SECRET_ACCESS_KEY || 'test';
  env.AWS_REGION = env.AWS_REGION || 'us-east-1';
  env.AWS_DEFAULT_REGION = env.AWS_DEFAULT_REGION || env.AWS_REGION;

  let started;
  let jest;
  let interrupted;
  const onSignal = (signal) => {
    if (interrupted !== undefined) return;
    interrupted = signal;
    say(`${signal} received: stopping`);
    emulator.cancelPendingStart();
    if (jest !== undefined && jest.exitCode === null) jest.kill(signal);
  };
  for (const signal of Object.keys(SIGNAL_EXIT)) process.on(signal, onSignal);

  let code = 1;
  try {
    if (isManagedEndpoint(env.AWS_ENDPOINT_URL)) {
      const result = await emulator.ensure({ say });
      if (interrupted !== undefined) throw new emulator.EmulatorError(`interrupted by ${interrupted}`);
      if (result.state === 'started') {
        started = result;
        say(`started moto on ${result.endpoint} (pid ${result.pid}) in ${result.seconds} s; it will be stopped afterwards`);
      } else {
        say(`using the ${result.kind} already running on ${result.endpoint} (left running)`);
      }
    } else {
      say(`AWS_ENDPOINT_URL=${env.AWS_ENDPOINT_URL}: using that endpoint, not starting the local emulator`);
    }
    code = await runJest(extraArgs, env, (child) => {
      jest = child;
    });
  } catch (error) {
    say(error instanceof emulator.EmulatorError ? error.message : error.stack);
    code = interrupted !== undefined ? SIGNAL_EXIT[interrupted] : 1;
  } finally {
    if (started !== undefined) {
      const result = await emulator.stop({ pid: started.pid });
      if (result.state === 'stopped') say(`stopped moto (pid ${result.pid})`);
      else if (result.state === 'not ours') say(`left the moto of localstack/.moto.pid (pid ${result.pid}) running: not the one this run started`);
      else say(`moto (pid ${started.pid}) had already exited`);
    }
  }
  if (interrupted !== undefined && code === 0) code = SIGNAL_EXIT[interrupted];
  process.exitCode = code;
}

/** Runs jest with the integration config; resolves its exit status (128 + n when killed by a signal). */
function runJest(extraArgs, env, onSpawn) {
  const jestBin = require.resolve('jest/bin/jest', { paths: [ROOT] });
  const args = [jestBin, '--config', path.join(ROOT, 'jest.integration.config.js'), ...extraArgs];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: 'inherit' });
    onSpawn(child);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (code !== null) resolve(code);
      else resolve(128 + (os.constants.signals[signal] ?? 0));
    });
  });
}

main();
