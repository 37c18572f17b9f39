import type { CreateDeploymentCommandInput, MethodSnapshot, PatchOperation, UpdateMethodCommandInput } from '@aws-sdk/client-api-gateway';
import type { AwsClients } from '../core/aws';
import { awsErrorName } from '../detectors/aws-errors';
import { stepsOf, type Change, type Plan, type Remediator } from '../core/control';
import type { ResourceRef } from '../core/resources';
import type { Finding } from '../core/finding';
import {
  apiGateway,
  apigatewayAuthorization,
  evaluateAuthorization,
  failingMethods,
  methodKey,
  type AuthorizationPolicy,
  type AuthorizationState,
  type MethodAuthorization,
} from '../detectors/apigateway-authorization';
import { matchAny } from '../detectors/apigateway-method-patterns';
import { restApi, restApiRef } from '../detectors/apigateway-resources';
import { sendChanges } from './send-change';

const USES_AUTHORIZER = new Set(['CUSTOM', 'COGNITO_USER_POOLS']);
export const DEPLOYMENT_DESCRIPTION = 'Rampart: restores method authorization';

const replace = (path: string, value: string): PatchOperation => ({ op: 'replace', path, value });

/**
 * The method's last known good authorization, when it can be restored: not `NONE`, and its
 * authorizer (if it had one) still exists. Nothing else is ever written: which authorizer a
 * method should use is its owner's decision.
 */
function restorable(method: MethodAuthorization, state: AuthorizationState, lastKnownGood?: AuthorizationState) {
  const prior = lastKnownGood?.methods.find((m) => methodKey(m) === methodKey(method));
  if (!prior?.authorizationType || prior.authorizationType === 'NONE') return undefined;
  if (USES_AUTHORIZER.has(prior.authorizationType) && !(prior.authorizerId && state.authorizers?.includes(prior.authorizerId)))
    return undefined;
  return prior;
}

/** The patch of one failing method, or why it cannot be fixed. */
function methodPatch(
  m: MethodAuthorization,
  state: AuthorizationState,
  policy: AuthorizationPolicy,
  lastKnownGood?: AuthorizationState,
): { ops: PatchOperation[]; missing?: string } {
  const ops: PatchOperation[] = [];
  let missing: string | undefined;
  const open = m.authorizationType === 'NONE' && matchAny(policy.allowUnauthenticated, m.httpMethod, m.path) === 'no';
  const orphaned =
    m.authorizationType !== undefined &&
    USES_AUTHORIZER.has(m.authorizationType) &&
    state.authorizers !== undefined &&
    !(m.authorizerId && state.authorizers.includes(m.authorizerId));
  if (open || orphaned) {
    const prior = restorable(m, state, lastKnownGood);
    if (!prior) missing = `${m.httpMethod} ${m.path ?? m.resourceId}`;
    else {
      ops.push(replace('/authorizationType', prior.authorizationType!));
      if (USES_AUTHORIZER.has(prior.authorizationType!)) ops.push(replace('/authorizerId', prior.authorizerId!));
    }
  }
  if (m.apiKeyRequired === false && matchAny(policy.apiKeyRequired, m.httpMethod, m.path) === 'yes')
    ops.push(replace('/apiKeyRequired', 'true'));
  return { ops, ...(missing ? { missing } : {}) };
}

/**
 * Pure: one UpdateMethod per failing method, back to its last known good authorization (and
 * `apiKeyRequired` true where the policy asks), then a CreateDeployment to every stage of the
 * API: a method change is live only once deployed. A method with no restorable authorization
 * is left to a human, and the notice says so.
 */
export function planAuthorization(
  finding: Finding,
  state: AuthorizationState,
  policy: AuthorizationPolicy,
  lastKnownGood?: AuthorizationState,
): Plan {
  const ref = restApi.arn.parse(finding.resourceArn);
  if (!ref) return { change: null, reason: `${finding.resourceArn} is not a REST API` };
  if (evaluateAuthorization(state, policy).status === 'compliant') return { change: null, reason: 'every method already complies' };
  const updates: Change[] = [];
  const missing: string[] = [];
  for (const m of failingMethods(state, policy)) {
    const patch = methodPatch(m, state, policy, lastKnownGood);
    if (patch.missing) missing.push(patch.missing);
    if (patch.ops.length === 0) continue;
    const input: UpdateMethodCommandInput = {
      restApiId: ref.restApiId,
      resourceId: m.resourceId,
      httpMethod: m.httpMethod,
      patchOperations: patch.ops,
    };
    updates.push({
      service: 'apigateway',
      operation: 'UpdateMethod',
      region: ref.region,
      input: input as unknown as Record<string, unknown>,
    });
  }
  const unfixed =
    missing.length > 0 ? ` Not restored (no last known good authorization, or its authorizer is gone): ${missing.join(', ')}.` : '';
  const [first, ...others] = updates;
  if (!first) return { change: null, reason: `nothing to restore: a human must choose the authorization.${unfixed}` };
  const deployments = (state.stages ?? []).map((stageName): Change => {
    const input: CreateDeploymentCommandInput = { restApiId: ref.restApiId, stageName, description: DEPLOYMENT_DESCRIPTION };
    return { service: 'apigateway', operation: 'CreateDeployment', region: ref.region, input: input as unknown as Record<string, unknown> };
  });
  const deployed =
    state.stages === undefined
      ? 'A method change is live only once deployed: the stages to deploy to are read when the fix is planned online.'
      : state.stages.length === 0
        ? 'The API has no stage: nothing is deployed.'
        : `A method change is live only once deployed: each deployment (${state.stages.join(', ')}) also ships every other undeployed change of the API.`;
  const followUps = [...others, ...deployments];
  return { change: { ...first, ...(followUps.length > 0 ? { followUps } : {}), notice: deployed + unfixed } };
}

/** Does the method read back with every field the patch wrote? */
function carries(state: AuthorizationState, call: Change): boolean {
  const input = call.input as unknown as UpdateMethodCommandInput;
  const m = state.methods.find((x) => x.resourceId === input.resourceId && x.httpMethod === input.httpMethod);
  if (!m) return false;
  return (input.patchOperations ?? []).every((op) => {
    if (op.path === '/authorizationType') return m.authorizationType === op.value;
    if (op.path === '/authorizerId') return m.authorizerId === op.value;
    if (op.path === '/apiKeyRequired') return m.apiKeyRequired === (op.value === 'true');
    return false;
  });
}

/**
 * What each stage a fix deployed to serves now: the methods of its current deployment
 * (GetStage, then GetDeployment with `embed=apisummary`: path → HTTP method → snapshot). A
 * stage deleted since is left out: it serves nothing.
 */
async function servedMethods(
  ref: ResourceRef & { restApiId: string },
  clients: AwsClients,
  stageNames: readonly string[],
): Promise<Array<{ stageName: string; deploymentId?: string; apiSummary: Record<string, Record<string, MethodSnapshot>> }>> {
  const sdk = apiGateway();
  const client = clients.get(sdk.APIGatewayClient, ref.region);
  const served = [];
  for (const stageName of stageNames) {
    let deploymentId: string | undefined;
    try {
      deploymentId = (await client.send(new sdk.GetStageCommand({ restApiId: ref.restApiId, stageName }))).deploymentId;
    } catch (error) {
      if (awsErrorName(error) === 'NotFoundException') continue;
      throw error;
    }
    const deployment = deploymentId
      ? await client.send(new sdk.GetDeploymentCommand({ restApiId: ref.restApiId, deploymentId, embed: ['apisummary'] }))
      : undefined;
    served.push({ stageName, ...(deploymentId ? { deploymentId } : {}), apiSummary: deployment?.apiSummary ?? {} });
  }
  return served;
}

/** Does a deployment's snapshot carry what the patch wrote (the snapshot keeps no authorizer id)? */
function snapshotCarries(snapshot: MethodSnapshot | undefined, call: Change): boolean {
  const input = call.input as unknown as UpdateMethodCommandInput;
  return (input.patchOperations ?? []).every((op) => {
    if (op.path === '/authorizationType') return snapshot?.authorizationType === op.value;
    if (op.path === '/apiKeyRequired') return snapshot?.apiKeyRequired === (op.value === 'true');
    return op.path === '/authorizerId' && snapshot !== undefined;
  });
}

export const apigatewayAuthorizationRemediator: Remediator<AuthorizationState, AuthorizationPolicy, 'apigateway-authorization'> = {
  id: 'apigateway-authorization',
  defaultRisk: 'high',
  risk: () => 'high',
  plan: planAuthorization,

  async apply(change, clients) {
    const sdk = apiGateway();
    await sendChanges(sdk, sdk.APIGatewayClient, change, clients, Object.keys(apigatewayAuthorizationRemediator.permissions));
  },

  async verify(ref, clients, policy, change) {
    const observation = await apigatewayAuthorization.readState(ref, clients);
    if (observation.status !== 'known')
      return { compliant: false, reason: observation.status === 'gone' ? observation.reason : 'state unreadable' };
    const evaluation = evaluateAuthorization(observation.state, policy);
    const written = stepsOf(change).filter((c) => c.operation === 'UpdateMethod');
    // a method left to a human is its own problem: the fix made is verified by what it wrote
    if (evaluation.status !== 'compliant' && !written.every((c) => carries(observation.state, c)))
      return {
        compliant: false,
        state: observation.state,
        reason: evaluation.status === 'violation' ? evaluation.reason : 'the methods do not read back as written',
      };
    // a method change is live only once deployed: each stage deployed to must serve the fix
    // (a stage re-pointed at an older deployment since still lets the open method through)
    if (!restApi.is(ref)) return { compliant: true, state: observation.state };
    const stageNames = stepsOf(change).flatMap((c) => (c.operation === 'CreateDeployment' ? [String(c.input.stageName)] : []));
    for (const stage of await servedMethods(ref, clients, stageNames)) {
      for (const call of written) {
        const input = call.input as unknown as UpdateMethodCommandInput;
        const path = observation.state.methods.find((m) => m.resourceId === input.resourceId)?.path;
        const snapshot = path === undefined ? undefined : stage.apiSummary[path]?.[String(input.httpMethod)];
        if (snapshotCarries(snapshot, call)) continue;
        return {
          compliant: false,
          state: observation.state,
          reason: `stage ${stage.stageName} serves deployment ${stage.deploymentId ?? '(none)'}, which does not carry the fix of ${String(input.httpMethod)} ${path ?? `(resource ${String(input.resourceId)})`}`,
        };
      }
    }
    return { compliant: true, state: observation.state };
  },

  targetOf: (call) => restApiRef(call.region, String(call.input.restApiId)).arn,

  permissions: {
    UpdateMethod: {
      actions: ['apigateway:PATCH'],
      resources: ['arn:${Partition}:apigateway:${Region}::/restapis/*/resources/*/methods/*'],
    },
    CreateDeployment: { actions: ['apigateway:POST'], resources: ['arn:${Partition}:apigateway:${Region}::/restapis/*/deployments'] },
  },
  // verify: what each stage serves (GetStage) and what its deployment carries (GetDeployment)
  applyReadPermissions: [
    {
      actions: ['apigateway:GET'],
      resources: [
        'arn:${Partition}:apigateway:${Region}::/restapis/*/stages/*',
        'arn:${Partition}:apigateway:${Region}::/restapis/*/deployments/*',
      ],
    },
  ],
};
