import { readdirSync } from 'node:fs';
import { parseEvent } from '../../core/events';
import { CONTROL_IDS, DETECTORS } from '../../controls';
import { eventPatternsOf } from '../../detectors/patterns';
import { EventRouter } from '../../detectors/router';
import { FIXTURES, fixture } from '../helpers';

/**
 * Conformance over the registry: every control declares what infra and the CLI need, and
 * its declarations agree with what it does on real events.
 */
describe('detector registry', () => {
  it('holds exactly one detector per control id', () => {
    expect(DETECTORS.map((d) => d.id).sort()).toEqual([...CONTROL_IDS].sort());
  });

  const eventFixtures = readdirSync(FIXTURES).filter((f) => f.endsWith('.json') && !f.includes('LogFile') && !f.includes('LookupEvents'));
  const router = new EventRouter(DETECTORS);

  describe.each(DETECTORS.map((d) => [d.id, d] as const))('%s', (_id, detector) => {
    it('declares a title, a severity, resource kinds and triggers', () => {
      expect(detector.title.length).toBeGreaterThan(10);
      expect(['low', 'medium', 'high']).toContain(detector.severity);
      expect(detector.resources?.length).toBeGreaterThan(0);
      for (const kind of detector.resources ?? []) expect(kind.type).toMatch(/^AWS::[A-Za-z0-9]+::[A-Za-z0-9]+$/);
      expect(detector.triggers.cloudTrail.length + detector.triggers.configResourceTypes.length).toBeGreaterThan(0);
    });

    it('declares CloudTrail triggers whose source matches the event source', () => {
      for (const trigger of detector.triggers.cloudTrail) {
        expect(trigger.eventSource).toBe(`${trigger.source.replace(/^aws\./, '')}.amazonaws.com`);
        expect(trigger.eventNames.length).toBeGreaterThan(0);
      }
    });

    it('yields EventBridge patterns with an event name list and no failed calls', () => {
      const patterns = eventPatternsOf(detector);

      expect(patterns.length).toBe(detector.triggers.cloudTrail.length + (detector.triggers.configResourceTypes.length > 0 ? 2 : 0));
      for (const [i, trigger] of detector.triggers.cloudTrail.entries()) {
        expect(patterns[i]).toEqual({
          source: [trigger.source],
          'detail-type': ['AWS API Call via CloudTrail'],
          detail: { eventSource: [trigger.eventSource], eventName: [...trigger.eventNames], errorCode: [{ exists: false }] },
        });
      }
    });

    it('yields a resource of its own types for every fixture routed to it', () => {
      let routed = 0;
      for (const name of eventFixtures) {
        const event = parseEvent(fixture(name));
        if (!router.route(event).includes(detector)) continue;
        routed++;
        for (const ref of detector.resourcesFrom(event)) expect((detector.resources ?? []).map((k) => k.type)).toContain(ref.type);
      }
      expect(routed).toBeGreaterThan(0);
    });
  });

  it('routes Config items and oversized notifications by resource type with one pattern', () => {
    const waf = DETECTORS.find((d) => d.id === 'apigateway-waf')!;

    expect(eventPatternsOf(waf)).toContainEqual({
      source: ['aws.config'],
      'detail-type': ['Config Configuration Item Change'],
      detail: {
        $or: [
          { configurationItem: { resourceType: ['AWS::ApiGateway::Stage'] } },
          { configurationItemSummary: { resourceType: ['AWS::ApiGateway::Stage'] } },
        ],
      },
    });
  });
});
