import { join } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { loadPolicyFile } from '../../controls/policy';
import { HUB_BUS_NAME, organizationTarget } from '../../infra/member-access';
import { MemberStack } from '../../infra/member-stack';
import { RampartStack } from '../../infra/stack';
import { resolveDefinition } from '../workflow/harness';

const ROOT = join(__dirname, '../..');
const POLICY = loadPolicyFile(join(ROOT, 'examples/organization.config.yaml'), { deploy: true });
const TARGET = organizationTarget(POLICY);
const HUB = '111122223333';

type Json = Record<string, unknown>;
type Statement = { Effect: string; Principal?: unknown; Action: string | string[]; Resource?: unknown; Condition?: Json };
const list = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** Both stacks, cdk-nag on (its errors fail the synth), bundling skipped: only the templates matter. */
function synth(): { hub: Template; member: Template } {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const hub = new RampartStack(app, 'RampartHub', { policy: POLICY, hub: TARGET, env: { account: HUB, region: 'eu-west-1' } });
  const member = new MemberStack(app, 'RampartMember', { policy: POLICY, target: TARGET, hubAccount: HUB, hubRegion: 'eu-west-1' });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  app.synth();
  return { hub: Template.fromStack(hub), member: Template.fromStack(member) };
}

/** Every identity policy statement of a template. */
function identityStatements(t: Template): Statement[] {
  return Object.values(t.findResources('AWS::IAM::Policy')).flatMap(
    (p) => (p as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument.Statement,
  );
}

/** A rule pattern with the CloudFormation of its tokens resolved to plain values (none here are tokens). */
const patternOf = (rule: unknown) => (rule as { Properties: { EventPattern: unknown } }).Properties.EventPattern;

describe('the hub and member stacks (-c mode=hub, -c mode=member)', () => {
  let hub: Template;
  let member: Template;
  beforeAll(() => ({ hub, member } = synth()));

  it("accepts PutEvents on the hub bus only from the organization's principals", () => {
    const [bus] = Object.values(hub.findResources('AWS::Events::EventBus')) as Array<{ Properties: Json }>;
    expect(bus!.Properties.Name).toBe(HUB_BUS_NAME);
    const statements = busStatements(hub);
    expect(statements.length).toBeGreaterThan(0);
    for (const s of statements) {
      expect(s.Effect).toBe('Allow');
      expect(list(s.Action)).toEqual(['events:PutEvents']);
      // a * principal never without the organization condition
      expect(s.Principal).toEqual({ AWS: '*' });
      expect(s.Condition).toEqual({ StringEquals: { 'aws:PrincipalOrgID': 'o-a1b2c3d4e5' } });
    }
  });

  it('narrows the bus to OU paths when the policy names them', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const path = 'o-a1b2c3d4e5/r-ab12/ou-ab12-c3d4e5f6/';
    const policy = { ...POLICY, organization: { ...POLICY.organization!, orgPaths: [path] } };
    const t = Template.fromStack(new RampartStack(app, 'H', { policy, hub: TARGET }));
    expect(busStatements(t)[0]!.Condition).toEqual({
      StringEquals: { 'aws:PrincipalOrgID': 'o-a1b2c3d4e5' },
      'ForAnyValue:StringLike': { 'aws:PrincipalOrgPaths': [path] },
    });
  });

  it("puts the detector rules on the hub bus, and the member rules forward exactly the hub's detector patterns to it", () => {
    const rules = Object.values(hub.findResources('AWS::Events::Rule')) as Array<{ Properties: Json }>;
    const detectorRules = rules.filter((r) => String(r.Properties.Description).startsWith('Rampart ') && r.Properties.EventBusName);
    expect(detectorRules).toHaveLength(Object.keys(POLICY.controls).length);
    for (const r of detectorRules) expect(r.Properties.EventBusName).toEqual({ Ref: expect.stringMatching(/HubBus/) });

    const forwarding = Object.values(member.findResources('AWS::Events::Rule')) as Array<{ Properties: Json }>;
    const forwarded = forwarding.filter((r) => /^Rampart [a-z0-9-]+: forwarded/.test(String(r.Properties.Description)));
    expect(forwarded.map(patternOf).sort(byJson)).toEqual(detectorRules.map(patternOf).sort(byJson));
    // the member remediate role's fixes come back from every account: excluded by name
    expect(JSON.stringify(forwarded.map(patternOf))).toContain('"anything-but":{"wildcard":"arn:*:iam::*:role/RampartRemediate"}');
    for (const r of forwarding) {
      const [target] = r.Properties.Targets as Array<{ Arn: unknown; RoleArn: unknown; DeadLetterConfig: unknown }>;
      expect(JSON.stringify(target!.Arn)).toContain(`:events:eu-west-1:${HUB}:event-bus/${HUB_BUS_NAME}`);
      expect(target!.RoleArn).toBeDefined();
      expect(target!.DeadLetterConfig).toBeDefined();
    }
  });

  it('forwards the tamper patterns of the member roles (from us-east-1) and rules, and the hub alerts on them', () => {
    const rules = member.findResources('AWS::Events::Rule');
    expect(Object.values(rules).filter((r) => JSON.stringify(patternOf(r)).includes('iam.amazonaws.com'))).toHaveLength(1);
    expect(member.toJSON().Conditions.RolesRegion).toEqual({ 'Fn::Equals': [{ Ref: 'AWS::Region' }, 'us-east-1'] });
    const hubTamper = Object.values(hub.findResources('AWS::Events::Rule')).filter((r) =>
      /member account/.test(String((r as { Properties: Json }).Properties.Description)),
    );
    const memberTamper = Object.values(rules).filter((r) => /changes of/.test(String((r as { Properties: Json }).Properties.Description)));
    expect(hubTamper.map(patternOf).sort(byJson)).toEqual(memberTamper.map(patternOf).sort(byJson));
  });

  it("lets only the hub's roles of each prefix, from the organization, assume the member roles", () => {
    const roles = member.findResources('AWS::IAM::Role', { Properties: { RoleName: 'RampartRead' } });
    const remediate = member.findResources('AWS::IAM::Role', { Properties: { RoleName: 'RampartRemediate' } });
    for (const [found, prefix] of [
      [roles, 'RampartHub-read-'],
      [remediate, 'RampartHub-remediate-'],
    ] as const) {
      const [role] = Object.values(found) as Array<{
        Condition: string;
        Properties: { AssumeRolePolicyDocument: { Statement: Statement[] } };
      }>;
      expect(role!.Condition).toBe('RolesRegion');
      const [trust, ...more] = role!.Properties.AssumeRolePolicyDocument.Statement;
      expect(more).toEqual([]);
      expect(JSON.stringify(trust!.Principal)).toContain(`:iam::${HUB}:root`);
      expect(trust!.Condition).toEqual({
        StringEquals: { 'aws:PrincipalOrgID': 'o-a1b2c3d4e5' },
        ArnLike: {
          'aws:PrincipalArn': [
            { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::${HUB}:role/${prefix}*`]] },
            'arn:aws:iam::111122223333:role/SecOps',
          ],
        },
      });
    }
    // the hub's functions are named for the role they assume, and may assume it only in the organization
    const hubRoles = Object.values(hub.findResources('AWS::IAM::Role')).map((r) => (r as { Properties: Json }).Properties.RoleName);
    expect(hubRoles.filter((n) => typeof n === 'string' && n.startsWith('RampartHub-remediate-'))).toEqual(['RampartHub-remediate-Apply']);
    expect(hubRoles.filter((n) => typeof n === 'string' && n.startsWith('RampartHub-read-')).length).toBe(
      Object.keys(POLICY.controls).length + 3,
    );
    const assume = identityStatements(hub).filter((s) => list(s.Action).includes('sts:AssumeRole'));
    expect(assume.length).toBe(Object.keys(POLICY.controls).length + 4);
    for (const s of assume) expect(s.Condition).toEqual({ StringEquals: { 'aws:ResourceOrgID': 'o-a1b2c3d4e5' } });
  });

  it('grants the member roles the registry permissions only, no wildcard action', () => {
    for (const t of [hub, member])
      for (const s of identityStatements(t)) for (const a of list(s.Action)) expect(a).toMatch(/^[a-z0-9-]+:[A-Za-z0-9]+$/);
    const read = identityStatements(member).flatMap((s) => list(s.Action));
    expect(read).toEqual(
      expect.arrayContaining(['s3:GetEncryptionConfiguration', 's3:PutEncryptionConfiguration', 'cloudtrail:StartLogging']),
    );
  });

  it("sweeps the organization with a Distributed Map of one Standard child per account, at the policy's concurrency and tolerance", () => {
    const resources = hub.toJSON().Resources as Record<string, { Type: string }>;
    const definition = Object.values(hub.findResources('AWS::StepFunctions::StateMachine'))
      .map((m) => JSON.parse(resolveDefinition((m as { Properties: Json }).Properties.DefinitionString, resources)) as Json)
      .find((d) => JSON.stringify(d).includes('"Each control"'))!;
    const parallel = (definition.States as Record<string, Json>)[definition.StartAt as string]!;
    expect(parallel.Type).toBe('Parallel');
    const org = (parallel.Branches as Array<{ States: Record<string, Json> }>)[1]!.States;
    expect(org['Each account']).toMatchObject({
      Type: 'Map',
      ItemsPath: '$.accounts',
      MaxConcurrency: POLICY.organization!.sweep.maxConcurrency,
      ToleratedFailurePercentage: POLICY.organization!.sweep.toleratedFailurePercentage,
      ResultPath: null,
      ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' } },
    });
    // the accounts function reads Organizations and nothing else; ListAccounts is offered on * only
    const accounts = Object.entries(hub.findResources('AWS::IAM::Policy')).filter(([id]) => id.includes('AccountsFunction'));
    const actions = accounts.flatMap(([, p]) =>
      (p as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument.Statement.flatMap((st) =>
        list(st.Action).map((a) => [a, st.Resource] as const),
      ),
    );
    expect(actions.filter(([a]) => a.startsWith('organizations:')).map(([a, r]) => [a, r === '*'])).toEqual([
      ['organizations:ListAccounts', true],
      ['organizations:ListAccountsForParent', false],
      ['organizations:ListOrganizationalUnitsForParent', false],
    ]);
    expect(Object.keys(hub.findResources('AWS::CloudWatch::Alarm')).some((id) => id.includes('UnreachableAccounts'))).toBe(true);
  });

  it('makes a member template for StackSets: no assets, no bootstrap parameter', () => {
    const json = member.toJSON() as { Parameters?: Json; Rules?: Json };
    expect(json.Parameters ?? {}).toEqual({});
    expect(json.Rules ?? {}).toEqual({});
    expect(member.findResources('AWS::Lambda::Function')).toEqual({});
  });
});

/** The statements of the hub bus's resource policy (AWS::Events::EventBusPolicy, one per statement). */
function busStatements(t: Template): Statement[] {
  return Object.values(t.findResources('AWS::Events::EventBusPolicy')).map(
    (p) => (p as { Properties: { Statement: Statement } }).Properties.Statement,
  );
}

const byJson = (a: unknown, b: unknown) => JSON.stringify(a).localeCompare(JSON.stringify(b));
