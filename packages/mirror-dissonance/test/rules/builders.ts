import type { BranchProtection, RuleOptions } from '../../src/types';

/** Policy members a test does not exercise. */
export const NO_GOVERNANCE = {
  protectedPaths: [],
  automation: { authors: [], branchPrefixes: [] },
} as const;

/** Rule options for rules that take none. */
export const NO_OPTIONS: RuleOptions = { jobIntents: {} };

/** A branch protection with every setting off, from a file; override what the test needs. */
export function protectionFrom(path: string, overrides: Partial<BranchProtection> = {}): BranchProtection {
  return {
    path,
    source: 'file',
    enabled: true,
    requiredContexts: [],
    strictStatusChecks: false,
    requirePullRequest: false,
    requiredApprovingReviewCount: 0,
    requireCodeOwnerReviews: false,
    dismissStaleReviews: false,
    enforceAdmins: false,
    requireLinearHistory: false,
    allowForcePushes: false,
    mergeQueueRequired: false,
    pushRestricted: false,
    ...overrides,
  };
}
