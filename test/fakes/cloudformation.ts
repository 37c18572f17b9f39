import {
  CloudFormationClient,
  CloudFormationServiceException,
  DescribeStacksCommand,
  type StackStatus,
} from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';

/** A deployed stack as DescribeStacks shows it. */
export interface FakeStack {
  status: StackStatus;
  outputs: Record<string, string>;
  description?: string;
}

/**
 * CloudFormation stacks per region behind a mocked CloudFormationClient, for what the CLI reads
 * of the deployed guard (DescribeStacks: StackName, StackStatus, Outputs). A stack that does
 * not exist is refused as CloudFormation does: `ValidationError`, "Stack with id <name> does
 * not exist" (CloudFormation API Reference, DescribeStacks).
 */
export class FakeCloudFormation {
  /** Stacks by `<region> <name>`. */
  readonly stacks = new Map<string, FakeStack>();
  readonly mock = mockClient(CloudFormationClient);

  stack(region: string, name: string, stack: FakeStack): void {
    this.stacks.set(`${region} ${name}`, stack);
  }

  constructor() {
    this.mock.on(DescribeStacksCommand).callsFake(async (input: { StackName?: string }, getClient: () => CloudFormationClient) => {
      const region = await getClient().config.region();
      const name = input.StackName ?? '';
      const found = this.stacks.get(`${region} ${name}`);
      if (!found)
        throw new CloudFormationServiceException({
          name: 'ValidationError',
          $fault: 'client',
          $metadata: { httpStatusCode: 400 },
          message: `Stack with id ${name} does not exist`,
        });
      return {
        Stacks: [
          {
            StackName: name,
            StackId: `arn:aws:cloudformation:${region}:111122223333:stack/${name}/6c3c2a30-0000-11ef-0000-0a1b2c3d4e5f`,
            StackStatus: found.status,
            CreationTime: new Date('2026-01-05T10:00:00Z'),
            Outputs: Object.entries(found.outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
            Tags: [],
            ...(found.description ? { Description: found.description } : {}),
          },
        ],
      };
    });
  }
}
