import { Aws, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type { ControlId } from '../core/controls';
import { remediatorFor } from '../remediators';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Permission } from '../core/control';

/** IAM statements from a registry's permissions, the partition filled in. */
export function statementsOf(permissions: readonly Permission[]): iam.PolicyStatement[] {
  return permissions.map(
    (p) =>
      new iam.PolicyStatement({
        actions: [...p.actions],
        resources: p.resources.map((r) => r.split('${Partition}').join(Aws.PARTITION)),
      }),
  );
}

/**
 * A control's resource patterns are wildcards on purpose: the guard watches every bucket,
 * stage and usage plan of the account. The actions are listed one by one (none is `*`).
 */
export function acknowledgeScope(control: ControlId, functions: Array<{ role?: IConstruct }>): void {
  const remediator = remediatorFor(control);
  const patterns = new Set([...Object.values(remediator.permissions), ...remediator.readPermissions, ...(remediator.applyReadPermissions ?? [])].flatMap((p) => p.resources));
  for (const fn of functions) {
    if (!fn.role) continue;
    for (const pattern of patterns) {
      Validations.of(fn.role).acknowledge({
        id: `AwsSolutions::AwsSolutions-IAM5[Resource::${pattern.replace('${Partition}', '<AWS::Partition>')}]`,
        reason: `${control} guards every resource of its type in the account, so the resource is a pattern; the actions are listed one by one`,
      });
    }
  }
}
