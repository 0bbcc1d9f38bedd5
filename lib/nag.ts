/**
 * cdk-nag v3 rule packs (AWS Solutions and Serverless), registered as CDK
 * policy-validation plugins: synthesis reports every finding that is not
 * acknowledged next to its construct with `Validations.of(...).acknowledge`.
 */
import { CfnResource, Stack, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';
import type { IConstruct } from 'constructs';

export const NAG_PACK_NAMES = ['AwsSolutions', 'Serverless'] as const;

export function addNagPacks(scope: IConstruct): void {
  Validations.of(scope).addPlugins(new AwsSolutionsChecks(scope, { verbose: true }), new ServerlessChecks(scope, { verbose: true }));
}

/**
 * Acknowledges AwsSolutions-IAM5 for one wildcard resource of `on`'s policies,
 * named the way cdk-nag names the finding (the resolved, flattened ARN).
 * Only for values without cross-stack references (those resolve at synthesis).
 */
export function acknowledgeWildcardResource(on: IConstruct, resource: string, reason: string): void {
  const flattened = flattenCfnReference(Stack.of(on).resolve(resource));
  Validations.of(on).acknowledge({ id: `AwsSolutions-IAM5[Resource::${flattened}]`, reason });
}


/** The CloudFormation resource a construct stands for: itself, or its default child (L2 constructs). */
function cfnResourceOf(construct: IConstruct): CfnResource {
  if (CfnResource.isCfnResource(construct)) return construct;
  const child = construct.node.defaultChild;
  if (child !== undefined && CfnResource.isCfnResource(child)) return child;
  throw new Error(`${construct.node.path} has no CloudFormation resource to annotate`);
}

/**
 * Skips one checkov check for one resource (`npm run check:templates`), with the
 * reason in the template: resource Metadata `checkov.skip[{ id, comment }]`,
 * which checkov reports as skipped with this comment. Never a global skip.
 */
export function skipCheckov(on: IConstruct, id: string, comment: string): void {
  const resource = cfnResourceOf(on);
  const current = (resource.getMetadata('checkov') as { skip?: { id: string; comment: string }[] } | undefined)?.skip ?? [];
  resource.addMetadata('checkov', { skip: [...current.filter((entry) => entry.id !== id), { id, comment }] });
}

/**
 * Ignores cfn-lint rules for one resource (resource Metadata
 * `cfn-lint.config.ignore_checks`). cfn-lint has no field for a reason: the
 * caller states it in `reason`, kept in the template as `cfn-lint.reasons`.
 */
export function ignoreCfnLint(on: IConstruct, rule: string, reason: string): void {
  const resource = cfnResourceOf(on);
  const current = (resource.getMetadata('cfn-lint') as { config?: { ignore_checks?: string[] }; reasons?: Record<string, string> } | undefined) ?? {};
  const checks = new Set([...(current.config?.ignore_checks ?? []), rule]);
  resource.addMetadata('cfn-lint', { config: { ignore_checks: [...checks] }, reasons: { ...current.reasons, [rule]: reason } });
}
