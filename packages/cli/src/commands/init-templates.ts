/** The files `phase-mirror init` writes. Each template is loaded by a test. */
export const INIT_TEMPLATES = ['minimal', 'standard', 'strict'] as const;
export type InitTemplate = (typeof INIT_TEMPLATES)[number];

const HEADER = `# Phase Mirror configuration. Reference: README.md "Configuration".
# Validated against packages/mirror-dissonance/schemas/phase-mirror-config.schema.json;
# errors name the file, line and field.
version: 1
`;

/** The commented example policy written to .github/phase-mirror/policy.yml. */
export const POLICY_TEMPLATE = `# Phase Mirror policy: what this repository declares it requires. Findings are
# the dissonance between these declarations and what the repository is.
# Schema: packages/mirror-dissonance/schemas/policy.schema.json (JSON is accepted too).

# Status-check contexts a merge requires, as shown on the pull request. Each must
# be produced by a workflow job that runs on the event (MD-001) and, with a
# merge queue, on merge_group (MD-102).
requiredStatusChecks: []
#  - test
#  - "CI / lint"

# The merge-queue trust chain of the default branch, compared with the branch
# protection in force (MD-102; needs --branch-protection or GITHUB_TOKEN).
# mergeQueue:
#   requiredForDefaultBranch: true
#   allowBypassForAdmins: false
#   requireLinearHistory: true
#   allowDirectPushes: false

# Automation identities and branches (MD-002): their changes to CODEOWNERS-owned
# or protected paths need an accountable human review.
automation:
  authors:
    - dependabot[bot]
    - renovate[bot]
  branchPrefixes:
    - dependabot/
    - renovate/

# Paths whose changes need accountable review even without a CODEOWNERS owner (MD-002).
protectedPaths:
  - .github/**

# Paths that must have a CODEOWNERS owner (MD-004).
criticalPaths:
  - .github/workflows/**

# Probabilistic components (models, prompts) and the jobs that evaluate them (MD-003).
# probabilistic:
#   paths: [models/**, prompts/**]
#   evaluationJobs: [eval, "model-eval*"]

# Integrity baseline: \`phase-mirror baseline create\` pins these files; MD-005
# reports drift above the threshold (changed / pinned).
baseline:
  path: .github/phase-mirror/baseline.json
  globs:
    - .github/workflows/**
    - .github/CODEOWNERS
  threshold: 0.15
`;

export function renderConfigTemplate(template: InitTemplate): string {
  switch (template) {
    case 'minimal':
      return `${HEADER}
# Everything else uses defaults: default thresholds (block on any critical,
# more than 3 high or more than 10 medium findings), circuit breaker at 100
# blocks per repository per hour. The policy lives in .github/phase-mirror/policy.yml.
`;
    case 'standard':
      return `${HEADER}
# The policy (what the repository declares) is in .github/phase-mirror/policy.yml.

# Strict thresholds on every run (the --strict flag also turns them on).
strict: false
# Report \`block\` as \`warn\` ("would block") while you tune the policy.
dryRun: false

# Block when a count is strictly greater than its threshold. Low never blocks.
thresholds:
  default: { critical: 0, high: 3, medium: 10 }
  strict: { critical: 0, high: 0, medium: 5 }

# Blocks per repository per UTC hour after which blocks degrade to warnings.
circuitBreaker:
  threshold: 100
  strictThreshold: 50
`;
    case 'strict':
      return `${HEADER}
# The policy (what the repository declares) is in .github/phase-mirror/policy.yml.
strict: true
dryRun: false

thresholds:
  strict: { critical: 0, high: 0, medium: 5 }

circuitBreaker:
  strictThreshold: 50

# L0 invariants: the largest drift magnitude accepted before every run blocks.
l0:
  driftBound: 0.5
`;
  }
}

/** Whether a template also writes the example policy file. */
export function writesPolicy(template: InitTemplate): boolean {
  return template !== 'minimal';
}
