// The stage contract: how every part of a running Whistle (ingest, the writer, Kubernetes watching,
// detectors, incidents, notifications, the bootstrap engine, remediation, and what comes later)
// declares itself to the composition root (app/). A stage names its config section and registers
// its schema, lists the services it needs and the ones it provides as typed references, and
// builds its parts in `create`. The root orders stages from those declarations, so no stage
// depends on its position in a list, and a stage sees nothing it did not declare.
import type { FastifyPluginAsync } from 'fastify';
import type { z } from 'zod';
import type { Component } from './component.ts';

/** A typed name for a service one stage provides and others need. `T` exists only for the types. */
export interface ServiceRef<T> {
  readonly id: string;
  /** Phantom field carrying the service's type; never set. */
  readonly __type?: T;
}

export function serviceRef<T>(id: string): ServiceRef<T> {
  return { id };
}

export type ServiceRefs = Record<string, ServiceRef<unknown>>;

/** The values behind a map of references: `{ store: ServiceRef<Store> }` → `{ store: Store }`. */
export type Resolved<R extends ServiceRefs> = { [K in keyof R]: R[K] extends ServiceRef<infer T> ? T : never };

/** HTTP routes a stage serves. Each plugin closes over what the stage declared. */
export type RoutePlugin = FastifyPluginAsync;

export interface StageParts<P extends ServiceRefs> {
  /** One value for every service the stage declared in `provides`. */
  services: Resolved<P>;
  /** Long-running parts, started in stage order (downstream first) and stopped in reverse. */
  components?: Component[];
  routes?: RoutePlugin[];
}

/** Everything `create` receives: the stage's own config section and its declared dependencies. */
export interface StageInput<C, N extends ServiceRefs> {
  config: C;
  deps: Resolved<N>;
}

export interface Stage<C = unknown, N extends ServiceRefs = ServiceRefs, P extends ServiceRefs = ServiceRefs, S extends string = string> {
  readonly id: string;
  /**
   * The stage's top-level config section and its schema (strict, with every default). Absent: the
   * stage has no settings of its own. Several stages may read one section (the same schema object).
   */
  readonly config?: { readonly section: S; readonly schema: z.ZodType<C> };
  readonly needs: N;
  readonly provides: P;
  /**
   * The stage's tables exist only in the full schema (chDB or a modern server). On a legacy server
   * (store/migrations/legacy/: samples, nodes, audit log) it does not run.
   */
  readonly needsFullSchema?: boolean;
  create(input: StageInput<C, N>): Promise<StageParts<P>>;
}

/** Identity with inference: `defineStage({...})` checks `create` against `needs` and `provides`. */
export function defineStage<C, N extends ServiceRefs, P extends ServiceRefs, S extends string>(stage: Stage<C, N, P, S>): Stage<C, N, P, S> {
  return stage;
}

/** A stage whose types are no longer needed (the composition root's lists). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyStage = Stage<any, ServiceRefs, ServiceRefs, string>;

/** The config sections a list of stages registers, with their parsed types: `{ writer: WriterConfig, ... }`. */
export type SectionsOf<T extends readonly AnyStage[]> = {
  [St in T[number] as St extends { config?: { section: infer K extends string } } ? K : never]: St extends Stage<infer C, ServiceRefs, ServiceRefs, string> ? C : never;
};
