/**
 * What a floor sends for each call the fake endpoint recorded (`service:operation`, as
 * `bench/fake-aws-endpoint.ts` names them): the SDK package, its client and the input. Shared by
 * the floor in a bare process (`lambda-invoke.ts`) and the floor with the SDK bundled in
 * (`lambdas.ts`), so both send exactly the same requests.
 */
export const FLOOR_SERVICES = {
  s3: { pkg: '@aws-sdk/client-s3', client: 'S3Client', input: { Bucket: 'rampart-demo-logs' } },
  sns: { pkg: '@aws-sdk/client-sns', client: 'SNSClient', input: { TopicArn: 'arn:aws:sns:us-east-1:111122223333:t', Message: 'm' } },
  DynamoDB_20120810: { pkg: '@aws-sdk/client-dynamodb', client: 'DynamoDBClient', input: {} },
  AWSStepFunctions: { pkg: '@aws-sdk/client-sfn', client: 'SFNClient', input: {} },
} as const;

export type FloorService = keyof typeof FLOOR_SERVICES;

export interface FloorCall {
  service: FloorService;
  pkg: string;
  client: string;
  /** The command's export name: `GetBucketEncryptionCommand`. */
  command: string;
  input: object;
}

/** The floor's request for a recorded call; a call of a service the floor does not know is refused (the floor would be wrong). */
export function floorCall(call: string): FloorCall {
  const [service, operation] = call.split(':');
  if (!operation || !/^[A-Z][A-Za-z0-9]*$/.test(operation) || !Object.hasOwn(FLOOR_SERVICES, service!))
    throw new Error(`the floor cannot send ${call}: add its service to bench/lambda-floor-calls.ts`);
  const spec = FLOOR_SERVICES[service as FloorService];
  return { service: service as FloorService, pkg: spec.pkg, client: spec.client, command: `${operation}Command`, input: spec.input };
}

/**
 * The source of a module making the same calls with static imports, for esbuild to bundle
 * with the SDK in it (tree-shaken to those clients and commands): `handler` sends them in
 * order, each client made on its first call, as the bare floor does.
 */
export function bundledFloorSource(calls: readonly string[]): string {
  const requests = calls.map(floorCall);
  const imports = new Map<string, Set<string>>();
  for (const r of requests) {
    const names = imports.get(r.pkg) ?? new Set([FLOOR_SERVICES[r.service].client]);
    names.add(r.command);
    imports.set(r.pkg, names);
  }
  const services = [...new Set(requests.map((r) => r.service))];
  return [
    ...[...imports].map(([pkg, names]) => `import { ${[...names].join(', ')} } from ${JSON.stringify(pkg)};`),
    ...services.map((s, i) => `let client${i};`),
    'export async function handler() {',
    ...requests.map((r) => {
      const i = services.indexOf(r.service);
      return `  await (client${i} ??= new ${r.client}({})).send(new ${r.command}(${JSON.stringify(r.input)}));`;
    }),
    '}',
  ].join('\n');
}
