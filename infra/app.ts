import { existsSync } from 'node:fs';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { PolicyError } from '../core/errors';
import { loadPolicyFile } from '../controls/policy';
import { NO_POLICY_MESSAGE, POLICY_FILE_NAME, policyNotice, resolvePolicyLocation } from '../core/policy-location';
import { IamAlertsStack } from './iam-alerts-stack';
import { organizationTarget } from './member-access';
import { MemberStack } from './member-stack';
import { RampartStack } from './stack';

/**
 * `npx cdk synth|deploy [-c config=rampart.config.yaml] [-c trail=true] [-c stackName=Rampart]
 * [-c region=eu-west-1] [-c iamAlerts=true] [-c mode=hub|member]`. `mode=hub` is the
 * organization's hub; `mode=member` (with `-c hubAccount=<id> -c hubRegion=<region>`) the
 * template of the member StackSet; no mode, the guard of one account (README, "Organizations"). The policy is read and validated here: a bad file
 * fails the synth with the field's path. `iamAlerts` adds a us-east-1 stack forwarding IAM role
 * changes to the guard's region (`--all` deploys both); it needs the region, from `-c region` or
 * the AWS profile's default.
 */
const app = new App();
const context = (key: string) => app.node.tryGetContext(key) as string | undefined;
// the CLI's resolution order (core/policy-location.ts): -c config=, RAMPART_CONFIG, ./rampart.config.yaml
const location = resolvePolicyLocation({
  flag: context('config'),
  env: process.env.RAMPART_CONFIG || undefined,
  local: POLICY_FILE_NAME,
  exists: existsSync,
});
if (!location) {
  process.stderr.write(`${NO_POLICY_MESSAGE.replace('--config <file>', '-c config=<file>')}\n`);
  process.exit(1);
}
process.stderr.write(`${policyNotice(location)}\n`);
const file = location.file;
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
/** The stacks this app can make, by `-c mode`. */
const DEPLOY_MODES = ['single', 'hub', 'member'] as const;
const mode = (context('mode') ?? 'single') as (typeof DEPLOY_MODES)[number];
const fail = (message: string): never => {
  process.stderr.write(`${message}\n`);
  process.exit(1);
};
if (!DEPLOY_MODES.includes(mode)) fail(`-c mode=${mode}: expected one of ${DEPLOY_MODES.join(', ')}`);
let target;
try {
  target = mode === 'single' ? undefined : organizationTarget(policy);
} catch (error) {
  fail((error as Error).message);
}
if (mode === 'member') {
  const hubAccount = context('hubAccount');
  const hubRegion = context('hubRegion');
  if (!hubAccount || !/^\d{12}$/.test(hubAccount)) fail('-c mode=member needs -c hubAccount=<the hub stack account id, 12 digits>');
  if (!hubRegion || !/^[a-z]{2}(-[a-z]+)+-\d$/.test(hubRegion)) fail('-c mode=member needs -c hubRegion=<the hub stack region>');
  new MemberStack(app, context('stackName') ?? 'RampartMember', {
    policy,
    target: target!,
    hubAccount: hubAccount!,
    hubRegion: hubRegion!,
    rolesRegion: context('rolesRegion'),
    description: 'Rampart member: forwards the guarded events to the hub; the read and remediate roles the hub assumes',
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
}
const iamAlerts = mode !== 'member' && String(context('iamAlerts')) === 'true';
// the stack stays environment-agnostic unless a region is named or the forwarder needs one
const region = context('region') ?? (iamAlerts ? process.env.CDK_DEFAULT_REGION : undefined);
if (iamAlerts && !region) {
  process.stderr.write("-c iamAlerts=true needs the guard's region: add -c region=<region> (or set a default region in the AWS profile)\n");
  process.exit(1);
}
const env = region ? { account: process.env.CDK_DEFAULT_ACCOUNT, region } : undefined;
const forward = iamAlerts && region !== 'us-east-1';
const stackName = context('stackName') ?? (mode === 'hub' ? 'RampartHub' : 'Rampart');
if (mode !== 'member') {
  new RampartStack(app, stackName, {
    policy,
    env,
    createTrail: String(context('trail')) === 'true',
    iamEventsForwarded: forward,
    hub: target,
    description: mode === 'hub' ? 'Rampart hub: the guard of an organization' : 'Rampart: continuous-remediation guard',
  });
  if (forward)
    new IamAlertsStack(app, `${stackName}IamAlerts`, {
      guardRegion: region!,
      env,
      description: `Rampart: forwards IAM role changes to ${region}`,
    });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
}
