import type { Severity } from '../../core/controls';
import type { FindingLine } from '../replay';
import { controlTitle, findingAccount, findingRegion, findingTime } from './common';
import type { RunContext } from '.';

/**
 * OCSF Compliance Finding events (class_uid 2003, category Findings), schema version 1.5.0:
 * the check is the control, the standard the policy, the status Fail; one event per finding.
 * Attribute names and enum values are those of the ocsf/ocsf-schema repository
 * (events/findings/compliance_finding.json and the objects it uses).
 */

export const OCSF_VERSION = '1.5.0';
const CLASS_UID = 2003;
const ACTIVITY_CREATE = 1;
// severity_id: 1 Informational, 2 Low, 3 Medium, 4 High, 5 Critical, 6 Fatal
const SEVERITY_ID: Record<Severity, number> = { low: 2, medium: 3, high: 4 };
const SEVERITY_NAME: Record<Severity, string> = { low: 'Low', medium: 'Medium', high: 'High' };

export function toOcsf(findings: readonly FindingLine[], context: RunContext) {
  return findings.map((f) => {
    const time = findingTime(f, context).getTime();
    const region = findingRegion(f, context);
    const account = findingAccount(f, context);
    return {
      activity_id: ACTIVITY_CREATE,
      activity_name: 'Create',
      category_uid: 2,
      category_name: 'Findings',
      class_uid: CLASS_UID,
      class_name: 'Compliance Finding',
      type_uid: CLASS_UID * 100 + ACTIVITY_CREATE,
      type_name: 'Compliance Finding: Create',
      severity_id: SEVERITY_ID[f.severity] ?? 0,
      severity: SEVERITY_NAME[f.severity] ?? 'Unknown',
      time,
      message: f.violation,
      status_id: 1,
      status: 'New',
      metadata: {
        version: OCSF_VERSION,
        product: { name: 'Rampart', vendor_name: 'Rampart', version: context.version },
        ...(f.eventId ? { correlation_uid: f.eventId } : {}),
      },
      finding_info: {
        uid: f.id,
        title: controlTitle(f.control),
        desc: f.violation,
        types: [f.control],
        created_time: context.now.getTime(),
        first_seen_time: time,
      },
      compliance: {
        control: f.control,
        standards: [`Rampart policy ${context.policyFile}`],
        status_id: 3,
        status: 'Fail',
        status_detail: f.violation,
      },
      cloud: {
        provider: 'AWS',
        ...(region ? { region } : {}),
        ...(account ? { account: { uid: account, type_id: 10, type: 'AWS Account' } } : {}),
      },
      resources: [{ uid: f.resourceArn, type: f.resourceType, ...(region ? { region } : {}) }],
      ...(f.actor?.arn ? { actor: { user: { uid: f.actor.arn, ...(f.actor.userName ? { name: f.actor.userName } : {}) } } } : {}),
      unmapped: {
        observed: f.observed ?? null,
        desired: f.desired ?? null,
        ...(f.change ? { change: f.change } : {}),
        ...(f.risk ? { risk: f.risk } : {}),
      },
    };
  });
}
