import {
  collectArtifacts,
  driftMagnitude,
  encodePermissionMask,
  workflowPermissionSpecs,
  FileNonceStore,
  NonceLoader,
  loadReportSchema,
  readSchemaStamp,
  checkDriftMagnitude,
  checkNonceFreshness,
  checkPermissionBits,
  checkSchemaHash,
  type L0Result,
} from '@phase-mirror/mirror-dissonance';
import { EXIT } from '../exit-codes';
import type { Io } from '../io';
import { openWorkspace } from '../workspace';

interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

/**
 * `validate`: the checks that need no event — configuration against its
 * schema, every workflow parsed, and the L0 invariants that can be evaluated
 * on the repository as it is. Exit 0 when all hold, 1 when an L0 invariant
 * fails, 3 when configuration or a workflow is invalid.
 */
export async function validateCommand(path: string | undefined, options: { config?: string; stateDir?: string; format: string }, io: Io): Promise<number> {
  const workspace = openWorkspace(io.cwd, path, options);
  const checks: Check[] = [
    { name: 'config', ok: true, detail: workspace.config.configFile ?? 'no .phase-mirror.yml: defaults apply' },
    { name: 'policy', ok: true, detail: workspace.config.policyFile ?? 'no policy declared' },
  ];
  const artifacts = await collectArtifacts(workspace.root, { policy: workspace.config.policy });
  checks.push({ name: 'workflows', ok: true, detail: `${artifacts.workflows.length} parsed` });
  checks.push({
    name: 'baseline',
    ok: true,
    detail: artifacts.baseline ? `${Object.keys(artifacts.baseline.files).length} files pinned` : `${workspace.config.policy.baseline.path} not found`,
  });

  const schema = loadReportSchema();
  const mask = encodePermissionMask(workflowPermissionSpecs(artifacts.workflows));
  // validate never creates state: the embedded nonce is checked only when a previous run created it.
  const nonceStore = new FileNonceStore(workspace.stateDir);
  const nonceExists = (await nonceStore.listVersions()).length > 0;
  const now = Date.now();
  const results: [string, L0Result][] = [
    ['schema_hash', checkSchemaHash(schema.sha256, readSchemaStamp() ?? '')],
    ['permission_bits', checkPermissionBits(mask.mask)],
    [
      'drift_magnitude',
      checkDriftMagnitude(driftMagnitude(artifacts) ?? 0, workspace.config.settings.l0.driftBound),
    ],
  ];
  if (nonceExists) {
    // Loaded at the instant the check uses: a later clock read would make it look loaded in the future.
    const loader = new NonceLoader({ store: nonceStore, gracePeriodMs: workspace.config.nonce.gracePeriodMs, clock: () => now });
    const nonce = (await loader.keyring()).signing;
    results.push(['nonce_freshness', checkNonceFreshness(nonce.value, nonce.loadedAt.getTime(), now)]);
  } else {
    checks.push({ name: 'L0 nonce_freshness', ok: true, detail: 'no local nonce yet (the first analyze creates it)' });
  }
  for (const [name, result] of results) checks.push({ name: `L0 ${name}`, ok: result.ok, detail: result.ok ? 'holds' : result.message });
  for (const scope of mask.unknownScopes) {
    checks.push({ name: 'L0 permission_bits', ok: false, detail: `${scope.path}:${scope.line}: unknown permission ${scope.name}: ${scope.level}` });
  }

  if (options.format === 'json') io.out(JSON.stringify({ ok: checks.every((c) => c.ok), checks }, null, 2));
  else for (const check of checks) io.out(`${check.ok ? 'ok  ' : 'FAIL'}  ${check.name}: ${check.detail}`);
  return checks.every((c) => c.ok) ? EXIT.OK : EXIT.BLOCK;
}
