import { defineControl, type AnyDetector, type AnyRemediator, type Control } from '../core/control';
import { withTagEvents } from '../detectors/exemption-events';
import { apigatewayCacheEncryption } from '../detectors/apigateway-cache-encryption';
import { apigatewayClientCertificate } from '../detectors/apigateway-client-certificate';
import { apigatewayLogging } from '../detectors/apigateway-logging';
import { apigatewayAuthorization } from '../detectors/apigateway-authorization';
import { apigatewayDomainTls } from '../detectors/apigateway-domain-tls';
import { apigatewayPrivateEndpoint } from '../detectors/apigateway-private-endpoint';
import { apigatewayThrottling } from '../detectors/apigateway-throttling';
import { apigatewayWaf } from '../detectors/apigateway-waf';
import { cloudtrailLogging } from '../detectors/cloudtrail-logging';
import { configRecording } from '../detectors/config-recording';
import { kmsKeyProtection } from '../detectors/kms-key-protection';
import { s3DefaultEncryption } from '../detectors/s3-default-encryption';
import { apigatewayCacheEncryptionRemediator } from '../remediators/apigateway-cache-encryption';
import { apigatewayClientCertificateRemediator } from '../remediators/apigateway-client-certificate';
import { apigatewayLoggingRemediator } from '../remediators/apigateway-logging';
import { s3PublicAccessBlock } from '../detectors/s3-public-access-block';
import { s3TlsOnly } from '../detectors/s3-tls-only';
import { apigatewayAuthorizationRemediator } from '../remediators/apigateway-authorization';
import { apigatewayDomainTlsRemediator } from '../remediators/apigateway-domain-tls';
import { apigatewayPrivateEndpointRemediator } from '../remediators/apigateway-private-endpoint';
import { apigatewayThrottlingRemediator } from '../remediators/apigateway-throttling';
import { apigatewayWafRemediator } from '../remediators/apigateway-waf';
import { cloudtrailLoggingRemediator } from '../remediators/cloudtrail-logging';
import { configRecordingRemediator } from '../remediators/config-recording';
import { kmsKeyProtectionRemediator } from '../remediators/kms-key-protection';
import { s3DefaultEncryptionRemediator } from '../remediators/s3-default-encryption';
import { s3PublicAccessBlockRemediator } from '../remediators/s3-public-access-block';
import { s3TlsOnlyRemediator } from '../remediators/s3-tls-only';

/**
 * THE registry: one line per control. Everything that needs the list of controls (control
 * ids, the policy schema, the EventBridge rules, IAM grants, the sweep, the CLI, the
 * conformance tests) reads it from here; nothing else lists control ids. The policy schema
 * assembled from it is in `./policy.ts`, apart: it needs zod and yaml, which the Lambdas
 * (they never validate the policy again) must not carry.
 */
export const CONTROLS = [
  control(s3DefaultEncryption, s3DefaultEncryptionRemediator),
  control(apigatewayWaf, apigatewayWafRemediator),
  control(apigatewayThrottling, apigatewayThrottlingRemediator),
  control(cloudtrailLogging, cloudtrailLoggingRemediator),
  control(configRecording, configRecordingRemediator),
  control(apigatewayLogging, apigatewayLoggingRemediator),
  control(apigatewayCacheEncryption, apigatewayCacheEncryptionRemediator),
  control(apigatewayClientCertificate, apigatewayClientCertificateRemediator),
  control(s3TlsOnly, s3TlsOnlyRemediator),
  control(kmsKeyProtection, kmsKeyProtectionRemediator),
  control(apigatewayAuthorization, apigatewayAuthorizationRemediator),
  control(apigatewayDomainTls, apigatewayDomainTlsRemediator),
  control(apigatewayPrivateEndpoint, apigatewayPrivateEndpointRemediator),
  control(s3PublicAccessBlock, s3PublicAccessBlockRemediator),
] as const;

/** A registered control: every control also reacts to tag changes of its resources (exemptions). */
function control<D extends AnyDetector, R extends AnyRemediator & { id: D['id'] }>(detector: D, remediator: R) {
  return defineControl(withTagEvents(detector), remediator);
}

export type AnyRegisteredControl = (typeof CONTROLS)[number];
/** Every control id, kebab-case and identical everywhere (policy key, finding, rule name). */
export type ControlId = AnyRegisteredControl['id'];
export const CONTROL_IDS: readonly ControlId[] = CONTROLS.map((c) => c.id);

/** The registered controls as the engine takes them. */
export const ALL_CONTROLS: readonly Control[] = CONTROLS;
/** The detector halves, in registry order (routing, rules, the sweep). */
export const DETECTORS: readonly AnyDetector[] = CONTROLS.map((c) => c.detector);

/** The control of an id; `undefined` for an id no control has (input from outside). */
export function controlOf(id: string): Control | undefined {
  return ALL_CONTROLS.find((c) => c.id === id);
}

/** The control of a registered id (infra, after the policy was validated). */
export function registeredControl(id: string): Control {
  const found = controlOf(id);
  if (!found) throw new Error(`no control ${id} is registered`);
  return found;
}

/** Every resource kind a control guards, once each. */
export const RESOURCE_KINDS = [...new Set(CONTROLS.flatMap((c) => c.resources))];

/** The remediator halves, in registry order. */
export const REMEDIATORS: readonly AnyRemediator[] = CONTROLS.map((c) => c.remediator);

/** The detector of a registered control. */
export const detectorFor = (id: string): AnyDetector => registeredControl(id).detector;
/** The remediator of a registered control. */
export const remediatorFor = (id: string): AnyRemediator => registeredControl(id).remediator;
