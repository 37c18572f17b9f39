import type {
  CreateDeploymentCommandInput,
  PatchOperation,
  UpdateDomainNameCommandInput,
  UpdateRestApiCommandInput,
} from '@aws-sdk/client-api-gateway';
import type { Change, Plan, Remediator } from '../core/control';
import type { Finding } from '../core/finding';
import { apiGateway } from '../detectors/apigateway-authorization';
import {
  apigatewayDomainTls,
  customDomainName,
  evaluateDomainTls,
  minimumTlsOf,
  type DomainTlsPolicy,
  type DomainTlsState,
} from '../detectors/apigateway-domain-tls';
import { restApi, restApiRef } from '../detectors/apigateway-resources';
import { sendChanges } from './send-change';

type DomainState = Extract<DomainTlsState, { kind: 'domain' }>;
export const ENDPOINT_DEPLOYMENT_DESCRIPTION = 'Rampart: disables the default execute-api endpoint';

const call = (operation: string, region: string, input: object): Change => ({
  service: 'apigateway',
  operation,
  region,
  input: input as Record<string, unknown>,
});

/**
 * The security policy to set: the domain's last known good one when it meets the minimum and
 * fits the endpoint (edge policies end in `_EDGE`), else the policy's minimum when it fits.
 */
function securityPolicyToSet(state: DomainState, policy: DomainTlsPolicy, lastKnownGood?: DomainTlsState): string | { reason: string } {
  const floor = minimumTlsOf(policy.minimumSecurityPolicy)!;
  const fits = (p: string) =>
    state.endpointType === undefined || p.startsWith('TLS_') || p.endsWith('_EDGE') === (state.endpointType === 'EDGE');
  const prior = lastKnownGood?.kind === 'domain' ? lastKnownGood.securityPolicy : undefined;
  if (prior && (minimumTlsOf(prior) ?? 0) >= floor && fits(prior)) return prior;
  if (fits(policy.minimumSecurityPolicy)) return policy.minimumSecurityPolicy;
  return {
    reason: `the minimum ${policy.minimumSecurityPolicy} does not fit a ${state.endpointType} domain and no earlier policy is known: name one that does`,
  };
}

/**
 * Pure: UpdateDomainName back to a security policy at the minimum (the last known good one
 * first) and to the last known good truststore; UpdateRestApi disabling the execute-api
 * endpoint, then a CreateDeployment to each stage (the setting is live only once deployed).
 */
export function planDomainTls(finding: Finding, state: DomainTlsState, policy: DomainTlsPolicy, lastKnownGood?: DomainTlsState): Plan {
  const domain = customDomainName.arn.parse(finding.resourceArn);
  const api = restApi.arn.parse(finding.resourceArn);
  const ref = domain ?? api;
  if (!ref) return { change: null, reason: `${finding.resourceArn} is not a custom domain or REST API` };
  if (evaluateDomainTls(state, policy, ref).status === 'compliant') return { change: null, reason: 'already complies with the policy' };
  if (state.kind === 'rest-api' && api) {
    const input: UpdateRestApiCommandInput = {
      restApiId: api.restApiId,
      patchOperations: [{ op: 'replace', path: '/disableExecuteApiEndpoint', value: 'true' }],
    };
    const deployments = (state.stages ?? []).map((stageName) => {
      const deployment: CreateDeploymentCommandInput = {
        restApiId: api.restApiId,
        stageName,
        description: ENDPOINT_DEPLOYMENT_DESCRIPTION,
      };
      return call('CreateDeployment', api.region, deployment);
    });
    const notice =
      state.stages === undefined
        ? 'The setting is live only once deployed: the stages to deploy to are read when the fix is planned online.'
        : `Clients calling the execute-api URL stop working; the setting is live only once deployed, and each deployment (${state.stages.join(', ') || 'none: the API has no stage'}) also ships every other undeployed change of the API.`;
    return {
      change: { ...call('UpdateRestApi', api.region, input), ...(deployments.length > 0 ? { followUps: deployments } : {}), notice },
    };
  }
  if (state.kind !== 'domain' || !domain) return { change: null, reason: `${finding.resourceArn} is not a ${state.kind}` };
  const ops: PatchOperation[] = [];
  const reasons: string[] = [];
  const tls = state.securityPolicy !== undefined ? minimumTlsOf(state.securityPolicy) : undefined;
  if (tls !== undefined && tls < minimumTlsOf(policy.minimumSecurityPolicy)!) {
    const target = securityPolicyToSet(state, policy, lastKnownGood);
    if (typeof target === 'string') ops.push({ op: 'replace', path: '/securityPolicy', value: target });
    else reasons.push(target.reason);
  }
  if (state.truststoreUri === null && policy.mutualTls.some((d) => d === '*' || d === domain.domainName)) {
    const prior = lastKnownGood?.kind === 'domain' ? lastKnownGood.truststoreUri : undefined;
    // the truststore is the owner's: only the one the domain had is put back
    if (prior) ops.push({ op: 'replace', path: '/mutualTlsAuthentication/truststoreUri', value: prior });
    else reasons.push('no truststore to restore: none was recorded for the domain');
  }
  if (ops.length === 0) return { change: null, reason: reasons.join('; ') || 'the event does not reveal what to restore' };
  const input: UpdateDomainNameCommandInput = {
    domainName: domain.domainName,
    ...(domain.domainNameId ? { domainNameId: domain.domainNameId } : {}),
    patchOperations: ops,
  };
  return {
    change: {
      ...call('UpdateDomainName', domain.region, input),
      notice: `Clients that cannot meet the new TLS settings are cut off.${reasons.length > 0 ? ` Not restored: ${reasons.join('; ')}.` : ''}`,
    },
  };
}

export const apigatewayDomainTlsRemediator: Remediator<DomainTlsState, DomainTlsPolicy, 'apigateway-domain-tls'> = {
  id: 'apigateway-domain-tls',
  defaultRisk: 'high',
  risk: (_finding, policy) => policy.risk,
  plan: planDomainTls,

  async apply(change, clients) {
    const sdk = apiGateway();
    await sendChanges(sdk, sdk.APIGatewayClient, change, clients, Object.keys(apigatewayDomainTlsRemediator.permissions));
  },

  async verify(ref, clients, policy, change) {
    const observation = await apigatewayDomainTls.readState(ref, clients);
    if (observation.status !== 'known')
      return { compliant: false, reason: observation.status === 'gone' ? observation.reason : 'state unreadable' };
    const evaluation = evaluateDomainTls(observation.state, policy, ref);
    const state = observation.state;
    // what the change wrote reads back (a part left to a human is its own problem)
    const ops = (change.input as { patchOperations?: PatchOperation[] }).patchOperations ?? [];
    const carried = ops.every((op) =>
      op.path === '/securityPolicy'
        ? state.kind === 'domain' && state.securityPolicy === op.value
        : op.path === '/mutualTlsAuthentication/truststoreUri'
          ? state.kind === 'domain' && state.truststoreUri === op.value
          : state.kind === 'rest-api' && state.disableExecuteApiEndpoint === true,
    );
    if (evaluation.status === 'compliant' || carried) return { compliant: true, state };
    return { compliant: false, state, reason: evaluation.status === 'violation' ? evaluation.reason : 'the change does not read back' };
  },

  targetOf(written) {
    const input = written.input as { domainName?: string; domainNameId?: string; restApiId?: string };
    if (written.operation === 'UpdateDomainName')
      return customDomainName.ref(
        { domainName: String(input.domainName), ...(input.domainNameId ? { domainNameId: input.domainNameId } : {}) },
        { region: written.region },
      ).arn;
    return restApiRef(written.region, String(input.restApiId)).arn;
  },

  permissions: {
    UpdateDomainName: { actions: ['apigateway:PATCH'], resources: ['arn:${Partition}:apigateway:${Region}::/domainnames/*'] },
    UpdateRestApi: { actions: ['apigateway:PATCH'], resources: ['arn:${Partition}:apigateway:${Region}::/restapis/*'] },
    CreateDeployment: { actions: ['apigateway:POST'], resources: ['arn:${Partition}:apigateway:${Region}::/restapis/*/deployments'] },
  },
};
