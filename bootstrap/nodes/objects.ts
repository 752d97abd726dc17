// The parts of the Kubernetes Node and Pod objects that node operations decide on. The API answers
// far more; only what is read here is typed, so a field the code starts to use is added here first.

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid: string;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  deletionTimestamp?: string;
  ownerReferences?: { kind: string; name: string; controller?: boolean }[];
}

export interface NodeObject {
  metadata: ObjectMeta;
  spec?: { unschedulable?: boolean };
  status?: { conditions?: { type: string; status: string }[] };
}

export interface PodObject {
  metadata: ObjectMeta & { namespace: string };
  spec?: { nodeName?: string };
  status?: { phase?: string };
}

export interface PodRef {
  namespace: string;
  name: string;
  uid: string;
}

export function podRef(p: PodObject): PodRef {
  return { namespace: p.metadata.namespace, name: p.metadata.name, uid: p.metadata.uid };
}

export function podKey(p: PodRef): string {
  return `${p.namespace}/${p.name}`;
}
