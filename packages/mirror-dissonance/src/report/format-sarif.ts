/**
 * SARIF 2.1.0 rendering, for GitHub code scanning and other SARIF consumers.
 * One result per finding, located at each piece of evidence, fingerprinted by
 * the finding id so alerts survive unrelated edits across runs.
 */
import type { DissonanceReport, ReportEvidence, ReportItem, Severity } from '../types';
import { sortFindings } from './format-text';

export const SARIF_SCHEMA_URI = 'https://json.schemastore.org/sarif-2.1.0.json';
/** Key of the finding fingerprint in `partialFingerprints`. */
export const SARIF_FINGERPRINT_KEY = 'phaseMirror/v1';

export type SarifLevel = 'error' | 'warning' | 'note';

export interface SarifRuleInput {
  id: string;
  title: string;
  description: string;
  severity: Severity;
}

export interface SarifFormatOptions {
  /** Version of the phase-mirror tool reported in `tool.driver.version`. */
  toolVersion: string;
  /** Descriptors of the rule set that ran; rules seen only in findings get a descriptor from the finding title. */
  rules: readonly SarifRuleInput[];
  /** Optional `tool.driver.informationUri`. @default omitted */
  informationUri?: string;
}

export interface SarifMessage {
  text: string;
}

export interface SarifReportingDescriptor {
  id: string;
  name: string;
  shortDescription: SarifMessage;
  fullDescription: SarifMessage;
  defaultConfiguration: { level: SarifLevel };
  properties: { 'security-severity': string; tags: string[] };
}

export interface SarifLocation {
  physicalLocation: {
    artifactLocation: { uri: string };
    region?: { startLine: number };
  };
}

export interface SarifResult {
  ruleId: string;
  ruleIndex: number;
  level: SarifLevel;
  message: SarifMessage;
  locations?: SarifLocation[];
  partialFingerprints: Record<string, string>;
  properties: { severity: Severity; rule_version: string };
}

export interface SarifLog {
  $schema: string;
  version: '2.1.0';
  runs: [
    {
      tool: { driver: { name: 'phase-mirror'; version: string; informationUri?: string; rules: SarifReportingDescriptor[] } };
      results: SarifResult[];
      properties: { run_id: string; outcome: string; degraded: boolean; reason: string };
    },
  ];
}

const LEVELS: Readonly<Record<Severity, SarifLevel>> = {
  critical: 'error',
  high: 'error',
  medium: 'warning',
  low: 'note',
};

/** GitHub code scanning maps these scores back to critical/high/medium/low. */
const SECURITY_SEVERITY: Readonly<Record<Severity, string>> = {
  critical: '9.5',
  high: '8.0',
  medium: '5.5',
  low: '2.0',
};

/** SARIF level of a severity: critical/high ⇒ error, medium ⇒ warning, low ⇒ note. */
export function sarifLevel(severity: Severity): SarifLevel {
  return LEVELS[severity];
}

/**
 * Renders a report as a SARIF 2.1.0 log. Results carry the finding id as
 * partial fingerprint; a region is only given when the evidence has a line.
 */
export function formatSarif(report: DissonanceReport, options: SarifFormatOptions): SarifLog {
  const descriptors: SarifReportingDescriptor[] = [];
  const indexById = new Map<string, number>();
  const addDescriptor = (rule: SarifRuleInput): void => {
    if (indexById.has(rule.id)) return;
    indexById.set(rule.id, descriptors.length);
    descriptors.push({
      id: rule.id,
      name: rule.id,
      shortDescription: { text: rule.title },
      fullDescription: { text: rule.description },
      defaultConfiguration: { level: sarifLevel(rule.severity) },
      properties: { 'security-severity': SECURITY_SEVERITY[rule.severity], tags: ['security', 'governance'] },
    });
  };
  for (const rule of options.rules) addDescriptor(rule);

  const findings = sortFindings(report.items);
  for (const item of findings) {
    addDescriptor({ id: item.rule_id, title: item.title, description: item.title, severity: item.severity });
  }

  const results = findings.map((item): SarifResult => toResult(item, indexById.get(item.rule_id) as number));
  const driver: SarifLog['runs'][0]['tool']['driver'] = { name: 'phase-mirror', version: options.toolVersion, rules: descriptors };
  if (options.informationUri !== undefined) driver.informationUri = options.informationUri;
  const decision = report.machine_decision;
  return {
    $schema: SARIF_SCHEMA_URI,
    version: '2.1.0',
    runs: [
      {
        tool: { driver },
        results,
        properties: { run_id: report.meta.run_id, outcome: decision.outcome, degraded: decision.degraded, reason: decision.reason },
      },
    ],
  };
}

function toResult(item: ReportItem, ruleIndex: number): SarifResult {
  const result: SarifResult = {
    ruleId: item.rule_id,
    ruleIndex,
    level: sarifLevel(item.severity),
    message: { text: item.title },
    partialFingerprints: { [SARIF_FINGERPRINT_KEY]: item.id },
    properties: { severity: item.severity, rule_version: item.rule_version },
  };
  if (item.evidence.length > 0) result.locations = item.evidence.map(toLocation);
  return result;
}

function toLocation(evidence: ReportEvidence): SarifLocation {
  const location: SarifLocation = { physicalLocation: { artifactLocation: { uri: toUri(evidence.path) } } };
  if (evidence.line > 0) location.physicalLocation.region = { startLine: evidence.line };
  return location;
}

/** Repository-relative POSIX path as a relative URI reference (each segment percent-encoded). */
function toUri(filePath: string): string {
  return filePath.split('/').map(encodeURIComponent).join('/');
}
