/**
 * Stands in for the `semver` package in the tracer module beside each bundle
 * (`tracerBundleCommand`): the X-Ray SDK uses semver once, in `captureAWS`, to refuse an AWS
 * SDK v2 older than 2.7.15. Rampart captures SDK v3 clients only, so the whole package (28 KB,
 * its regular expressions built when it loads: about 5 ms of a traced cold start) buys nothing.
 * The check itself still holds: `version` at least `min`, both plain `x.y.z`.
 */
const VERSION = /^(\d+)\.(\d+)\.(\d+)$/;

function parts(version: string): number[] {
  const match = VERSION.exec(String(version));
  if (!match) throw new TypeError(`${String(version)} is not a version (x.y.z)`);
  return match.slice(1).map(Number);
}

export function gte(version: string, min: string): boolean {
  const [a, b] = [parts(version), parts(min)];
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i]! > b[i]!;
  return true;
}
