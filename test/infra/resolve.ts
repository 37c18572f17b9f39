import { createHash } from 'node:crypto';

/**
 * Resolves a synthesized template's intrinsics (Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select,
 * Fn::Split) the way CloudFormation would on deploy, with physical names as CloudFormation
 * generates them: `<stack name>-<logical id>-<13 random characters>`, the logical id cut so the
 * name fits the resource type's limit. State machines and secrets get the same long form (their
 * real generated names are shorter: `<logical id>-<random>`), so sizes measured here are upper
 * bounds. A reference to a type without a rule here throws: the test must learn the new type.
 */
export interface DeployEnv {
  stackName: string;
  account: string;
  region: string;
  partition: string;
  urlSuffix: string;
}

type Template = { Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }> };
interface Physical {
  ref: string;
  attrs: Record<string, string>;
}

const random = (seed: string, length: number) => createHash('sha256').update(seed).digest('hex').toUpperCase().slice(0, length);

/** CloudFormation's generated name: stack name, logical id (cut to fit) and 13 random characters. */
export function generatedName(env: DeployEnv, logicalId: string, maxLength: number): string {
  const room = maxLength - env.stackName.length - 2 - 13;
  return `${env.stackName}-${logicalId.slice(0, Math.max(room, 1))}-${random(logicalId, 13)}`.slice(0, maxLength);
}

function physicalOf(
  type: string,
  logicalId: string,
  props: Record<string, unknown>,
  env: DeployEnv,
  resolveLiteral: (v: unknown) => string | undefined,
): Physical | undefined {
  const { partition: p, region: r, account: a } = env;
  const named = (property: string, max: number) => resolveLiteral(props[property]) ?? generatedName(env, logicalId, max);
  switch (type) {
    case 'AWS::Lambda::Function': {
      const name = named('FunctionName', 64);
      return { ref: name, attrs: { Arn: `arn:${p}:lambda:${r}:${a}:function:${name}` } };
    }
    case 'AWS::IAM::Role': {
      const name = named('RoleName', 64);
      return { ref: name, attrs: { Arn: `arn:${p}:iam::${a}:role/${name}`, RoleId: `AROA${random(logicalId, 17)}` } };
    }
    case 'AWS::Events::Rule': {
      const name = named('Name', 64);
      return { ref: name, attrs: { Arn: `arn:${p}:events:${r}:${a}:rule/${name}` } };
    }
    case 'AWS::StepFunctions::StateMachine': {
      const name = named('StateMachineName', 80);
      const arn = `arn:${p}:states:${r}:${a}:stateMachine:${name}`;
      return { ref: arn, attrs: { Arn: arn, Name: name } };
    }
    case 'AWS::Scheduler::Schedule': {
      const name = named('Name', 64);
      return { ref: name, attrs: { Arn: `arn:${p}:scheduler:${r}:${a}:schedule/default/${name}` } };
    }
    case 'AWS::KMS::Key': {
      const h = random(logicalId, 32).toLowerCase();
      const id = `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
      return { ref: id, attrs: { Arn: `arn:${p}:kms:${r}:${a}:key/${id}`, KeyId: id } };
    }
    case 'AWS::SNS::Topic': {
      const name = named('TopicName', 256);
      const arn = `arn:${p}:sns:${r}:${a}:${name}`;
      return { ref: arn, attrs: { TopicArn: arn, TopicName: name } };
    }
    case 'AWS::SNS::Subscription':
      return { ref: `arn:${p}:sns:${r}:${a}:topic:${random(logicalId, 8)}`, attrs: {} };
    case 'AWS::SecretsManager::Secret': {
      const name = named('Name', 256);
      const arn = `arn:${p}:secretsmanager:${r}:${a}:secret:${name}-${random(logicalId, 6)}`;
      return { ref: arn, attrs: { Id: arn } };
    }
    case 'AWS::CloudWatch::Alarm': {
      const name = named('AlarmName', 255);
      return { ref: name, attrs: { Arn: `arn:${p}:cloudwatch:${r}:${a}:alarm:${name}` } };
    }
    case 'AWS::CloudTrail::Trail': {
      const name = named('TrailName', 128);
      return { ref: name, attrs: { Arn: `arn:${p}:cloudtrail:${r}:${a}:trail/${name}` } };
    }
    case 'AWS::SQS::Queue': {
      const name = named('QueueName', 80);
      return { ref: `https://sqs.${r}.${env.urlSuffix}/${a}/${name}`, attrs: { Arn: `arn:${p}:sqs:${r}:${a}:${name}`, QueueName: name } };
    }
    case 'AWS::DynamoDB::Table': {
      const name = named('TableName', 255);
      return { ref: name, attrs: { Arn: `arn:${p}:dynamodb:${r}:${a}:table/${name}` } };
    }
    case 'AWS::Logs::LogGroup': {
      const name = named('LogGroupName', 512);
      return { ref: name, attrs: { Arn: `arn:${p}:logs:${r}:${a}:log-group:${name}:*` } };
    }
    case 'AWS::S3::Bucket': {
      const name = named('BucketName', 63).toLowerCase();
      return { ref: name, attrs: { Arn: `arn:${p}:s3:::${name}` } };
    }
    case 'AWS::ApiGateway::RestApi':
      return { ref: random(logicalId, 10).toLowerCase(), attrs: { RootResourceId: random(`${logicalId}root`, 10).toLowerCase() } };
    case 'AWS::WAFv2::WebACL':
      return {
        ref: '',
        attrs: { Arn: `arn:${p}:wafv2:${r}:${a}:regional/webacl/${generatedName(env, logicalId, 128)}/${random(logicalId, 36)}` },
      };
    default:
      return undefined;
  }
}

export class TemplateResolver {
  private readonly physical = new Map<string, Physical>();

  constructor(
    private readonly template: Template,
    readonly env: DeployEnv,
  ) {}

  /** The physical resource for a logical id (names generated once, then kept). */
  resource(logicalId: string): Physical {
    const known = this.physical.get(logicalId);
    if (known) return known;
    const resource = this.template.Resources[logicalId];
    if (!resource) throw new Error(`no resource ${logicalId} in the template`);
    const literal = (v: unknown) => (v === undefined ? undefined : String(this.resolve(v)));
    const made = physicalOf(resource.Type, logicalId, resource.Properties ?? {}, this.env, literal);
    if (!made) throw new Error(`no physical-name rule for ${resource.Type} (${logicalId})`);
    this.physical.set(logicalId, made);
    return made;
  }

  resolve(value: unknown): unknown {
    if (Array.isArray(value)) return value.map((v) => this.resolve(v));
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 1) {
      const [key, arg] = entries[0]!;
      switch (key) {
        case 'Ref':
          return this.ref(arg as string);
        case 'Fn::GetAtt': {
          const [id, attr] = Array.isArray(arg) ? (arg as string[]) : String(arg).split('.');
          return this.attr(id!, attr!);
        }
        case 'Fn::Join': {
          const [sep, parts] = arg as [string, unknown[]];
          return (this.resolve(parts) as unknown[]).join(sep);
        }
        case 'Fn::Sub':
          return this.sub(arg);
        case 'Fn::Select': {
          const [index, list] = arg as [number, unknown];
          return (this.resolve(list) as unknown[])[Number(index)];
        }
        case 'Fn::Split': {
          const [sep, source] = arg as [string, unknown];
          return String(this.resolve(source)).split(sep);
        }
        default:
          if (key.startsWith('Fn::')) throw new Error(`unsupported intrinsic ${key}`);
      }
    }
    return Object.fromEntries(entries.map(([k, v]) => [k, this.resolve(v)]));
  }

  private ref(id: string): string {
    switch (id) {
      case 'AWS::AccountId':
        return this.env.account;
      case 'AWS::Region':
        return this.env.region;
      case 'AWS::Partition':
        return this.env.partition;
      case 'AWS::StackName':
        return this.env.stackName;
      case 'AWS::URLSuffix':
        return this.env.urlSuffix;
      case 'AWS::StackId':
        return `arn:${this.env.partition}:cloudformation:${this.env.region}:${this.env.account}:stack/${this.env.stackName}/${random(this.env.stackName, 8)}`;
      default:
        return this.resource(id).ref;
    }
  }

  private attr(id: string, attr: string): string {
    const value = this.resource(id).attrs[attr];
    if (value === undefined) throw new Error(`no attribute ${attr} of ${id}`);
    return value;
  }

  private sub(arg: unknown): string {
    const [text, vars] = Array.isArray(arg) ? (arg as [string, Record<string, unknown>]) : [arg as string, {}];
    return text.replace(/\$\{([^}!]+)\}/g, (_m, name: string) => {
      if (name in vars) return String(this.resolve(vars[name]));
      const [id, attr] = name.split('.');
      return attr ? this.attr(id!, attr) : this.ref(id!);
    });
  }
}
