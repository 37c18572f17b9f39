import { describeChange } from '../../core/control';
import { SFNClient } from '@aws-sdk/client-sfn';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { DynamoApprovalStore, DynamoFindingsStore } from '../../core/dynamo-stores';
import { decideApproval } from '../../remediators/approval-decision';
import { reportAwsFailure } from '../aws-access';
import { guardTable, type GuardTableOptions } from '../guard-table';
import { EXIT, write, type CliIo } from '../io';
import { table } from '../render';

export type ApprovalsOptions = GuardTableOptions;

/** `rampart approvals list`: pending requests, newest last. */
export async function listApprovals(options: ApprovalsOptions, io: CliIo): Promise<number> {
  const guard = await guardTable(options, io);
  if (typeof guard === 'number') return guard;
  try {
    const pending = await new DynamoApprovalStore(guard.db, guard.name).listPending();
    pending.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    if (options.json) {
      for (const a of pending) {
        const { taskToken: _secret, ...shown } = a;
        write(io.stdout, JSON.stringify(shown));
      }
    } else if (pending.length === 0) write(io.stdout, 'no approvals pending');
    else
      write(
        io.stdout,
        table(
          ['ID', 'CONTROL', 'RESOURCE', 'CHANGE', 'EXPIRES'],
          pending.map((a) => [a.id, a.finding.control, a.finding.resourceArn, describeChange(a.change), a.expiresAt]),
        ),
      );
    return EXIT.ok;
  } catch (error) {
    return reportAwsFailure(io, 'list approvals', error);
  }
}

/**
 * `rampart approvals approve|reject <id>`: decides as the caller's IAM identity, which must be
 * one of the guard's `approvals.approvers.iamPrincipalArns` (recorded on the request), and
 * resumes the workflow, through the same decision service as Slack and email.
 */
export async function decideApprovalCommand(
  id: string,
  decision: 'approve' | 'reject',
  options: ApprovalsOptions,
  io: CliIo,
): Promise<number> {
  const guard = await guardTable(options, io);
  if (typeof guard === 'number') return guard;
  const config = guard.config;
  try {
    const identity = await new STSClient(config).send(new GetCallerIdentityCommand({}));
    if (!identity.Arn) throw new Error('STS returned no caller ARN');
    const result = await decideApproval(
      {
        approvals: new DynamoApprovalStore(guard.db, guard.name),
        findings: new DynamoFindingsStore(guard.db, guard.name),
        sfn: new SFNClient(config),
        clock: () => new Date(),
      },
      { id, decision, approver: { channel: 'iam', arn: identity.Arn } },
    );
    if (!result.ok) {
      write(io.stderr, `cannot ${decision} ${id}: ${result.message}`);
      return EXIT.notCompliant;
    }
    const f = result.approval.finding;
    write(
      io.stdout,
      `${decision === 'approve' ? 'approved' : 'rejected'} ${id} (${f.control} ${f.resourceArn}) as ${result.by}${result.uncertain ? '; the workflow may have stopped waiting, watch its outcome' : ''}`,
    );
    return EXIT.ok;
  } catch (error) {
    return reportAwsFailure(io, `${decision} ${id}`, error);
  }
}
