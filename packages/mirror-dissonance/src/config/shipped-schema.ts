import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../package-root';

/**
 * Reads a JSON Schema shipped in the package's `schemas/` folder. The path is
 * the same from `src/config` and `dist/config`, so tests and the built CLI
 * validate against the very files the package ships.
 */
export function readShippedSchemaText(fileName: string): string {
  return readFileSync(join(PACKAGE_ROOT, 'schemas', fileName), 'utf8');
}
