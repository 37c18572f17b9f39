import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Command } from 'commander';
import { documentClient, DynamoFixLedger } from '../core/dynamo-stores';
import { sdk } from '../core/sdk';
import { InMemoryFixLedger, ledgerKeepSeconds, type FixBudget, type FixLedger } from '../core/fix-budget';
import { NO_REGION, reportAwsFailure, resolveRegion } from './aws-access';
import { EXIT, write, type CliIo } from './io';

/** How the `findings` and `approvals` commands reach the deployed guard's table. */
export interface GuardTableOptions {
  table?: string;
  /** The deployed stack whose output `TableName` names the table. */
  stack?: string;
  region?: string;
  endpoint?: string;
  json?: boolean;
}

/** The options every command on the guard table takes. */
export function guardTableOptions(cmd: Command): Command {
  return cmd
    .option('--table <name>', 'the guard table (default: RAMPART_TABLE, else the TableName output of --stack)')
    .option('--stack <name>', 'the deployed guard stack whose TableName output names the table (default: RAMPART_STACK, else Rampart)')
    .option('--region <region>', 'region of the deployed guard (default: AWS_REGION, else the profile region)')
    .option('--endpoint <url>', 'send every AWS call to this endpoint (an emulator)');
}

/** SDK client settings from the options (region, emulator endpoint). */
export function clientConfig(options: GuardTableOptions): { region?: string; endpoint?: string } {
  return { ...(options.region ? { region: options.region } : {}), ...(options.endpoint ? { endpoint: options.endpoint } : {}) };
}

/** The default stack name: the CDK app's (`-c stackName=`, default Rampart). */
export const DEFAULT_STACK = 'Rampart';

export interface GuardTable {
  name: string;
  db: DynamoDBDocumentClient;
  /** The client settings, region resolved: for the other clients of the command (STS, Step Functions). */
  config: { region: string; endpoint?: string };
}

/**
 * The guard table: `--table`, `RAMPART_TABLE`, else the `TableName` output of the deployed stack
 * (`--stack`, `RAMPART_STACK`, `Rampart`). Returns the exit code, said on stderr, when there is
 * no region, no credentials, or no such stack.
 */
export async function guardTable(
  options: GuardTableOptions,
  io: CliIo,
  env: NodeJS.ProcessEnv = process.env,
): Promise<GuardTable | number> {
  const region = await resolveRegion(options.region, env);
  if (!region) {
    write(io.stderr, NO_REGION);
    return EXIT.usage;
  }
  const config = { region, ...(options.endpoint ? { endpoint: options.endpoint } : {}) };
  let name = options.table ?? env.RAMPART_TABLE;
  if (!name) {
    const stack = options.stack ?? env.RAMPART_STACK ?? DEFAULT_STACK;
    // the CloudFormation client loads only when the stack is read, not for `--help`
    const { describeStack, outputNamed } = await import('./stack-outputs');
    let found;
    try {
      found = await describeStack(stack, config);
    } catch (error) {
      return reportAwsFailure(io, `find the guard table in stack ${stack}`, error);
    }
    name = found && outputNamed(found.outputs, 'TableName');
    if (!name) {
      write(
        io.stderr,
        `${found ? `stack ${stack} in ${region} has no TableName output` : `no stack ${stack} in ${region}`}: pass --stack <name> or --table <name> (or set RAMPART_TABLE)`,
      );
      return EXIT.usage;
    }
  }
  return { name, db: documentClient(new sdk.dynamodb.DynamoDBClient(config)), config };
}

/**
 * The fix budget a fix from the CLI counts against: the deployed guard's ledger when a table is
 * named (`--table` or RAMPART_TABLE), so a laptop and the guard share one budget per resource;
 * a ledger of this run only otherwise.
 */
export function fixLedgerFor(
  options: GuardTableOptions,
  budget: FixBudget,
  db?: DynamoDBDocumentClient,
): { ledger: FixLedger; table?: string } {
  const name = options.table ?? process.env.RAMPART_TABLE;
  if (!name) return { ledger: new InMemoryFixLedger() };
  return {
    ledger: new DynamoFixLedger(
      db ?? documentClient(new sdk.dynamodb.DynamoDBClient(clientConfig(options))),
      name,
      ledgerKeepSeconds(budget),
    ),
    table: name,
  };
}
