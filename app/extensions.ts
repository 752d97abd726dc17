// The pipeline stages `whistle start` runs beyond ingest. Extensions are created in this order and
// their components start in it (downstream first: incidents before the detectors that feed them)
// and stop in reverse.
import { bootstrapExtension } from '../bootstrap/extension.ts';
import { detectorsExtension } from '../detectors/extension.ts';
import { kafkaExtension } from '../ingest/kafka/extension.ts';
import { kubeExtension } from '../ingest/kube/extension.ts';
import { incidentsExtension } from '../remediators/extension.ts';
import type { Extension } from './whistle.ts';

export function builtinExtensions(): Extension[] {
  const incidents = incidentsExtension();
  const handle = () => {
    const h = incidents.current;
    if (!h) throw new Error('incidents stage not created yet');
    return h;
  };
  return [
    // Adds nothing unless `kafka.enabled` (scale-out transport).
    kafkaExtension(),
    // Adds nothing unless a cluster has a kubeconfig.
    kubeExtension(),
    incidents,
    detectorsExtension({ sink: () => handle().manager }),
    bootstrapExtension({ incidents: () => handle().manager, tickets: () => handle().notifier }),
  ];
}
