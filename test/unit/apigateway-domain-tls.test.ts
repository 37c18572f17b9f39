import { UpdateDomainNameCommand } from '@aws-sdk/client-api-gateway';
import { createAwsClients } from '../../core/aws';
import type { Finding } from '../../core/finding';
import { InMemoryFixLedger } from '../../core/fix-budget';
import { InMemoryLastKnownGood } from '../../core/last-known-good';
import { resourceKey } from '../../core/resource-key';
import { ALL_CONTROLS, DETECTORS } from '../../controls';
import { apigatewayDomainTls, customDomainName, evaluateDomainTls, minimumTlsOf } from '../../detectors/apigateway-domain-tls';
import { restApiRef } from '../../detectors/apigateway-resources';
import { judgeEvent } from '../../detectors/judge';
import { EventRouter } from '../../detectors/router';
import { ENDPOINT_DEPLOYMENT_DESCRIPTION, planDomainTls } from '../../remediators/apigateway-domain-tls';
import { remediate, type RemediationContext } from '../../remediators/remediate';
import { FakeAws } from '../fakes';
import { fixtureEvent, policy } from '../helpers';

const ID = 'apigateway-domain-tls';
const DOMAIN = 'arn:aws:apigateway:us-east-1::/domainnames/api.example.com';
const API = 'arn:aws:apigateway:us-east-1::/restapis/a1b2c3d4e5';
const POLICY = policy({
  controls: { [ID]: { mutualTls: ['api.example.com'], disableExecuteApiEndpoint: ['a1b2c3d4e5'] } },
  approvals: { approvers: { emails: ['alice@example.com'] } },
});
const controlPolicy = POLICY.controls[ID]!;
const router = new EventRouter(DETECTORS);
const domainRef = customDomainName.arn.parse(DOMAIN)!;

function violationOf(name: string): Finding {
  for (const j of judgeEvent(fixtureEvent(name), POLICY, router).judgements)
    if (j.control === ID && j.outcome === 'violation') return j.finding;
  throw new Error(`${name} yields no ${ID} finding`);
}

describe('security policies', () => {
  it.each([
    ['TLS_1_0', 1.0],
    ['TLS_1_2', 1.2],
    ['SecurityPolicy_TLS12_2018_EDGE', 1.2],
    ['SecurityPolicy_TLS13_1_2_2021_06', 1.2],
    ['SecurityPolicy_TLS13_1_3_2025_09', 1.3],
    ['SecurityPolicy_TLS13_2025_EDGE', 1.3],
    ['SecurityPolicy_SOMETHING_NEW', undefined],
  ])('%s accepts TLS %s at least', (name, tls) => {
    expect(minimumTlsOf(name)).toBe(tls);
  });
});

describe('apigateway-domain-tls evaluate', () => {
  it('flags a security policy below the minimum and accepts an enhanced one above it', () => {
    expect(
      evaluateDomainTls({ kind: 'domain', securityPolicy: 'TLS_1_0', truststoreUri: 's3://t/ca.pem' }, controlPolicy, domainRef),
    ).toMatchObject({
      status: 'violation',
      reason: 'security policy TLS_1_0 accepts TLS 1.0, below the minimum TLS_1_2',
    });
    expect(
      evaluateDomainTls(
        { kind: 'domain', securityPolicy: 'SecurityPolicy_TLS13_1_3_2025_09', truststoreUri: 's3://t/ca.pem' },
        controlPolicy,
        domainRef,
      ),
    ).toEqual({ status: 'compliant' });
  });

  it('flags a domain the policy names for mutual TLS without a truststore, and not another domain', () => {
    const state = { kind: 'domain' as const, securityPolicy: 'TLS_1_2', truststoreUri: null };
    const other = customDomainName.ref({ domainName: 'www.example.com' }, { region: 'us-east-1' });

    expect(evaluateDomainTls(state, controlPolicy, domainRef)).toMatchObject({
      status: 'violation',
      reason: 'mutual TLS is off: the domain has no truststore',
    });
    expect(evaluateDomainTls(state, controlPolicy, other)).toEqual({ status: 'compliant' });
  });

  it('wants the execute-api endpoint disabled only for the APIs the policy names', () => {
    const enabled = { kind: 'rest-api' as const, disableExecuteApiEndpoint: false };

    expect(evaluateDomainTls(enabled, controlPolicy, restApiRef('us-east-1', 'a1b2c3d4e5')).status).toBe('violation');
    expect(evaluateDomainTls(enabled, controlPolicy, restApiRef('us-east-1', 'zz9yy8xx7w')).status).toBe('compliant');
  });
});

describe('apigateway-domain-tls events', () => {
  it('reads the UpdateDomainName patch: TLS_1_0 and an empty truststore URI (mutual TLS off)', () => {
    const event = fixtureEvent('apigateway-UpdateDomainName.tls10-mtls-off-constructed.json');
    const [ref] = apigatewayDomainTls.resourcesFrom(event);

    expect(ref).toMatchObject({ type: 'AWS::ApiGateway::DomainName', arn: DOMAIN, domainName: 'api.example.com' });
    expect(apigatewayDomainTls.stateFrom(event, ref!)).toEqual({
      status: 'known',
      state: { kind: 'domain', securityPolicy: 'TLS_1_0', truststoreUri: null },
    });
  });

  it('plans the policy minimum for a new TLS 1.0 domain offline', () => {
    const f = violationOf('apigateway-CreateDomainName.tls10-constructed.json');

    expect(f.violation).toBe(
      'security policy TLS_1_0 accepts TLS 1.0, below the minimum TLS_1_2; mutual TLS is off: the domain has no truststore',
    );
    expect(planDomainTls(f, { kind: 'domain', securityPolicy: 'TLS_1_0', truststoreUri: null }, controlPolicy).change).toEqual({
      service: 'apigateway',
      operation: 'UpdateDomainName',
      region: 'us-east-1',
      input: { domainName: 'api.example.com', patchOperations: [{ op: 'replace', path: '/securityPolicy', value: 'TLS_1_2' }] },
      notice:
        'Clients that cannot meet the new TLS settings are cut off. Not restored: no truststore to restore: none was recorded for the domain.',
    });
  });

  it('plans UpdateRestApi then a deployment to each stage for an API served only through a domain', () => {
    const f = violationOf('apigateway-UpdateRestApi.execute-api-enabled-constructed.json');

    expect(planDomainTls(f, { kind: 'rest-api', disableExecuteApiEndpoint: false, stages: ['prod'] }, controlPolicy).change).toMatchObject({
      operation: 'UpdateRestApi',
      input: { restApiId: 'a1b2c3d4e5', patchOperations: [{ op: 'replace', path: '/disableExecuteApiEndpoint', value: 'true' }] },
      followUps: [
        {
          operation: 'CreateDeployment',
          input: { restApiId: 'a1b2c3d4e5', stageName: 'prod', description: ENDPOINT_DEPLOYMENT_DESCRIPTION },
        },
      ],
    });
  });
});

describe('apigateway-domain-tls against a stateful fake account', () => {
  let aws: FakeAws;
  let ctx: RemediationContext;

  beforeEach(() => {
    aws = new FakeAws();
    ctx = {
      controls: ALL_CONTROLS,
      policy: POLICY,
      clients: createAwsClients({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }),
      lastKnownGood: new InMemoryLastKnownGood(),
      fixes: new InMemoryFixLedger(),
      clock: () => new Date('2024-06-03T16:00:00Z'),
      verifyDelayMs: 1,
      sleep: async () => undefined,
    };
    aws.domainNames.set('api.example.com', { securityPolicy: 'TLS_1_0', endpointType: 'REGIONAL' });
    aws.restApis.set('a1b2c3d4e5', { resources: [], disableExecuteApiEndpoint: false });
    aws.stages.set(`${API}/stages/prod`, { methodSettings: {} });
  });
  afterEach(() => aws.restore());

  it('restores the last known good security policy and truststore, and reads them back', async () => {
    await ctx.lastKnownGood.put(
      resourceKey(ID, { arn: DOMAIN, account: '111122223333' }),
      { kind: 'domain', securityPolicy: 'SecurityPolicy_TLS13_1_2_2021_06', truststoreUri: 's3://truststores/api/ca.pem' },
      new Date('2024-06-01T00:00:00Z'),
    );

    const result = await remediate(violationOf('apigateway-UpdateDomainName.tls10-mtls-off-constructed.json'), ctx);

    expect(result).toMatchObject({ outcome: 'remediated' });
    expect(aws.apiGateway).toHaveReceivedCommandWith(UpdateDomainNameCommand, {
      domainName: 'api.example.com',
      patchOperations: [
        { op: 'replace', path: '/securityPolicy', value: 'SecurityPolicy_TLS13_1_2_2021_06' },
        { op: 'replace', path: '/mutualTlsAuthentication/truststoreUri', value: 's3://truststores/api/ca.pem' },
      ],
    });
    expect(aws.domainNames.get('api.example.com')).toMatchObject({
      securityPolicy: 'SecurityPolicy_TLS13_1_2_2021_06',
      truststoreUri: 's3://truststores/api/ca.pem',
    });
  });

  it('disables the execute-api endpoint and deploys it to each stage', async () => {
    const result = await remediate(violationOf('apigateway-UpdateRestApi.execute-api-enabled-constructed.json'), ctx);

    expect(result).toMatchObject({ outcome: 'remediated' });
    expect(aws.restApis.get('a1b2c3d4e5')!.disableExecuteApiEndpoint).toBe(true);
    expect(aws.writes).toEqual(['UpdateRestApi a1b2c3d4e5', 'CreateDeployment a1b2c3d4e5 prod']);
  });

  it('lists custom domains and REST APIs', async () => {
    const refs = [];
    for await (const ref of apigatewayDomainTls.list(ctx.clients)) refs.push(ref.arn);

    expect(refs).toEqual([DOMAIN, API]);
  });
});
