import { canonicalJson, compareCodePoints, sha256Hex } from '../hashing';
import type { OracleSettings, Rule } from '../types';
import { md001 } from './md-001-required-checks';
import { md004 } from './md-004-accountability';
import { md005 } from './md-005-baseline-drift';
import { md006 } from './md-006-permission-boundary';

/** The built-in rule set, in id order. A new rule is one file and one line here. */
export const BUILTIN_RULES: readonly Rule[] = [md001, md004, md005, md006];

/**
 * SHA-256 of the canonical description of the rule set in force: ids,
 * versions, severities, FP tolerances and the decision thresholds. Two runs
 * with the same hash applied the same rules the same way.
 */
export function rulesHash(rules: readonly Rule[], settings: OracleSettings): string {
  const description = {
    rules: [...rules]
      .sort((a, b) => compareCodePoints(a.id, b.id))
      .map((rule) => ({ id: rule.id, version: rule.version, severity: rule.severity, fpTolerance: rule.fpTolerance })),
    thresholds: settings.thresholds,
    circuitBreaker: settings.circuitBreaker,
    l0: settings.l0,
  };
  return sha256Hex(canonicalJson(description));
}

/** The rules enabled by configuration. Unknown ids in `disabledRules` are a configuration error upstream. */
export function enabledRules(settings: OracleSettings, rules: readonly Rule[] = BUILTIN_RULES): Rule[] {
  return rules.filter((rule) => !settings.disabledRules.includes(rule.id));
}
