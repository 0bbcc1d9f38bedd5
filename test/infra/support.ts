/**
 * Synthesizing stages for the infrastructure tests: the feature flags of
 * cdk.json (so tests and `npm run synth` build the same templates), the
 * cdk-nag packs as in bin/, and bundling skipped unless asked for.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App, type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { parseStageConfig, type StageConfig } from '../../lib/config';
import { addNagPacks } from '../../lib/nag';
import { PROJECT_ROOT } from '../../lib/project-root';
import { PhaseMirrorStage } from '../../lib/stage';

// The CloudFormation schema validation built into aws-cdk-lib costs ~8 s per
// process to start; the security properties are asserted here and by cdk-nag.
process.env.CDK_VALIDATION = 'false';

interface CdkJson {
  app: string;
  context: Record<string, unknown> & { stages: Record<string, unknown> };
}

export const CDK_JSON: CdkJson = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as CdkJson;

/** The raw `stages.<name>` context of cdk.json. */
export function rawStage(name: string): Record<string, unknown> {
  const raw = CDK_JSON.context.stages[name];
  if (raw === undefined) throw new Error(`cdk.json has no stage ${name}`);
  return JSON.parse(JSON.stringify(raw)) as Record<string, unknown>;
}

/** A stage configuration: cdk.json's `staging` with `overrides` applied to the raw context. */
export function stageConfig(name = 'staging', overrides: Record<string, unknown> = {}, from = 'staging'): StageConfig {
  return parseStageConfig(name, { ...rawStage(from), ...overrides });
}

const outdirs: string[] = [];
afterAll(() => {
  for (const dir of outdirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

export interface SynthesizedStage {
  app: App;
  stage: PhaseMirrorStage;
  templates: { stateful: Template; runtime: Template; monitoring: Template; identity: Template };
  /** Every stack template as JSON. */
  json: Record<string, unknown>[];
  /** The validation report CDK wrote for the synthesis. */
  report: ValidationReport;
  outdir: string;
}

export interface ValidationReport {
  pluginReports: { pluginName: string; conclusion: string; violations: { ruleName: string; severity: string; violatingConstructs: { constructPath: string }[] }[] }[];
}

/** Builds and synthesizes stages (with the nag packs), bundling only when asked. */
export function synthesize(configs: StageConfig[], options: { bundle?: boolean; extend?: (app: App, stages: PhaseMirrorStage[]) => void } = {}): SynthesizedStage[] {
  const context = { ...CDK_JSON.context } as Record<string, unknown>;
  delete context.stages;
  context['aws:cdk:bundling-stacks'] = options.bundle === true ? ['**'] : [];
  const outdir = mkdtempSync(path.join(tmpdir(), 'phase-mirror-cdk-'));
  outdirs.push(outdir);
  const app = new App({ context, outdir });
  const stages = configs.map((config) => new PhaseMirrorStage(app, config.name, { config }));
  options.extend?.(app, stages);
  addNagPacks(app);
  app.synth();
  const report = readReport(outdir);
  return stages.map((stage) => {
    const stacks: Stack[] = [stage.stateful, stage.runtime, stage.monitoring, stage.identity];
    const templates = {
      stateful: Template.fromStack(stage.stateful),
      runtime: Template.fromStack(stage.runtime),
      monitoring: Template.fromStack(stage.monitoring),
      identity: Template.fromStack(stage.identity),
    };
    return { app, stage, templates, json: stacks.map((stack) => Template.fromStack(stack).toJSON()), report, outdir };
  });
}

export function synthesizeOne(config: StageConfig = stageConfig()): SynthesizedStage {
  return synthesize([config])[0]!;
}

export function readReport(outdir: string): ValidationReport {
  try {
    return JSON.parse(readFileSync(path.join(outdir, 'validation-report.json'), 'utf8')) as ValidationReport;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { pluginReports: [] };
    throw error;
  }
}

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown>; [key: string]: unknown }>;

/** Resources of `type` in a template, by logical id. */
export function resourcesOf(template: Template, type: string): Resources {
  return template.findResources(type) as Resources;
}

/** The one resource of `type` whose logical id starts with `prefix`. */
export function resourceNamed(template: Template, type: string, prefix: string): { id: string; Properties: Record<string, unknown>; [key: string]: unknown } {
  const matches = Object.entries(resourcesOf(template, type)).filter(([id]) => id.startsWith(prefix));
  if (matches.length !== 1) throw new Error(`expected one ${type} named ${prefix}*, found ${matches.map(([id]) => id).join(', ') || 'none'}`);
  const [id, resource] = matches[0]!;
  return { ...resource, id, Properties: resource.Properties ?? {} };
}

/** Logical id of the one resource of `type` whose id starts with `prefix`. */
export function logicalId(template: Template, type: string, prefix: string): string {
  return resourceNamed(template, type, prefix).id;
}

export interface PolicyStatementJson {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
  Principal?: unknown;
}

/** Every statement of the inline and attached (AWS::IAM::Policy) policies of the role `roleId`. */
export function roleStatements(template: Template, roleId: string): PolicyStatementJson[] {
  const role = resourcesOf(template, 'AWS::IAM::Role')[roleId];
  if (role === undefined) throw new Error(`no role ${roleId}`);
  const inline = ((role.Properties?.Policies as { PolicyDocument: { Statement: PolicyStatementJson[] } }[] | undefined) ?? []).flatMap(
    (policy) => policy.PolicyDocument.Statement,
  );
  const attached = Object.values(resourcesOf(template, 'AWS::IAM::Policy'))
    .filter((policy) => ((policy.Properties?.Roles as unknown[]) ?? []).some((ref) => JSON.stringify(ref) === JSON.stringify({ Ref: roleId })))
    .flatMap((policy) => (policy.Properties?.PolicyDocument as { Statement: PolicyStatementJson[] }).Statement);
  const managed = (role.Properties?.ManagedPolicyArns as unknown[] | undefined) ?? [];
  if (managed.length > 0) throw new Error(`role ${roleId} has managed policies: ${JSON.stringify(managed)}`);
  return [...inline, ...attached];
}

export function actionsOf(statement: PolicyStatementJson): string[] {
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}

export function resourcesOfStatement(statement: PolicyStatementJson): unknown[] {
  return Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
}
