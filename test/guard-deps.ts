import { InMemoryFixLedger } from '../core/fix-budget';
import { InMemoryLastKnownGood } from '../core/last-known-good';
import type { Policy } from '../core/policy';
import { InMemoryApprovalStore, InMemoryFindingsStore } from '../core/stores';
import { depsFromEnv, type GuardDeps } from '../handlers/deps';

/**
 * The deps of the guard's functions as they build them from their environment (the real
 * client factory, the hub's assumed roles when `RAMPART_HUB` is `true`), over in-memory stores
 * and a workflow ARN: what tests and the bench run the real handlers on.
 */
export function inMemoryGuardDeps(
  policy: Policy,
  env: Record<string, string> = {},
  options: { account?: string; clock?: () => Date } = {},
): GuardDeps {
  const account = options.account ?? '111122223333';
  const real = depsFromEnv({
    RAMPART_POLICY: JSON.stringify(policy),
    RAMPART_TABLE: 'rampart',
    RAMPART_ACCOUNT: account,
    RAMPART_HUB: 'true',
    AWS_REGION: 'us-east-1',
    ...env,
  });
  return Object.create(real, {
    findings: { value: new InMemoryFindingsStore() },
    approvals: { value: new InMemoryApprovalStore() },
    lastKnownGood: { value: new InMemoryLastKnownGood() },
    fixes: { value: new InMemoryFixLedger() },
    config: { value: { ...real.config, stateMachineArn: `arn:aws:states:us-east-1:${account}:stateMachine:rampart` } },
    ...(options.clock ? { clock: { value: options.clock } } : {}),
  }) as GuardDeps;
}
