#!/usr/bin/env node
/**
 * The CDK app: one Stage per environment of the `stages` context in cdk.json
 * (the only place that reads context), checked by the cdk-nag AWS Solutions
 * and Serverless packs. `npm run synth` compiles this with tsc and runs it.
 */
import { App } from 'aws-cdk-lib';
import { parseStages } from '../lib/config';
import { addNagPacks } from '../lib/nag';
import { PhaseMirrorStage } from '../lib/stage';

const app = new App();
for (const config of parseStages(app.node.tryGetContext('stages'))) {
  new PhaseMirrorStage(app, config.name, { config });
}
addNagPacks(app);
app.synth();
