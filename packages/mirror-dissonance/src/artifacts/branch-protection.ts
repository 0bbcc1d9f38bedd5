import { readFileSync } from 'node:fs';
import { InputError } from '../errors';
import { parseYamlSource } from '../config/yaml-source';
import type { BranchProtection, LocatedString } from '../types';

/**
 * Reads the required status checks from a branch-protection JSON in the shape
 * GitHub's REST API returns (`GET /repos/{o}/{r}/branches/{b}/protection`):
 * `required_status_checks.contexts[]` and `required_status_checks.checks[].context`.
 * Either the full protection object or its `required_status_checks` member is accepted.
 */
export function loadBranchProtection(file: string): BranchProtection {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new InputError('FILE_UNREADABLE', `cannot read branch protection: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, {
      location: { file, flag: '--branch-protection' },
      cause: error,
    });
  }
  const source = parseYamlSource(file, text);
  const value: unknown = source.doc.toJS();
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InputError('INPUT_INVALID', 'branch protection must be a JSON object', { location: { file, line: 1 } });
  }
  const record = value as Record<string, unknown>;
  const hasWrapper = 'required_status_checks' in record;
  const prefix = hasWrapper ? ['required_status_checks'] : [];
  const checks = (hasWrapper ? record.required_status_checks : record) as Record<string, unknown> | null;
  if (checks === null) return { path: file, requiredContexts: [] };
  if (typeof checks !== 'object' || (!('contexts' in checks) && !('checks' in checks))) {
    throw new InputError('INPUT_INVALID', 'expected required_status_checks with contexts[] or checks[]', {
      location: { file, line: source.lineOf(prefix), field: prefix.join('.') || '(document)' },
    });
  }
  const found = new Map<string, LocatedString>();
  const contexts = checks.contexts ?? [];
  if (!Array.isArray(contexts)) {
    throw new InputError('INPUT_INVALID', 'contexts must be an array of strings', {
      location: { file, line: source.lineOf([...prefix, 'contexts']), field: [...prefix, 'contexts'].join('.') },
    });
  }
  contexts.forEach((context: unknown, index) => {
    const segments = [...prefix, 'contexts', index];
    if (typeof context !== 'string') {
      throw new InputError('INPUT_INVALID', 'a required context must be a string', { location: { file, line: source.lineOf(segments), field: segments.join('.') } });
    }
    if (!found.has(context)) found.set(context, { value: context, path: file, line: source.lineOf(segments) });
  });
  const list = checks.checks ?? [];
  if (!Array.isArray(list)) {
    throw new InputError('INPUT_INVALID', 'checks must be an array', { location: { file, line: source.lineOf([...prefix, 'checks']), field: [...prefix, 'checks'].join('.') } });
  }
  list.forEach((check: unknown, index) => {
    const segments = [...prefix, 'checks', index, 'context'];
    const context = (check as { context?: unknown } | null)?.context;
    if (typeof context !== 'string') {
      throw new InputError('INPUT_INVALID', 'each check needs a string context', { location: { file, line: source.lineOf(segments), field: segments.join('.') } });
    }
    if (!found.has(context)) found.set(context, { value: context, path: file, line: source.lineOf(segments) });
  });
  return { path: file, requiredContexts: [...found.values()] };
}
