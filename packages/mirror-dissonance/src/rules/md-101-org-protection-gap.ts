/**
 * MD-101 — organisation protection gap. The organisation manifest declares
 * the governance every repository must have (defaults, classifications,
 * exemptions); org-scan states say what each repository has. Every
 * requirement a repository does not meet is a finding that points at the
 * manifest line declaring it and at the observed state. Problems of the
 * manifest itself (expired or unmatched exemptions, unmatched or duplicate
 * classifications, another organisation) are findings too.
 */
import picomatch from 'picomatch';
import type {
  Classification,
  ClassificationMatch,
  Declared,
  DeclaredList,
  Exemption,
  GovernanceRequirements,
  OrgManifest,
  ProtectionSetting,
  RequirementName,
} from '../org/manifest';
import { PROTECTION_SETTINGS } from '../org/manifest';
import type { OrgScan, RepositoryGovernanceState } from '../org/state';
import type { EvidenceInput, Rule, RuleContext, RuleFinding, Severity } from '../types';

/** Workflow paths listed in one evidence snippet; the rest are counted. */
export const MAX_LISTED_WORKFLOWS = 20;

/** A requirement in force for a repository, with the manifest layer that declared it. */
interface InForce<T> extends Declared<T> {
  /** `defaults` or `classification "<name>"`. */
  origin: string;
}

interface InForceList {
  origin: string;
  items: readonly Declared<string>[];
}

/** The requirements in force for one repository, before exemptions. */
interface Effective {
  protection: Partial<Record<ProtectionSetting, InForce<boolean | number>>>;
  requiredChecks?: InForceList;
  requiredWorkflows?: InForceList;
  defaultTokenPermissions?: InForce<'read' | 'write'>;
  codeownersRequired?: InForce<boolean>;
  codeownersAllowErrors?: InForce<boolean>;
}

/** What a setting requires, how bad a gap is, and how to say it. */
interface SettingCheck {
  setting: Exclude<ProtectionSetting, 'required'>;
  severity: Severity;
  /** True when the observed protection falls short of the declared value. */
  gap(declared: boolean | number, observed: ObservedProtection): boolean;
  describe(declared: boolean | number, observed: ObservedProtection): string;
}

/** The protection settings as enforced: an unprotected branch enforces nothing. */
interface ObservedProtection {
  requirePullRequest: boolean;
  requiredApprovingReviewCount: number;
  requireCodeOwnerReviews: boolean;
  enforceAdmins: boolean;
  requireLinearHistory: boolean;
  allowForcePushes: boolean;
  requiredContexts: readonly string[];
}

const SETTING_CHECKS: readonly SettingCheck[] = [
  {
    setting: 'requirePullRequest',
    severity: 'high',
    gap: (declared, observed) => declared === true && !observed.requirePullRequest,
    describe: () => 'does not require pull requests',
  },
  {
    setting: 'requiredApprovingReviewCount',
    severity: 'medium',
    gap: (declared, observed) => observed.requiredApprovingReviewCount < Number(declared),
    describe: (declared, observed) =>
      `requires ${plural(observed.requiredApprovingReviewCount, 'approving review')}, the organisation requires ${String(declared)}`,
  },
  {
    setting: 'requireCodeOwnerReviews',
    severity: 'high',
    gap: (declared, observed) => declared === true && !observed.requireCodeOwnerReviews,
    describe: () => 'does not require code-owner reviews',
  },
  {
    setting: 'enforceAdmins',
    severity: 'high',
    gap: (declared, observed) => declared === true && !observed.enforceAdmins,
    describe: () => 'lets administrators bypass the protection',
  },
  {
    setting: 'requireLinearHistory',
    severity: 'medium',
    gap: (declared, observed) => declared === true && !observed.requireLinearHistory,
    describe: () => 'does not require a linear history',
  },
  {
    setting: 'allowForcePushes',
    severity: 'high',
    gap: (declared, observed) => declared === false && observed.allowForcePushes,
    describe: () => 'allows force pushes',
  },
];

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function observedProtection(state: RepositoryGovernanceState): ObservedProtection {
  const protection = state.protection;
  if (!protection.enabled) {
    return {
      requirePullRequest: false,
      requiredApprovingReviewCount: 0,
      requireCodeOwnerReviews: false,
      enforceAdmins: false,
      requireLinearHistory: false,
      allowForcePushes: true,
      requiredContexts: [],
    };
  }
  return {
    requirePullRequest: protection.requirePullRequest,
    // Approvals are only collected on pull requests.
    requiredApprovingReviewCount: protection.requirePullRequest ? protection.requiredApprovingReviewCount : 0,
    requireCodeOwnerReviews: protection.requireCodeOwnerReviews,
    enforceAdmins: protection.enforceAdmins,
    requireLinearHistory: protection.requireLinearHistory,
    allowForcePushes: protection.allowForcePushes,
    requiredContexts: protection.requiredContexts,
  };
}

/** Overlays one layer of requirements (defaults or a classification) field by field. */
function overlay(effective: Effective, layer: GovernanceRequirements, origin: string): void {
  const inForce = <T>(declared: Declared<T>): InForce<T> => ({ ...declared, origin });
  const inForceList = (list: DeclaredList): InForceList => ({ origin, items: list.items });
  if (layer.branchProtection !== undefined) {
    for (const setting of PROTECTION_SETTINGS) {
      const declared = layer.branchProtection[setting];
      if (declared !== undefined) effective.protection[setting] = inForce<boolean | number>(declared);
    }
  }
  if (layer.requiredChecks !== undefined) effective.requiredChecks = inForceList(layer.requiredChecks);
  if (layer.requiredWorkflows !== undefined) effective.requiredWorkflows = inForceList(layer.requiredWorkflows);
  if (layer.defaultTokenPermissions !== undefined) effective.defaultTokenPermissions = inForce(layer.defaultTokenPermissions);
  if (layer.codeowners?.required !== undefined) effective.codeownersRequired = inForce(layer.codeowners.required);
  if (layer.codeowners?.allowErrors !== undefined) effective.codeownersAllowErrors = inForce(layer.codeowners.allowErrors);
}

/** The group a requirement belongs to (`branchProtection.enforceAdmins` → `branchProtection`). */
function groupOf(requirement: string): string {
  const match = /^[A-Za-z]+/.exec(requirement);
  return match === null ? requirement : match[0];
}

/** Whether a set of waived names covers a requirement, directly or through its group. */
function waives(waived: ReadonlySet<string>, requirement: string): boolean {
  return waived.has(requirement) || waived.has(groupOf(requirement));
}

/** A glob on a repository: with `/` against owner/name, else against the name; case-insensitive. */
function repositoryMatcher(glob: string): (repository: string) => boolean {
  const matches = picomatch(glob, { nocase: true, dot: true });
  if (glob.includes('/')) return (repository) => matches(repository);
  return (repository) => matches(repository.slice(repository.indexOf('/') + 1));
}

function classificationMatcher(match: ClassificationMatch): (state: RepositoryGovernanceState) => boolean {
  const tests: ((state: RepositoryGovernanceState) => boolean)[] = [];
  if (match.names !== undefined) {
    const names = match.names.map(repositoryMatcher);
    tests.push((state) => names.some((matches) => matches(state.repository)));
  }
  if (match.topics !== undefined) {
    const topics = new Set(match.topics.map((topic) => topic.toLowerCase()));
    tests.push((state) => state.topics.some((topic) => topics.has(topic.toLowerCase())));
  }
  if (match.languages !== undefined) {
    const languages = new Set(match.languages.map((language) => language.toLowerCase()));
    tests.push((state) => state.language !== undefined && languages.has(state.language.toLowerCase()));
  }
  if (match.visibility !== undefined) {
    const visibility = new Set<string>(match.visibility);
    tests.push((state) => visibility.has(state.visibility));
  }
  return (state) => tests.every((test) => test(state));
}

/** A workflow glob: with `/` against the repository path, else against the file name. */
function workflowMatcher(pattern: string): (path: string) => boolean {
  const normalized = pattern.replace(/^(?:\.\/)+/, '');
  const matches = picomatch(normalized, { dot: true });
  if (normalized.includes('/')) return (path) => matches(path.replace(/^(?:\.\/)+/, ''));
  return (path) => matches(path.slice(path.lastIndexOf('/') + 1));
}

function exemptionLabel(exemption: Exemption): string {
  return `${exemption.repository} (${exemption.requirements.join(', ')})`;
}

/** Everything compiled once per evaluation. */
class Evaluation {
  readonly findings: RuleFinding[] = [];
  private readonly classifications: { classification: Classification; matches: (state: RepositoryGovernanceState) => boolean; used: boolean }[];
  private readonly exemptions: { exemption: Exemption; matches: (repository: string) => boolean; used: boolean }[];
  private readonly workflowMatchers = new Map<string, (path: string) => boolean>();

  constructor(
    private readonly manifest: OrgManifest,
    private readonly states: OrgScan,
  ) {
    this.classifications = manifest.classifications.map((classification) => ({
      classification,
      matches: classificationMatcher(classification.match),
      used: false,
    }));
    this.exemptions = manifest.exemptions.map((exemption) => ({ exemption, matches: repositoryMatcher(exemption.repository), used: false }));
  }

  run(): RuleFinding[] {
    const active = this.states.repositories
      .filter((state) => !state.archived)
      .sort((a, b) => (a.repository < b.repository ? -1 : a.repository > b.repository ? 1 : 0));
    this.organizationFinding();
    for (const state of active) this.repository(state);
    this.manifestFindings(active.length);
    return uniqueKeys(this.findings);
  }

  private organizationFinding(): void {
    const { manifest, states } = this;
    if (manifest.organization.toLowerCase() === states.organization.toLowerCase()) return;
    this.findings.push({
      key: 'organization#mismatch',
      severity: 'medium',
      title: `The organisation manifest governs ${manifest.organization}, but the scanned states are of ${states.organization}`,
      evidence: [
        { path: manifest.path, line: manifest.organizationLine, snippet: `organization: ${manifest.organization}` },
        { path: states.source, line: 0, snippet: `scanned organization: ${states.organization}` },
      ],
    });
  }

  private repository(state: RepositoryGovernanceState): void {
    const effective: Effective = { protection: {} };
    overlay(effective, this.manifest.defaults, 'defaults');
    for (const entry of this.classifications) {
      if (!entry.matches(state)) continue;
      entry.used = true;
      overlay(effective, entry.classification.requirements, `classification "${entry.classification.name}"`);
    }
    const waived = new Set<string>();
    const expired: Exemption[] = [];
    for (const entry of this.exemptions) {
      if (!entry.matches(state.repository)) continue;
      entry.used = true;
      if (entry.exemption.expired) expired.push(entry.exemption);
      else for (const requirement of entry.exemption.requirements) waived.add(requirement);
    }
    new RepositoryCheck(this, state, effective, waived, expired).run();
  }

  workflowMatcher(pattern: string): (path: string) => boolean {
    let matcher = this.workflowMatchers.get(pattern);
    if (matcher === undefined) {
      matcher = workflowMatcher(pattern);
      this.workflowMatchers.set(pattern, matcher);
    }
    return matcher;
  }

  get manifestPath(): string {
    return this.manifest.path;
  }

  get statesSource(): string {
    return this.states.source;
  }

  private manifestFindings(activeCount: number): void {
    const { manifest, states } = this;
    const scanned = `${states.organization}: ${plural(activeCount, 'active repository')} scanned at ${states.scannedAt}`;
    const byName = new Map<string, Classification[]>();
    for (const classification of manifest.classifications) {
      byName.set(classification.name, [...(byName.get(classification.name) ?? []), classification]);
    }
    for (const [name, declared] of byName) {
      if (declared.length < 2) continue;
      this.findings.push({
        key: `classification:${name}#duplicate`,
        severity: 'low',
        title: `Classification "${name}" is declared ${declared.length} times; findings cannot tell them apart`,
        evidence: declared.map((classification) => ({ path: manifest.path, line: classification.line, snippet: `classification "${name}"` })),
      });
    }
    for (const { classification, used } of this.classifications) {
      if (used) continue;
      this.findings.push({
        key: `classification:${classification.name}#unmatched`,
        severity: 'low',
        title: `Classification "${classification.name}" matches no active repository`,
        evidence: [
          { path: manifest.path, line: classification.line, snippet: `classification "${classification.name}" match: ${JSON.stringify(classification.match)}` },
          { path: states.source, line: 0, snippet: scanned },
        ],
      });
    }
    for (const { exemption } of this.exemptions) {
      if (!exemption.expired) continue;
      this.findings.push({
        key: `exemption:${exemption.repository}:${exemption.requirements.join(',')}#expired`,
        severity: 'medium',
        title: `Exemption for ${exemptionLabel(exemption)} expired on ${exemption.expires}`,
        evidence: [
          {
            path: manifest.path,
            line: exemption.line,
            snippet: `exemption for ${exemptionLabel(exemption)} approved by ${exemption.approver}, expired ${exemption.expires}: ${exemption.reason}`,
          },
        ],
      });
    }
    for (const { exemption, used } of this.exemptions) {
      if (used) continue;
      this.findings.push({
        key: `exemption:${exemption.repository}:${exemption.requirements.join(',')}#unmatched`,
        severity: 'low',
        title: `Exemption for ${exemptionLabel(exemption)} matches no active repository`,
        evidence: [
          { path: manifest.path, line: exemption.line, snippet: `exemption for ${exemptionLabel(exemption)} approved by ${exemption.approver}` },
          { path: states.source, line: 0, snippet: scanned },
        ],
      });
    }
  }
}

/** The gaps of one repository. */
class RepositoryCheck {
  private readonly observed: ObservedProtection;
  private readonly branch: string;

  constructor(
    private readonly evaluation: Evaluation,
    private readonly state: RepositoryGovernanceState,
    private readonly effective: Effective,
    private readonly waived: ReadonlySet<string>,
    private readonly expired: readonly Exemption[],
  ) {
    this.observed = observedProtection(state);
    this.branch = `default branch "${state.defaultBranch}"`;
  }

  run(): void {
    this.protection();
    this.workflows();
    this.tokenPermissions();
    this.codeowners();
  }

  private protection(): void {
    const { effective, state } = this;
    const required = effective.protection.required;
    if (waives(this.waived, 'branchProtection.required') || required?.value === false) return;
    if (required?.value === true && !state.protection.enabled) {
      this.gap('branchProtection.required', 'high', `${this.branch} is not protected; the organisation requires protection`, required, 'branchProtection.required: true', 'no branch protection or ruleset applies');
      return;
    }
    for (const check of SETTING_CHECKS) {
      const declared = effective.protection[check.setting];
      const requirement: RequirementName = `branchProtection.${check.setting}`;
      if (declared === undefined || waives(this.waived, requirement) || !check.gap(declared.value, this.observed)) continue;
      const observed = check.describe(declared.value, this.observed);
      this.gap(requirement, check.severity, `${this.branch} ${observed}`, declared, `${requirement}: ${String(declared.value)}`, this.protectionState(observed));
    }
    const checks = effective.requiredChecks;
    if (checks === undefined || waives(this.waived, 'requiredChecks')) return;
    const contexts = new Set(this.observed.requiredContexts);
    for (const item of checks.items) {
      const requirement: RequirementName = `requiredChecks:${item.value}`;
      if (contexts.has(item.value) || this.waived.has(requirement)) continue;
      const required = this.observed.requiredContexts.length ? `requires ${this.observed.requiredContexts.join(', ')}` : 'requires no status checks';
      this.gap(
        requirement,
        'medium',
        `${this.branch} does not require the status check "${item.value}"`,
        { ...item, origin: checks.origin },
        `requiredChecks: ${item.value}`,
        this.protectionState(required),
      );
    }
  }

  private protectionState(observed: string): string {
    const protection = this.state.protection;
    return protection.enabled ? `${this.branch} ${observed} (${protection.path})` : `${this.branch} is not protected (${protection.path})`;
  }

  private workflows(): void {
    const workflows = this.effective.requiredWorkflows;
    if (workflows === undefined || waives(this.waived, 'requiredWorkflows')) return;
    for (const item of workflows.items) {
      const requirement: RequirementName = `requiredWorkflows:${item.value}`;
      const matches = this.evaluation.workflowMatcher(item.value);
      if (this.waived.has(requirement) || this.state.workflows.some(matches)) continue;
      this.gap(requirement, 'medium', `required workflow "${item.value}" is missing`, { ...item, origin: workflows.origin }, `requiredWorkflows: ${item.value}`, this.workflowState());
    }
  }

  private workflowState(): string {
    const listed = this.state.workflows.slice(0, MAX_LISTED_WORKFLOWS).join(', ');
    if (listed === '') return 'workflows: none';
    const more = this.state.workflows.length - MAX_LISTED_WORKFLOWS;
    return `workflows: ${listed}${more > 0 ? ` and ${more} more` : ''}`;
  }

  private tokenPermissions(): void {
    const declared = this.effective.defaultTokenPermissions;
    if (declared?.value !== 'read' || this.state.defaultWorkflowPermissions !== 'write' || waives(this.waived, 'defaultTokenPermissions')) return;
    this.gap(
      'defaultTokenPermissions',
      'high',
      'workflows get a write GITHUB_TOKEN by default; the organisation allows read',
      declared,
      'defaultTokenPermissions: read',
      'default workflow permissions: write',
    );
  }

  private codeowners(): void {
    const { codeownersRequired, codeownersAllowErrors } = this.effective;
    const { path, errors } = this.state.codeowners;
    if (codeownersRequired?.value === true && path === undefined && !waives(this.waived, 'codeowners.required')) {
      this.gap('codeowners.required', 'high', 'has no CODEOWNERS file; the organisation requires one', codeownersRequired, 'codeowners.required: true', 'no CODEOWNERS file in .github/, the root or docs/');
    }
    if (codeownersAllowErrors?.value === false && errors > 0 && !waives(this.waived, 'codeowners.allowErrors')) {
      this.gap(
        'codeowners.allowErrors',
        'medium',
        `CODEOWNERS has ${plural(errors, 'invalid line')}; the organisation allows none`,
        codeownersAllowErrors,
        'codeowners.allowErrors: false',
        `${path ?? 'CODEOWNERS'}: GitHub reports ${plural(errors, 'invalid line')}`,
      );
    }
  }

  private gap(requirement: RequirementName, severity: Severity, problem: string, declared: InForce<unknown>, declaration: string, observed: string): void {
    const repository = this.state.repository;
    const evidence: EvidenceInput[] = [
      { path: this.evaluation.manifestPath, line: declared.line, snippet: `${declared.origin}: ${declaration}` },
      { path: this.evaluation.statesSource, line: 0, snippet: `${repository}: ${observed}` },
    ];
    for (const exemption of this.expired) {
      if (!waives(new Set(exemption.requirements), requirement)) continue;
      evidence.push({
        path: this.evaluation.manifestPath,
        line: exemption.line,
        snippet: `exemption approved by ${exemption.approver} expired ${exemption.expires} and no longer waives ${requirement}`,
      });
    }
    this.evaluation.findings.push({ key: `${repository}#${requirement}`, severity, title: `${repository}: ${problem}`, evidence });
  }
}

/** Keys are unique per rule: a repeated key (a name declared twice) gets `~2`, `~3`... in order. */
function uniqueKeys(findings: RuleFinding[]): RuleFinding[] {
  const seen = new Map<string, number>();
  return findings.map((finding) => {
    const count = (seen.get(finding.key) ?? 0) + 1;
    seen.set(finding.key, count);
    return count === 1 ? finding : { ...finding, key: `${finding.key}~${count}` };
  });
}

/** MD-101: every active repository meets the governance the organisation manifest requires of it. */
export const md101: Rule = {
  id: 'MD-101',
  version: '1.0.0',
  title: 'Repositories meet the organisation governance manifest',
  description:
    'Each non-archived repository of the org-scan states must meet the requirements of the organisation manifest ' +
    '(defaults, overridden field by field by every matching classification in manifest order, minus unexpired exemptions): ' +
    'default-branch protection and its settings, required status checks, required workflows, default GITHUB_TOKEN permissions ' +
    'and CODEOWNERS. Archived repositories are skipped. Expired exemptions, exemptions and classifications that match no active ' +
    'repository, duplicate classification names and a manifest for another organisation are reported too. Silent without --org-manifest.',
  severity: 'high',
  fpTolerance: { ceiling: 0.1, window: 20 },
  evaluate(context: RuleContext): readonly RuleFinding[] {
    const organization = context.artifacts.organization;
    if (organization === undefined) return [];
    return new Evaluation(organization.manifest, organization.states).run();
  },
};
