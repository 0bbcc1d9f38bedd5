/**
 * cdk-nag v3 rule packs (AWS Solutions and Serverless), registered as CDK
 * policy-validation plugins: synthesis reports every finding that is not
 * acknowledged next to its construct with `Validations.of(...).acknowledge`.
 */
import { Stack, Validations } from 'aws-cdk-lib';
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

