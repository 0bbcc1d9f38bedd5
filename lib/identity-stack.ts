/**
 * GitHub Actions identities of one stage, through the native IAM OIDC provider
 * for token.actions.githubusercontent.com (or an imported one):
 * - the deploy role, trusted only for the configured repository's `main`
 *   branch or its `environment:<stage>`, may only assume the CDK bootstrap
 *   roles of this account and region;
 * - the PR role, trusted for the repository's pull requests, may only invoke
 *   the oracle function.
 * Both require `aud = sts.amazonaws.com` and issue sessions of at most 1 h.
 */
import { ArnFormat, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import type { StageConfig } from './config';
import type { SecureFunction } from './secure-defaults';

export interface IdentityStackProps extends StackProps {
  config: StageConfig;
  oracle: SecureFunction;
  runtime: Stack;
}

export const GITHUB_OIDC_HOST = 'token.actions.githubusercontent.com';
export const GITHUB_OIDC_AUDIENCE = 'sts.amazonaws.com';
/** The default CDK bootstrap qualifier. */
export const CDK_BOOTSTRAP_QUALIFIER = 'hnb659fds';
const BOOTSTRAP_ROLES = ['deploy', 'file-publishing', 'image-publishing', 'lookup'] as const;

export class IdentityStack extends Stack {
  readonly provider: iam.IOidcProvider;
  readonly deployRole: iam.Role;
  readonly pullRequestRole: iam.Role;
  readonly driftRole: iam.Role;

  constructor(scope: Construct, id: string, props: IdentityStackProps) {
    super(scope, id, props);
    const { config } = props;
    // Created after the oracle it may invoke (the ARN is built from its fixed name).
    this.addStackDependency(props.runtime);
    const repository = `repo:${config.github.owner}/${config.github.repo}`;

    this.provider = config.github.oidcProviderArn
      ? iam.OidcProviderNative.fromOidcProviderArn(this, 'GitHubOidcProvider', config.github.oidcProviderArn)
      : new iam.OidcProviderNative(this, 'GitHubOidcProvider', {
          url: `https://${GITHUB_OIDC_HOST}`,
          clientIds: [GITHUB_OIDC_AUDIENCE],
        });

    const trust = (subjects: string[]): iam.OpenIdConnectPrincipal =>
      new iam.OpenIdConnectPrincipal(this.provider, {
        StringEquals: {
          [`${GITHUB_OIDC_HOST}:aud`]: GITHUB_OIDC_AUDIENCE,
          [`${GITHUB_OIDC_HOST}:sub`]: subjects,
        },
      });

    this.deployRole = new iam.Role(this, 'DeployRole', {
      roleName: `phase-mirror-${config.name}-github-deploy`,
      description: `GitHub Actions deploy of ${config.github.owner}/${config.github.repo} (${config.name}): main or environment ${config.name} only`,
      assumedBy: trust([`${repository}:ref:refs/heads/main`, `${repository}:environment:${config.name}`]),
      maxSessionDuration: Duration.hours(1),
      inlinePolicies: {
        AssumeCdkBootstrapRoles: new iam.PolicyDocument({
          statements: [
            new iam.PolicyStatement({
              sid: 'AssumeCdkBootstrapRoles',
              actions: ['sts:AssumeRole'],
              resources: BOOTSTRAP_ROLES.map((role) =>
                this.formatArn({
                  service: 'iam',
                  region: '',
                  resource: 'role',
                  resourceName: `cdk-${CDK_BOOTSTRAP_QUALIFIER}-${role}-role-${config.account}-${config.region}`,
                }),
              ),
            }),
          ],
        }),
      },
    });

    // Invoking the oracle is all a check needs: tables, the nonce and the ledger stay behind the function.
    const invokeOracle = (): iam.PolicyDocument =>
      new iam.PolicyDocument({
        statements: [
          new iam.PolicyStatement({
            sid: 'InvokeOracle',
            actions: ['lambda:InvokeFunction'],
            resources: [this.formatArn({ service: 'lambda', resource: 'function', resourceName: props.oracle.functionName, arnFormat: ArnFormat.COLON_RESOURCE_NAME })],
          }),
        ],
      });

    this.pullRequestRole = new iam.Role(this, 'PullRequestRole', {
      roleName: `phase-mirror-${config.name}-github-pr-check`,
      description: `GitHub Actions pull-request checks of ${config.github.owner}/${config.github.repo} (${config.name}): invoke the oracle only`,
      assumedBy: trust([`${repository}:pull_request`]),
      maxSessionDuration: Duration.hours(1),
      inlinePolicies: { InvokeOracle: invokeOracle() },
    });

    // The scheduled drift check (.github/workflows/drift.yml) runs on main, which the PR role does not trust.
    this.driftRole = new iam.Role(this, 'DriftRole', {
      roleName: `phase-mirror-${config.name}-github-drift`,
      description: `GitHub Actions scheduled drift checks of ${config.github.owner}/${config.github.repo} (${config.name}): main only, invoke the oracle only`,
      assumedBy: trust([`${repository}:ref:refs/heads/main`]),
      maxSessionDuration: Duration.hours(1),
      inlinePolicies: { InvokeOracle: invokeOracle() },
    });
  }
}
