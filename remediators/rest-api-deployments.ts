import type { CreateDeploymentCommandInput } from '@aws-sdk/client-api-gateway';
import type { Change } from '../core/control';

/**
 * A REST API change that is live only once deployed (a resource policy, an endpoint setting)
 * is followed by a CreateDeployment to each of the API's stages, and the approver is told that
 * each deployment also ships every other undeployed change of the API.
 */

/** One CreateDeployment per stage, in the stages' order. */
export function deploymentsTo(region: string, restApiId: string, stages: readonly string[], description: string): Change[] {
  return stages.map((stageName) => {
    const input: CreateDeploymentCommandInput = { restApiId, stageName, description };
    return { service: 'apigateway', operation: 'CreateDeployment', region, input: input as unknown as Record<string, unknown> };
  });
}

/** The notice of such a change: what the deployments ship, or that the stages are read online. */
export function deploymentNotice(what: string, stages: readonly string[] | undefined): string {
  if (stages === undefined) return `${what} is live only once deployed: the stages to deploy to are read when the fix is planned online.`;
  if (stages.length === 0) return `${what} is live only once deployed, and the API has no stage: nothing is deployed.`;
  return `${what} is live only once deployed: each deployment (${stages.join(', ')}) also ships every other undeployed change of the API.`;
}

/** The CreateDeployment permission, as each such control declares it. */
export const CREATE_DEPLOYMENT = {
  actions: ['apigateway:POST'],
  resources: ['arn:${Partition}:apigateway:${Region}::/restapis/*/deployments'],
} as const;
