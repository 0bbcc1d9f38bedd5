import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CONFIG_FILE, loadConfig, POLICY_FILES, UsageError } from '@phase-mirror/mirror-dissonance';
import { writeFileAtomic } from '../atomic-write';
import { EXIT } from '../exit-codes';
import type { Io } from '../io';
import { resolveRoot } from '../workspace';
import { INIT_TEMPLATES, POLICY_TEMPLATE, renderConfigTemplate, writesPolicy, type InitTemplate } from './init-templates';

/**
 * `init`: writes a commented `.phase-mirror.yml` and, except for the minimal
 * template, a commented `.github/phase-mirror/policy.yml`. Never prompts;
 * never overwrites without --force.
 */
export async function initCommand(path: string | undefined, options: { template: string; force?: boolean }, io: Io): Promise<number> {
  if (!(INIT_TEMPLATES as readonly string[]).includes(options.template)) {
    throw new UsageError(`unknown template "${options.template}"; use one of ${INIT_TEMPLATES.join(', ')}`, { location: { flag: '--template' } });
  }
  const template = options.template as InitTemplate;
  const root = resolveRoot(io.cwd, path);
  const files: [string, string][] = [[CONFIG_FILE, renderConfigTemplate(template)]];
  if (writesPolicy(template)) files.push([POLICY_FILES[0], POLICY_TEMPLATE]);
  for (const [file] of files) {
    if (existsSync(join(root, file)) && options.force !== true) {
      throw new UsageError(`${file} already exists; pass --force to replace it`, { location: { flag: '--force' } });
    }
  }
  for (const [file, text] of files) {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileAtomic(join(root, file), text);
  }
  // A template that does not load would be a defect of ours; prove it before claiming success.
  loadConfig(root);
  io.out(`wrote ${files.map(([file]) => file).join(' and ')} (${template} template); next: phase-mirror validate && phase-mirror analyze`);
  return EXIT.OK;
}
