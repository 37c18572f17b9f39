import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  StartExecutionCommand,
  type SFNClientResolvedConfig,
  type ServiceInputTypes,
  type ServiceOutputTypes,
} from '@aws-sdk/client-sfn';
import type { AwsStub } from 'aws-sdk-client-mock';

export interface FakeExecution {
  name: string;
  input: string;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';
}

/**
 * Step Functions executions, as the API behaves: a name is taken for good (90 days); starting
 * a running execution again with the same input returns it (idempotent), anything else is
 * ExecutionAlreadyExists; DescribeExecution by ARN, ExecutionDoesNotExist for an unknown one.
 */
export class FakeStepFunctions {
  readonly executions = new Map<string, FakeExecution>();
  /** Called with each execution newly started (e.g. to run it on the local workflow). */
  onStart?: (execution: FakeExecution) => void;
  /** Wraps each call (fault injection): `run` is the call as the service does it. */
  intercept?: (call: 'sfn:StartExecution' | 'sfn:DescribeExecution', run: () => unknown) => unknown;

  constructor(sfn: AwsStub<ServiceInputTypes, ServiceOutputTypes, SFNClientResolvedConfig>) {
    const arnOf = (stateMachineArn: string, name: string) => `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
    const around = (call: 'sfn:StartExecution' | 'sfn:DescribeExecution', run: () => unknown) =>
      this.intercept ? this.intercept(call, run) : run();
    sfn.on(StartExecutionCommand).callsFake((input: { stateMachineArn: string; name: string; input: string }) =>
      around('sfn:StartExecution', () => {
        const existing = this.executions.get(input.name);
        if (existing && !(existing.status === 'RUNNING' && existing.input === input.input)) {
          throw new ExecutionAlreadyExists({
            message: `Execution Already Exists: '${arnOf(input.stateMachineArn, input.name)}'`,
            $metadata: {},
          });
        }
        if (!existing) {
          const execution: FakeExecution = { name: input.name, input: input.input, status: 'RUNNING' };
          this.executions.set(input.name, execution);
          this.onStart?.(execution);
        }
        return { executionArn: arnOf(input.stateMachineArn, input.name), startDate: new Date() };
      }),
    );
    sfn.on(DescribeExecutionCommand).callsFake((input: { executionArn: string }) =>
      around('sfn:DescribeExecution', () => {
        const name = input.executionArn.split(':').at(-1)!;
        const execution = this.executions.get(name);
        if (!execution) throw new ExecutionDoesNotExist({ message: `Execution Does Not Exist: '${input.executionArn}'`, $metadata: {} });
        return { executionArn: input.executionArn, name, status: execution.status, input: execution.input, startDate: new Date() };
      }),
    );
  }

  /** The names of the executions started, in order. */
  get names(): string[] {
    return [...this.executions.keys()];
  }
}

/** Step Functions refuses a second execution with a name it has seen: the last line of dedupe. */
export function uniqueExecutionNames(sfn: AwsStub<ServiceInputTypes, ServiceOutputTypes, SFNClientResolvedConfig>): Set<string> {
  const fake = new FakeStepFunctions(sfn);
  const names = new Set<string>();
  fake.onStart = (e) => names.add(e.name);
  return names;
}
