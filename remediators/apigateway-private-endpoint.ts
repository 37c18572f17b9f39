import type { PatchOperation, UpdateRestApiCommandInput } from '@aws-sdk/client-api-gateway';
import type { Plan, Remediator } from '../core/control';
import type { Finding } from '../core/finding';
import { apiGateway } from '../detectors/apigateway-authorization';
import {
  allowedSourcesOf,
  apigatewayPrivateEndpoint,
  evaluatePrivateEndpoint,
  normalisedPolicy,
  type PrivateEndpointPolicy,
  type PrivateEndpointState,
} from '../detectors/apigateway-private-endpoint';
import { parseResourcePolicy, resourcePolicyProblem, type AllowedSources } from '../detectors/apigateway-resource-policy';
import { restApi, restApiRef } from '../detectors/apigateway-resources';
import { CREATE_DEPLOYMENT, deploymentNotice, deploymentsTo } from './rest-api-deployments';
import { sendChanges } from './send-change';

export const PRIVATE_DEPLOYMENT_DESCRIPTION = 'Rampart: restores the private endpoint and resource policy';
const VPCE_PATH = '/endpointConfiguration/vpcEndpointIds';

/** The last known good resource policy, when it still lets in only the allowed sources. */
function restorablePolicy(allowed: AllowedSources, lastKnownGood?: PrivateEndpointState): string | undefined {
  const text = lastKnownGood?.policy;
  const doc = text ? parseResourcePolicy(text) : undefined;
  return doc && resourcePolicyProblem(doc, allowed) === undefined ? JSON.stringify(doc) : undefined;
}

/** The patch operations that bring the endpoint configuration back, and what cannot be. */
function endpointPatch(state: PrivateEndpointState, allowed: AllowedSources): { ops: PatchOperation[]; reasons: string[] } {
  const ops: PatchOperation[] = [];
  const reasons: string[] = [];
  if (state.types && (state.types.length !== 1 || state.types[0] !== 'PRIVATE')) {
    const [current] = state.types;
    // the path names the type it replaces: /endpointConfiguration/types/REGIONAL
    if (current && state.types.length === 1) ops.push({ op: 'replace', path: `/endpointConfiguration/types/${current}`, value: 'PRIVATE' });
    else reasons.push(`endpoint types ${state.types.join(', ') || 'none'} cannot be replaced by one call`);
  }
  if (allowed.vpcEndpointIds.length > 0 && state.vpcEndpointIds) {
    const ids = state.vpcEndpointIds;
    for (const id of allowed.vpcEndpointIds.filter((v) => !ids.includes(v))) ops.push({ op: 'add', path: VPCE_PATH, value: id });
    for (const id of ids.filter((v) => !allowed.vpcEndpointIds.includes(v))) ops.push({ op: 'remove', path: VPCE_PATH, value: id });
  }
  return { ops, reasons };
}

/**
 * Pure: one UpdateRestApi putting back the `PRIVATE` endpoint type, the allowed VPC endpoints
 * (and only those) and the last known good resource policy, then a CreateDeployment to each
 * stage: a resource policy is live only once deployed. Rampart never writes a resource policy
 * of its own: without a last known good one that still allows only the allowed sources, a
 * human writes it.
 */
export function planPrivateEndpoint(
  finding: Finding,
  state: PrivateEndpointState,
  policy: PrivateEndpointPolicy,
  lastKnownGood?: PrivateEndpointState,
): Plan {
  const ref = restApi.arn.parse(finding.resourceArn);
  if (!ref) return { change: null, reason: `${finding.resourceArn} is not a REST API` };
  const allowed = allowedSourcesOf(policy, ref);
  if (!allowed) return { change: null, reason: `the policy does not mark REST API ${ref.restApiId} private` };
  if (evaluatePrivateEndpoint(state, policy, ref).status === 'compliant')
    return { change: null, reason: 'already complies with the policy' };
  const { ops, reasons } = endpointPatch(state, allowed);
  const doc = state.policy ? parseResourcePolicy(state.policy) : undefined;
  const policyFails = state.policy === null || (state.policy !== undefined && (!doc || resourcePolicyProblem(doc, allowed) !== undefined));
  if (policyFails) {
    const restore = restorablePolicy(allowed, lastKnownGood);
    if (restore) ops.push({ op: 'replace', path: '/policy', value: restore });
    else reasons.push('no last known good resource policy allows only the allowed VPC endpoints and VPCs: a human must write one');
  }
  const unfixed = reasons.length > 0 ? ` Not restored: ${reasons.join('; ')}.` : '';
  if (ops.length === 0) return { change: null, reason: `nothing to restore.${unfixed}` };
  const input: UpdateRestApiCommandInput = { restApiId: ref.restApiId, patchOperations: ops };
  const followUps = deploymentsTo(ref.region, ref.restApiId, state.stages ?? [], PRIVATE_DEPLOYMENT_DESCRIPTION);
  return {
    change: {
      service: 'apigateway',
      operation: 'UpdateRestApi',
      region: ref.region,
      input: input as unknown as Record<string, unknown>,
      ...(followUps.length > 0 ? { followUps } : {}),
      notice: `Callers outside the allowed VPC endpoints and VPCs are cut off. ${deploymentNotice('A resource policy or endpoint change', state.stages)}${unfixed}`,
    },
  };
}

/** Does the API read back with every operation the change wrote? */
function carries(state: PrivateEndpointState, ops: readonly PatchOperation[]): boolean {
  return ops.every((op) => {
    if (op.path?.startsWith('/endpointConfiguration/types/')) return state.types?.length === 1 && state.types[0] === op.value;
    if (op.path === VPCE_PATH) return (state.vpcEndpointIds ?? []).includes(op.value ?? '') === (op.op === 'add');
    if (op.path === '/policy') return normalisedPolicy(state.policy) === normalisedPolicy(op.value);
    return false;
  });
}

export const apigatewayPrivateEndpointRemediator: Remediator<PrivateEndpointState, PrivateEndpointPolicy, 'apigateway-private-endpoint'> = {
  id: 'apigateway-private-endpoint',
  defaultRisk: 'high',
  risk: (_finding, policy) => policy.risk,
  plan: planPrivateEndpoint,

  async apply(change, clients) {
    const sdk = apiGateway();
    await sendChanges(sdk, sdk.APIGatewayClient, change, clients, Object.keys(apigatewayPrivateEndpointRemediator.permissions));
  },

  async verify(ref, clients, policy, change) {
    const observation = await apigatewayPrivateEndpoint.readState(ref, clients);
    if (observation.status !== 'known')
      return { compliant: false, reason: observation.status === 'gone' ? observation.reason : 'state unreadable' };
    const evaluation = evaluatePrivateEndpoint(observation.state, policy, ref);
    // a part left to a human is its own problem: the fix made is verified by what it wrote
    const ops = (change.input as { patchOperations?: PatchOperation[] }).patchOperations ?? [];
    if (evaluation.status === 'compliant' || carries(observation.state, ops)) return { compliant: true, state: observation.state };
    return {
      compliant: false,
      state: observation.state,
      reason: evaluation.status === 'violation' ? evaluation.reason : 'the API does not read back as written',
    };
  },

  targetOf: (written) => restApiRef(written.region, String(written.input.restApiId)).arn,

  permissions: {
    UpdateRestApi: { actions: ['apigateway:PATCH'], resources: ['arn:${Partition}:apigateway:${Region}::/restapis/*'] },
    CreateDeployment: CREATE_DEPLOYMENT,
  },
};
