import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import semver from 'semver';

// `npm ci` on the Node.js of this machine and CI must not warn (EBADENGINE): every package the
// lockfile installs accepts the running Node.js, or the lockfile says why not.
interface LockedPackage {
  engines?: { node?: string } | string[];
}

const lockfile = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package-lock.json'), 'utf8')) as {
  packages: Record<string, LockedPackage>;
};

test('every locked package accepts the running Node.js (npm ci prints no EBADENGINE warning)', () => {
  const refused = Object.entries(lockfile.packages)
    .filter(([path, pkg]) => path !== '' && pkg.engines && !Array.isArray(pkg.engines) && pkg.engines.node)
    .filter(([, pkg]) => !semver.satisfies(process.version, (pkg.engines as { node: string }).node, { includePrerelease: true }))
    .map(([path, pkg]) => `${path} wants node ${(pkg.engines as { node: string }).node}`);
  expect(refused).toEqual([]);
});
