// Resolves the stage graph: who provides each service, an order in which every stage comes after
// the stages it needs, and a clear error for a missing provider, a service provided twice, or a
// cycle. Then builds the stages in that order, each seeing only the services it declared.
import type { Component } from '../core/component.ts';
import type { AnyStage, RoutePlugin } from '../core/stage.ts';

export class StageGraphError extends Error {
  override name = 'StageGraphError';
}

/** Orders stages so every stage follows its providers; ties keep the given order. */
export function orderStages(stages: readonly AnyStage[], coreIds: ReadonlySet<string>): AnyStage[] {
  const provider = new Map<string, AnyStage>();
  const ids = new Set<string>();
  for (const s of stages) {
    if (ids.has(s.id)) throw new StageGraphError(`two stages are named "${s.id}"`);
    ids.add(s.id);
    for (const ref of Object.values(s.provides)) {
      if (coreIds.has(ref.id)) throw new StageGraphError(`stage "${s.id}" provides "${ref.id}", which the core provides`);
      const other = provider.get(ref.id);
      if (other) throw new StageGraphError(`service "${ref.id}" is provided by both "${other.id}" and "${s.id}"`);
      provider.set(ref.id, s);
    }
  }
  const needsOf = (s: AnyStage): AnyStage[] =>
    Object.values(s.needs).flatMap((ref) => {
      if (coreIds.has(ref.id)) return [];
      const p = provider.get(ref.id);
      if (!p) throw new StageGraphError(`stage "${s.id}" needs "${ref.id}", which no stage provides`);
      return p === s ? [] : [p];
    });
  const ordered: AnyStage[] = [];
  const state = new Map<AnyStage, 'visiting' | 'done'>();
  const visit = (s: AnyStage, path: AnyStage[]): void => {
    const st = state.get(s);
    if (st === 'done') return;
    if (st === 'visiting') {
      const cycle = [...path.slice(path.indexOf(s)), s].map((x) => x.id).join(' → ');
      throw new StageGraphError(`stages depend on each other in a circle: ${cycle}`);
    }
    state.set(s, 'visiting');
    for (const dep of needsOf(s)) visit(dep, [...path, s]);
    state.set(s, 'done');
    ordered.push(s);
  };
  for (const s of stages) visit(s, []);
  return ordered;
}

/**
 * The stages that can run on this store: on a legacy server, those needing the full schema are
 * left out, and with them every stage that needs a service only they provide.
 */
export function stagesForStore(stages: readonly AnyStage[], dialect: 'modern' | 'legacy', coreIds: ReadonlySet<string>): { run: AnyStage[]; left: AnyStage[] } {
  if (dialect === 'modern') return { run: [...stages], left: [] };
  const left = new Set(stages.filter((s) => s.needsFullSchema));
  for (let changed = true; changed; ) {
    changed = false;
    const provided = new Set([...coreIds, ...stages.filter((s) => !left.has(s)).flatMap((s) => Object.values(s.provides).map((r) => r.id))]);
    for (const s of stages) {
      if (!left.has(s) && Object.values(s.needs).some((r) => !provided.has(r.id))) {
        left.add(s);
        changed = true;
      }
    }
  }
  return { run: stages.filter((s) => !left.has(s)), left: stages.filter((s) => left.has(s)) };
}

export interface BuiltStages {
  /** Every service by id: the core's and every stage's. */
  services: Map<string, unknown>;
  /** In start order (providers first). */
  components: Component[];
  routes: RoutePlugin[];
  order: string[];
}

/**
 * Builds every stage in dependency order. `core` holds the root's own services by id; `config` is
 * the whole parsed file, from which each stage receives only its own section.
 */
export async function buildStages(stages: readonly AnyStage[], core: Map<string, unknown>, config: Record<string, unknown>): Promise<BuiltStages> {
  const services = new Map(core);
  const components: Component[] = [];
  const routes: RoutePlugin[] = [];
  const ordered = orderStages(stages, new Set(core.keys()));
  for (const stage of ordered) {
    const deps = Object.fromEntries(Object.entries(stage.needs).map(([k, ref]) => [k, services.get(ref.id)]));
    const parts = await stage.create({ config: stage.config ? config[stage.config.section] : undefined, deps });
    for (const [key, ref] of Object.entries(stage.provides)) {
      if (!(key in parts.services)) throw new StageGraphError(`stage "${stage.id}" declared "${ref.id}" but did not provide it`);
      services.set(ref.id, (parts.services as Record<string, unknown>)[key]);
    }
    components.push(...(parts.components ?? []));
    routes.push(...(parts.routes ?? []));
  }
  return { services, components, routes, order: ordered.map((s) => s.id) };
}
