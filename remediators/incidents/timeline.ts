// An extension point of the incidents stage: later stages add what they know about an incident
// (notifications delivered, actions taken) without the incident routes importing them. The
// incident view (`GET /v1/incidents/:id`) shows every source under its name.
export type TimelineSource = (incidentId: string) => Promise<unknown[]>;

export class IncidentTimeline {
  private readonly sources = new Map<string, TimelineSource>();

  /** Registers a named source; a second source with the same name is a wiring bug. */
  add(name: string, source: TimelineSource): void {
    if (this.sources.has(name)) throw new Error(`incident timeline source "${name}" registered twice`);
    this.sources.set(name, source);
  }

  async collect(incidentId: string): Promise<Record<string, unknown[]>> {
    const out: Record<string, unknown[]> = {};
    for (const [name, source] of this.sources) out[name] = await source(incidentId);
    return out;
  }
}
