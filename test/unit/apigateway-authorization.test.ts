import { CreateDeploymentCommand, GetDeploymentCommand, UpdateMethodCommand } from '@aws-sdk/client-api-gateway';
import { createAwsClients } from '../../core/aws';
import type { Finding } from '../../core/finding';
import { InMemoryFixLedger } from '../../core/fix-budget';
import { InMemoryLastKnownGood } from '../../core/last-known-good';
import type { Policy } from '../../core/policy';
import { resourceKey } from '../../core/resource-key';
import { ALL_CONTROLS, DETECTORS } from '../../controls';
import {
  apigatewayAuthorization,
  evaluateAuthorization,
  type AuthorizationState,
  type MethodAuthorization,
} from '../../detectors/apigateway-authorization';
import { matchMethod } from '../../detectors/apigateway-method-patterns';
import { judgeEvent } from '../../detectors/judge';
import { EventRouter } from '../../detectors/router';
import { DEPLOYMENT_DESCRIPTION, planAuthorization } from '../../remediators/apigateway-authorization';
import { remediate, type RemediationContext } from '../../remediators/remediate';
import { FakeAws } from '../fakes';
import { apiSummaryOf } from '../fakes/apigateway';
import { fixtureEvent, policy } from '../helpers';

const ID = 'apigateway-authorization';
const API = 'arn:aws:apigateway:us-east-1::/restapis/a1b2c3d4e5';
const POLICY = policy({
  controls: { [ID]: { allowUnauthenticated: ['OPTIONS *', 'GET /health'], apiKeyRequired: ['* /partners/*'] } },
  approvals: { approvers: { emails: ['alice@example.com'] } },
});
const controlPolicy = POLICY.controls[ID]!;
const router = new EventRouter(DETECTORS);

const method = (httpMethod: string, path: string | undefined, fields: Partial<MethodAuthorization> = {}): MethodAuthorization => ({
  resourceId: `res-${path ?? 'x'}`,
  httpMethod,
  ...(path !== undefined ? { path } : {}),
  authorizationType: 'AWS_IAM',
  authorizerId: null,
  apiKeyRequired: false,
  ...fields,
});
const whole = (methods: MethodAuthorization[], extra: Partial<AuthorizationState> = {}): AuthorizationState => ({
  methods,
  complete: true,
  authorizers: ['au7h0r'],
  stages: ['prod', 'staging'],
  ...extra,
});
const finding = { control: ID, resourceArn: API, account: '111122223333' } as Finding;

/** The finding of this control a fixture yields. */
function violationOf(name: string): Finding {
  for (const j of judgeEvent(fixtureEvent(name), POLICY, router).judgements)
    if (j.control === ID && j.outcome === 'violation') return j.finding;
  throw new Error(`${name} yields no ${ID} finding`);
}

describe('method patterns', () => {
  it.each([
    ['OPTIONS *', 'OPTIONS', '/pets', 'yes'],
    ['OPTIONS *', 'GET', '/pets', 'no'],
    ['GET /health', 'GET', '/health', 'yes'],
    ['GET /health', 'GET', '/healthz', 'no'],
    ['GET /health', 'GET', undefined, 'maybe'],
    ['* /public/*', 'DELETE', '/public/a/b', 'yes'],
    ['get /health', 'GET', '/health', 'yes'],
  ])('%s against %s %s → %s', (pattern, verb, path, match) => {
    expect(matchMethod(pattern, verb, path)).toBe(match);
  });

  it('refuses a pattern without a method and a path in the policy', () => {
    expect(() => policy({ controls: { [ID]: { allowUnauthenticated: ['/health'] } } })).toThrow(/<HTTP method or \*>/);
  });

  it('refuses a risk other than high: every fix is approved', () => {
    expect(() => policy({ controls: { [ID]: { risk: 'low' } } } as never)).toThrow(/always need an approval/);
  });
});

describe('apigateway-authorization evaluate', () => {
  it('flags an open method the policy does not allow, and names it', () => {
    const state = whole([method('OPTIONS', '/pets', { authorizationType: 'NONE' }), method('GET', '/pets', { authorizationType: 'NONE' })]);

    expect(evaluateAuthorization(state, controlPolicy)).toMatchObject({
      status: 'violation',
      reason: 'GET /pets has no authorization',
      observed: { methods: { 'GET /pets': { authorizationType: 'NONE', authorizerId: null, apiKeyRequired: false } } },
    });
  });

  it('accepts the allowed open methods and methods with authorization', () => {
    const state = whole([
      method('OPTIONS', '/pets', { authorizationType: 'NONE' }),
      method('GET', '/health', { authorizationType: 'NONE' }),
      method('GET', '/pets', { authorizationType: 'CUSTOM', authorizerId: 'au7h0r' }),
    ]);

    expect(evaluateAuthorization(state, controlPolicy)).toEqual({ status: 'compliant' });
  });

  it('flags a method whose authorizer no longer exists', () => {
    const state = whole([method('GET', '/pets', { authorizationType: 'CUSTOM', authorizerId: 'gone42' })]);

    expect(evaluateAuthorization(state, controlPolicy)).toMatchObject({
      status: 'violation',
      reason: 'GET /pets uses authorizer gone42, which does not exist',
    });
  });

  it('flags a method the policy wants keyed that does not require an API key', () => {
    expect(evaluateAuthorization(whole([method('POST', '/partners/orders')]), controlPolicy)).toMatchObject({
      status: 'violation',
      reason: 'POST /partners/orders does not require an API key',
    });
  });

  it('says unknown for an open GET whose path the event does not give (GET /health may be open)', () => {
    const state: AuthorizationState = { methods: [method('GET', undefined, { authorizationType: 'NONE' })], complete: false };

    expect(evaluateAuthorization(state, controlPolicy).status).toBe('unknown');
  });
});

describe('apigateway-authorization events', () => {
  it('reads the UpdateMethod patch (string values) and judges an open POST a violation offline', () => {
    const event = fixtureEvent('apigateway-UpdateMethod.authorization-none-constructed.json');
    const [ref] = apigatewayAuthorization.resourcesFrom(event);

    expect(ref).toMatchObject({ type: 'AWS::ApiGateway::RestApi', arn: API, restApiId: 'a1b2c3d4e5', account: '111122223333' });
    expect(apigatewayAuthorization.stateFrom(event, ref!)).toEqual({
      status: 'known',
      state: {
        methods: [{ resourceId: 'r7s8t9', httpMethod: 'POST', authorizationType: 'NONE', apiKeyRequired: false }],
        complete: false,
      },
    });
    const [judgement] = judgeEvent(event, POLICY, router).judgements.filter((j) => j.control === ID);
    expect(judgement).toMatchObject({ outcome: 'violation', finding: { violation: 'POST (resource r7s8t9) has no authorization' } });
  });

  it('reads the whole method of a PutMethod body', () => {
    const event = fixtureEvent('apigateway-PutMethod.open-post-constructed.json');

    expect(apigatewayAuthorization.stateFrom(event, apigatewayAuthorization.resourcesFrom(event)[0]!)).toMatchObject({
      status: 'known',
      state: { methods: [{ httpMethod: 'POST', authorizationType: 'NONE', authorizerId: null, apiKeyRequired: false }] },
    });
  });

  it('names the imported API from the ImportRestApi response', () => {
    expect(apigatewayAuthorization.resourcesFrom(fixtureEvent('apigateway-ImportRestApi-constructed.json'))).toMatchObject([
      { arn: 'arn:aws:apigateway:us-east-1::/restapis/f6g7h8i9j0' },
    ]);
  });
});

describe('apigateway-authorization plan', () => {
  const before = whole([method('GET', '/pets', { resourceId: 'p1', authorizationType: 'CUSTOM', authorizerId: 'au7h0r' })]);

  it('restores the last known good authorizer, then deploys to every stage, saying what a deployment ships', () => {
    const state = whole([method('GET', '/pets', { resourceId: 'p1', authorizationType: 'NONE' })]);

    expect(planAuthorization(finding, state, controlPolicy, before)).toEqual({
      change: {
        service: 'apigateway',
        operation: 'UpdateMethod',
        region: 'us-east-1',
        input: {
          restApiId: 'a1b2c3d4e5',
          resourceId: 'p1',
          httpMethod: 'GET',
          patchOperations: [
            { op: 'replace', path: '/authorizationType', value: 'CUSTOM' },
            { op: 'replace', path: '/authorizerId', value: 'au7h0r' },
          ],
        },
        followUps: ['prod', 'staging'].map((stageName) => ({
          service: 'apigateway',
          operation: 'CreateDeployment',
          region: 'us-east-1',
          input: { restApiId: 'a1b2c3d4e5', stageName, description: DEPLOYMENT_DESCRIPTION },
        })),
        notice:
          'A method change is live only once deployed: each deployment (prod, staging) also ships every other undeployed change of the API.',
      },
    });
  });

  it('never invents an authorization: without a last known good one, or with its authorizer gone, a human chooses', () => {
    const state = whole([method('GET', '/pets', { resourceId: 'p1', authorizationType: 'NONE' })]);
    const gone = whole([method('GET', '/pets', { resourceId: 'p1', authorizationType: 'CUSTOM', authorizerId: 'deleted' })]);

    for (const lastKnownGood of [undefined, gone]) {
      expect(planAuthorization(finding, state, controlPolicy, lastKnownGood)).toEqual({
        change: null,
        reason:
          'nothing to restore: a human must choose the authorization. Not restored (no last known good authorization, or its authorizer is gone): GET /pets.',
      });
    }
  });

  it('sets apiKeyRequired where the policy asks, and says when the stages are not known yet', () => {
    const state: AuthorizationState = { methods: [method('PUT', '/partners/x', { resourceId: 'k1' })], complete: true };

    const change = planAuthorization(finding, state, controlPolicy).change;
    expect(change).toMatchObject({
      operation: 'UpdateMethod',
      input: { resourceId: 'k1', httpMethod: 'PUT', patchOperations: [{ op: 'replace', path: '/apiKeyRequired', value: 'true' }] },
      notice: 'A method change is live only once deployed: the stages to deploy to are read when the fix is planned online.',
    });
    expect(change).not.toHaveProperty('followUps');
  });
});

describe('apigateway-authorization against a stateful fake account', () => {
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
    aws.restApis.set('a1b2c3d4e5', {
      resources: [
        { id: 'root0', path: '/', methods: { OPTIONS: { authorizationType: 'NONE' } } },
        { id: 'r7s8t9', path: '/orders', methods: { POST: { authorizationType: 'NONE' }, GET: { authorizationType: 'AWS_IAM' } } },
      ],
      authorizers: ['au7h0r'],
    });
    for (const stage of ['prod', 'staging']) aws.stages.set(`${API}/stages/${stage}`, { methodSettings: {} });
  });
  afterEach(() => aws.restore());

  it('restores the method from its last known good state, deploys it to each stage and reads it back', async () => {
    await ctx.lastKnownGood.put(
      resourceKey(ID, { arn: API, account: '111122223333' }),
      { methods: [{ resourceId: 'r7s8t9', httpMethod: 'POST', authorizationType: 'CUSTOM', authorizerId: 'au7h0r' }], complete: true },
      new Date('2024-06-01T00:00:00Z'),
    );
    const open = violationOf('apigateway-UpdateMethod.authorization-none-constructed.json');

    const result = await remediate(open, ctx);

    expect(result).toMatchObject({ outcome: 'remediated' });
    expect(aws.apiGateway).toHaveReceivedCommandWith(UpdateMethodCommand, {
      restApiId: 'a1b2c3d4e5',
      resourceId: 'r7s8t9',
      httpMethod: 'POST',
      patchOperations: [
        { op: 'replace', path: '/authorizationType', value: 'CUSTOM' },
        { op: 'replace', path: '/authorizerId', value: 'au7h0r' },
      ],
    });
    expect(aws.deployments).toEqual([
      { restApiId: 'a1b2c3d4e5', stageName: 'prod', description: DEPLOYMENT_DESCRIPTION },
      { restApiId: 'a1b2c3d4e5', stageName: 'staging', description: DEPLOYMENT_DESCRIPTION },
    ]);
    expect(aws.writes).toEqual([
      'UpdateMethod a1b2c3d4e5 r7s8t9 POST',
      'CreateDeployment a1b2c3d4e5 prod',
      'CreateDeployment a1b2c3d4e5 staging',
    ]);
    // read back from the fake's own store, not through the detector
    expect(aws.restApis.get('a1b2c3d4e5')!.resources[1]!.methods.POST).toMatchObject({
      authorizationType: 'CUSTOM',
      authorizerId: 'au7h0r',
    });
  });

  it('is not verified while a stage serves a deployment without the fix (re-pointed at an older one)', async () => {
    await ctx.lastKnownGood.put(
      resourceKey(ID, { arn: API, account: '111122223333' }),
      { methods: [{ resourceId: 'r7s8t9', httpMethod: 'POST', authorizationType: 'AWS_IAM' }], complete: true },
      new Date('2024-06-01T00:00:00Z'),
    );
    // both stages serve d0, made while POST /orders was open; staging is put back on it right after the fix's deployment
    aws.apiGatewaySnapshots.set('d0', { restApiId: 'a1b2c3d4e5', apiSummary: apiSummaryOf(aws.restApis.get('a1b2c3d4e5')!) });
    for (const stage of ['prod', 'staging']) aws.stages.get(`${API}/stages/${stage}`)!.deploymentId = 'd0';
    aws.apiGateway.on(CreateDeploymentCommand, { stageName: 'staging' }).resolves({ id: 'd9' });

    const result = await remediate(violationOf('apigateway-UpdateMethod.authorization-none-constructed.json'), ctx);

    expect(result.outcome).not.toBe('remediated');
    expect(result.reason).toContain('stage staging serves deployment d0, which does not carry the fix of POST /orders');
    expect(aws.apiGateway).toHaveReceivedCommandWith(GetDeploymentCommand, {
      restApiId: 'a1b2c3d4e5',
      deploymentId: 'd0',
      embed: ['apisummary'],
    });
  });

  it('ends as partly applied, not retried, when a deployment fails after the method was restored', async () => {
    await ctx.lastKnownGood.put(
      resourceKey(ID, { arn: API, account: '111122223333' }),
      { methods: [{ resourceId: 'r7s8t9', httpMethod: 'POST', authorizationType: 'AWS_IAM' }], complete: true },
      new Date('2024-06-01T00:00:00Z'),
    );
    aws.apiGateway.on(CreateDeploymentCommand).rejects(Object.assign(new Error('Too Many Requests'), { name: 'TooManyRequestsException' }));

    const result = await remediate(violationOf('apigateway-UpdateMethod.authorization-none-constructed.json'), ctx);

    expect(result).toMatchObject({ outcome: 'failed', errorCode: 'Rampart.PartlyApplied' });
    expect(result.reason).toMatch(
      /^UpdateMethod made; CreateDeployment .*"stageName":"prod".* failed \(TooManyRequestsException: Too Many Requests\)/,
    );
    expect(result.retryable).toBeUndefined();
    expect(aws.writes).toEqual(['UpdateMethod a1b2c3d4e5 r7s8t9 POST']);
  });

  it('changes nothing when no authorization can be restored', async () => {
    const open = violationOf('apigateway-UpdateMethod.authorization-none-constructed.json');

    const result = await remediate(open, ctx);

    expect(result).toMatchObject({ outcome: 'failed', change: null });
    expect(result.reason).toMatch(/a human must choose the authorization.*POST \/orders/);
    expect(aws.apiGateway).not.toHaveReceivedCommand(UpdateMethodCommand);
    expect(aws.apiGateway).not.toHaveReceivedCommand(CreateDeploymentCommand);
  });

  it('lists every REST API and reads every method across pages', async () => {
    aws.pageSize = 1;
    const refs = [];
    for await (const ref of apigatewayAuthorization.list(ctx.clients)) refs.push(ref.arn);
    const observation = await apigatewayAuthorization.readState({ ...apigatewayAuthorization.resources![0]!.arn.parse(API)! }, ctx.clients);

    expect(refs).toEqual([API]);
    expect(observation).toMatchObject({ status: 'known', state: { complete: true, authorizers: ['au7h0r'], stages: ['prod', 'staging'] } });
    expect(observation.status === 'known' && observation.state.methods.map((m) => `${m.httpMethod} ${m.path}`)).toEqual([
      'OPTIONS /',
      'POST /orders',
      'GET /orders',
    ]);
  });
});
