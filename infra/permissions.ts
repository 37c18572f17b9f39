import { Aws, Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type { ControlId } from '../core/controls';
import type { Policy } from '../core/policy';
import { detectorFor, remediatorFor } from '../controls';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Permission } from '../core/control';

/**
 * The regions the guard acts in: its own (events arrive there) and the policy's (the sweep and
 * the CLI scan them). A region the guard never acts in gets no grant.
 */
export function regionsOf(scope: IConstruct, policy: Policy): string[] {
  return [...new Set([Stack.of(scope).region, ...policy.regions])];
}

/** A registry resource pattern, `${Partition}` filled in and one pattern per region for `${Region}`. */
export function resourcesOf(pattern: string, regions: readonly string[], partition: string = Aws.PARTITION): string[] {
  const filled = pattern.split('${Partition}').join(partition);
  return filled.includes('${Region}') ? regions.map((r) => filled.split('${Region}').join(r)) : [filled];
}

/** IAM statements from a registry's permissions, for the guard's regions. */
export function statementsOf(permissions: readonly Permission[], regions: readonly string[] = [Aws.REGION]): iam.PolicyStatement[] {
  return permissions.map(
    (p) =>
      new iam.PolicyStatement({ actions: [...p.actions], resources: [...new Set(p.resources.flatMap((r) => resourcesOf(r, regions)))] }),
  );
}

/**
 * A control's resource patterns are wildcards on purpose: the guard watches every bucket,
 * stage and usage plan of the account. The actions are listed one by one (none is `*`).
 */
export function acknowledgeScope(
  control: ControlId,
  functions: Array<{ role?: IConstruct }>,
  regions: readonly string[] = [Aws.REGION],
): void {
  const remediator = remediatorFor(control);
  const patterns = new Set(
    [...Object.values(remediator.permissions), ...detectorFor(control).readPermissions, ...(remediator.applyReadPermissions ?? [])].flatMap(
      (p) => p.resources,
    ),
  );
  for (const fn of functions) {
    if (!fn.role) continue;
    for (const pattern of patterns)
      acknowledgePattern(
        fn.role,
        pattern,
        regions,
        `${control} guards every resource of its type in the account, so the resource is a pattern; the actions are listed one by one`,
      );
  }
}

/** Acknowledges cdk-nag's IAM5 finding of a registry resource pattern, as cdk-nag prints it. */
export function acknowledgePattern(role: IConstruct, pattern: string, regions: readonly string[], reason: string): void {
  for (const resource of resourcesOf(pattern, regions, '<AWS::Partition>')) {
    const printed = Stack.of(role).resolve(resource) as unknown;
    Validations.of(role).acknowledge({ id: `AwsSolutions::AwsSolutions-IAM5[Resource::${nagText(printed)}]`, reason });
  }
}

/** cdk-nag's rendering of a resolved value: `{Ref: X}` as `<X>`, joins flattened. */
function nagText(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, unknown>;
  if (v.Ref) return `<${String(v.Ref)}>`;
  if (v['Fn::Join']) {
    const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map(nagText).join(sep);
  }
  return JSON.stringify(value);
}
