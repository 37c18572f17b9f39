import type { Policy } from './policy';

function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`);
}

/**
 * Why a resource is exempt from every control, or `undefined` when it is not. ARN patterns
 * may use `*`; a tag exemption matches when the resource carries the key with that value.
 *
 * @example exemptionOf('arn:aws:s3:::legacy-logs', {}, { arns: ['arn:aws:s3:::legacy-*'], tags: {} })
 */
export function exemptionOf(
  arn: string,
  tags: Record<string, string> | undefined,
  exemptions: Policy['exemptions'],
): string | undefined {
  const pattern = exemptions.arns.find((p) => (p.includes('*') ? globToRegExp(p).test(arn) : p === arn));
  if (pattern) return `ARN matches exemption ${pattern}`;
  if (tags) {
    for (const [key, value] of Object.entries(exemptions.tags)) {
      if (tags[key] === value) return `tagged ${key}=${value}`;
    }
  }
  return undefined;
}
