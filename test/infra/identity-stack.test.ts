/**
 * The identity stack: the GitHub OIDC provider, the deploy role (main or the
 * stage's environment only, bootstrap roles only) and the pull-request role
 * (pull requests only, invoke the oracle only), both with aud =
 * sts.amazonaws.com and 1 h sessions.
 */
import type { Template } from 'aws-cdk-lib/assertions';
import { logicalId, resourceNamed, resourcesOf, roleStatements, stageConfig, synthesize, type SynthesizedStage } from './support';

const PROVIDER_ARN = 'arn:aws:iam::222222222222:oidc-provider/token.actions.githubusercontent.com';
let staging: SynthesizedStage;
let imported: SynthesizedStage;

beforeAll(() => {
  [staging, imported] = synthesize([
    stageConfig('staging'),
    stageConfig('prod', { github: { owner: 'example-org', repo: 'phase-mirror', oidcProviderArn: PROVIDER_ARN } }, 'prod'),
  ]);
});

interface TrustStatement {
  Effect: string;
  Action: string;
  Principal: { Federated: unknown };
  Condition: { StringEquals: Record<string, unknown>; [operator: string]: Record<string, unknown> };
}

function trust(template: Template, rolePrefix: string): TrustStatement[] {
  const role = resourceNamed(template, 'AWS::IAM::Role', rolePrefix);
  return (role.Properties.AssumeRolePolicyDocument as { Statement: TrustStatement[] }).Statement;
}

describe('identity stack: OIDC provider', () => {
  it('is the native IAM provider for token.actions.githubusercontent.com with the STS audience', () => {
    staging.templates.identity.resourceCountIs('AWS::IAM::OIDCProvider', 1);
    staging.templates.identity.hasResourceProperties('AWS::IAM::OIDCProvider', {
      Url: 'https://token.actions.githubusercontent.com',
      ClientIdList: ['sts.amazonaws.com'],
    });
    expect(resourcesOf(staging.templates.identity, 'Custom::AWSCDKOpenIdConnectProvider')).toEqual({});
  });

  it('is imported, not created, when the stage names an existing provider', () => {
    imported.templates.identity.resourceCountIs('AWS::IAM::OIDCProvider', 0);
    for (const statement of trust(imported.templates.identity, 'DeployRole')) expect(statement.Principal).toEqual({ Federated: PROVIDER_ARN });
  });
});

describe('identity stack: deploy role', () => {
  it('trusts only the main branch and the stage environment of the configured repository, for the STS audience', () => {
    const statements = trust(staging.templates.identity, 'DeployRole');
    expect(statements).toEqual([
      {
        Effect: 'Allow',
        Action: 'sts:AssumeRoleWithWebIdentity',
        Principal: { Federated: { Ref: logicalId(staging.templates.identity, 'AWS::IAM::OIDCProvider', 'GitHubOidcProvider') } },
        Condition: {
          StringEquals: {
            'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com',
            'token.actions.githubusercontent.com:sub': ['repo:example-org/phase-mirror:ref:refs/heads/main', 'repo:example-org/phase-mirror:environment:staging'],
          },
        },
      },
    ]);
  });

  it('does not trust pull requests, other branches or wildcards', () => {
    const text = JSON.stringify(trust(staging.templates.identity, 'DeployRole'));
    expect(text).not.toContain('pull_request');
    expect(text).not.toContain('*');
    expect(text).not.toContain('StringLike');
  });

  it('may only assume the CDK bootstrap roles of its account and region, for at most an hour', () => {
    const role = resourceNamed(staging.templates.identity, 'AWS::IAM::Role', 'DeployRole');
    expect(role.Properties.MaxSessionDuration).toBe(3600);
    expect(roleStatements(staging.templates.identity, role.id)).toEqual([
      {
        Sid: 'AssumeCdkBootstrapRoles',
        Effect: 'Allow',
        Action: 'sts:AssumeRole',
        Resource: ['deploy', 'file-publishing', 'image-publishing', 'lookup'].map((name) => `arn:aws:iam::111111111111:role/cdk-hnb659fds-${name}-role-111111111111-us-east-1`),
      },
    ]);
  });
});

describe('identity stack: pull-request role', () => {
  it("trusts only the repository's pull requests, for the STS audience", () => {
    const statements = trust(staging.templates.identity, 'PullRequestRole');
    expect(statements).toHaveLength(1);
    expect(statements[0]!.Action).toBe('sts:AssumeRoleWithWebIdentity');
    expect(statements[0]!.Condition).toEqual({
      StringEquals: {
        'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com',
        'token.actions.githubusercontent.com:sub': ['repo:example-org/phase-mirror:pull_request'],
      },
    });
  });

  it('has a single permission: invoke the oracle function, for at most an hour', () => {
    const role = resourceNamed(staging.templates.identity, 'AWS::IAM::Role', 'PullRequestRole');
    expect(role.Properties.MaxSessionDuration).toBe(3600);
    expect(roleStatements(staging.templates.identity, role.id)).toEqual([
      { Sid: 'InvokeOracle', Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: 'arn:aws:lambda:us-east-1:111111111111:function:phase-mirror-staging-oracle' },
    ]);
  });

  it('names the function the runtime stack creates', () => {
    staging.templates.runtime.hasResourceProperties('AWS::Lambda::Function', { FunctionName: 'phase-mirror-staging-oracle' });
  });
});

describe('identity stack: drift role', () => {
  it('trusts only the main branch of the repository (scheduled runs), for the STS audience', () => {
    const statements = trust(staging.templates.identity, 'DriftRole');
    expect(statements).toHaveLength(1);
    expect(statements[0]!.Condition).toEqual({
      StringEquals: {
        'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com',
        'token.actions.githubusercontent.com:sub': ['repo:example-org/phase-mirror:ref:refs/heads/main'],
      },
    });
  });

  it('has a single permission: invoke the oracle function, for at most an hour', () => {
    const role = resourceNamed(staging.templates.identity, 'AWS::IAM::Role', 'DriftRole');
    expect(role.Properties.MaxSessionDuration).toBe(3600);
    expect(roleStatements(staging.templates.identity, role.id)).toEqual([
      { Sid: 'InvokeOracle', Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: 'arn:aws:lambda:us-east-1:111111111111:function:phase-mirror-staging-oracle' },
    ]);
  });
});
