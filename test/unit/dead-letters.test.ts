import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { sqsDeadLetters } from '../../handlers/deps';

describe("the detector's dead-letter sender", () => {
  const sqs = mockClient(SQSClient);
  afterEach(() => sqs.reset());
  afterAll(() => sqs.restore());
  const QUEUE = 'https://sqs.us-east-1.amazonaws.com/111122223333/Rampart-DeadLetters';
  const config = { region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };

  it('sends the event as the body and each attribute as a String message attribute', async () => {
    sqs.on(SendMessageCommand).resolves({ MessageId: 'm-1' });

    await sqsDeadLetters(QUEUE, config).send({
      body: '{"detail":{}}',
      attributes: { ErrorMessage: 'detail.eventSource is missing', RampartReason: 'malformed-event' },
    });

    expect(sqs.commandCalls(SendMessageCommand).map((c) => c.args[0].input)).toEqual([
      {
        QueueUrl: QUEUE,
        MessageBody: '{"detail":{}}',
        MessageAttributes: {
          ErrorMessage: { DataType: 'String', StringValue: 'detail.eventSource is missing' },
          RampartReason: { DataType: 'String', StringValue: 'malformed-event' },
        },
      },
    ]);
  });

  it('lets a failed send throw, so Lambda retries and its own dead-letter queue keeps the event', async () => {
    sqs.on(SendMessageCommand).rejects(Object.assign(new Error('Access to the resource is denied'), { name: 'AccessDenied' }));

    await expect(
      sqsDeadLetters(QUEUE, config).send({ body: '{}', attributes: { ErrorMessage: 'x', RampartReason: 'malformed-event' } }),
    ).rejects.toThrow('Access to the resource is denied');
  });
});
