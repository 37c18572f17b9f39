import type { Finding } from '../../core/finding';
import { findingId } from '../../core/finding';
import { parsePolicy } from '../../controls/policy';
import type { ThrottlingState } from '../../detectors/apigateway-throttling';
import { REMEDIATORS, detectorFor } from '../../controls';
import { planThrottling } from '../../remediators/apigateway-throttling';
import { planStageWaf } from '../../remediators/apigateway-waf';
import { fullKeyArn, planS3Encryption } from '../../remediators/s3-default-encryption';
import { ARTIFACTS_KEY, LEGACY_ACL, RAMPART_GUARD_ACL } from '../helpers';

const controls = (input: object) => parsePolicy({ controls: input }).controls;
const s3Policy = (input: object) => controls({ 's3-default-encryption': input })['s3-default-encryption']!;
const wafPolicy = (input: object) => controls({ 'apigateway-waf': input })['apigateway-waf']!;
const throttlePolicy = (input: object = {}) =>
  controls({ 'apigateway-throttling': { rateLimit: 1000, burstLimit: 500, ...input } })['apigateway-throttling']!;

function finding(control: Finding['control'], resourceArn: string, extra: Partial<Finding> = {}): Finding {
  return {
    id: findingId(control, '111122223333', resourceArn),
    control,
    severity: 'medium',
    resourceArn,
    resourceType: 'AWS::S3::Bucket',
    region: 'us-east-1',
    account: '111122223333',
    observed: {},
    desired: {},
    violation: 'test',
    eventId: 'e1',
    ...extra,
  };
}

const BUCKET = finding('s3-default-encryption', 'arn:aws:s3:::rampart-demo-logs');
const STAGE_ARN = 'arn:aws:apigateway:us-east-1::/restapis/a1b2c3d4e5/stages/prod';
const STAGE = finding('apigateway-waf', STAGE_ARN, { resourceType: 'AWS::ApiGateway::Stage' });
const THROTTLED_STAGE = finding('apigateway-throttling', STAGE_ARN, { resourceType: 'AWS::ApiGateway::Stage' });
const PLAN = finding('apigateway-throttling', 'arn:aws:apigateway:us-east-1::/usageplans/u1p2l3', {
  resourceType: 'AWS::ApiGateway::UsagePlan',
});
const SSE_S3 = { algorithm: 'AES256', bucketKeyEnabled: false };

describe('s3-default-encryption plan', () => {
  it('writes SSE-KMS with the full key ARN, the bucket key and the expected owner', () => {
    expect(planS3Encryption(BUCKET, SSE_S3, s3Policy({ algorithm: 'aws:kms', kmsKeyId: ARTIFACTS_KEY, bucketKeyEnabled: true }))).toEqual({
      change: {
        service: 's3',
        operation: 'PutBucketEncryption',
        region: 'us-east-1',
        input: {
          Bucket: 'rampart-demo-logs',
          ExpectedBucketOwner: '111122223333',
          ServerSideEncryptionConfiguration: {
            Rules: [
              { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: ARTIFACTS_KEY }, BucketKeyEnabled: true },
            ],
          },
        },
      },
    });
  });

  it('turns an alias into an alias ARN of the bucket owner, in the bucket region', () => {
    const eu = { ...BUCKET, region: 'eu-west-1' };

    const plan = planS3Encryption(eu, SSE_S3, s3Policy({ algorithm: 'aws:kms', kmsKeyId: 'alias/rampart' }));

    expect(plan.change?.region).toBe('eu-west-1');
    expect(plan.change?.input).toMatchObject({
      ServerSideEncryptionConfiguration: {
        Rules: [{ ApplyServerSideEncryptionByDefault: { KMSMasterKeyID: 'arn:aws:kms:eu-west-1:111122223333:alias/rampart' } }],
      },
    });
  });

  it('turns a key id into a key ARN, and refuses a key of another region', () => {
    expect(fullKeyArn('0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d', 'us-east-1', '111122223333')).toEqual({ arn: ARTIFACTS_KEY });
    expect(fullKeyArn(ARTIFACTS_KEY, 'eu-west-1', '111122223333')).toEqual({
      reason: `KMS key ${ARTIFACTS_KEY} is in us-east-1, the bucket in eu-west-1: S3 needs a key of the bucket's region`,
    });
    expect(
      planS3Encryption({ ...BUCKET, account: undefined }, SSE_S3, s3Policy({ algorithm: 'aws:kms', kmsKeyId: 'alias/rampart' })),
    ).toEqual({
      change: null,
      reason: "cannot make alias/rampart a full ARN without the bucket's region and owner account; give kmsKeyId as a key ARN",
    });
  });

  it('keeps what the policy does not set: the bucket key and the blocked encryption types', () => {
    const state = {
      algorithm: 'aws:kms',
      kmsKeyId: 'arn:aws:kms:us-east-1:111122223333:key/other',
      bucketKeyEnabled: true,
      blockedEncryptionTypes: ['SSE-C'],
    };

    const plan = planS3Encryption(BUCKET, state, s3Policy({ algorithm: 'aws:kms', kmsKeyId: ARTIFACTS_KEY }));

    expect(plan.change?.input).toMatchObject({
      ServerSideEncryptionConfiguration: {
        Rules: [
          {
            ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: ARTIFACTS_KEY },
            BucketKeyEnabled: true,
            BlockedEncryptionTypes: { EncryptionType: ['SSE-C'] },
          },
        ],
      },
    });
  });

  it('never downgrades: DSSE-KMS on another key keeps DSSE-KMS and only takes the policy key', () => {
    const state = { algorithm: 'aws:kms:dsse', kmsKeyId: 'arn:aws:kms:us-east-1:111122223333:key/other', bucketKeyEnabled: false };

    const plan = planS3Encryption(BUCKET, state, s3Policy({ algorithm: 'aws:kms', kmsKeyId: ARTIFACTS_KEY, bucketKeyEnabled: true }));

    // S3 Bucket Keys do not exist for DSSE-KMS: none is written
    expect(plan.change?.input).toMatchObject({
      ServerSideEncryptionConfiguration: {
        Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms:dsse', KMSMasterKeyID: ARTIFACTS_KEY } }],
      },
    });
    expect(
      (plan.change?.input as { ServerSideEncryptionConfiguration: { Rules: Array<Record<string, unknown>> } })
        .ServerSideEncryptionConfiguration.Rules[0],
    ).not.toHaveProperty('BucketKeyEnabled');
  });

  it('plans nothing for a stronger algorithm than the policy asks', () => {
    const dsse = { algorithm: 'aws:kms:dsse', kmsKeyId: ARTIFACTS_KEY, bucketKeyEnabled: false };

    expect(planS3Encryption(BUCKET, dsse, s3Policy({ algorithm: 'aws:kms' })).change).toBeNull();
    expect(planS3Encryption(BUCKET, dsse, s3Policy({ algorithm: 'AES256' })).change).toBeNull();
  });

  it('with exact: true, writes the policy algorithm and keeps the bucket key when the policy names none', () => {
    const dsse = { algorithm: 'aws:kms:dsse', kmsKeyId: ARTIFACTS_KEY, bucketKeyEnabled: false };

    expect(planS3Encryption(BUCKET, dsse, s3Policy({ algorithm: 'aws:kms', exact: true })).change?.input).toMatchObject({
      ServerSideEncryptionConfiguration: {
        Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: ARTIFACTS_KEY } }],
      },
    });
  });

  it('writes plain SSE-S3 without key or bucket key', () => {
    const state = { algorithm: 'aws:kms', kmsKeyId: ARTIFACTS_KEY, bucketKeyEnabled: true };

    expect(planS3Encryption(BUCKET, state, s3Policy({ algorithm: 'AES256', exact: true })).change?.input).toEqual({
      Bucket: 'rampart-demo-logs',
      ExpectedBucketOwner: '111122223333',
      ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
    });
  });

  it('plans nothing for a compliant bucket', () => {
    expect(planS3Encryption(BUCKET, SSE_S3, s3Policy({ algorithm: 'AES256' }))).toEqual({
      change: null,
      reason: 'the bucket already has the required default encryption',
    });
  });
});

describe('apigateway-waf plan', () => {
  const OTHER = 'arn:aws:wafv2:us-east-1:111122223333:regional/webacl/partner/5e6f7a8b-1111-4222-8333-944455556666';

  it('associates the stage mapping first', () => {
    expect(
      planStageWaf(STAGE, { webAclArn: null }, wafPolicy({ defaultWebAclArn: RAMPART_GUARD_ACL, stages: { 'a1b2c3d4e5/prod': OTHER } }), {
        webAclArn: LEGACY_ACL,
      }),
    ).toEqual({
      change: { service: 'wafv2', operation: 'AssociateWebACL', region: 'us-east-1', input: { WebACLArn: OTHER, ResourceArn: STAGE_ARN } },
    });
  });

  it('restores the last known good ACL before the default', () => {
    expect(
      planStageWaf(STAGE, { webAclArn: null }, wafPolicy({ defaultWebAclArn: RAMPART_GUARD_ACL }), { webAclArn: LEGACY_ACL }).change?.input,
    ).toEqual({
      WebACLArn: LEGACY_ACL,
      ResourceArn: STAGE_ARN,
    });
  });

  it('falls back to the default', () => {
    expect(planStageWaf(STAGE, { webAclArn: LEGACY_ACL }, wafPolicy({ defaultWebAclArn: RAMPART_GUARD_ACL })).change?.input).toEqual({
      WebACLArn: RAMPART_GUARD_ACL,
      ResourceArn: STAGE_ARN,
    });
  });

  it('says why when no ACL can be resolved', () => {
    expect(planStageWaf(STAGE, { webAclArn: null }, wafPolicy({}))).toEqual({
      change: null,
      reason: 'no web ACL to restore: the policy maps none to this stage, has no default, and none was recorded for it',
    });
  });

  it('never replaces an ACL WAF says Firewall Manager manages', () => {
    const fms =
      'arn:aws:wafv2:us-east-1:111122223333:regional/webacl/FMManagedWebACLV2-baseline-1700000000000/0f0e0d0c-1111-4222-8333-944455556666';

    expect(
      planStageWaf(STAGE, { webAclArn: fms, managedByFirewallManager: true }, wafPolicy({ defaultWebAclArn: RAMPART_GUARD_ACL })),
    ).toEqual({ change: null, reason: 'the stage already carries the required web ACL' });
  });

  it('replaces an impostor named like a Firewall Manager ACL', () => {
    const fake = 'arn:aws:wafv2:us-east-1:111122223333:regional/webacl/FMManagedWebACLV2-allow-all/0f0e0d0c-1111-4222-8333-944455556666';

    expect(
      planStageWaf(STAGE, { webAclArn: fake, managedByFirewallManager: false }, wafPolicy({ defaultWebAclArn: RAMPART_GUARD_ACL })).change
        ?.input,
    ).toEqual({
      WebACLArn: RAMPART_GUARD_ACL,
      ResourceArn: STAGE_ARN,
    });
  });

  it("never takes a Firewall Manager ACL as last-known-good: it is Firewall Manager's to place", () => {
    const fms =
      'arn:aws:wafv2:us-east-1:111122223333:regional/webacl/FMManagedWebACLV2-baseline-1700000000000/0f0e0d0c-1111-4222-8333-944455556666';
    const policy = wafPolicy({ defaultWebAclArn: RAMPART_GUARD_ACL });

    expect(planStageWaf(STAGE, { webAclArn: null }, policy, { webAclArn: fms, managedByFirewallManager: true }).change?.input).toEqual({
      WebACLArn: RAMPART_GUARD_ACL,
      ResourceArn: STAGE_ARN,
    });
    // recorded before WAF was asked: named like one, so not trusted either
    expect(planStageWaf(STAGE, { webAclArn: null }, policy, { webAclArn: fms }).change?.input).toEqual({
      WebACLArn: RAMPART_GUARD_ACL,
      ResourceArn: STAGE_ARN,
    });
    expect(planStageWaf(STAGE, { webAclArn: null }, wafPolicy({}), { webAclArn: fms, managedByFirewallManager: true })).toMatchObject({
      change: null,
    });
  });

  it('refuses an ACL of another region than the stage', () => {
    const euAcl = 'arn:aws:wafv2:eu-west-1:111122223333:regional/webacl/eu/5e6f7a8b-1111-4222-8333-944455556666';

    expect(planStageWaf(STAGE, { webAclArn: null }, wafPolicy({ defaultWebAclArn: euAcl })).change).toBeNull();
  });
});

describe('apigateway-throttling plan', () => {
  const stage = (methods: Extract<ThrottlingState, { kind: 'stage' }>['methods'], complete = true): ThrottlingState => ({
    kind: 'stage',
    methods,
    complete,
  });

  it('patches the stage-wide limits with string values, to the policy maxima', () => {
    expect(planThrottling(THROTTLED_STAGE, stage({ '*/*': { rateLimit: 2000, burstLimit: 1000 } }), throttlePolicy())).toEqual({
      change: {
        service: 'apigateway',
        operation: 'UpdateStage',
        region: 'us-east-1',
        input: {
          restApiId: 'a1b2c3d4e5',
          stageName: 'prod',
          patchOperations: [
            { op: 'replace', path: '/*/*/throttling/rateLimit', value: '1000' },
            { op: 'replace', path: '/*/*/throttling/burstLimit', value: '500' },
          ],
        },
      },
    });
  });

  it('restores the last known good values when within the maxima', () => {
    const plan = planThrottling(THROTTLED_STAGE, stage({}), throttlePolicy(), stage({ '*/*': { rateLimit: 300, burstLimit: 9999 } }));

    expect(plan.change?.input.patchOperations).toEqual([
      { op: 'replace', path: '/*/*/throttling/rateLimit', value: '300' },
      { op: 'replace', path: '/*/*/throttling/burstLimit', value: '500' },
    ]);
  });

  it('never loosens: a limit within the maximum is left, only the one above changes', () => {
    const plan = planThrottling(THROTTLED_STAGE, stage({ '*/*': { rateLimit: 10, burstLimit: 900 } }), throttlePolicy());

    expect(plan.change?.input.patchOperations).toEqual([{ op: 'replace', path: '/*/*/throttling/burstLimit', value: '500' }]);
  });

  it('tightens a per-method override with its ~1-escaped path', () => {
    const plan = planThrottling(
      THROTTLED_STAGE,
      stage({ '*/*': { rateLimit: 10, burstLimit: 5 }, '~1pets/GET': { rateLimit: 4000, burstLimit: null } }),
      throttlePolicy(),
    );

    expect(plan.change?.input.patchOperations).toEqual([{ op: 'replace', path: '/~1pets/GET/throttling/rateLimit', value: '1000' }]);
  });

  it('writes only what the event revealed', () => {
    const plan = planThrottling(PLAN, { kind: 'usage-plan', throttle: { rateLimit: 5000 }, complete: false }, throttlePolicy());

    expect(plan.change).toEqual({
      service: 'apigateway',
      operation: 'UpdateUsagePlan',
      region: 'us-east-1',
      input: { usagePlanId: 'u1p2l3', patchOperations: [{ op: 'replace', path: '/throttle/rateLimit', value: '1000' }] },
    });
  });

  it('adds a missing quota with its period when the policy caps quotas', () => {
    const plan = planThrottling(
      PLAN,
      { kind: 'usage-plan', throttle: { rateLimit: 10, burstLimit: 5 }, quotaLimit: null, complete: true },
      throttlePolicy({ usagePlans: { quotaLimit: 100000, quotaPeriod: 'DAY' } }),
    );

    expect(plan.change?.input.patchOperations).toEqual([
      { op: 'replace', path: '/quota/limit', value: '100000' },
      { op: 'replace', path: '/quota/period', value: 'DAY' },
    ]);
  });

  it('plans nothing for compliant limits', () => {
    expect(planThrottling(THROTTLED_STAGE, stage({ '*/*': { rateLimit: 10, burstLimit: 5 } }), throttlePolicy()).change).toBeNull();
  });
});

describe('remediator registry', () => {
  it('takes the risk from the policy, high by default for throttling', () => {
    const policy = parsePolicy({
      controls: {
        's3-default-encryption': { algorithm: 'AES256' },
        'apigateway-waf': { risk: 'high' },
        'apigateway-throttling': { rateLimit: 1, burstLimit: 1 },
        'cloudtrail-logging': {},
        'config-recording': {},
        'apigateway-logging': {},
        'apigateway-cache-encryption': {},
        'apigateway-client-certificate': {},
        's3-tls-only': {},
        'kms-key-protection': {},
        'apigateway-authorization': {},
        'apigateway-domain-tls': { risk: 'low' },
        'apigateway-private-endpoint': {},
        's3-public-access-block': {},
      },
    });

    expect(REMEDIATORS.map((r) => [r.id, r.risk(BUCKET, policy.controls[r.id as 's3-default-encryption'])])).toEqual([
      ['s3-default-encryption', 'low'],
      ['apigateway-waf', 'high'],
      ['apigateway-throttling', 'high'],
      ['cloudtrail-logging', 'low'],
      ['config-recording', 'low'],
      ['apigateway-logging', 'low'],
      ['apigateway-cache-encryption', 'low'],
      ['apigateway-client-certificate', 'high'],
      ['s3-tls-only', 'low'],
      // without a planned call: only CancelKeyDeletion and EnableKeyRotation take the policy's risk
      ['kms-key-protection', 'high'],
      ['apigateway-authorization', 'high'],
      ['apigateway-domain-tls', 'low'],
      ['apigateway-private-endpoint', 'high'],
      ['s3-public-access-block', 'high'],
    ]);
  });

  it('declares exactly these write permissions, none with a * action', () => {
    const all = Object.fromEntries(REMEDIATORS.map((r) => [r.id, r.permissions]));

    expect(all).toEqual({
      's3-default-encryption': {
        PutBucketEncryption: { actions: ['s3:PutEncryptionConfiguration'], resources: ['arn:${Partition}:s3:::*'] },
      },
      'apigateway-waf': {
        AssociateWebACL: {
          actions: ['wafv2:AssociateWebACL', 'apigateway:SetWebACL'],
          resources: ['arn:${Partition}:wafv2:*:*:regional/webacl/*/*', 'arn:${Partition}:apigateway:${Region}::/restapis/*/stages/*'],
        },
      },
      'apigateway-throttling': {
        UpdateStage: { actions: ['apigateway:PATCH'], resources: ['arn:${Partition}:apigateway:${Region}::/restapis/*/stages/*'] },
        UpdateUsagePlan: { actions: ['apigateway:PATCH'], resources: ['arn:${Partition}:apigateway:${Region}::/usageplans/*'] },
      },
      'cloudtrail-logging': {
        StartLogging: { actions: ['cloudtrail:StartLogging'], resources: ['arn:${Partition}:cloudtrail:*:*:trail/*'] },
        UpdateTrail: { actions: ['cloudtrail:UpdateTrail'], resources: ['arn:${Partition}:cloudtrail:*:*:trail/*'] },
        PutEventSelectors: { actions: ['cloudtrail:PutEventSelectors'], resources: ['arn:${Partition}:cloudtrail:*:*:trail/*'] },
      },
      'config-recording': {
        StartConfigurationRecorder: {
          actions: ['config:StartConfigurationRecorder'],
          resources: ['arn:${Partition}:config:${Region}:*:configuration-recorder/*'],
        },
        PutConfigurationRecorder: {
          actions: ['config:PutConfigurationRecorder', 'iam:PassRole'],
          resources: [
            'arn:${Partition}:config:${Region}:*:configuration-recorder/*',
            'arn:${Partition}:iam::*:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig',
          ],
        },
        PutDeliveryChannel: { actions: ['config:PutDeliveryChannel'], resources: ['*'] },
      },
      'apigateway-logging': {
        UpdateStage: { actions: ['apigateway:PATCH'], resources: ['arn:${Partition}:apigateway:${Region}::/restapis/*/stages/*'] },
      },
      'apigateway-cache-encryption': {
        UpdateStage: { actions: ['apigateway:PATCH'], resources: ['arn:${Partition}:apigateway:${Region}::/restapis/*/stages/*'] },
      },
      'apigateway-client-certificate': {
        UpdateStage: { actions: ['apigateway:PATCH'], resources: ['arn:${Partition}:apigateway:${Region}::/restapis/*/stages/*'] },
      },
      's3-tls-only': {
        PutBucketPolicy: { actions: ['s3:PutBucketPolicy'], resources: ['arn:${Partition}:s3:::*'] },
      },
      'kms-key-protection': {
        CancelKeyDeletion: { actions: ['kms:CancelKeyDeletion'], resources: ['arn:${Partition}:kms:${Region}:*:key/*'] },
        EnableKey: { actions: ['kms:EnableKey'], resources: ['arn:${Partition}:kms:${Region}:*:key/*'] },
        EnableKeyRotation: { actions: ['kms:EnableKeyRotation'], resources: ['arn:${Partition}:kms:${Region}:*:key/*'] },
        PutKeyPolicy: { actions: ['kms:PutKeyPolicy'], resources: ['arn:${Partition}:kms:${Region}:*:key/*'] },
      },
      'apigateway-authorization': {
        UpdateMethod: {
          actions: ['apigateway:PATCH'],
          resources: ['arn:${Partition}:apigateway:${Region}::/restapis/*/resources/*/methods/*'],
        },
        CreateDeployment: { actions: ['apigateway:POST'], resources: ['arn:${Partition}:apigateway:${Region}::/restapis/*/deployments'] },
      },
      'apigateway-domain-tls': {
        UpdateDomainName: { actions: ['apigateway:PATCH'], resources: ['arn:${Partition}:apigateway:${Region}::/domainnames/*'] },
        UpdateRestApi: { actions: ['apigateway:PATCH'], resources: ['arn:${Partition}:apigateway:${Region}::/restapis/*'] },
        CreateDeployment: { actions: ['apigateway:POST'], resources: ['arn:${Partition}:apigateway:${Region}::/restapis/*/deployments'] },
      },
      'apigateway-private-endpoint': {
        UpdateRestApi: { actions: ['apigateway:PATCH'], resources: ['arn:${Partition}:apigateway:${Region}::/restapis/*'] },
        CreateDeployment: { actions: ['apigateway:POST'], resources: ['arn:${Partition}:apigateway:${Region}::/restapis/*/deployments'] },
      },
      's3-public-access-block': {
        PutPublicAccessBlock: { actions: ['s3:PutBucketPublicAccessBlock'], resources: ['arn:${Partition}:s3:::*'] },
        's3control:PutPublicAccessBlock': { actions: ['s3:PutAccountPublicAccessBlock'], resources: ['*'] },
      },
    });
    for (const r of REMEDIATORS) {
      for (const p of [...Object.values(r.permissions), ...detectorFor(r.id).readPermissions])
        for (const a of p.actions) expect(a).not.toMatch(/\*/);
    }
  });

  it('declares read permissions for what verify reads', () => {
    expect(Object.fromEntries(REMEDIATORS.map((r) => [r.id, detectorFor(r.id).readPermissions.flatMap((p) => p.actions)]))).toEqual({
      's3-default-encryption': ['s3:GetEncryptionConfiguration', 's3:GetBucketTagging', 'kms:DescribeKey'],
      'apigateway-waf': ['wafv2:GetWebACLForResource', 'wafv2:GetWebACL', 'apigateway:GET'],
      'apigateway-throttling': ['apigateway:GET'],
      'cloudtrail-logging': ['cloudtrail:GetTrail', 'cloudtrail:GetTrailStatus', 'cloudtrail:GetEventSelectors', 'cloudtrail:ListTags'],
      'config-recording': [
        'config:DescribeConfigurationRecorders',
        'config:DescribeConfigurationRecorderStatus',
        'config:DescribeDeliveryChannels',
      ],
      // GetStage, and GetAccount for the CloudWatch Logs role
      'apigateway-logging': ['apigateway:GET', 'apigateway:GET'],
      'apigateway-cache-encryption': ['apigateway:GET'],
      // GetStage, and GetClientCertificate for the expiry
      'apigateway-client-certificate': ['apigateway:GET', 'apigateway:GET'],
      's3-tls-only': ['s3:GetBucketPolicy', 's3:GetBucketWebsite', 's3:GetBucketTagging'],
      'kms-key-protection': ['kms:DescribeKey', 'kms:GetKeyRotationStatus', 'kms:GetKeyPolicy', 'kms:ListResourceTags'],
      'apigateway-authorization': ['apigateway:GET'],
      'apigateway-domain-tls': ['apigateway:GET'],
      'apigateway-private-endpoint': ['apigateway:GET'],
      's3-public-access-block': ['s3:GetBucketPublicAccessBlock', 's3:GetBucketTagging', 's3:GetAccountPublicAccessBlock'],
    });
  });
});
