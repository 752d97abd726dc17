// The agent's own health counters. They travel with the telemetry as whistle_agent_* samples (so the
// management plane can see an agent that drops data) and, when a prom-client registry is given, are
// also exposed there. Counters count since the agent process started.
import { Counter, Gauge, type Registry } from 'prom-client';
import { point, type Point } from './collectors/types.ts';

export interface SpoolState {
  bytes: number;
  batches: number;
  samples: number;
  droppedSamples: number;
}

export class AgentStats {
  samplesCollected = 0;
  samplesSent = 0;
  samplesDeadLettered = 0;
  readonly collectorErrors = new Map<string, number>();
  readonly sendFailures = new Map<string, number>();
  lastCollectionSeconds = 0;
  private readonly prom?: {
    collected: Counter;
    sent: Counter;
    deadLettered: Counter;
    collectorErrors: Counter<'collector'>;
    sendFailures: Counter<'reason'>;
    spoolBytes: Gauge;
    spoolDropped: Gauge;
  };
  private spool: () => SpoolState = () => ({ bytes: 0, batches: 0, samples: 0, droppedSamples: 0 });

  constructor(registry?: Registry) {
    if (!registry) return;
    const registers = [registry];
    const spoolBytes: Gauge = new Gauge({
      name: 'whistle_agent_spool_bytes',
      help: 'Bytes of batches waiting in the spool',
      registers,
      collect: () => spoolBytes.set(this.spool().bytes),
    });
    const spoolDropped: Gauge = new Gauge({
      name: 'whistle_agent_spool_dropped_samples_total',
      help: 'Samples dropped because the spool was full (oldest first)',
      registers,
      collect: () => spoolDropped.set(this.spool().droppedSamples),
    });
    this.prom = {
      collected: new Counter({ name: 'whistle_agent_samples_collected_total', help: 'Samples collected by the node agent', registers }),
      sent: new Counter({ name: 'whistle_agent_samples_sent_total', help: 'Samples the management plane accepted (202)', registers }),
      deadLettered: new Counter({ name: 'whistle_agent_dead_letter_samples_total', help: 'Samples in batches rejected for good (400/413)', registers }),
      collectorErrors: new Counter({ name: 'whistle_agent_collector_errors_total', help: 'Collections that failed, by collector', labelNames: ['collector'], registers }),
      sendFailures: new Counter({ name: 'whistle_agent_send_failures_total', help: 'Uploads not accepted, by reason', labelNames: ['reason'], registers }),
      spoolBytes,
      spoolDropped,
    };
  }

  watchSpool(state: () => SpoolState): void {
    this.spool = state;
  }

  collected(n: number): void {
    this.samplesCollected += n;
    this.prom?.collected.inc(n);
  }
  sent(n: number): void {
    this.samplesSent += n;
    this.prom?.sent.inc(n);
  }
  deadLettered(n: number): void {
    this.samplesDeadLettered += n;
    this.prom?.deadLettered.inc(n);
  }
  collectorError(collector: string): void {
    this.collectorErrors.set(collector, (this.collectorErrors.get(collector) ?? 0) + 1);
    this.prom?.collectorErrors.inc({ collector });
  }
  sendFailure(reason: string): void {
    this.sendFailures.set(reason, (this.sendFailures.get(reason) ?? 0) + 1);
    this.prom?.sendFailures.inc({ reason });
  }

  /** Self-monitoring points added to every collection (see METRICS.md, "Agent health"). */
  points(collectorNames: readonly string[]): Point[] {
    const s = this.spool();
    const out = [
      point('whistle_agent_spool_bytes', s.bytes),
      point('whistle_agent_spool_batches', s.batches),
      point('whistle_agent_spool_samples', s.samples),
      point('whistle_agent_spool_dropped_samples_total', s.droppedSamples),
      point('whistle_agent_samples_collected_total', this.samplesCollected),
      point('whistle_agent_samples_sent_total', this.samplesSent),
      point('whistle_agent_dead_letter_samples_total', this.samplesDeadLettered),
      point('whistle_agent_collection_duration_seconds', this.lastCollectionSeconds),
    ];
    for (const c of collectorNames) out.push(point('whistle_agent_collector_errors_total', this.collectorErrors.get(c) ?? 0, { collector: c }));
    return out;
  }
}
