/**
 * The organisation manifest (`--org-manifest FILE`, `schemas/org-manifest.schema.json`):
 * the governance every repository of an organisation must have, by default and
 * per classification, and the approved exemptions. MD-101 compares it with the
 * org-scan states. The parsed manifest is plain data (it travels with the
 * artifacts to a remote oracle) and keeps the line of every declaration, so
 * each finding points at the requirement it enforces.
 */
import { shippedSchemaValidator, validateYamlSource } from '../config/schema-errors';
import { parseYamlSource, type YamlSource } from '../config/yaml-source';
import { UsageError } from '../errors';

export const ORG_MANIFEST_SCHEMA_FILE = 'org-manifest.schema.json';

export type Visibility = 'public' | 'private' | 'internal';
export type TokenPermission = 'read' | 'write';

/** The branch-protection settings a manifest may require, in the order MD-101 checks them. */
export const PROTECTION_SETTINGS = [
  'required',
  'requirePullRequest',
  'requiredApprovingReviewCount',
  'requireCodeOwnerReviews',
  'enforceAdmins',
  'requireLinearHistory',
  'allowForcePushes',
] as const;
export type ProtectionSetting = (typeof PROTECTION_SETTINGS)[number];

/**
 * A requirement an exemption can waive: a group waives all its members,
 * `requiredChecks:<context>` and `requiredWorkflows:<pattern>` one entry.
 */
export type RequirementName =
  | 'branchProtection'
  | `branchProtection.${ProtectionSetting}`
  | 'requiredChecks'
  | `requiredChecks:${string}`
  | 'requiredWorkflows'
  | `requiredWorkflows:${string}`
  | 'defaultTokenPermissions'
  | 'codeowners'
  | 'codeowners.required'
  | 'codeowners.allowErrors';

/** A declared value and the 1-based manifest line that declares it. */
export interface Declared<T> {
  value: T;
  line: number;
}

export interface ProtectionRequirements {
  required?: Declared<boolean>;
  requirePullRequest?: Declared<boolean>;
  requiredApprovingReviewCount?: Declared<number>;
  requireCodeOwnerReviews?: Declared<boolean>;
  enforceAdmins?: Declared<boolean>;
  requireLinearHistory?: Declared<boolean>;
  allowForcePushes?: Declared<boolean>;
}

/** A declared list: the line of its key and each entry with its own line. */
export interface DeclaredList {
  line: number;
  items: readonly Declared<string>[];
}

/** One set of requirements (the defaults, or a classification's overrides). Undeclared fields are absent. */
export interface GovernanceRequirements {
  /** Line of the block (`defaults:` or the classification's `requirements:`). */
  line: number;
  branchProtection?: ProtectionRequirements;
  requiredChecks?: DeclaredList;
  requiredWorkflows?: DeclaredList;
  defaultTokenPermissions?: Declared<TokenPermission>;
  codeowners?: { required?: Declared<boolean>; allowErrors?: Declared<boolean> };
}

/** Which repositories a classification covers: every given criterion must hold. */
export interface ClassificationMatch {
  /** Globs on the repository name (owner/name when the glob contains `/`), case-insensitive; any. */
  names?: readonly string[];
  /** Topics, case-insensitive; any. */
  topics?: readonly string[];
  /** Primary languages, case-insensitive; any. */
  languages?: readonly string[];
  visibility?: readonly Visibility[];
}

export interface Classification {
  name: string;
  /** Line of the classification's entry. */
  line: number;
  match: ClassificationMatch;
  requirements: GovernanceRequirements;
}

export interface Exemption {
  /** owner/name or a glob on it; without `/`, a glob on the repository name. */
  repository: string;
  requirements: readonly RequirementName[];
  reason: string;
  approver: string;
  /** Last day (UTC) the exemption applies, `YYYY-MM-DD`. */
  expires: string;
  /** Whether `expires` had passed at the `now` given to parseOrgManifest. */
  expired: boolean;
  /** Line of the exemption's entry. */
  line: number;
}

export interface OrgManifest {
  /** The manifest file, for evidence. */
  path: string;
  version: 1;
  organization: string;
  organizationLine: number;
  defaults: GovernanceRequirements;
  /** In manifest order, which is the order they are applied in. */
  classifications: readonly Classification[];
  exemptions: readonly Exemption[];
}

interface RawRequirements {
  branchProtection?: Partial<Record<ProtectionSetting, boolean | number>>;
  requiredChecks?: string[];
  requiredWorkflows?: string[];
  defaultTokenPermissions?: TokenPermission;
  codeowners?: { required?: boolean; allowErrors?: boolean };
}

interface RawManifest {
  version: 1;
  organization: string;
  defaults: RawRequirements;
  classifications?: { name: string; match: ClassificationMatch; requirements: RawRequirements }[];
  exemptions?: { repository: string; requirements: RequirementName[]; reason: string; approver: string; expires: string }[];
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Parses and validates an organisation manifest (YAML or JSON). Exemptions
 * are marked expired against `now` (an exemption applies through its
 * `expires` day, UTC). Semantic problems a schema cannot see (expired or
 * unmatched exemptions, unmatched or duplicate classifications) are left to
 * MD-101, which reports them as findings.
 * @throws InputError (CONFIG_INVALID) naming file, line and field for a syntax error or a schema violation.
 * @throws UsageError when `now` is not a valid date.
 */
export function parseOrgManifest(path: string, text: string, now: Date): OrgManifest {
  const nowMs = now.getTime();
  if (Number.isNaN(nowMs)) throw new UsageError('the current time given to the manifest parser is not a valid date');
  const source = parseYamlSource(path, text);
  const raw = validateYamlSource(shippedSchemaValidator(ORG_MANIFEST_SCHEMA_FILE), source, 'CONFIG_INVALID') as RawManifest;
  return {
    path,
    version: raw.version,
    organization: raw.organization,
    organizationLine: source.lineOf(['organization']),
    defaults: locateRequirements(raw.defaults, source, ['defaults']),
    classifications: (raw.classifications ?? []).map((classification, index) => ({
      name: classification.name,
      line: source.lineOf(['classifications', index]),
      match: classification.match,
      requirements: locateRequirements(classification.requirements, source, ['classifications', index, 'requirements']),
    })),
    exemptions: (raw.exemptions ?? []).map((exemption, index) => ({
      repository: exemption.repository,
      requirements: exemption.requirements,
      reason: exemption.reason,
      approver: exemption.approver,
      expires: exemption.expires,
      expired: nowMs >= Date.parse(`${exemption.expires}T00:00:00Z`) + DAY_MS,
      line: source.lineOf(['exemptions', index]),
    })),
  };
}

function locateRequirements(raw: RawRequirements, source: YamlSource, prefix: readonly (string | number)[]): GovernanceRequirements {
  const declared = <T>(value: T, ...segments: string[]): Declared<T> => ({ value, line: source.lineOf([...prefix, ...segments]) });
  const list = (values: readonly string[], field: string): DeclaredList => ({
    line: source.lineOf([...prefix, field]),
    items: values.map((value, index) => ({ value, line: source.lineOf([...prefix, field, index]) })),
  });
  const requirements: GovernanceRequirements = { line: source.lineOf(prefix) };
  if (raw.branchProtection !== undefined) {
    const protection: Record<string, Declared<boolean | number>> = {};
    for (const setting of PROTECTION_SETTINGS) {
      const value = raw.branchProtection[setting];
      if (value !== undefined) protection[setting] = declared(value, 'branchProtection', setting);
    }
    requirements.branchProtection = protection as ProtectionRequirements;
  }
  if (raw.requiredChecks !== undefined) requirements.requiredChecks = list(raw.requiredChecks, 'requiredChecks');
  if (raw.requiredWorkflows !== undefined) requirements.requiredWorkflows = list(raw.requiredWorkflows, 'requiredWorkflows');
  if (raw.defaultTokenPermissions !== undefined) {
    requirements.defaultTokenPermissions = declared(raw.defaultTokenPermissions, 'defaultTokenPermissions');
  }
  if (raw.codeowners !== undefined) {
    const codeowners: NonNullable<GovernanceRequirements['codeowners']> = {};
    if (raw.codeowners.required !== undefined) codeowners.required = declared(raw.codeowners.required, 'codeowners', 'required');
    if (raw.codeowners.allowErrors !== undefined) codeowners.allowErrors = declared(raw.codeowners.allowErrors, 'codeowners', 'allowErrors');
    requirements.codeowners = codeowners;
  }
  return requirements;
}
