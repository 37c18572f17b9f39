import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { parseEvent, type RampartEvent } from '../../core/events';
import type { AwsClients } from '../../core/aws';
import { permissionOf, stepsOf, type Control } from '../../core/control';
import { loadPolicyFile, parsePolicyText } from '../../controls/policy';
import { CONTROLS, CONTROL_IDS, RESOURCE_KINDS } from '../../controls';
import { policySchema } from '../../controls/policy';
import { judgeEvent } from '../../detectors/judge';
import { eventPatternsOf } from '../../detectors/patterns';
import { EventRouter } from '../../detectors/router';
import { FIXTURES, fixture } from '../helpers';

/**
 * The conformance suite: every registered control is walked and held to the contract, so a
 * new control that forgets something fails here, not in production. A new control adds its
 * fixtures (and its fakes) and edits nothing in this file.
 */

// single events only: log files and lookup-events output are containers, read by their own tests
const events: Array<{ name: string; event: RampartEvent }> = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.json') && !f.includes('LogFile') && !f.includes('LookupEvents'))
  .map((name) => ({ name, event: parseEvent(fixture(name)) }));
const router = new EventRouter(CONTROLS.map((c) => c.detector));
const EXAMPLE_POLICY_FILE = join(__dirname, '../../examples/rampart.config.yaml');
// the bundled example enables every control (a new control adds its section there), so no list here
const examplePolicy = loadPolicyFile(EXAMPLE_POLICY_FILE);

describe('the registry', () => {
  it('holds each control id once, in kebab-case', () => {
    expect(new Set(CONTROL_IDS).size).toBe(CONTROLS.length);
    for (const id of CONTROL_IDS) expect(id).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
  });

  it('has every control in the example policy', () => {
    expect(Object.keys(examplePolicy.controls).sort()).toEqual([...CONTROL_IDS].sort());
  });

  it('assembles a policy schema with one optional key per control', () => {
    const schema = z.toJSONSchema(policySchema(), { io: 'input' }) as unknown as {
      properties: { controls: { properties: Record<string, unknown> } };
    };

    expect(Object.keys(schema.properties.controls.properties).sort()).toEqual([...CONTROL_IDS].sort());
    expect(policySchema().parse({})).toMatchObject({ controls: {} });
  });

  it('validates the example policy file as the policy loader does, and refuses an unknown control key', () => {
    const text = readFileSync(EXAMPLE_POLICY_FILE, 'utf8');

    expect(policySchema().parse(parse(text))).toEqual(parsePolicyText(text));
    const bad = policySchema().safeParse({ controls: { 's3-default-encryptoin': { algorithm: 'AES256' } } });
    expect(bad.error?.issues.map((i) => [i.path.join('.'), i.code])).toEqual([['controls', 'unrecognized_keys']]);
  });
});

describe.each(CONTROLS.map((c): [string, Control] => [c.id, c]))('control %s', (id, control) => {
  const { detector, remediator } = control;
  const routed = events.filter(({ event }) => router.route(event).includes(detector));

  it('declares a title, a severity, a default risk, resource kinds and triggers', () => {
    expect(control.title.length).toBeGreaterThan(10);
    expect(['low', 'medium', 'high']).toContain(control.severity);
    expect(['low', 'high']).toContain(control.defaultRisk);
    expect(control.resources.length).toBeGreaterThan(0);
    expect(detector.triggers.cloudTrail.length + detector.triggers.configResourceTypes.length).toBeGreaterThan(0);
    expect(remediator.id).toBe(id);
  });

  it('has a fixture that routes to it for every CloudTrail event name it triggers on', () => {
    for (const trigger of detector.triggers.cloudTrail) {
      for (const eventName of trigger.eventNames) {
        const hit = routed.find(
          ({ event }) =>
            event.kind === 'cloudtrail' && event.record.eventSource === trigger.eventSource && event.record.eventName === eventName,
        );
        expect({ eventName, fixture: hit?.name }).toEqual({ eventName, fixture: expect.any(String) });
      }
    }
  });

  it('has a fixture that routes to it for every Config resource type it triggers on, of one of its kinds', () => {
    const kindTypes = control.resources.map((k) => k.configResourceType);
    for (const type of detector.triggers.configResourceTypes) {
      expect(kindTypes).toContain(type);
      const hit = routed.find(
        ({ event }) =>
          (event.kind === 'config-item' || event.kind === 'config-compliance' || event.kind === 'config-oversized') &&
          event.resource.resourceType === type,
      );
      expect({ type, fixture: hit?.name }).toEqual({ type, fixture: expect.any(String) });
    }
  });

  it('yields only resources of its own kinds, whose ARNs round-trip through the kind', () => {
    let refs = 0;
    for (const { event } of routed) {
      for (const ref of detector.resourcesFrom(event)) {
        refs++;
        const kind = control.resources.find((k) => k.type === ref.type);
        expect(kind?.type).toBe(ref.type);
        const parsed = kind!.arn.parse(ref.arn);
        expect(parsed?.arn).toBe(ref.arn);
        expect(kind!.nameOf(parsed!)).toBe(kind!.nameOf(ref));
      }
    }
    expect(refs).toBeGreaterThan(0);
  });

  it('yields EventBridge patterns that fit in 2,048 characters', () => {
    for (const pattern of eventPatternsOf(detector)) expect(JSON.stringify(pattern).length).toBeLessThanOrEqual(2048);
  });

  it('plans purely: the same finding and state give the same change, and the input is left as it was', () => {
    let planned = 0;
    for (const { event } of routed) {
      for (const j of judgeEvent(event, examplePolicy, router).judgements) {
        if (j.outcome !== 'violation' || j.control !== id) continue;
        planned++;
        const controlPolicy = examplePolicy.controls[id as keyof typeof examplePolicy.controls];
        const before = structuredClone({ finding: j.finding, state: j.state, controlPolicy });
        const first = remediator.plan(j.finding, j.state, controlPolicy);
        const second = remediator.plan(j.finding, j.state, controlPolicy);
        expect(second).toEqual(first);
        expect({ finding: j.finding, state: j.state, controlPolicy }).toEqual(before);
        if (first.change) expect(permissionOf(remediator, first.change)).toBeDefined();
        if (first.change) expect(remediator.targetOf(first.change)).toBe(j.finding.resourceArn);
      }
    }
    expect(planned).toBeGreaterThan(0);
  });
});

const IAM_PREFIX_OF_CLIENT: Record<string, string> = { configservice: 'config', s3control: 's3' };

/**
 * A client set that answers every call with `{}` and records which command of which client
 * was sent: what a control's reads, listings and fixes really call, whatever its service.
 */
function recordingClients(): { clients: AwsClients; sent: Array<{ service: string; command: string }> } {
  const sent: Array<{ service: string; command: string }> = [];
  const clients = {
    region: 'us-east-1',
    regions: ['us-east-1'],
    account: '111122223333',
    get(Client: { name: string; prototype: object }) {
      const name = Client.name.replace(/Client$/, '').toLowerCase();
      // the IAM service prefix of the client's calls, where it is not the client's own name
      const service = IAM_PREFIX_OF_CLIENT[name] ?? name;
      // an instance of the class (the SDK's paginators check it), whose own `send` records
      return Object.assign(Object.create(Client.prototype) as object, {
        send: async (command: object) => (sent.push({ service, command: command.constructor.name }), {}),
      });
    },
  } as unknown as AwsClients;
  return { clients, sent };
}

const serviceOf = (action: string) => action.split(':')[0]!;

describe.each(CONTROLS.map((c): [string, Control] => [c.id, c]))('control %s, against a recording client set', (id, control) => {
  const { detector, remediator } = control;
  const routed = events.filter(({ event }) => router.route(event).includes(detector));
  const controlPolicy = examplePolicy.controls[id as keyof typeof examplePolicy.controls];

  it('applies exactly the call it planned, and holds a permission for it', async () => {
    let applied = 0;
    for (const { event } of routed) {
      for (const j of judgeEvent(event, examplePolicy, router).judgements) {
        if (j.outcome !== 'violation' || j.control !== id) continue;
        const plan = remediator.plan(j.finding, j.state, controlPolicy);
        if (!plan.change) continue;
        const { clients, sent } = recordingClients();
        await remediator.apply(plan.change, clients);
        applied++;
        // the change and its follow-ups, in order, and nothing else
        const steps = stepsOf(plan.change);
        expect(sent.map((c) => c.command)).toEqual(steps.map((step) => `${step.operation}Command`));
        steps.forEach((step, i) => {
          const permission = permissionOf(remediator, step);
          expect(permission?.actions.length).toBeGreaterThan(0);
          // the write goes to the service the permission names (wafv2 for AssociateWebACL, ...)
          expect(permission!.actions.map(serviceOf)).toContain(sent[i]!.service);
          expect(remediator.targetOf(step)).toBe(j.finding.resourceArn);
        });
      }
    }
    expect(applied).toBeGreaterThan(0);
  });

  it('reads and lists only through services its permissions name, and uses every read and list permission', async () => {
    const { clients, sent } = recordingClients();
    for await (const _ref of detector.list(clients)) break;
    for (const { event } of routed) {
      for (const ref of detector.resourcesFrom(event)) {
        const observation = await detector.readState(ref, clients).catch(() => undefined);
        const fromEvent = detector.stateFrom(event, ref);
        if (detector.resolveState && fromEvent.status === 'known')
          await detector.resolveState(fromEvent.state, controlPolicy, ref, clients).catch(() => undefined);
        void observation;
      }
    }
    const declared = [...detector.listPermissions, ...detector.readPermissions].flatMap((p) => p.actions.map(serviceOf));
    const called = new Set(sent.map((c) => c.service));
    for (const service of called) expect(declared).toContain(service);
    for (const service of new Set(declared)) expect([...called]).toContain(service);
  });
});

describe('resource kinds', () => {
  it.each(RESOURCE_KINDS.map((k) => [k.type, k] as const))(
    '%s declares the codes that mean "gone" and refuses other ARNs',
    (_type, kind) => {
      expect(kind.notFoundCodes.length).toBeGreaterThan(0);
      expect(kind.arn.parse('arn:aws:ec2:us-east-1:111122223333:instance/i-0123456789abcdef0')).toBeUndefined();
      expect(kind.arn.parse('not an arn')).toBeUndefined();
    },
  );
});
