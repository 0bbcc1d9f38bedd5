/**
 * Reading and checking org-scan states (`schemas/org-scan.schema.json`): the
 * file `phase-mirror org-scan` writes, read back for MD-101, and the value the
 * scan itself must satisfy before it is written.
 */
import { instanceSegments, describeAjvError, shippedSchemaValidator, validateYamlSource } from '../config/schema-errors';
import { parseYamlSource, type YamlSource } from '../config/yaml-source';
import { InputError } from '../errors';
import type { OrgScan } from './state';

export const ORG_SCAN_SCHEMA_FILE = 'org-scan.schema.json';
/** Schema violations listed in an error message; all of them are in the error's context. */
const MAX_LISTED_ERRORS = 5;

/**
 * Parses an org-scan file (JSON, or YAML in the same shape) and validates it
 * against the shipped schema. `source` is set to `path`, so MD-101 evidence
 * points at the file.
 * @throws InputError (INPUT_INVALID) naming file, line and field for a syntax error, a schema
 *   violation or a repository listed twice.
 */
export function parseOrgScanFile(path: string, text: string): OrgScan {
  let source: YamlSource;
  try {
    source = parseYamlSource(path, text);
  } catch (error) {
    if (error instanceof InputError) throw new InputError('INPUT_INVALID', error.message, { location: error.location, cause: error });
    throw error;
  }
  const value = validateYamlSource(shippedSchemaValidator(ORG_SCAN_SCHEMA_FILE), source, 'INPUT_INVALID') as OrgScan;
  const firstIndex = new Map<string, number>();
  value.repositories.forEach((state, index) => {
    const name = state.repository.toLowerCase();
    const earlier = firstIndex.get(name);
    if (earlier !== undefined) {
      const segments = ['repositories', index, 'repository'];
      throw new InputError(
        'INPUT_INVALID',
        `repository ${state.repository} is listed twice (first at line ${source.lineOf(['repositories', earlier, 'repository'])})`,
        { location: { file: path, line: source.lineOf(segments), field: segments.join('.') } },
      );
    }
    firstIndex.set(name, index);
  });
  return { ...value, source: path };
}

/**
 * Checks a value built in memory (the result of a scan) against the org-scan
 * schema before it is written or used.
 * @throws InputError (INPUT_INVALID) naming the field of the first violation; `label` is the file
 *   the value is about to be written to, or what produced it.
 */
export function assertOrgScan(value: unknown, label: string): OrgScan {
  const validate = shippedSchemaValidator(ORG_SCAN_SCHEMA_FILE);
  if (validate(value)) return value as OrgScan;
  const errors = validate.errors ?? [];
  const first = errors[0];
  const field = first === undefined ? '(document)' : instanceSegments(first).join('.') || '(document)';
  const listed = errors.slice(0, MAX_LISTED_ERRORS).map(describeAjvError).join('; ');
  const more = errors.length > MAX_LISTED_ERRORS ? ` (and ${errors.length - MAX_LISTED_ERRORS} more)` : '';
  throw new InputError('INPUT_INVALID', `org-scan result does not match its schema: ${listed}${more}`, {
    location: { file: label, field },
    context: { errors: errors.map(describeAjvError) },
  });
}
