import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Reads a JSON Schema shipped in the package's `schemas/` folder. The path is
 * the same from `src/config` and `dist/config`, so tests and the built CLI
 * validate against the very files the package ships.
 */
export function readShippedSchema(fileName: string): { $id: string } & Record<string, unknown> {
  const text = readFileSync(join(__dirname, '..', '..', 'schemas', fileName), 'utf8');
  return JSON.parse(text) as { $id: string } & Record<string, unknown>;
}
