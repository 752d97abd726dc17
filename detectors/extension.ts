// Wires the detector engine into a running Whistle (app/whistle.ts `Extension`): loads the
// detectors named in the configuration, builds the engine as a Component, and serves the latest
// verdicts at GET /v1/findings (operator token). Findings go to the FindingSink given here (the
// incident manager); without one they are only kept for GET /v1/findings and logged.
import type { AppContext } from '../app/context.ts';
import type { Extension } from '../app/whistle.ts';
import type { DetectorReport, FindingSink } from '../core/pipeline.ts';
import type { Finding } from '../core/types.ts';
import type { RoutePlugin } from '../ingest/server.ts';
import { requireOperator } from '../ingest/operator-auth.ts';
import type { Detector } from './api.ts';
import type { ClusterStateReader } from './cluster-state.ts';
import { DetectorEngine } from './engine.ts';
import { KubeTablesClusterState } from './kube-state.ts';
import { importDetectorModules, resolveDetectors } from './loader.ts';
import { ConfigError } from '../core/errors.ts';

export interface DetectorsExtensionOptions {
  /** Where verdicts go; a factory gets the app context (e.g. the incident manager built from it). */
  sink?: FindingSink | ((ctx: AppContext) => FindingSink | Promise<FindingSink>);
  /** Kubernetes state; default: read from the kube tables (no data when nothing is watched). */
  clusterState?: ClusterStateReader;
  /** Detectors besides the built-ins and the configured modules (tests). Settings from `plugins.<id>`. */
  extraDetectors?: Detector[];
  now?: () => number;
  /** Called after every telemetry query (benchmarks). */
  onQuery?: (label: string, ms: number, rows: number) => void;
}

/** The latest verdict of each (cluster, detector), served at GET /v1/findings. */
export class LatestFindings implements FindingSink {
  private readonly latest = new Map<string, DetectorReport>();
  constructor(private readonly next?: FindingSink) {}
  async report(r: DetectorReport): Promise<void> {
    if (this.next) await this.next.report(r);
    this.latest.set(`${r.cluster}\u0000${r.detector}`, r);
  }
  list(filter: { cluster?: string; detector?: string } = {}): Finding[] {
    const out: Finding[] = [];
    for (const r of this.latest.values()) {
      if ((filter.cluster && r.cluster !== filter.cluster) || (filter.detector && r.detector !== filter.detector)) continue;
      out.push(...r.findings);
    }
    return out.sort((a, b) => a.cluster.localeCompare(b.cluster) || a.detector.localeCompare(b.detector) || a.subject.localeCompare(b.subject));
  }
}

export function detectorsExtension(opts: DetectorsExtensionOptions = {}): Extension & { engine?: DetectorEngine; findings?: LatestFindings } {
  const ext: Extension & { engine?: DetectorEngine; findings?: LatestFindings } = {
    name: 'detectors',
    async create(ctx) {
      const cfg = ctx.config.detectors;
      const modules = await importDetectorModules(cfg.modules);
      if (modules.problems.length > 0) throw new ConfigError(modules.problems);
      const detectors = resolveDetectors(cfg, [...modules.detectors, ...(opts.extraDetectors ?? [])]);
      const next = typeof opts.sink === 'function' ? await opts.sink(ctx) : opts.sink;
      const findings = new LatestFindings(next);
      const engine = new DetectorEngine({
        store: ctx.store,
        config: cfg,
        detectors,
        sink: findings,
        registry: ctx.registry,
        log: ctx.log.child({ component: 'detectors' }),
        clusters: () => ctx.config.clusters.map((c) => c.name),
        nodes: ctx.nodes,
        clusterState: opts.clusterState ?? new KubeTablesClusterState(ctx.store),
        now: opts.now,
        onQuery: opts.onQuery,
      });
      ext.engine = engine;
      ext.findings = findings;
      const routes: RoutePlugin = async (app) => {
        app.addHook('preHandler', requireOperator(ctx.config.server));
        app.get<{ Querystring: { cluster?: string; detector?: string } }>(
          '/v1/findings',
          {
            schema: {
              querystring: {
                type: 'object',
                additionalProperties: false,
                properties: { cluster: { type: 'string', maxLength: 63 }, detector: { type: 'string', maxLength: 63 } },
              },
            },
          },
          async (req) => ({ findings: findings.list(req.query), detectors: engine.enabled }),
        );
      };
      return { components: [engine], routes: [routes] };
    },
  };
  return ext;
}
