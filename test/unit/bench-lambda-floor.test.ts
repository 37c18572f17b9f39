import { build } from 'esbuild';
import { join } from 'node:path';
import { bundledFloorSource, floorCall } from '../../bench/lambda-floor-calls';

const ROOT = join(__dirname, '../..');
const DETECTOR_CALLS = ['s3:GetBucketTagging', 's3:GetBucketEncryption', 'DynamoDB_20120810:UpdateItem', 'AWSStepFunctions:StartExecution'];

describe('the Lambda bench floors', () => {
  it('sends each recorded call as its own command of its service', () => {
    expect(floorCall('s3:GetBucketEncryption')).toMatchObject({
      pkg: '@aws-sdk/client-s3',
      client: 'S3Client',
      command: 'GetBucketEncryptionCommand',
      input: { Bucket: 'rampart-demo-logs' },
    });
    expect(floorCall('AWSStepFunctions:StartExecution')).toMatchObject({ pkg: '@aws-sdk/client-sfn', command: 'StartExecutionCommand' });
  });

  it('refuses a call of a service it does not know: the floor would not make the same calls', () => {
    expect(() => floorCall('kms:DescribeKey')).toThrow(/cannot send kms:DescribeKey/);
    expect(() => floorCall('s3:GET /')).toThrow(/cannot send/);
    expect(() => floorCall('toString:x')).toThrow(/cannot send/);
  });

  it('bundles, with the SDK in it, exactly the clients and commands of the calls, one client per service', async () => {
    const source = bundledFloorSource(DETECTOR_CALLS);
    expect(source).toContain('import { S3Client, GetBucketTaggingCommand, GetBucketEncryptionCommand } from "@aws-sdk/client-s3";');
    expect(source.match(/new S3Client\(/g)).toHaveLength(2);
    expect(source.match(/^let client\d;$/gm)).toHaveLength(3);
    const result = await build({
      stdin: { contents: source, resolveDir: ROOT, loader: 'js' },
      bundle: true,
      platform: 'node',
      write: false,
      metafile: true,
      logLevel: 'silent',
      mainFields: ['module', 'main'],
      outfile: join(ROOT, 'floor.js'),
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.some((i) => i.includes('@aws-sdk/client-s3/'))).toBe(true);
    expect(inputs.some((i) => i.includes('@aws-sdk/client-sns/'))).toBe(false);
  }, 60_000);
});
