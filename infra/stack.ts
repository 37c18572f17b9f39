import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { Policy } from '../core/policy';
import { RampartGuard, type RampartGuardProps } from './constructs/guard';

export interface RampartStackProps extends StackProps, Partial<Omit<RampartGuardProps, 'policy'>> {
  policy: Policy;
}

/** The stack `npx cdk deploy` deploys: one RampartGuard. */
export class RampartStack extends Stack {
  readonly guard: RampartGuard;

  constructor(scope: Construct, id: string, props: RampartStackProps) {
    super(scope, id, props);
    this.guard = new RampartGuard(this, 'Guard', {
      policy: props.policy,
      createTrail: props.createTrail,
      tableRemovalPolicy: props.tableRemovalPolicy,
      iamEventsForwarded: props.iamEventsForwarded,
      hub: props.hub,
    });
  }
}
