import { cut, toAsffFinding } from '../../core/asff';
import { stepsOf } from '../../core/control';
import type { Finding } from '../../core/finding';
import type { FindingLine } from '../replay';
import { controlTitle, findingAccount, findingRegion, findingTime, partitionOf } from './common';
import type { RunContext } from '.';

/**
 * `--format asff`: the input of `BatchImportFindings` (`{"Findings": [...]}`), so
 * `aws securityhub batch-import-findings --cli-input-json file://findings.json` imports it
 * (at most 100 findings a call). A finding without an account cannot be said in ASFF: it is
 * left out and named on stderr.
 */
export function toAsff(findings: readonly FindingLine[], context: RunContext) {
  const skipped: FindingLine[] = [];
  const out = [];
  for (const line of findings) {
    const account = findingAccount(line, context);
    const region = findingRegion(line, context) ?? 'us-east-1';
    if (!account || !/^\d{12}$/.test(account)) {
      skipped.push(line);
      continue;
    }
    const { type: _type, risk, change, reason: _reason, ...finding } = line;
    out.push(
      toAsffFinding(finding as Finding, {
        account,
        region,
        partition: partitionOf(line.resourceArn),
        title: controlTitle(line.control),
        createdAt: findingTime(line, context),
        updatedAt: context.now,
        productFields: {
          ...(risk ? { 'rampart/risk': risk } : {}),
          // ASFF holds at most 2,048 characters a value: the calls' names, in the order sent
          ...(change
            ? {
                'rampart/change': cut(
                  `${stepsOf(change)
                    .map((step) => step.operation)
                    .join(', then ')} in ${change.region}`,
                  2048,
                ),
              }
            : {}),
          ...(change?.notice ? { 'rampart/notice': cut(change.notice, 2048) } : {}),
        },
      }),
    );
  }
  return { document: { Findings: out }, skipped };
}
