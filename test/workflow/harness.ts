import { SFNClient, SendTaskFailureCommand, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { mockClient } from 'aws-sdk-client-mock';
import { StateMachine } from 'aws-local-stepfunctions';
import { createAwsClients } from '../../core/aws';
import { InMemoryFixLedger } from '../../core/fix-budget';
import { InMemoryLastKnownGood } from '../../core/last-known-good';
import type { Notification } from '../../core/notify';
import type { Policy } from '../../core/policy';
import { InMemoryApprovalStore, InMemoryFindingsStore } from '../../core/stores';
import { NO_TELEMETRY } from '../../core/telemetry';
import type { GuardDeps } from '../../handlers/deps';
import { makeWorkflowHandlers, type WorkflowInput } from '../../handlers/workflow';
import { RampartStack } from '../../infra/stack';

/**
 * Runs the state machine CDK synthesizes (the real definition, not a copy) with
 * aws-local-stepfunctions, each Task bound to the real handler its function names.
 */

type Json = Record<string, unknown>;

/** Resolves the CloudFormation intrinsics of a DefinitionString: Lambda ARNs become `…:function:<logicalId>`. */
export function resolveDefinition(value: unknown, resources: Record<string, { Type: string }>): string {
  if (typeof value === 'string') return value;
  const join = (value as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  if (!join) throw new Error(`unexpected intrinsic in the definition: ${JSON.stringify(value).slice(0, 200)}`);
  return join[1]
    .map((part) => {
      if (typeof part === 'string') return part;
      const att = (part as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt'];
      if (att) return `arn:aws:lambda:us-east-1:111122223333:function:${att[0]}`;
      const ref = (part as { Ref?: string }).Ref;
      if (ref === 'AWS::Partition') return 'aws';
      if (ref === 'AWS::Region') return 'us-east-1';
      if (ref === 'AWS::AccountId') return '111122223333';
      // a queue's Ref is its URL
      if (ref && resources[ref]?.Type === 'AWS::SQS::Queue') return `https://sqs.us-east-1.amazonaws.com/111122223333/${ref}`;
      throw new Error(`unexpected part in the definition: ${JSON.stringify(part)}`);
    })
    .join('');
}

export interface SynthesizedWorkflow {
  definition: Json;
  /** State name → the handler export its Lambda runs (`planHandler`...). */
  handlerOfState: Record<string, string>;
  /** State name → the service integration it calls directly (`sqs:sendMessage`). */
  integrationOfState: Record<string, string>;
  template: Template;
}

/** Synthesizes the stack (bundling skipped: only the template matters here) and extracts the workflow. */
export function synthesizeWorkflow(policy: Policy): SynthesizedWorkflow {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const template = Template.fromStack(new RampartStack(app, 'Test', { policy }));
  const [machine] = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
  const definition = JSON.parse(
    resolveDefinition(
      (machine as { Properties: { DefinitionString: unknown } }).Properties.DefinitionString,
      template.toJSON().Resources as Record<string, { Type: string }>,
    ),
  ) as Json;
  const functions = template.findResources('AWS::Lambda::Function');
  const handlerOfState: Record<string, string> = {};
  const integrationOfState: Record<string, string> = {};
  for (const [name, state] of Object.entries(definition.States as Record<string, Json>)) {
    if (state.Type !== 'Task') continue;
    const integration = /^arn:aws:states:::(sqs:sendMessage)$/.exec(String(state.Resource));
    if (integration) {
      integrationOfState[name] = integration[1]!;
      continue;
    }
    const arn = String((state.Parameters as Json | undefined)?.FunctionName ?? state.Resource);
    const logicalId = arn.split(':function:')[1]!;
    const handler = String((functions[logicalId] as { Properties: { Handler: string } }).Properties.Handler);
    handlerOfState[name] = handler.replace(/^index\./, '');
  }
  return { definition, handlerOfState, integrationOfState, template };
}

/** What the human does when an approval is requested. */
export type Human = (approval: { token: string; notification: Notification; deps: GuardDeps }) => Promise<void>;

/** A message the state machine sent to a queue itself (the failed-notification dead letters). */
export interface QueuedMessage {
  state: string;
  queueUrl: string;
  body: {
    finding: { id: string };
    generation: number;
    notification: { kind: string };
    error: { Error?: string; Cause?: string };
    execution: string;
  };
}

export interface RunResult {
  status: 'succeeded' | 'failed';
  output?: unknown;
  error?: string;
  notifications: Notification[];
  /** Handler invocations by state name, in order. */
  calls: string[];
}

export class LocalWorkflow {
  readonly sns = mockClient(SNSClient);
  readonly sfn = mockClient(SFNClient);
  readonly deps: GuardDeps;
  /** Messages sent to queues by the state machine, across runs. */
  readonly deadLetters: QueuedMessage[] = [];
  /** Set to make the state machine's SendMessage fail (the queue refuses too). */
  sendMessageFault?: () => Error | undefined;
  /**
   * Set to answer each Lambda task with this result instead of running its handler (the
   * bench's floor: the engine and the definition alone); `recordResults` keeps what handlers return.
   */
  replayResult?: (state: string) => unknown;
  readonly recordedResults = new Map<string, unknown>();
  private readonly machine: StateMachine;
  private readonly waiting = new Map<string, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private tokens = 0;

  constructor(
    private readonly workflow: SynthesizedWorkflow,
    policy: Policy,
    clock: () => Date = () => new Date('2024-06-03T16:00:00Z'),
  ) {
    this.machine = new StateMachine(this.workflow.definition as never, { validationOptions: { checkArn: true, checkPaths: true } });
    this.deps = {
      policy,
      clients: createAwsClients({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }),
      clientsFor() {
        return this.clients;
      },
      policyFor: async () => this.deps.policy,
      findings: new InMemoryFindingsStore(),
      approvals: new InMemoryApprovalStore(),
      lastKnownGood: new InMemoryLastKnownGood(),
      fixes: new InMemoryFixLedger(),
      sns: new SNSClient({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }),
      sfn: new SFNClient({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }),
      secrets: { get: async (arn: string) => `secret-of-${arn}` },
      config: {
        topicArn: 'arn:aws:sns:us-east-1:111122223333:rampart',
        approvalApiUrl: 'https://abc123.execute-api.us-east-1.amazonaws.com/approvals/',
        approvalSecretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:rampart-approvals-AbCdEf',
        slackSigningSecretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:rampart-slack-signing-AbCdEf',
      },
      clock,
      telemetry: NO_TELEMETRY,
    };
    this.sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
    this.sfn.on(SendTaskSuccessCommand).callsFake((input: { taskToken: string; output: string }) => {
      const waiter = this.waiting.get(input.taskToken);
      if (!waiter) throw Object.assign(new Error('Task Timed Out'), { name: 'TaskTimedOut' });
      this.waiting.delete(input.taskToken);
      waiter.resolve(JSON.parse(input.output));
      return {};
    });
    this.sfn.on(SendTaskFailureCommand).callsFake((input: { taskToken: string; error?: string; cause?: string }) => {
      this.waiting.get(input.taskToken)?.reject(Object.assign(new Error(input.cause ?? ''), { name: input.error ?? 'Error' }));
      this.waiting.delete(input.taskToken);
      return {};
    });
  }

  restore(): void {
    this.sns.restore();
    this.sfn.restore();
  }

  /** The notifications published on the topic, as the Lambda subscribers receive them. */
  notifications(): Notification[] {
    return this.sns.commandCalls(PublishCommand).flatMap((c) => {
      const message = JSON.parse(String(c.args[0].input.Message)) as { lambda?: string };
      // an approver's personal links go to email only (see emailsTo)
      return message.lambda ? [JSON.parse(message.lambda) as Notification] : [];
    });
  }

  /** The email bodies addressed to one approver (their personal links). */
  emailsTo(approver: string): string[] {
    return this.sns
      .commandCalls(PublishCommand)
      .filter((c) => c.args[0].input.MessageAttributes?.approver?.StringValue === approver)
      .map((c) => (JSON.parse(String(c.args[0].input.Message)) as { email: string }).email);
  }

  async run(input: WorkflowInput, human: Human = async () => undefined): Promise<RunResult> {
    const handlers = makeWorkflowHandlers(() => this.deps) as unknown as Record<string, (input: unknown) => Promise<unknown>>;
    const byExport: Record<string, (input: unknown) => Promise<unknown>> = {
      notifyHandler: handlers.notify!,
      planHandler: handlers.plan!,
      applyHandler: handlers.apply!,
      verifyHandler: handlers.verify!,
      requestApprovalHandler: handlers.requestApproval!,
    };
    const calls: string[] = [];
    const token = `token-${++this.tokens}`;
    const local: Record<string, (input: unknown) => Promise<unknown>> = {};
    for (const [state, handler] of Object.entries(this.workflow.handlerOfState)) {
      const fn = byExport[handler];
      if (!fn) throw new Error(`no local handler for ${handler} (state ${state})`);
      const isCallback = String(((this.workflow.definition.States as Record<string, Json>)[state] as Json).Resource).endsWith(
        '.waitForTaskToken',
      );
      local[state] = async (taskInput) => {
        calls.push(state);
        if (this.replayResult && !isCallback) return this.replayResult(state);
        // a JSON round trip, as between Step Functions and Lambda
        const payload = JSON.parse(JSON.stringify(isCallback ? (taskInput as { Payload: unknown }).Payload : taskInput));
        const result = await fn(payload);
        const returned = result === undefined ? null : JSON.parse(JSON.stringify(result));
        this.recordedResults.set(state, returned);
        if (!isCallback) return returned;
        // the task waits for SendTaskSuccess with its token, or times out
        const decision = new Promise((resolve, reject) => this.waiting.set(token, { resolve, reject }));
        const notification = this.notifications().at(-1)!;
        await human({ token, notification, deps: this.deps });
        if (this.waiting.has(token)) {
          this.waiting.delete(token);
          throw Object.assign(new Error('approval timed out'), { name: 'States.Timeout' });
        }
        return decision;
      };
    }
    for (const [state, integration] of Object.entries(this.workflow.integrationOfState)) {
      local[state] = async (taskInput) => {
        calls.push(state);
        const fault = this.sendMessageFault?.();
        if (fault) throw fault;
        const { QueueUrl, MessageBody } = taskInput as { QueueUrl: string; MessageBody: QueuedMessage['body'] };
        if (integration !== 'sqs:sendMessage' || !QueueUrl) throw new Error(`unexpected ${integration} input ${JSON.stringify(taskInput)}`);
        // Step Functions sends a JSON MessageBody as its string: the round trip a consumer sees
        this.deadLetters.push({ state, queueUrl: QueueUrl, body: JSON.parse(JSON.stringify(MessageBody)) as QueuedMessage['body'] });
        return { MessageId: `msg-${this.deadLetters.length}`, MD5OfMessageBody: 'md5' };
      };
    }
    // no waiting between retries: every state that retries, retried at once
    const retryIntervalOverrides = Object.fromEntries(
      Object.entries(this.workflow.definition.States as Record<string, Json>)
        .filter(([, state]) => Array.isArray(state.Retry))
        .map(([name]) => [name, 0]),
    );
    const before = this.notifications().length;
    const execution = this.machine.run(input as never, {
      overrides: { taskResourceLocalHandlers: local as never, retryIntervalOverrides },
      context: {
        Execution: { Id: `arn:aws:states:us-east-1:111122223333:execution:rampart:${token}`, Name: token },
        Task: { Token: token },
      },
    });
    try {
      const output = await execution.result;
      return { status: 'succeeded', output, notifications: this.notifications().slice(before), calls };
    } catch (error) {
      return {
        status: 'failed',
        error: ((error as Error).cause as Error | undefined)?.name ?? (error as Error).name,
        notifications: this.notifications().slice(before),
        calls,
      };
    }
  }
}
