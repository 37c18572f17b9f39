import { CreateDeploymentCommand, GetRestApiCommand, UpdateRestApiCommand } from '@aws-sdk/client-api-gateway';
import { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { createAwsClients } from '../../core/aws';
import type { Finding } from '../../core/finding';
import { InMemoryFixLedger } from '../../core/fix-budget';
import { InMemoryLastKnownGood } from '../../core/last-known-good';
import type { Policy } from '../../core/policy';
import { resourceKey } from '../../core/resource-key';
import { ALL_CONTROLS, DETECTORS } from '../../controls';
import { restApiRef } from '../../detectors/apigateway-resources';
import { apigatewayPrivateEndpoint, evaluatePrivateEndpoint, type PrivateEndpointState } from '../../detectors/apigateway-private-endpoint';
import { parseResourcePolicy, resourcePolicyProblem } from '../../detectors/apigateway-resource-policy';
import { judgeEvent } from '../../detectors/judge';
import { EventRouter } from '../../detectors/router';
import { PRIVATE_DEPLOYMENT_DESCRIPTION, planPrivateEndpoint } from '../../remediators/apigateway-private-endpoint';
import { remediate, type RemediationContext } from '../../remediators/remediate';
import { FakeAws } from '../fakes';
import { fixtureEvent, policy } from '../helpers';

const ID = 'apigateway-private-endpoint';
const API_ID = 'q1w2e3r4t5';
const API = `arn:aws:apigateway:us-east-1::/restapis/${API_ID}`;
const VPCE = 'vpce-0a1b2c3d4e5f60718';
const OTHER_VPCE = 'vpce-0f9e8d7c6b5a40312';
const POLICY = policy({
  controls: { [ID]: { apis: { [API_ID]: { vpcEndpointIds: [VPCE], vpcs: ['vpc-0123456789abcdef0'] } } } },
  approvals: { approvers: { emails: ['alice@example.com'] } },
});
const controlPolicy = POLICY.controls[ID]!;
const router = new EventRouter(DETECTORS);
const ref = restApiRef('us-east-1', API_ID, '111122223333');
const finding = { control: ID, resourceArn: API, account: '111122223333' } as Finding;

/** The standard private API resource policy: deny unless from the allowed endpoint, allow the rest. */
const GUARDED = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Deny',
      Principal: '*',
      Action: 'execute-api:Invoke',
      Resource: 'execute-api:/*',
      Condition: { StringNotEquals: { 'aws:SourceVpce': VPCE } },
    },
    { Effect: 'Allow', Principal: '*', Action: 'execute-api:Invoke', Resource: 'execute-api:/*' },
  ],
});
const OPEN = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Principal: '*', Action: 'execute-api:Invoke', Resource: `arn:aws:execute-api:us-east-1:111122223333:${API_ID}/*` },
  ],
});
/** GetRestApi's form of a policy document: quotes and slashes escaped. */
const escaped = (doc: string) => doc.replace(/"/g, '\\"').replace(/\//g, '\\/');

const state = (fields: Partial<PrivateEndpointState> = {}): PrivateEndpointState => ({
  types: ['PRIVATE'],
  vpcEndpointIds: [VPCE],
  policy: GUARDED,
  stages: ['prod'],
  ...fields,
});

function violationOf(name: string): Finding {
  for (const j of judgeEvent(fixtureEvent(name), POLICY, router).judgements)
    if (j.control === ID && j.outcome === 'violation') return j.finding;
  throw new Error(`${name} yields no ${ID} finding`);
}

describe('resource policies of private APIs', () => {
  const allowed = { vpcEndpointIds: [VPCE], vpcs: ['vpc-0123456789abcdef0'] };
  const judge = (doc: unknown) => resourcePolicyProblem(parseResourcePolicy(JSON.stringify(doc))!, allowed);
  const allow = { Effect: 'Allow', Principal: '*', Action: 'execute-api:Invoke', Resource: 'execute-api:/*' };

  it('reads the escaped document GetRestApi returns as well as plain JSON', () => {
    expect(parseResourcePolicy(escaped(GUARDED))).toEqual(JSON.parse(GUARDED));
    expect(parseResourcePolicy(GUARDED)).toEqual(JSON.parse(GUARDED));
    expect(parseResourcePolicy('not a policy')).toBeUndefined();
  });

  it('accepts a deny-unless-allowed-source guard, and Allows conditioned on allowed sources (keys in any case)', () => {
    expect(resourcePolicyProblem(parseResourcePolicy(GUARDED)!, allowed)).toBeUndefined();
    expect(judge({ Statement: [{ ...allow, Condition: { StringEquals: { 'aws:sourceVpce': [VPCE] } } }] })).toBeUndefined();
    expect(judge({ Statement: [{ ...allow, Condition: { StringEquals: { 'aws:SourceVpc': 'vpc-0123456789abcdef0' } } }] })).toBeUndefined();
  });

  it('refuses an unconditioned Allow, a source the policy does not allow, IfExists, and a guard that leaves methods out', () => {
    expect(judge({ Statement: [allow] })).toBe('statement 1 allows requests from other sources');
    expect(judge({ Statement: [{ ...allow, Sid: 'Partners', Condition: { StringEquals: { 'aws:SourceVpce': OTHER_VPCE } } }] })).toBe(
      'statement Partners allows requests from other sources',
    );
    expect(judge({ Statement: [{ ...allow, Condition: { StringEqualsIfExists: { 'aws:SourceVpce': VPCE } } }] })).toBeDefined();
    const partialGuard = {
      Effect: 'Deny',
      Principal: '*',
      Action: 'execute-api:Invoke',
      Resource: 'execute-api:/prod/GET/*',
      Condition: { StringNotEquals: { 'aws:SourceVpce': VPCE } },
    };
    expect(judge({ Statement: [partialGuard, allow] })).toBe('statement 2 allows requests from other sources');
  });
});

describe('apigateway-private-endpoint', () => {
  it('judges only the APIs the policy marks private', () => {
    expect(evaluatePrivateEndpoint(state({ types: ['REGIONAL'] }), controlPolicy, restApiRef('us-east-1', 'zzzzzzzzzz'))).toEqual({
      status: 'compliant',
    });
    expect(evaluatePrivateEndpoint(state(), controlPolicy, ref)).toEqual({ status: 'compliant' });
  });

  it('flags a REGIONAL type, a lost or a foreign VPC endpoint, and a missing or open resource policy', () => {
    const reasonOf = (s: PrivateEndpointState) => {
      const e = evaluatePrivateEndpoint(s, controlPolicy, ref);
      return e.status === 'violation' ? e.reason : e.status;
    };
    expect(reasonOf(state({ types: ['REGIONAL'] }))).toContain('its endpoint type is REGIONAL, not PRIVATE');
    expect(reasonOf(state({ vpcEndpointIds: [OTHER_VPCE] }))).toContain(
      `allowed VPC endpoints not associated: ${VPCE}; VPC endpoints associated that the policy does not allow: ${OTHER_VPCE}`,
    );
    expect(reasonOf(state({ policy: null }))).toContain('it has no resource policy');
    expect(reasonOf(state({ policy: OPEN }))).toContain('its resource policy lets in more than the allowed VPC endpoints and VPCs');
  });

  it('refuses a private API with no allowed source in the policy', () => {
    expect(() => policy({ controls: { [ID]: { apis: { [API_ID]: {} } } } })).toThrow(/at least one allowed VPC endpoint/);
  });

  it('refuses a key that is no REST API id, naming it', () => {
    expect(() => policy({ controls: { [ID]: { apis: { 'my-api.example.com': { vpcEndpointIds: [VPCE] } } } } })).toThrow(
      /expected a REST API id/,
    );
  });

  it('judges UpdateRestApi records offline: a type turned REGIONAL, an open policy with its endpoint removed', () => {
    const regional = violationOf('apigateway-UpdateRestApi.private-to-regional-constructed.json');
    expect(regional).toMatchObject({ resourceArn: API, resourceType: 'AWS::ApiGateway::RestApi' });
    expect(regional.violation).toContain('its endpoint type is REGIONAL, not PRIVATE');

    const open = violationOf('apigateway-UpdateRestApi.open-policy-constructed.json');
    expect(open.violation).toContain(`allowed VPC endpoints not associated: ${VPCE}`);
    expect(open.violation).toContain('statement 1 allows requests from other sources');
  });

  it('judges a CreateRestApi without a resource policy, and leaves PutRestApi to a read', () => {
    expect(violationOf('apigateway-CreateRestApi.private-no-policy-constructed.json').violation).toContain('it has no resource policy');
    const put = judgeEvent(fixtureEvent('apigateway-PutRestApi.overwrite-constructed.json'), POLICY, router).judgements.find(
      (j) => j.control === ID,
    );
    expect(put?.outcome).toBe('unknown');
  });

  it('plans one UpdateRestApi back to PRIVATE, the allowed endpoints and the last known good policy, then deploys', () => {
    const drifted = state({ types: ['REGIONAL'], vpcEndpointIds: [OTHER_VPCE], policy: OPEN, stages: ['prod', 'beta'] });

    expect(planPrivateEndpoint(finding, drifted, controlPolicy, state())).toEqual({
      change: {
        service: 'apigateway',
        operation: 'UpdateRestApi',
        region: 'us-east-1',
        input: {
          restApiId: API_ID,
          patchOperations: [
            { op: 'replace', path: '/endpointConfiguration/types/REGIONAL', value: 'PRIVATE' },
            { op: 'add', path: '/endpointConfiguration/vpcEndpointIds', value: VPCE },
            { op: 'remove', path: '/endpointConfiguration/vpcEndpointIds', value: OTHER_VPCE },
            { op: 'replace', path: '/policy', value: GUARDED },
          ],
        },
        followUps: ['prod', 'beta'].map((stageName) => ({
          service: 'apigateway',
          operation: 'CreateDeployment',
          region: 'us-east-1',
          input: { restApiId: API_ID, stageName, description: PRIVATE_DEPLOYMENT_DESCRIPTION },
        })),
        notice:
          'Callers outside the allowed VPC endpoints and VPCs are cut off. A resource policy or endpoint change is live only once deployed: ' +
          'each deployment (prod, beta) also ships every other undeployed change of the API.',
      },
    });
  });

  it('never writes a resource policy of its own: without a compliant last known good one, a human writes it', () => {
    for (const lastKnownGood of [undefined, state({ policy: OPEN })])
      expect(planPrivateEndpoint(finding, state({ policy: OPEN }), controlPolicy, lastKnownGood)).toEqual({
        change: null,
        reason:
          'nothing to restore. Not restored: no last known good resource policy allows only the allowed VPC endpoints and VPCs: a human must write one.',
      });
  });
});

describe('apigateway-private-endpoint against a stateful fake account', () => {
  let aws: FakeAws;
  let ctx: RemediationContext;

  beforeEach(() => {
    aws = new FakeAws();
    ctx = {
      controls: ALL_CONTROLS,
      policy: POLICY as Policy,
      clients: createAwsClients({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }),
      lastKnownGood: new InMemoryLastKnownGood(),
      fixes: new InMemoryFixLedger(),
      clock: () => new Date('2024-06-03T16:00:00Z'),
      verifyDelayMs: 1,
      sleep: async () => undefined,
    };
    // GetRestApi gives the policy back escaped, as API Gateway does
    aws.restApis.set(API_ID, {
      resources: [],
      endpointConfiguration: { types: ['REGIONAL'], vpcEndpointIds: [OTHER_VPCE] },
      policy: escaped(OPEN),
    });
    for (const stage of ['prod', 'staging']) aws.stages.set(`${API}/stages/${stage}`, { methodSettings: {} });
  });
  afterEach(() => aws.restore());

  it('finds the drifted API in a scan of every REST API', async () => {
    const refs = [];
    for await (const r of apigatewayPrivateEndpoint.list(ctx.clients)) refs.push(r);
    const observation = await apigatewayPrivateEndpoint.readState(refs[0]!, ctx.clients);

    expect(refs.map((r) => r.arn)).toEqual([API]);
    expect(observation).toMatchObject({ status: 'known', state: { types: ['REGIONAL'], vpcEndpointIds: [OTHER_VPCE], policy: OPEN } });
    expect(observation.status === 'known' && evaluatePrivateEndpoint(observation.state, controlPolicy, ref).status).toBe('violation');
  });

  it('restores PRIVATE, the allowed endpoint and the last known good policy, deploys to each stage, and reads back compliant', async () => {
    await ctx.lastKnownGood.put(resourceKey(ID, { arn: API, account: '111122223333' }), state(), new Date('2024-06-01T00:00:00Z'));

    const result = await remediate(violationOf('apigateway-UpdateRestApi.private-to-regional-constructed.json'), ctx);

    expect(result).toMatchObject({ outcome: 'remediated', change: { operation: 'UpdateRestApi' } });
    expect(aws.writes).toEqual([`UpdateRestApi ${API_ID}`, `CreateDeployment ${API_ID} prod`, `CreateDeployment ${API_ID} staging`]);
    expect(aws.apiGateway).toHaveReceivedCommandTimes(UpdateRestApiCommand, 1);
    expect(aws.apiGateway).toHaveReceivedCommandTimes(CreateDeploymentCommand, 2);
    // an independent read-back: a client of its own, GetRestApi as API Gateway answers it
    const api = await createAwsClients({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } })
      .get(APIGatewayClient)
      .send(new GetRestApiCommand({ restApiId: API_ID }));
    expect(api.endpointConfiguration).toEqual({ types: ['PRIVATE'], vpcEndpointIds: [VPCE] });
    expect(parseResourcePolicy(api.policy!)).toEqual(JSON.parse(GUARDED));
  });

  it('changes nothing of the policy without a last known good one, and says a human must write it', async () => {
    aws.restApis.get(API_ID)!.endpointConfiguration = { types: ['PRIVATE'], vpcEndpointIds: [VPCE] };

    const result = await remediate(violationOf('apigateway-UpdateRestApi.open-policy-constructed.json'), ctx);

    expect(result).toMatchObject({ outcome: 'failed', change: null });
    expect(result.reason).toContain('a human must write one');
    expect(aws.writes).toEqual([]);
  });
});
