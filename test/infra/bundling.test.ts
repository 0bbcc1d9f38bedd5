/**
 * The one test that bundles every Lambda for real (local esbuild, no Docker):
 * each bundle is at most 1 MB, carries its source map and the core files it
 * reads at run time, and loads in a bare Node.js process that has only the
 * AWS SDK (as the Lambda runtime does) and exports `handler`.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../../lib/project-root';
import { resourceNamed, stageConfig, synthesize, type SynthesizedStage } from './support';

const MAX_BUNDLE_BYTES = 1024 * 1024;
const FUNCTIONS = ['Oracle', 'NonceRotation', 'EpochSealer', 'BaselineLoader'] as const;

let staging: SynthesizedStage;
let sdkOnly: string;

beforeAll(() => {
  [staging] = synthesize([stageConfig()], { bundle: true });
  // A module folder with nothing but the AWS SDK v3, like the Lambda Node.js runtime.
  sdkOnly = mkdtempSync(path.join(tmpdir(), 'phase-mirror-runtime-'));
  mkdirSync(path.join(sdkOnly, 'node_modules'));
  symlinkSync(path.join(PROJECT_ROOT, 'node_modules', '@aws-sdk'), path.join(sdkOnly, 'node_modules', '@aws-sdk'), 'dir');
}, 120_000);

afterAll(() => {
  rmSync(sdkOnly, { recursive: true, force: true });
});

/** The staged asset folder of a function. */
function assetDir(functionId: string): string {
  const code = resourceNamed(staging.templates.runtime, 'AWS::Lambda::Function', `${functionId}Function`).Properties.Code as { S3Key: string };
  const dir = path.join(staging.outdir, `asset.${code.S3Key.replace(/\.zip$/, '')}`);
  if (!existsSync(dir)) throw new Error(`no staged asset for ${functionId} at ${dir}`);
  return dir;
}

describe('Lambda bundles', () => {
  it.each(FUNCTIONS)('%s is bundled into one file of at most 1 MB with its source map', (functionId) => {
    const dir = assetDir(functionId);
    const size = statSync(path.join(dir, 'index.js')).size;
    expect(size).toBeGreaterThan(10_000);
    expect(size).toBeLessThanOrEqual(MAX_BUNDLE_BYTES);
    expect(existsSync(path.join(dir, 'index.js.map'))).toBe(true);
    expect(existsSync(path.join(dir, 'node_modules', '@phase-mirror', 'mirror-dissonance', 'package.json'))).toBe(true);
  });

  it('ships the report schema and its build stamp with the oracle', () => {
    const core = path.join(assetDir('Oracle'), 'node_modules', '@phase-mirror', 'mirror-dissonance');
    expect(existsSync(path.join(core, 'schemas', 'dissonance-report.schema.json'))).toBe(true);
    expect(existsSync(path.join(core, 'dist', 'schema-stamp.json'))).toBe(true);
  });

  it.each(FUNCTIONS)('%s loads with only the AWS SDK available and exports handler', (functionId) => {
    // Prepare: the asset outside the repository, so nothing resolves from its node_modules.
    const copy = mkdtempSync(path.join(tmpdir(), `phase-mirror-${functionId}-`));
    try {
      cpSync(assetDir(functionId), copy, { recursive: true });

      // Act
      const out = execFileSync(process.execPath, ['-e', "process.stdout.write(typeof require('./index.js').handler)"], {
        cwd: copy,
        env: { PATH: process.env.PATH ?? '', NODE_PATH: path.join(sdkOnly, 'node_modules'), AWS_REGION: 'us-east-1' },
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });

      // Assess
      expect(out).toBe('function');
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });
});
