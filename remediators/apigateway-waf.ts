import type { AssociateWebACLCommandInput } from '@aws-sdk/client-wafv2';
import { parse } from '@aws-sdk/util-arn-parser';
import type { Plan, Remediator } from '../core/control';
import type { Finding } from '../core/finding';
import type { AwsClients } from '../core/aws';
import { restApiStage } from '../detectors/apigateway-resources';
import { lazyModule } from '../core/sdk';
import type { WafPolicy } from '../detectors/apigateway-waf';
import { apiGatewaySdk, apigatewayWaf, evaluateStageWaf, mayBeFirewallManagers, type StageWafState } from '../detectors/apigateway-waf';
import { awsErrorName } from '../detectors/aws-errors';
import { REMEDIATION_ERRORS, remediationError } from './failures';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const wafv2 = lazyModule(() => require('@aws-sdk/client-wafv2') as typeof import('@aws-sdk/client-wafv2'));

/**
 * The ACL to restore on a stage: the policy mapping for the stage or its API, else the last
 * ACL the stage was seen compliant with, else the policy default. A Firewall Manager ACL (or
 * one recorded before WAF was asked that is named like one) is never restored: Firewall
 * Manager decides where its ACLs go, and it may have withdrawn this one on purpose.
 */
export function aclToRestore(policy: WafPolicy, restApiId: string, stageName: string, lastKnownGood?: StageWafState): string | undefined {
  const restorable =
    lastKnownGood && lastKnownGood.managedByFirewallManager !== true && !mayBeFirewallManagers(lastKnownGood)
      ? lastKnownGood.webAclArn
      : undefined;
  return policy.stages[`${restApiId}/${stageName}`] ?? policy.stages[restApiId] ?? restorable ?? policy.defaultWebAclArn;
}

/** Pure: the AssociateWebACL that puts the right ACL on the stage, or why there is none. */
export function planStageWaf(finding: Finding, state: StageWafState, policy: WafPolicy, lastKnownGood?: StageWafState): Plan {
  const ref = restApiStage.arn.parse(finding.resourceArn);
  if (!ref) return { change: null, reason: `${finding.resourceArn} is not a REST API stage` };
  if (evaluateStageWaf(state, policy, ref).status === 'compliant')
    return { change: null, reason: 'the stage already carries the required web ACL' };
  const acl = aclToRestore(policy, ref.restApiId, ref.stageName, lastKnownGood);
  if (!acl) {
    return {
      change: null,
      reason: 'no web ACL to restore: the policy maps none to this stage, has no default, and none was recorded for it',
    };
  }
  const aclRegion = parse(acl).region;
  if (aclRegion !== ref.region)
    return {
      change: null,
      reason: `web ACL ${acl} is in ${aclRegion}, the stage in ${ref.region}: a REGIONAL ACL must be in the stage's region`,
    };
  const input: AssociateWebACLCommandInput = { WebACLArn: acl, ResourceArn: ref.arn };
  return {
    change: { service: 'wafv2', operation: 'AssociateWebACL', region: ref.region, input: input as unknown as Record<string, unknown> },
  };
}

/**
 * AssociateWebACL's WAFNonexistentItemException does not say which item: the web ACL (deleted)
 * or the stage (gone, or so new that WAF does not see it yet). Asks WAF and API Gateway which.
 */
async function whichIsMissing(input: AssociateWebACLCommandInput, clients: AwsClients, original: unknown): Promise<unknown> {
  const acl = parse(input.WebACLArn!);
  // arn:aws:wafv2:<region>:<account>:regional/webacl/<name>/<id>
  const [, , name, id] = acl.resource.split('/');
  try {
    await clients.get(wafv2().WAFV2Client, acl.region).send(new (wafv2().GetWebACLCommand)({ Name: name, Scope: 'REGIONAL', Id: id }));
  } catch (error) {
    if (awsErrorName(error) !== 'WAFNonexistentItemException') throw error;
    return remediationError(
      REMEDIATION_ERRORS.webAclMissing,
      `web ACL ${input.WebACLArn} does not exist: nothing attached; restore it, or map another ACL to the stage in the policy`,
    );
  }
  const stage = restApiStage.arn.parse(input.ResourceArn!);
  if (!stage) return original;
  try {
    await clients
      .get(apiGatewaySdk().APIGatewayClient, stage.region)
      .send(new (apiGatewaySdk().GetStageCommand)({ restApiId: stage.restApiId, stageName: stage.stageName }));
  } catch (error) {
    if (awsErrorName(error) === 'NotFoundException') return original; // the stage is gone: resource-gone
    throw error;
  }
  return remediationError(
    REMEDIATION_ERRORS.notYetVisible,
    `WAF does not see stage ${input.ResourceArn} yet (it exists in API Gateway, and web ACL ${input.WebACLArn} exists)`,
  );
}

export const apigatewayWafRemediator: Remediator<StageWafState, WafPolicy, 'apigateway-waf'> = {
  id: 'apigateway-waf',
  risk: (_finding, policy) => policy.risk,
  plan: planStageWaf,

  async apply(change, clients) {
    const input = change.input as unknown as AssociateWebACLCommandInput;
    try {
      await clients.get(wafv2().WAFV2Client, change.region).send(new (wafv2().AssociateWebACLCommand)(input));
    } catch (error) {
      if (awsErrorName(error) !== 'WAFNonexistentItemException') throw error;
      throw await whichIsMissing(input, clients, error);
    }
  },

  async verify(ref, clients, policy, change) {
    const observation = await apigatewayWaf.readState(ref, clients);
    if (observation.status !== 'known')
      return { compliant: false, reason: observation.status === 'gone' ? observation.reason : 'state unreadable' };
    const written = (change.input as unknown as AssociateWebACLCommandInput).WebACLArn;
    // a restored last-known-good ACL is right even where the policy has no mapping for it
    if (observation.state.webAclArn === written) return { compliant: true, state: observation.state };
    const state = await apigatewayWaf.resolveState!(observation.state, policy, ref, clients);
    if (evaluateStageWaf(state, policy, ref).status === 'compliant') return { compliant: true, state };
    // association takes seconds to minutes to show: the caller retries
    return { compliant: false, state: observation.state, reason: `the stage reads back web ACL ${observation.state.webAclArn ?? 'none'}` };
  },

  targetOf: (change) => String(change.input.ResourceArn),

  permissions: {
    // associating an ACL with an API Gateway stage takes both: WAF's action and API Gateway's SetWebACL
    AssociateWebACL: {
      actions: ['wafv2:AssociateWebACL', 'apigateway:SetWebACL'],
      resources: ['arn:${Partition}:wafv2:*:*:regional/webacl/*/*', 'arn:${Partition}:apigateway:${Region}::/restapis/*/stages/*'],
    },
  },
  // which item a WAFNonexistentItemException of AssociateWebACL meant: with GetWebACL (a read
  // above), whether the stage exists in API Gateway
  applyReadPermissions: [{ actions: ['apigateway:GET'], resources: ['arn:${Partition}:apigateway:${Region}::/restapis/*/stages/*'] }],
};
