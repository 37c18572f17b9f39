import { readFileSync } from 'node:fs';
import { relative, sep } from 'node:path';
import { ALL_CONTROLS } from '../../controls';
import type { Severity } from '../../core/controls';
import type { FindingLine } from '../replay';
import type { RunContext } from '.';

/**
 * SARIF 2.1.0 (OASIS), the format code-scanning UIs read: one run, one rule per registered
 * control, one result per finding. A result's physical location is the control's entry in the
 * policy file (where a reviewer would change what is required); the resource is its logical
 * location. `partialFingerprints` carries the finding id, stable per control, account and
 * resource, so a UI matches a result across runs.
 */

const LEVEL: Record<Severity, 'note' | 'warning' | 'error'> = { low: 'note', medium: 'warning', high: 'error' };
// GitHub code scanning ranks security results by `security-severity` (0.0-10.0 as a string)
const SECURITY_SEVERITY: Record<Severity, string> = { low: '3.0', medium: '5.5', high: '8.0' };

/** The 1-based line of `<control>:` under `controls:` in the policy file; 1 when it cannot be told. */
function policyLine(policyText: string | undefined, control: string): number {
  if (!policyText) return 1;
  const lines = policyText.split('\n');
  const at = lines.findIndex((l) => new RegExp(`^\\s+['"]?${control.replace(/[-]/g, '\\-')}['"]?\\s*:`).test(l));
  return at >= 0 ? at + 1 : 1;
}

/** A SARIF artifact URI: relative to the working directory, forward slashes (uri-reference). */
function artifactUri(file: string): string {
  const rel = relative(process.cwd(), file) || file;
  return encodeURI(rel.split(sep).join('/'));
}

export function toSarif(findings: readonly FindingLine[], context: RunContext) {
  let policyText: string | undefined;
  try {
    policyText = readFileSync(context.policyFile, 'utf8');
  } catch {
    policyText = undefined;
  }
  const rules = ALL_CONTROLS.map((c) => ({
    id: c.id,
    name: c.id,
    shortDescription: { text: c.title },
    defaultConfiguration: { level: LEVEL[c.severity] },
    properties: { tags: ['security', 'aws'], 'security-severity': SECURITY_SEVERITY[c.severity] },
  }));
  const ruleIndex = new Map(rules.map((r, i) => [r.id, i]));
  const uri = artifactUri(context.policyFile);
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0' as const,
    runs: [
      {
        tool: { driver: { name: 'Rampart', version: context.version, semanticVersion: context.version, rules } },
        results: findings.map((f) => ({
          ruleId: f.control,
          ...(ruleIndex.has(f.control) ? { ruleIndex: ruleIndex.get(f.control)! } : {}),
          level: LEVEL[f.severity] ?? 'warning',
          kind: 'fail' as const,
          message: { text: `${f.resourceArn}: ${f.violation}` },
          locations: [
            {
              physicalLocation: { artifactLocation: { uri }, region: { startLine: policyLine(policyText, f.control) } },
              logicalLocations: [{ name: f.resourceArn, fullyQualifiedName: f.resourceArn, kind: 'resource' }],
            },
          ],
          partialFingerprints: { 'rampartFindingId/v1': f.id },
          properties: {
            resourceType: f.resourceType,
            ...(f.account ? { account: f.account } : {}),
            ...(f.region ? { region: f.region } : {}),
            observed: f.observed ?? null,
            desired: f.desired ?? null,
            eventId: f.eventId,
            ...(f.eventTime ? { eventTime: f.eventTime } : {}),
            ...(f.actor?.arn ? { actor: f.actor.arn } : {}),
            ...(f.change ? { change: f.change } : {}),
            ...(f.risk ? { risk: f.risk } : {}),
          },
        })),
      },
    ],
  };
}
