import * as z from 'zod/mini';
import { defineControl, lazySchema } from '../../core/control';
import { CONTROLS } from '../../controls';
import { policySchema } from '../../controls/policy';
import { withTagEvents } from '../../detectors/exemption-events';
import { s3DefaultEncryption } from '../../detectors/s3-default-encryption';
import { s3DefaultEncryptionRemediator } from '../../remediators/s3-default-encryption';

// Every Lambda bundle carries the registry; none validates the policy again, so loading the
// registry must build no policy schema (zod objects built at every cold start for nothing).
describe('policy schemas are built on first use', () => {
  it('lazySchema builds once, on the first read', () => {
    const build = jest.fn(() => z.strictObject({ risk: z.string() }));
    const schema = lazySchema(build);
    expect(build).not.toHaveBeenCalled();
    const first = schema();
    expect(schema()).toBe(first);
    expect(build).toHaveBeenCalledTimes(1);
  });

  it.each(CONTROLS.map((c) => [c.id, c] as const))('%s: the control and its detector hold the schema behind a getter', (_id, control) => {
    expect(Object.getOwnPropertyDescriptor(control, 'policySchema')?.get).toBeInstanceOf(Function);
    expect(Object.getOwnPropertyDescriptor(control.detector, 'policySchema')?.get).toBeInstanceOf(Function);
    // the same schema each read, and the one the policy schema is assembled from
    expect(control.policySchema).toBe(control.detector.policySchema);
  });

  it('withTagEvents and defineControl do not read the schema of the detector they wrap', () => {
    const read = jest.fn(() => s3DefaultEncryption.policySchema);
    const detector = Object.defineProperty({ ...s3DefaultEncryption }, 'policySchema', { get: read, enumerable: true, configurable: true });
    const control = defineControl(withTagEvents(detector), s3DefaultEncryptionRemediator);
    expect(read).not.toHaveBeenCalled();
    expect(control.policySchema).toBe(s3DefaultEncryption.policySchema);
    expect(read).toHaveBeenCalledTimes(1);
  });

  it('the assembled policy schema still validates each control slice', () => {
    expect(() => policySchema().parse({ controls: { 's3-default-encryption': { algorithm: 'rot13' } } })).toThrow();
    const parsed = policySchema().parse({ controls: { 's3-default-encryption': { algorithm: 'AES256' } } }) as {
      controls: Record<string, { risk?: string }>;
    };
    expect(parsed.controls['s3-default-encryption']?.risk).toBe('low');
  });
});
