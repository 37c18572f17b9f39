/**
 * A local HTTP endpoint on 127.0.0.1 answering like AWS enough for one detector invocation
 * (constructed answers, shapes from the S3, DynamoDB, Step Functions and SNS API references):
 * S3 GetBucketEncryption (AES256) and GetBucketTagging (no tags) in REST-XML, DynamoDB
 * (JSON 1.0) `{}`, Step Functions StartExecution, SNS Publish (query XML). Each call may wait
 * `latencyMs`, as a call to AWS would. It records which operations it served.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeAwsEndpoint {
  url: string;
  /** Operations served, as `service:operation`. */
  calls: string[];
  close(): Promise<void>;
}

const S3_ENCRYPTION =
  '<?xml version="1.0" encoding="UTF-8"?><ServerSideEncryptionConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault><BucketKeyEnabled>false</BucketKeyEnabled></Rule></ServerSideEncryptionConfiguration>';
const S3_TAGGING =
  '<?xml version="1.0" encoding="UTF-8"?><Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet></TagSet></Tagging>';
const SNS_PUBLISH =
  '<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>567910cd-659e-55d4-8ccb-5aaf14679dc0</MessageId></PublishResult><ResponseMetadata><RequestId>d74b8436-ae13-5ab4-a9ff-ce54dfea72a0</RequestId></ResponseMetadata></PublishResponse>';

/**
 * ListBuckets (REST-XML, S3 API Reference ListBuckets: ListAllMyBucketsResult with Buckets/Bucket
 * Name, CreationDate, BucketRegion; Owner; ContinuationToken when more follow), `max-buckets` a page.
 */
function listBucketsXml(names: readonly string[], query: URLSearchParams): string {
  const start = Number(query.get('continuation-token') ?? 0);
  const size = Number(query.get('max-buckets') ?? 10_000);
  const page = names.slice(start, start + size);
  const next = start + size < names.length ? `<ContinuationToken>${start + size}</ContinuationToken>` : '';
  const buckets = page
    .map(
      (n) =>
        `<Bucket><Name>${n}</Name><CreationDate>2024-05-14T10:00:00.000Z</CreationDate><BucketRegion>us-east-1</BucketRegion></Bucket>`,
    )
    .join('');
  return `<?xml version="1.0" encoding="UTF-8"?><ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Buckets>${buckets}</Buckets><Owner><ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID></Owner>${next}</ListAllMyBucketsResult>`;
}

/** `buckets`: the bucket names ListBuckets answers (the sweep benchmark); none by default. */
export async function startFakeAwsEndpoint(latencyMs = 0, buckets: readonly string[] = []): Promise<FakeAwsEndpoint> {
  const calls: string[] = [];
  const server: Server = createServer((req, res) => {
    const body: Buffer[] = [];
    req.on('data', (chunk: Buffer) => body.push(chunk));
    req.on('end', () => {
      const reply = () => {
        const target = req.headers['x-amz-target'];
        if (typeof target === 'string') {
          const [prefix, operation] = target.split('.');
          calls.push(`${prefix}:${operation}`);
          res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
          if (operation === 'StartExecution')
            return res.end(
              JSON.stringify({ executionArn: 'arn:aws:states:us-east-1:111122223333:execution:rampart:bench', startDate: 1764590400 }),
            );
          return res.end('{}');
        }
        const text = Buffer.concat(body).toString('utf8');
        if (text.includes('Action=Publish')) {
          calls.push('sns:Publish');
          res.writeHead(200, { 'content-type': 'text/xml' });
          return res.end(SNS_PUBLISH);
        }
        const query = new URL(req.url ?? '/', 'http://127.0.0.1').searchParams;
        res.writeHead(200, { 'content-type': 'application/xml' });
        if (query.has('encryption')) {
          calls.push('s3:GetBucketEncryption');
          return res.end(S3_ENCRYPTION);
        }
        if (query.has('tagging')) {
          calls.push('s3:GetBucketTagging');
          return res.end(S3_TAGGING);
        }
        if (req.method === 'GET' && new URL(req.url ?? '/', 'http://127.0.0.1').pathname === '/') {
          calls.push('s3:ListBuckets');
          return res.end(listBucketsXml(buckets, query));
        }
        calls.push(`s3:${req.method} ${req.url}`);
        return res.end();
      };
      if (latencyMs > 0) setTimeout(reply, latencyMs);
      else reply();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
