/** The configuration templates `phase-mirror init` writes. Each is validated by a test. */
export const INIT_TEMPLATES = ['minimal', 'standard', 'strict'] as const;
export type InitTemplate = (typeof INIT_TEMPLATES)[number];

const HEADER = `# Phase Mirror configuration. Reference: README.md "Configuration".
# Validated against packages/mirror-dissonance/schemas/phase-mirror-config.schema.json;
# errors name the file, line and field.
version: 1
`;

const POLICY = `
# What this repository declares it requires. Findings are the dissonance
# between these declarations and what the repository is.
policy:
  # Status-check contexts a merge requires (as shown on the pull request).
  # Each must be produced by a workflow job that runs on the event (MD-001).
  requiredStatusChecks: []
  #  - test
  #  - "CI / lint"
  # Paths or globs that must have a CODEOWNERS owner (MD-004).
  criticalPaths:
    - .github/workflows/**
  # Integrity baseline: \`phase-mirror baseline create\` pins these files;
  # MD-005 reports drift above the threshold (changed / pinned).
  baseline:
    path: .github/phase-mirror/baseline.json
    globs:
      - .github/workflows/**
      - .github/CODEOWNERS
    threshold: 0.15
`;

export function renderTemplate(template: InitTemplate): string {
  switch (template) {
    case 'minimal':
      return `${HEADER}
# Everything else uses defaults: default thresholds (block on any critical,
# more than 3 high or more than 10 medium findings), circuit breaker at 100
# blocks per repository per hour.
`;
    case 'standard':
      return `${HEADER}
# Strict thresholds on every run (the --strict flag also turns them on).
strict: false
# Report \`block\` as \`warn\` ("would block") while you tune the policy.
dryRun: false
${POLICY}
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
strict: true
dryRun: false
${POLICY}
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
