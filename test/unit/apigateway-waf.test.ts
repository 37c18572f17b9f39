import { APIGatewayClient, GetRestApisCommand, GetTagsCommand, GetStagesCommand, NotFoundException } from '@aws-sdk/client-api-gateway';
import { GetWebACLCommand, GetWebACLForResourceCommand, WAFNonexistentItemException, WAFV2Client } from '@aws-sdk/client-wafv2';
import { mockClient } from 'aws-sdk-client-mock';
import { bucketRef } from '../../detectors/s3-resources';
import { stageRef } from '../../detectors/apigateway-resources';
import { createAwsClients } from '../../core/aws';
import { parseEvent } from '../../core/events';
import { parsePolicy } from '../../controls/policy';
import { apigatewayWaf, evaluateStageWaf, requiredWebAcl } from '../../detectors/apigateway-waf';
import { LEGACY_ACL, RAMPART_GUARD_ACL, fixture, fixtureEvent } from '../helpers';

const STAGE = stageRef('us-east-1', 'a1b2c3d4e5', 'prod');
const OTHER_ACL = 'arn:aws:wafv2:us-east-1:111122223333:regional/webacl/partner-api/5e6f7a8b-1111-4222-8333-944455556666';
const FMS_ACL =
  'arn:aws:wafv2:us-east-1:111122223333:regional/webacl/FMManagedWebACLV2-baseline-1700000000000/0f0e0d0c-1111-4222-8333-944455556666';
const wafPolicy = (input: object) => parsePolicy({ controls: { 'apigateway-waf': input } }).controls['apigateway-waf']!;

describe('apigateway-waf evaluate', () => {
  it('resolves the ACL per stage, then per API, then the default', () => {
    const policy = wafPolicy({ defaultWebAclArn: RAMPART_GUARD_ACL, stages: { 'a1b2c3d4e5/prod': OTHER_ACL, k2l3m4n5o6: LEGACY_ACL } });

    expect(requiredWebAcl(policy, STAGE)).toBe(OTHER_ACL);
    expect(requiredWebAcl(policy, stageRef('us-east-1', 'a1b2c3d4e5', 'dev'))).toBe(RAMPART_GUARD_ACL);
    expect(requiredWebAcl(policy, stageRef('us-east-1', 'k2l3m4n5o6', 'beta'))).toBe(LEGACY_ACL);
    expect(requiredWebAcl(policy, bucketRef('b'))).toBeUndefined();
  });

  it('flags a stage without any ACL', () => {
    expect(evaluateStageWaf({ webAclArn: null }, wafPolicy({ defaultWebAclArn: RAMPART_GUARD_ACL }), STAGE)).toEqual({
      status: 'violation',
      observed: { webAclArn: null },
      desired: { webAclArn: RAMPART_GUARD_ACL },
      reason: 'no WAF web ACL is attached to the stage',
    });
  });

  it('flags another ACL than the stage mapping, and accepts the mapped one', () => {
    const policy = wafPolicy({ defaultWebAclArn: RAMPART_GUARD_ACL, stages: { 'a1b2c3d4e5/prod': OTHER_ACL } });

    expect(evaluateStageWaf({ webAclArn: RAMPART_GUARD_ACL }, policy, STAGE).status).toBe('violation');
    expect(evaluateStageWaf({ webAclArn: OTHER_ACL }, policy, STAGE)).toEqual({ status: 'compliant' });
  });

  it('accepts any ACL when the policy names none, but not no ACL', () => {
    const policy = wafPolicy({});

    expect(evaluateStageWaf({ webAclArn: LEGACY_ACL }, policy, STAGE)).toEqual({ status: 'compliant' });
    expect(evaluateStageWaf({ webAclArn: null }, policy, STAGE)).toMatchObject({
      status: 'violation',
      desired: { webAclArn: 'any web ACL' },
    });
  });

  it('leaves an ACL alone that WAF says Firewall Manager manages, whatever its name', () => {
    const policy = wafPolicy({ defaultWebAclArn: RAMPART_GUARD_ACL });

    expect(evaluateStageWaf({ webAclArn: FMS_ACL, managedByFirewallManager: true }, policy, STAGE)).toEqual({ status: 'compliant' });
    expect(evaluateStageWaf({ webAclArn: OTHER_ACL, managedByFirewallManager: true }, policy, STAGE)).toEqual({ status: 'compliant' });
  });

  it("flags an ACL named like Firewall Manager's that WAF says it does not manage (an impostor)", () => {
    expect(
      evaluateStageWaf({ webAclArn: FMS_ACL, managedByFirewallManager: false }, wafPolicy({ defaultWebAclArn: RAMPART_GUARD_ACL }), STAGE),
    ).toMatchObject({
      status: 'violation',
      reason: `stage carries web ACL ${FMS_ACL}, policy requires ${RAMPART_GUARD_ACL}`,
    });
  });

  it("offline, says unknown for an ACL named like Firewall Manager's: only WAF can tell", () => {
    expect(evaluateStageWaf({ webAclArn: FMS_ACL }, wafPolicy({ defaultWebAclArn: RAMPART_GUARD_ACL }), STAGE)).toEqual({
      status: 'unknown',
      reason: `whether web ACL ${FMS_ACL} is managed by Firewall Manager takes a WAF lookup (GetWebACL)`,
    });
    expect(evaluateStageWaf({ webAclArn: OTHER_ACL }, wafPolicy({ defaultWebAclArn: RAMPART_GUARD_ACL }), STAGE).status).toBe('violation');
  });
});

describe('apigateway-waf from events', () => {
  const { resourcesFrom, stateFrom } = apigatewayWaf;

  it('reads the stage and the new ACL from AssociateWebACL', () => {
    const event = fixtureEvent('wafv2-AssociateWebACL.other-acl-adapted.json');
    const [ref] = resourcesFrom(event);

    expect(ref).toEqual({ ...STAGE, account: '111122223333' });
    expect(stateFrom(event, ref!)).toEqual({ status: 'known', state: { webAclArn: LEGACY_ACL } });
  });

  it('knows DisassociateWebACL leaves the stage without ACL', () => {
    const event = fixtureEvent('wafv2-DisassociateWebACL.rest-stage-adapted.json');
    const [ref] = resourcesFrom(event);

    expect(ref?.arn).toBe('arn:aws:apigateway:us-east-1::/restapis/f6g7h8i9j0/stages/v1');
    expect(stateFrom(event, ref!)).toEqual({ status: 'known', state: { webAclArn: null } });
  });

  it('ignores web ACL changes on resources that are not REST stages (an ALB)', () => {
    const raw = fixture('wafv2-DisassociateWebACL.rest-stage-adapted.json');
    (raw.detail as { requestParameters: Record<string, string> }).requestParameters.resourceArn =
      'arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer/app/web/50dc6c495c0c9188';

    expect(resourcesFrom(parseEvent(raw))).toEqual([]);
  });

  it('builds the stage ARN of CreateStage from restApiId, the wrapped stageName and the region', () => {
    const event = fixtureEvent('apigateway-CreateStage.rest-constructed.json');
    const [ref] = resourcesFrom(event);

    expect(ref?.arn).toBe('arn:aws:apigateway:us-east-1::/restapis/k2l3m4n5o6/stages/beta');
    expect(stateFrom(event, ref!)).toEqual({ status: 'known', state: { webAclArn: null } });
  });

  it('accepts an unwrapped CreateStage body too', () => {
    const raw = fixture('apigateway-CreateStage.rest-constructed.json');
    const params = (raw.detail as { requestParameters: Record<string, unknown> }).requestParameters;
    Object.assign(params, params.createStageInput as object);
    delete params.createStageInput;

    expect(resourcesFrom(parseEvent(raw))[0]?.arn).toBe('arn:aws:apigateway:us-east-1::/restapis/k2l3m4n5o6/stages/beta');
  });

  it('says unknown for CreateDeployment, which may target an existing stage', () => {
    const event = fixtureEvent('apigateway-CreateDeployment.with-stage-constructed.json');
    const [ref] = resourcesFrom(event);

    expect(ref?.arn).toBe('arn:aws:apigateway:us-east-1::/restapis/a1b2c3d4e5/stages/staging');
    expect(stateFrom(event, ref!).status).toBe('unknown');
  });

  it('reads configuration.webAclArn of a Config stage item, absent meaning none', () => {
    const compliant = fixtureEvent('config-ConfigurationItemChangeNotification.stage-compliant-constructed.json');
    const noAcl = fixtureEvent('config-ConfigurationItemChangeNotification.stage-no-acl-constructed.json');

    expect(stateFrom(compliant, resourcesFrom(compliant)[0]!)).toMatchObject({ status: 'known', state: { webAclArn: RAMPART_GUARD_ACL } });
    expect(stateFrom(noAcl, resourcesFrom(noAcl)[0]!)).toMatchObject({ status: 'known', state: { webAclArn: null } });
  });
});

describe('apigateway-waf readState and list', () => {
  const waf = mockClient(WAFV2Client);
  const apigw = mockClient(APIGatewayClient);
  const clients = createAwsClients({
    region: 'us-east-1',
    regions: ['us-east-1', 'eu-west-1'],
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  beforeEach(() => {
    waf.reset();
    apigw.reset();
    apigw.on(GetTagsCommand).resolves({});
  });

  it('reads the ACL with GetWebACLForResource on the stage ARN', async () => {
    waf.on(GetWebACLForResourceCommand).resolves({
      WebACL: { ARN: RAMPART_GUARD_ACL, Name: 'rampart-guard', Id: '1a2b', DefaultAction: {}, VisibilityConfig: undefined } as never,
    });

    expect(await apigatewayWaf.readState(STAGE, clients)).toEqual({ status: 'known', state: { webAclArn: RAMPART_GUARD_ACL }, tags: {} });
    expect(waf).toHaveReceivedCommandWith(GetWebACLForResourceCommand, { ResourceArn: STAGE.arn });
  });

  it('reads the stage tags too (GetTags), so a tag exemption holds for this control', async () => {
    waf.on(GetWebACLForResourceCommand).resolves({
      WebACL: { ARN: RAMPART_GUARD_ACL, Name: 'rampart-guard', Id: '1a2b', DefaultAction: {}, VisibilityConfig: undefined } as never,
    });
    apigw.on(GetTagsCommand, { resourceArn: STAGE.arn }).resolves({ tags: { 'rampart:exempt': 'true' } });

    expect(await apigatewayWaf.readState(STAGE, clients)).toEqual({
      status: 'known',
      state: { webAclArn: RAMPART_GUARD_ACL },
      tags: { 'rampart:exempt': 'true' },
    });
  });

  it('says gone when API Gateway does not find the stage', async () => {
    waf.on(GetWebACLForResourceCommand).resolves({});
    apigw.on(GetTagsCommand).rejects(new NotFoundException({ message: 'Invalid stage identifier specified', $metadata: {} }));

    expect((await apigatewayWaf.readState(STAGE, clients)).status).toBe('gone');
  });

  it('reads "no ACL" from an empty answer', async () => {
    waf.on(GetWebACLForResourceCommand).resolves({});

    expect(await apigatewayWaf.readState(STAGE, clients)).toEqual({ status: 'known', state: { webAclArn: null }, tags: {} });
  });

  it("online, asks WAF whether an ACL other than the required one is Firewall Manager's, once per ACL per client set", async () => {
    const policy = wafPolicy({ defaultWebAclArn: RAMPART_GUARD_ACL });
    const fresh = createAwsClients({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    waf
      .on(GetWebACLCommand, { Id: '0f0e0d0c-1111-4222-8333-944455556666' })
      .resolves({ WebACL: { ManagedByFirewallManager: true } as never });
    waf
      .on(GetWebACLCommand, { Id: '5e6f7a8b-1111-4222-8333-944455556666' })
      .resolves({ WebACL: { ManagedByFirewallManager: false } as never });

    const fms = await apigatewayWaf.resolveState!({ webAclArn: FMS_ACL }, policy, STAGE, fresh);
    const again = await apigatewayWaf.resolveState!({ webAclArn: FMS_ACL }, policy, stageRef('us-east-1', 'a1b2c3d4e5', 'dev'), fresh);
    const other = await apigatewayWaf.resolveState!({ webAclArn: OTHER_ACL }, policy, STAGE, fresh);
    const required = await apigatewayWaf.resolveState!({ webAclArn: RAMPART_GUARD_ACL }, policy, STAGE, fresh);

    expect([fms, again, other, required]).toEqual([
      { webAclArn: FMS_ACL, managedByFirewallManager: true },
      { webAclArn: FMS_ACL, managedByFirewallManager: true },
      { webAclArn: OTHER_ACL, managedByFirewallManager: false },
      { webAclArn: RAMPART_GUARD_ACL },
    ]);
    expect(waf).toHaveReceivedCommandTimes(GetWebACLCommand, 2);
    expect(waf).toHaveReceivedCommandWith(GetWebACLCommand, {
      Name: 'FMManagedWebACLV2-baseline-1700000000000',
      Scope: 'REGIONAL',
      Id: '0f0e0d0c-1111-4222-8333-944455556666',
    });
    expect(evaluateStageWaf(other, policy, STAGE).status).toBe('violation');
  });

  it('online, records the Firewall Manager status even when the policy accepts any ACL (it decides last-known-good)', async () => {
    const fresh = createAwsClients({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    waf.on(GetWebACLCommand).resolves({ WebACL: { ManagedByFirewallManager: true } as never });

    expect(await apigatewayWaf.resolveState!({ webAclArn: FMS_ACL }, wafPolicy({}), STAGE, fresh)).toEqual({
      webAclArn: FMS_ACL,
      managedByFirewallManager: true,
    });
  });

  it('says gone on WAFNonexistentItemException', async () => {
    waf.on(GetWebACLForResourceCommand).rejects(new WAFNonexistentItemException({ message: 'gone', $metadata: {} }));

    expect((await apigatewayWaf.readState(STAGE, clients)).status).toBe('gone');
  });

  it('lists the stages of every REST API over all pages and regions', async () => {
    apigw
      .on(GetRestApisCommand)
      .resolvesOnce({ items: [{ id: 'api1' }], position: 'p2' })
      .resolvesOnce({ items: [{ id: 'api2' }] })
      .resolves({ items: [] });
    apigw.on(GetStagesCommand, { restApiId: 'api1' }).resolves({ item: [{ stageName: 'prod' }, { stageName: 'dev' }] });
    apigw.on(GetStagesCommand, { restApiId: 'api2' }).resolves({ item: [{ stageName: 'v1' }] });

    const arns = [];
    for await (const ref of apigatewayWaf.list(clients)) arns.push(ref.arn);

    expect(arns).toEqual([
      'arn:aws:apigateway:us-east-1::/restapis/api1/stages/prod',
      'arn:aws:apigateway:us-east-1::/restapis/api1/stages/dev',
      'arn:aws:apigateway:us-east-1::/restapis/api2/stages/v1',
    ]);
    expect(apigw).toHaveReceivedCommandWith(GetRestApisCommand, { position: 'p2' });
    expect(apigw).toHaveReceivedCommandTimes(GetRestApisCommand, 3);
  });
});
