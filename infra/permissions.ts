import { Aws } from 'aws-cdk-lib';
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
