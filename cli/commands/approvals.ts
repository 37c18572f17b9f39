import { SFNClient, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { DynamoApprovalStore, DynamoFindingsStore } from '../../core/dynamo-stores';
import { clientConfig, guardTable, type GuardTableOptions } from '../guard-table';
import { messageOf } from '../../core/errors';
import { EXIT, write, type CliIo } from '../io';
import { table } from '../render';

export type ApprovalsOptions = GuardTableOptions;

/** `rampart approvals list`: pending requests, newest last. */
export async function listApprovals(options: ApprovalsOptions, io: CliIo): Promise<number> {
  const guard = guardTable(options, io);
  if (!guard) return EXIT.usage;
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
          pending.map((a) => [a.id, a.finding.control, a.finding.resourceArn, `${a.change.operation} ${JSON.stringify(a.change.input)}`, a.expiresAt]),
        ),
      );
    return EXIT.ok;
  } catch (error) {
    write(io.stderr, `cannot list approvals: ${messageOf(error)}`);
    return EXIT.notCompliant;
  }
}

/**
 * `rampart approvals approve|reject <id>`: decides as the caller's IAM identity (recorded as
 * who decided) and resumes the workflow.
 */
export async function decideApproval(id: string, decision: 'approve' | 'reject', options: ApprovalsOptions, io: CliIo): Promise<number> {
  const guard = guardTable(options, io);
  if (!guard) return EXIT.usage;
  const config = clientConfig(options);
  try {
    const identity = await new STSClient(config).send(new GetCallerIdentityCommand({}));
    const by = `iam:${identity.Arn ?? 'unknown'}`;
    const store = new DynamoApprovalStore(guard.db, guard.name);
    const result = await store.decide(id, decision === 'approve' ? 'approved' : 'rejected', by, new Date());
    if ('refused' in result) {
      write(io.stderr, result.refused === 'not-found' ? `no approval ${id}` : `approval ${id} was already decided or expired; nothing changed`);
      return EXIT.notCompliant;
    }
    await new SFNClient(config).send(new SendTaskSuccessCommand({ taskToken: result.decided.taskToken, output: JSON.stringify({ decision, by }) }));
    await new DynamoFindingsStore(guard.db, guard.name).update(result.decided.findingId, { entry: { at: new Date().toISOString(), event: decision === 'approve' ? 'approved' : 'rejected', by } });
    write(io.stdout, `${decision === 'approve' ? 'approved' : 'rejected'} ${id} (${result.decided.finding.control} ${result.decided.finding.resourceArn}) as ${by}`);
    return EXIT.ok;
  } catch (error) {
    write(io.stderr, `cannot ${decision} ${id}: ${messageOf(error)}`);
    return EXIT.notCompliant;
  }
}
