import { canonicalJson, compareCodePoints, sha256Hex } from '../hashing';
import type { OracleSettings, Rule } from '../types';
import { md001 } from './md-001-required-checks';
import { md002 } from './md-002-automation-accountability';
import { md003 } from './md-003-probabilistic-gate';
import { md004 } from './md-004-accountability';
import { md005 } from './md-005-baseline-drift';
import { md006 } from './md-006-permission-boundary';
import { md100 } from './md-100-semantic-job-drift';
import { md101 } from './md-101-org-protection-gap';
import { md102 } from './md-102-merge-queue-trust';

/** The built-in rule set, in id order. A new rule is one file and one line here. */
export const BUILTIN_RULES: readonly Rule[] = [md001, md002, md003, md004, md005, md006, md100, md101, md102];

/**
 * SHA-256 of the canonical description of the rule set in force: ids,
 * versions, severities, FP tolerances, rule options and the decision thresholds. Two runs
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
    ruleOptions: settings.ruleOptions,
  };
  return sha256Hex(canonicalJson(description));
}

/** The rules enabled by configuration. Unknown ids in `disabledRules` are a configuration error upstream. */
export function enabledRules(settings: OracleSettings, rules: readonly Rule[] = BUILTIN_RULES): Rule[] {
  return rules.filter((rule) => !settings.disabledRules.includes(rule.id));
}
