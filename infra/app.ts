import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { PolicyError } from '../core/errors';
import { loadPolicyFile } from '../core/policy';
import { RampartStack } from './stack';
import { acknowledgeNagFindings } from './nag';

/**
 * `npx cdk synth|deploy [-c config=rampart.config.yaml] [-c trail=true] [-c stackName=Rampart]`.
 * The policy is read and validated here: a bad file fails the synth with the field's path.
 */
const app = new App();
const file = (app.node.tryGetContext('config') as string | undefined) ?? 'rampart.config.yaml';
let policy;
try {
  policy = loadPolicyFile(file, { deploy: true });
} catch (error) {
  if (error instanceof PolicyError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  throw error;
}
const stack = new RampartStack(app, (app.node.tryGetContext('stackName') as string | undefined) ?? 'Rampart', {
  policy,
  createTrail: String(app.node.tryGetContext('trail')) === 'true',
  description: 'Rampart: continuous-remediation guard',
});
acknowledgeNagFindings(stack);
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
