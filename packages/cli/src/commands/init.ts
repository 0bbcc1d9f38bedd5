import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_FILE, loadConfig, UsageError } from '@phase-mirror/mirror-dissonance';
import { writeFileAtomic } from '../atomic-write';
import { EXIT } from '../exit-codes';
import type { Io } from '../io';
import { resolveRoot } from '../workspace';
import { INIT_TEMPLATES, renderTemplate, type InitTemplate } from './init-templates';

/** `init`: writes a commented `.phase-mirror.yml`. Never prompts; never overwrites without --force. */
export async function initCommand(path: string | undefined, options: { template: string; force?: boolean }, io: Io): Promise<number> {
  if (!(INIT_TEMPLATES as readonly string[]).includes(options.template)) {
    throw new UsageError(`unknown template "${options.template}"; use one of ${INIT_TEMPLATES.join(', ')}`, { location: { flag: '--template' } });
  }
  const root = resolveRoot(io.cwd, path);
  const target = join(root, CONFIG_FILE);
  if (existsSync(target) && options.force !== true) {
    throw new UsageError(`${CONFIG_FILE} already exists; pass --force to replace it`, { location: { flag: '--force' } });
  }
  writeFileAtomic(target, renderTemplate(options.template as InitTemplate));
  // A template that does not load would be a defect of ours; prove it before claiming success.
  loadConfig(root);
  io.out(`wrote ${CONFIG_FILE} (${options.template} template); next: phase-mirror validate && phase-mirror analyze`);
  return EXIT.OK;
}
