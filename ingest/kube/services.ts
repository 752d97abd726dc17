// What the Kubernetes ingestion provides to the stages after it.
import type { ClusterStateReader } from '../../core/kube.ts';
import type { KubeApi } from './api-client.ts';
import { serviceRef } from '../../core/stage.ts';

export const kubeServices = {
  /** The watched clusters' current state, read from the tables the watchers fill (detectors). */
  clusterState: serviceRef<ClusterStateReader>('kube.clusterState'),
  /** One API client per configured cluster with a kubeconfig (the proxy's, node operations'). */
  apis: serviceRef<ReadonlyMap<string, KubeApi>>('kube.apis'),
};
