/** Every control Rampart knows. The id is kebab-case and identical everywhere (policy key, finding, rule name). */
export const CONTROL_IDS = ['s3-default-encryption', 'apigateway-waf', 'apigateway-throttling'] as const;
export type ControlId = (typeof CONTROL_IDS)[number];

/** The AWS resource types the controls watch (CloudFormation / Config type names). */
export const RESOURCE_TYPES = ['AWS::S3::Bucket', 'AWS::ApiGateway::Stage', 'AWS::ApiGateway::UsagePlan'] as const;
export type ResourceType = (typeof RESOURCE_TYPES)[number];

export const SEVERITIES = ['low', 'medium', 'high'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const RISKS = ['low', 'high'] as const;
export type Risk = (typeof RISKS)[number];
