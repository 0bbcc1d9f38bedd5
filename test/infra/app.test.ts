/**
 * The whole app as bin/ builds it from cdk.json: cdk-nag (AWS Solutions and
 * Serverless) with zero unacknowledged findings, every acknowledgment with a
 * reason and a finding it answers, no SecureString (or any SSM parameter) in
 * a template, and the typed stage configuration.
 */
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks, ServerlessChecks, type NagPack } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { parseStageConfig, parseStages } from '../../lib/config';
import { NAG_PACK_NAMES } from '../../lib/nag';
import { CDK_JSON, rawStage, stageConfig, synthesize, type SynthesizedStage } from './support';

let stages: SynthesizedStage[];

beforeAll(() => {
  // Both stages of cdk.json, plus an ephemeral one with every optional feature.
  stages = synthesize([...parseStages(CDK_JSON.context.stages), stageConfig('sandbox', { ephemeral: true, mlDsaEpochSigning: true, epochSize: 256 })]);
});

interface Acknowledgment {
  path: string;
  id: string;
  reason: unknown;
}

function acknowledgments(root: IConstruct): Acknowledgment[] {
  const found: Acknowledgment[] = [];
  const walk = (construct: IConstruct): void => {
    for (const entry of construct.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(entry.data as Record<string, unknown>)) found.push({ path: construct.node.path, id: id.replace(/^annotation::/i, ''), reason });
    }
    construct.node.children.forEach(walk);
  };
  walk(root);
  return found;
}

/** What the packs find when acknowledgments are ignored. */
function rawFindings(root: IConstruct): { ruleName: string; path: string }[] {
  const packs: NagPack[] = [new AwsSolutionsChecks(), new ServerlessChecks()];
  return packs.flatMap((pack) => {
    (pack as unknown as { isAcknowledged: () => boolean }).isAcknowledged = () => false;
    return pack.validateScope(root).violations.flatMap((violation) => violation.violatingResources.map((resource) => ({ ruleName: violation.ruleName, path: resource.constructPath ?? '' })));
  });
}

describe('cdk-nag', () => {
  it('reports no unacknowledged AwsSolutions or Serverless finding for any stage', () => {
    const report = stages[0]!.report;
    const nag = report.pluginReports.filter((plugin) => (NAG_PACK_NAMES as readonly string[]).includes(plugin.pluginName));
    expect(nag.flatMap((plugin) => plugin.violations.map((violation) => `${violation.ruleName} at ${violation.violatingConstructs.map((c) => c.constructPath).join(', ')}`))).toEqual([]);
  });

  it('does report findings on a construct without the secure defaults (the packs run)', () => {
    // Prepare: a bare function next to the stage, without DLQ, log group, memory size or tracing.
    const bare = (): SynthesizedStage[] =>
      synthesize([stageConfig()], {
        extend: (app) => {
          const stack = new Stack(app, 'Bare', { env: { account: '111111111111', region: 'us-east-1' } });
          new lambda.Function(stack, 'Bare', { runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler = async () => 1;'), timeout: Duration.seconds(3) });
        },
      });

    // Act
    let message = '';
    try {
      bare();
    } catch (error) {
      message = (error as Error).message;
    }

    // Assess: synthesis fails with the findings of both packs on that function only.
    expect(message).toMatch(/AwsSolutions-IAM4/);
    expect(message).toMatch(/Serverless-LambdaDLQ/);
    expect(message).toContain('Bare/Bare');
    expect(message).not.toContain('staging/Runtime');
  });

  it('gives every acknowledgment a reason, next to a construct that has the finding', () => {
    const app = stages[0]!.app;
    const acks = acknowledgments(app);
    const findings = rawFindings(app);
    expect(acks.length).toBeGreaterThan(0);
    for (const ack of acks) {
      expect(typeof ack.reason).toBe('string');
      expect((ack.reason as string).length).toBeGreaterThan(30);
      const answered = findings.some((finding) => finding.ruleName === ack.id && (finding.path === ack.path || finding.path.startsWith(`${ack.path}/`)));
      if (!answered) throw new Error(`acknowledgment ${ack.id} at ${ack.path} answers no finding`);
    }
  });

  it('acknowledges no rule at stack or stage level', () => {
    const app = stages[0]!.app;
    const scopes = new Set(acknowledgments(app).map((ack) => ack.path.split('/').length));
    expect(Math.min(...scopes)).toBeGreaterThan(2);
  });
});

describe('templates', () => {
  it('contain no SecureString and no SSM parameter (the rotation function creates the nonce)', () => {
    for (const stage of stages) {
      for (const template of stage.json) {
        const text = JSON.stringify(template);
        expect(text).not.toContain('SecureString');
        const types = Object.values((template as { Resources: Record<string, { Type: string }> }).Resources).map((resource) => resource.Type);
        expect(types.filter((type) => type.startsWith('AWS::SSM::'))).toEqual([]);
        // No 64-hex value (the shape of a nonce) anywhere.
        expect(text).not.toMatch(/\b[0-9a-f]{64}\b(?!\.zip)/);
      }
    }
  });

  it('name every stack phase-mirror-<stage>-<part> in the stage account and region', () => {
    const prod = stages.find((stage) => stage.stage.stageName === 'prod')!;
    expect([prod.stage.stateful, prod.stage.runtime, prod.stage.monitoring, prod.stage.identity].map((stack) => [stack.stackName, stack.account, stack.region])).toEqual([
      ['phase-mirror-prod-stateful', '222222222222', 'us-east-1'],
      ['phase-mirror-prod-runtime', '222222222222', 'us-east-1'],
      ['phase-mirror-prod-monitoring', '222222222222', 'us-east-1'],
      ['phase-mirror-prod-identity', '222222222222', 'us-east-1'],
    ]);
  });
});

describe('stage configuration', () => {
  it('reads both stages of cdk.json with their differences', () => {
    const [staging, prod] = parseStages(CDK_JSON.context.stages);
    expect(staging).toMatchObject({ name: 'staging', ephemeral: true, logRetention: 30 });
    expect(prod).toMatchObject({ name: 'prod', ephemeral: false, logRetention: 365 });
    expect(staging!.nonceRotationRate.toHours()).toBe(12);
    expect(prod!.nonceRotationRate.toHours()).toBe(24);
  });

  it('names the context path of an invalid value', () => {
    expect(() => parseStageConfig('prod', { ...rawStage('prod'), account: '12345' })).toThrow(/stages\.prod\.account: must be a string matching/);
    expect(() => parseStageConfig('prod', { ...rawStage('prod'), nonceRotationRate: 'daily' })).toThrow(/stages\.prod\.nonceRotationRate: must be "<n> minutes\|hours\|days"/);
    expect(() => parseStageConfig('prod', { ...rawStage('prod'), github: { owner: 'a b', repo: 'r' } })).toThrow(/stages\.prod\.github\.owner/);
    expect(() => parseStageConfig('prod', { ...rawStage('prod'), logRetentionDays: 31 })).toThrow(/stages\.prod\.logRetentionDays: must be one of/);
    expect(() => parseStageConfig('Prod', rawStage('prod'))).toThrow(/stages\.Prod: a stage name/);
  });

  it('refuses rates the heartbeat alarms cannot watch', () => {
    expect(() => parseStageConfig('prod', { ...rawStage('prod'), nonceRotationRate: '4 days' })).toThrow(/at most 3 days/);
    expect(() => parseStageConfig('prod', { ...rawStage('prod'), nonceRotationRate: '30 minutes' })).toThrow(/at least 1 hour/);
    expect(() => parseStageConfig('prod', { ...rawStage('prod'), epochSealingRate: '4 days' })).toThrow(/epochSealingRate: must be at most 3 days/);
    expect(() => parseStageConfig('prod', { ...rawStage('prod'), epochSealingRate: '1 minute' })).toThrow(/epochSealingRate: must be at least 5 minutes/);
  });

  it('accepts only an OIDC provider ARN for GitHub', () => {
    const github = { owner: 'o', repo: 'r', oidcProviderArn: 'arn:aws:iam::222222222222:oidc-provider/example.com' };
    expect(() => parseStageConfig('prod', { ...rawStage('prod'), github })).toThrow(/github\.oidcProviderArn/);
  });
});
