import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * The repository root (the folder holding cdk.json), found from this file's
 * folder, so paths resolve the same from `lib/` (tests) and from the compiled
 * `dist/infra/lib/` (`npm run synth`).
 */
export function findProjectRoot(from: string = __dirname): string {
  let dir = path.resolve(from);
  for (;;) {
    if (existsSync(path.join(dir, 'cdk.json')) && existsSync(path.join(dir, 'package-lock.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no cdk.json above ${from}`);
    dir = parent;
  }
}

export const PROJECT_ROOT = findProjectRoot();
