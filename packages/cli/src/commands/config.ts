import type { ResolvedConfig } from '@phase-mirror/mirror-dissonance';
import { EXIT } from '../exit-codes';
import type { Io } from '../io';
import { openWorkspace } from '../workspace';

/** `config show`: the configuration in force after defaults, with where each part came from. */
export async function configShowCommand(path: string | undefined, options: { config?: string }, io: Io): Promise<number> {
  const { config } = openWorkspace(io.cwd, path, options);
  io.out(JSON.stringify(plainConfig(config), null, 2));
  return EXIT.OK;
}

/** `config validate`: the configuration and policy files against their schemas. */
export async function configValidateCommand(path: string | undefined, options: { config?: string }, io: Io): Promise<number> {
  const { config } = openWorkspace(io.cwd, path, options);
  io.out(`ok: ${config.configFile ?? 'no .phase-mirror.yml (defaults apply)'}${config.policyFile ? `; policy from ${config.policyFile}` : ''}`);
  return EXIT.OK;
}

function plainConfig(config: ResolvedConfig): unknown {
  const values = (list: readonly { value: string }[]): string[] => list.map((l) => l.value);
  return {
    configFile: config.configFile ?? null,
    policyFile: config.policyFile ?? null,
    strict: config.strict,
    dryRun: config.dryRun,
    policy: {
      requiredStatusChecks: values(config.policy.requiredStatusChecks),
      criticalPaths: values(config.policy.criticalPaths),
      baseline: config.policy.baseline,
    },
    thresholds: config.settings.thresholds,
    circuitBreaker: config.settings.circuitBreaker,
    l0: config.settings.l0,
    rules: { disabled: config.settings.disabledRules },
  };
}
