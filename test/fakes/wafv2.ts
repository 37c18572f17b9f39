import {
  AssociateWebACLCommand,
  GetWebACLCommand,
  GetWebACLForResourceCommand,
  WAFNonexistentItemException,
  WAFV2Client,
} from '@aws-sdk/client-wafv2';
import { mockClient } from 'aws-sdk-client-mock';
import type { FakeApiGateway } from './apigateway';
import type { FakeWorld } from './world';

/** WAFv2 web ACLs and their associations with the API Gateway fake's stages, behind a mocked WAFV2Client. */
export class FakeWafv2 {
  readonly webAcls = new Set<string>();
  /** Web ACLs WAF reports as `ManagedByFirewallManager`. */
  readonly firewallManagerAcls = new Set<string>();
  readonly mock = mockClient(WAFV2Client);
  /** Reads of an association after it was written that still show the old one (eventual consistency). */
  associationLag = 0;

  constructor(world: FakeWorld, apiGateway: FakeApiGateway) {
    this.mock.on(GetWebACLForResourceCommand).callsFake((input: { ResourceArn: string }) => {
      const stage = apiGateway.stages.get(input.ResourceArn);
      if (!stage) throw new WAFNonexistentItemException({ message: 'no such resource', $metadata: {} });
      if (this.associationLag > 0) {
        this.associationLag--;
        return {};
      }
      return stage.webAclArn ? { WebACL: { ARN: stage.webAclArn, Name: stage.webAclArn.split('/')[2], Id: 'id' } } : {};
    });
    this.mock.on(GetWebACLCommand).callsFake((input: { Name: string; Scope: string; Id: string }) => {
      const arn = [...this.webAcls].find((a) => a.endsWith(`:regional/webacl/${input.Name}/${input.Id}`));
      if (!arn || input.Scope !== 'REGIONAL') throw new WAFNonexistentItemException({ message: 'no such item', $metadata: {} });
      return {
        WebACL: { ARN: arn, Name: input.Name, Id: input.Id, ManagedByFirewallManager: this.firewallManagerAcls.has(arn) },
        LockToken: 'token',
      };
    });
    this.mock.on(AssociateWebACLCommand).callsFake((input: { WebACLArn: string; ResourceArn: string }) => {
      const stage = apiGateway.stages.get(input.ResourceArn);
      if (!stage || !this.webAcls.has(input.WebACLArn)) throw new WAFNonexistentItemException({ message: 'no such item', $metadata: {} });
      stage.webAclArn = input.WebACLArn;
      world.writes.push(`AssociateWebACL ${input.ResourceArn}`);
      return {};
    });
  }
}
