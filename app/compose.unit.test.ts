// The stage graph: order from declared dependencies, and an error that names the stage and the
// service for each way a graph can be wrong; on a legacy store, the full-schema stages left out.
import { describe, expect, it } from 'vitest';
import { defineStage, serviceRef, type AnyStage } from '../core/stage.ts';
import { buildStages, orderStages, stagesForStore } from './compose.ts';

const a = serviceRef<string>('test.a');
const b = serviceRef<string>('test.b');
const core = serviceRef<string>('core.x');

const stage = (id: string, needs: Record<string, typeof a>, provides: Record<string, typeof a>, extra: Partial<AnyStage> = {}): AnyStage =>
  defineStage({
    id,
    needs,
    provides,
    ...extra,
    async create({ deps }) {
      const services = Object.fromEntries(Object.keys(provides).map((k) => [k, `${id}(${Object.values(deps).join(',')})`]));
      return { services: services as never };
    },
  });

describe('the stage graph', () => {
  it('orders providers before the stages that need them, whatever the list order', async () => {
    const stages = [stage('second', { v: a }, { w: b }), stage('first', { c: core }, { v: a })];
    expect(orderStages(stages, new Set([core.id])).map((s) => s.id)).toEqual(['first', 'second']);
    const built = await buildStages(stages, new Map([[core.id, 'x']]), {});
    expect(built.order).toEqual(['first', 'second']);
    expect(built.services.get(b.id)).toBe('second(first(x))');
  });

  it('names a missing provider, a service provided twice, a cycle and a duplicate stage id', () => {
    const none = new Set<string>();
    expect(() => orderStages([stage('s', { v: a }, {})], none)).toThrow('stage "s" needs "test.a", which no stage provides');
    expect(() => orderStages([stage('p', {}, { v: a }), stage('q', {}, { v: a })], none)).toThrow('service "test.a" is provided by both "p" and "q"');
    expect(() => orderStages([stage('p', { x: b }, { v: a }), stage('q', { x: a }, { v: b })], none)).toThrow(/in a circle: (p → q → p|q → p → q)/);
    expect(() => orderStages([stage('p', {}, {}), stage('p', {}, {})], none)).toThrow('two stages are named "p"');
  });

  it('a stage that does not provide what it declared is an error naming it', async () => {
    const liar = defineStage({ id: 'liar', needs: {}, provides: { v: a }, create: async () => ({ services: {} as never }) });
    await expect(buildStages([liar], new Map(), {})).rejects.toThrow('stage "liar" declared "test.a" but did not provide it');
  });

  it('on a legacy store, leaves out full-schema stages and the stages that need them', () => {
    const stages = [stage('ingest', {}, { v: a }), stage('incidents', { v: a }, { w: b }, { needsFullSchema: true }), stage('detectors', { w: b }, {})];
    expect(stagesForStore(stages, 'modern', new Set()).left).toEqual([]);
    const { run, left } = stagesForStore(stages, 'legacy', new Set());
    expect(run.map((s) => s.id)).toEqual(['ingest']);
    expect(left.map((s) => s.id)).toEqual(['incidents', 'detectors']);
  });
});
