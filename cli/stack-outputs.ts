import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';

/**
 * Reading the deployed guard stack (CloudFormation DescribeStacks): what the CLI finds by
 * itself instead of asking for `--table`.
 */

export interface DeployedStack {
  name: string;
  status: string;
  outputs: Record<string, string>;
  /** Tags of the stack (the CDK app tags nothing by default). */
  tags: Record<string, string>;
  description?: string;
}

/** `undefined` when the stack does not exist (CloudFormation answers ValidationError "... does not exist"). */
export async function describeStack(
  name: string,
  config: { region: string; endpoint?: string },
  client: CloudFormationClient = new CloudFormationClient(config),
): Promise<DeployedStack | undefined> {
  let out;
  try {
    out = await client.send(new DescribeStacksCommand({ StackName: name }));
  } catch (error) {
    if ((error as { name?: string }).name === 'ValidationError' && /does not exist/.test(String((error as Error).message)))
      return undefined;
    throw error;
  }
  const stack = out.Stacks?.[0];
  if (!stack) return undefined;
  const outputs: Record<string, string> = {};
  for (const o of stack.Outputs ?? []) if (o.OutputKey && o.OutputValue !== undefined) outputs[o.OutputKey] = o.OutputValue;
  const tags: Record<string, string> = {};
  for (const t of stack.Tags ?? []) if (t.Key && t.Value !== undefined) tags[t.Key] = t.Value;
  return { name: stack.StackName ?? name, status: stack.StackStatus ?? 'UNKNOWN', outputs, tags, description: stack.Description };
}

/**
 * An output of the guard by the id the CDK app gives it (`TableName`): the CDK names the
 * output key after the construct path with a hash (`GuardTableNameFD860DF2`), so the key is
 * matched as `<path>TableName<8 hex digits>` or exactly.
 */
export function outputNamed(outputs: Record<string, string>, id: string): string | undefined {
  if (outputs[id] !== undefined) return outputs[id];
  const pattern = new RegExp(`^[A-Za-z0-9]*${id}[0-9A-F]{8}$`);
  const keys = Object.keys(outputs).filter((k) => pattern.test(k));
  return keys.length === 1 ? outputs[keys[0]!] : undefined;
}

/** One output of a deployed stack; `undefined` when the stack or the output is missing. */
export async function stackOutput(
  stack: string,
  id: string,
  config: { region: string; endpoint?: string },
  client?: CloudFormationClient,
): Promise<string | undefined> {
  const found = await describeStack(stack, config, client);
  return found && outputNamed(found.outputs, id);
}
