import * as z from 'zod/mini';
import { lazyModule } from '../core/sdk';
import type { AwsClients } from '../core/aws';
import { lazySchema, type Detector, type Observation } from '../core/control';
import type { RampartEvent } from '../core/events';
import type { Evaluation, ResourceRef } from '../core/finding';
import { stageFromRecord } from './apigateway-records';
import { restApiStage, stageRef } from './apigateway-resources';
import { configObservation, refFromConfigEvent } from './config-events';
import { awsErrorName } from './aws-errors';
import { memoPerClientSet } from './cold-start-memo';
import { riskSchema } from './policy-fields';
import { extend } from '../core/extend';

/* eslint-disable @typescript-eslint/no-require-imports */
const wafv2 = lazyModule(() => require('@aws-sdk/client-wafv2') as typeof import('@aws-sdk/client-wafv2'));
export const apiGatewaySdk = lazyModule(() => require('@aws-sdk/client-api-gateway') as typeof import('@aws-sdk/client-api-gateway'));
/* eslint-enable @typescript-eslint/no-require-imports */

/** The control's slice of the policy (`controls.apigateway-waf`). */
export const wafPolicySchema = lazySchema(() => {
  const webAclArn = z.string().check(
    z.regex(/^arn:aws[a-z-]*:wafv2:[a-z0-9-]+:\d{12}:regional\/webacl\/[^/]+\/[^/]+$/, {
      message: 'expected a REGIONAL WAFv2 web ACL ARN (arn:aws:wafv2:<region>:<account>:regional/webacl/<name>/<id>)',
    }),
  );
  return z.strictObject({
    /** The web ACL every REST API stage must carry unless `stages` maps it to another. */
    defaultWebAclArn: z.optional(webAclArn),
    /** Per stage (`<restApiId>/<stage>`) or per API (`<restApiId>`) web ACL. */
    stages: z._default(
      z.record(
        z.string().check(z.regex(/^[A-Za-z0-9]+(\/[^/]+)?$/, { message: 'expected "<restApiId>" or "<restApiId>/<stageName>"' })),
        webAclArn,
      ),
      {},
    ),
    risk: riskSchema('low'),
  });
});

export type WafPolicy = z.infer<ReturnType<typeof wafPolicySchema>>;

/** The WAFv2 web ACL attached to a REST API stage (`null`: none). */
export interface StageWafState {
  webAclArn: string | null;
  /**
   * What WAF says of the ACL (GetWebACL `ManagedByFirewallManager`), read online when the ACL
   * is not the one the policy requires. Unset: not asked (offline, or the required ACL).
   */
  managedByFirewallManager?: boolean;
}

// Firewall Manager names the ACLs it creates so. The name is only a hint (anyone may name an
// ACL so): only WAF's ManagedByFirewallManager makes an ACL Firewall Manager's.
const FIREWALL_MANAGER_NAME = /:regional\/webacl\/FMManagedWebACLV2-/;

/** True when only WAF can tell whether the ACL is Firewall Manager's: named like one and not asked yet. */
export function mayBeFirewallManagers(state: StageWafState): boolean {
  return state.webAclArn !== null && state.managedByFirewallManager === undefined && FIREWALL_MANAGER_NAME.test(state.webAclArn);
}

/** The ACL the policy wants on a stage: the stage mapping, else the API mapping, else the default. */
export function requiredWebAcl(policy: WafPolicy, ref: ResourceRef): string | undefined {
  if (!restApiStage.is(ref)) return undefined;
  return policy.stages[`${ref.restApiId}/${ref.stageName}`] ?? policy.stages[ref.restApiId] ?? policy.defaultWebAclArn;
}

/**
 * Pure: is the required web ACL attached? Without a mapping or default, any ACL will do. An
 * ACL WAF says Firewall Manager manages is accepted as it is (replacing it would start a fight
 * with Firewall Manager); one named like it but not asked yet is `unknown`.
 */
export function evaluateStageWaf(state: StageWafState, policy: WafPolicy, ref: ResourceRef): Evaluation {
  const required = requiredWebAcl(policy, ref);
  const desired = { webAclArn: required ?? 'any web ACL' };
  const observed = { webAclArn: state.webAclArn };
  if (state.webAclArn === null) {
    return { status: 'violation', observed, desired, reason: 'no WAF web ACL is attached to the stage' };
  }
  if (required === undefined || state.webAclArn === required || state.managedByFirewallManager === true) return { status: 'compliant' };
  if (mayBeFirewallManagers(state)) {
    return {
      status: 'unknown',
      reason: `whether web ACL ${state.webAclArn} is managed by Firewall Manager takes a WAF lookup (GetWebACL)`,
    };
  }
  return { status: 'violation', observed, desired, reason: `stage carries web ACL ${state.webAclArn}, policy requires ${required}` };
}

/** The call's answer, or `null` when it fails with the error that means "no such resource". */
async function orNullWhen<T>(notFound: string, call: () => Promise<T>): Promise<T | null> {
  try {
    return await call();
  } catch (error) {
    if (awsErrorName(error) === notFound) return null;
    throw error;
  }
}

export const apigatewayWaf: Detector<StageWafState, WafPolicy, 'apigateway-waf'> = {
  id: 'apigateway-waf',
  title: 'REST API stages have the required WAF web ACL',
  securityHubControls: ['APIGateway.4'],
  severity: 'high',
  resources: [restApiStage],
  get policySchema() {
    return wafPolicySchema();
  },
  // a regional web ACL attaches only to stages of its own region
  policyRegions(policy) {
    const region = (arn: string) => arn.split(':')[3] ?? '';
    return [
      ...(policy.defaultWebAclArn ? [{ path: ['defaultWebAclArn'], region: region(policy.defaultWebAclArn) }] : []),
      ...Object.entries(policy.stages).map(([key, arn]) => ({ path: ['stages', key], region: region(arn) })),
    ];
  },
  triggers: {
    cloudTrail: [
      { source: 'aws.wafv2', eventSource: 'wafv2.amazonaws.com', eventNames: ['AssociateWebACL', 'DisassociateWebACL'] },
      { source: 'aws.apigateway', eventSource: 'apigateway.amazonaws.com', eventNames: ['CreateStage', 'CreateDeployment'] },
    ],
    configResourceTypes: ['AWS::ApiGateway::Stage'],
  },

  resourcesFrom(event: RampartEvent): ResourceRef[] {
    if (event.kind === 'cloudtrail') {
      const record = event.record;
      if (record.eventSource === 'wafv2.amazonaws.com') {
        const arn = record.requestParameters?.resourceArn;
        // ALBs, AppSync, Cognito... can carry web ACLs too: only REST stages are ours
        const ref = typeof arn === 'string' ? restApiStage.arn.parse(arn) : undefined;
        return ref ? [extend(ref, { account: record.recipientAccountId })] : [];
      }
      const ref = stageFromRecord(record);
      return ref ? [ref] : [];
    }
    return refFromConfigEvent(event, restApiStage) ?? [];
  },

  stateFrom(event: RampartEvent): Observation<StageWafState> {
    const fromConfig = configObservation<StageWafState>(event, 'stage', (item) => {
      const config = item.configuration as { webAclArn?: unknown } | null | undefined;
      if (!config) return { status: 'unknown', reason: 'Config item carries no configuration' };
      return {
        status: 'known',
        state: { webAclArn: typeof config.webAclArn === 'string' && config.webAclArn !== '' ? config.webAclArn : null },
      };
    });
    if (fromConfig) return fromConfig;
    switch (event.kind) {
      case 'cloudtrail': {
        const { eventName, requestParameters } = event.record;
        if (eventName === 'DisassociateWebACL') return { status: 'known', state: { webAclArn: null } };
        if (eventName === 'AssociateWebACL') {
          const acl = requestParameters?.webACLArn;
          return typeof acl === 'string' && acl !== ''
            ? { status: 'known', state: { webAclArn: acl } }
            : { status: 'unknown', reason: 'AssociateWebACL record carries no webACLArn' };
        }
        // a new stage starts without any web ACL
        if (eventName === 'CreateStage') return { status: 'known', state: { webAclArn: null } };
        return { status: 'unknown', reason: `${eventName} may target an existing stage; its web ACL is not in the event` };
      }
      default:
        return { status: 'unknown', reason: 'event does not concern API Gateway stages' };
    }
  },

  async readState(ref: ResourceRef, clients: AwsClients): Promise<Observation<StageWafState>> {
    if (!restApiStage.is(ref)) throw new TypeError(`not a REST API stage: ${ref.arn}`);
    // WAF knows only the association; the stage's tags (exemptions) are API Gateway's (GetTags)
    const gone = { status: 'gone', reason: `stage ${ref.arn} does not exist` } as const;
    const [acl, tagged] = await Promise.all([
      orNullWhen('WAFNonexistentItemException', () =>
        clients.get(wafv2().WAFV2Client, ref.region).send(new (wafv2().GetWebACLForResourceCommand)({ ResourceArn: ref.arn })),
      ),
      orNullWhen('NotFoundException', () =>
        clients.get(apiGatewaySdk().APIGatewayClient, ref.region).send(new (apiGatewaySdk().GetTagsCommand)({ resourceArn: ref.arn })),
      ),
    ]);
    if (acl === null || tagged === null) return gone;
    return { status: 'known', state: { webAclArn: acl.WebACL?.ARN ?? null }, tags: tagged.tags ?? {} };
  },

  /** What `readState` (and `resolveState`) call: the detector, the sweep and remediation are granted these. */
  readPermissions: [
    {
      actions: ['wafv2:GetWebACLForResource'],
      resources: ['arn:${Partition}:wafv2:*:*:regional/webacl/*/*', 'arn:${Partition}:apigateway:${Region}::/restapis/*/stages/*'],
    },
    // whether an ACL is Firewall Manager's (ManagedByFirewallManager)
    { actions: ['wafv2:GetWebACL'], resources: ['arn:${Partition}:wafv2:*:*:regional/webacl/*/*'] },
    // the stage's tags (exemptions): GetTags on /tags/<stage ARN>
    { actions: ['apigateway:GET'], resources: ['arn:${Partition}:apigateway:${Region}::/tags/*'] },
  ],

  async resolveState(state, policy, ref, clients) {
    // the policy's own ACL needs no asking; any other may be Firewall Manager's (never replaced,
    // never restored as last-known-good)
    if (state.webAclArn === null || state.webAclArn === requiredWebAcl(policy, ref)) return state;
    return { ...state, managedByFirewallManager: await isFirewallManagerAcl(clients, state.webAclArn) };
  },

  evaluate: (state, policy, ref) => evaluateStageWaf(state, policy, ref),

  list: listRestStages,
  listPermissions: [
    {
      actions: ['apigateway:GET'],
      resources: ['arn:${Partition}:apigateway:${Region}::/restapis', 'arn:${Partition}:apigateway:${Region}::/restapis/*/stages'],
    },
  ],
};

const firewallManagerAcls = memoPerClientSet<boolean>();

/**
 * WAF's word on whether Firewall Manager manages a web ACL (GetWebACL `WebACL.ManagedByFirewallManager`),
 * asked once per ACL per cold start. Name, scope and id come from the ARN
 * (`arn:aws:wafv2:<region>:<account>:regional/webacl/<name>/<id>`). An ACL WAF does not find is not Firewall Manager's.
 */
export function isFirewallManagerAcl(clients: AwsClients, webAclArn: string): Promise<boolean> {
  return firewallManagerAcls(clients, webAclArn, async () => {
    const m = /^arn:aws[a-z-]*:wafv2:([^:]+):\d{12}:regional\/webacl\/([^/]+)\/([^/]+)$/.exec(webAclArn);
    if (!m) return false; // not a REGIONAL web ACL: Firewall Manager's REGIONAL policies never made it
    try {
      const out = await clients
        .get(wafv2().WAFV2Client, m[1]!)
        .send(new (wafv2().GetWebACLCommand)({ Name: m[2]!, Scope: 'REGIONAL', Id: m[3]! }));
      return out.WebACL?.ManagedByFirewallManager === true;
    } catch (error) {
      if (awsErrorName(error) === 'WAFNonexistentItemException') return false;
      throw error;
    }
  });
}

/** Every REST API stage in the client set's regions. */
export async function* listRestStages(clients: AwsClients): AsyncIterable<ResourceRef> {
  for (const region of clients.regions) {
    const sdk = apiGatewaySdk();
    const client = clients.get(sdk.APIGatewayClient, region);
    for await (const page of sdk.paginateGetRestApis({ client }, { limit: 500 })) {
      for (const api of page.items ?? []) {
        if (!api.id) continue;
        const stages = await client.send(new sdk.GetStagesCommand({ restApiId: api.id }));
        for (const stage of stages.item ?? []) if (stage.stageName) yield stageRef(region, api.id, stage.stageName, clients.account);
      }
    }
  }
}
