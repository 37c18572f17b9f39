import { PolicyError } from '../../core/errors';
import { parsePolicy } from '../../controls/policy';

function issuesOf(input: unknown): Array<{ path: string; message: string }> {
  try {
    parsePolicy(input);
  } catch (error) {
    if (error instanceof PolicyError) return error.issues;
    throw error;
  }
  throw new Error('expected the policy to be refused');
}

describe('policy: s3-default-encryption exact and bucket keys', () => {
  it('takes exact: true and defaults to "this algorithm or stronger"', () => {
    expect(
      parsePolicy({ controls: { 's3-default-encryption': { algorithm: 'aws:kms', exact: true } } }).controls['s3-default-encryption']
        ?.exact,
    ).toBe(true);
    expect(
      parsePolicy({ controls: { 's3-default-encryption': { algorithm: 'aws:kms' } } }).controls['s3-default-encryption']?.exact,
    ).toBeUndefined();
  });

  it('refuses a non-boolean exact, naming the field', () => {
    expect(issuesOf({ controls: { 's3-default-encryption': { algorithm: 'aws:kms', exact: 'yes' } } }).map((i) => i.path)).toEqual([
      'controls.s3-default-encryption.exact',
    ]);
  });

  it('refuses S3 Bucket Keys with DSSE-KMS, which has none', () => {
    expect(issuesOf({ controls: { 's3-default-encryption': { algorithm: 'aws:kms:dsse', bucketKeyEnabled: true } } })).toEqual([
      { path: 'controls.s3-default-encryption.bucketKeyEnabled', message: 'S3 Bucket Keys apply only with algorithm aws:kms' },
    ]);
  });
});
