import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Command } from 'commander';
import { documentClient, DynamoFixLedger } from '../core/dynamo-stores';
import { InMemoryFixLedger, ledgerKeepSeconds, type FixBudget, type FixLedger } from '../core/fix-budget';
import { write, type CliIo } from './io';

/** How the `findings` and `approvals` commands reach the deployed guard's table. */
export interface GuardTableOptions {
  table?: string;
  region?: string;
  endpoint?: string;
  json?: boolean;
}

/** The options every command on the guard table takes. */
export function guardTableOptions(cmd: Command): Command {
  return cmd
    .option('--table <name>', 'the guard table (stack output TableName; default: RAMPART_TABLE)')
    .option('--region <region>', 'region of the deployed guard (default: AWS_REGION)')
    .option('--endpoint <url>', 'send every AWS call to this endpoint (an emulator)');
}

/** SDK client settings from the options (region, emulator endpoint). */
export function clientConfig(options: GuardTableOptions): { region?: string; endpoint?: string } {
  return { ...(options.region ? { region: options.region } : {}), ...(options.endpoint ? { endpoint: options.endpoint } : {}) };
}

/** The table's name and a document client, or `undefined` (said on stderr) when no table is named. */
export function guardTable(options: GuardTableOptions, io: CliIo): { name: string; db: DynamoDBDocumentClient } | undefined {
  const name = options.table ?? process.env.RAMPART_TABLE;
  if (!name) {
    write(io.stderr, 'which table? pass --table <name> or set RAMPART_TABLE (the stack output TableName)');
    return undefined;
  }
  return { name, db: documentClient(new DynamoDBClient(clientConfig(options))) };
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
    ledger: new DynamoFixLedger(db ?? documentClient(new DynamoDBClient(clientConfig(options))), name, ledgerKeepSeconds(budget)),
    table: name,
  };
}
