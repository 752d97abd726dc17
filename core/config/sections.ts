// Config sections owned by later parts of the pipeline (detectors, notifications, remediation,
// Kubernetes watching, etcd). Each part exports its own schema; they are gathered here so the
// top-level schema stays one strict object.
import { z } from 'zod';

export const sectionSchemas = {
  detectors: z.record(z.string(), z.unknown()).default({}),
  notifications: z.record(z.string(), z.unknown()).default({}),
  remediation: z.record(z.string(), z.unknown()).default({}),
  kube: z.record(z.string(), z.unknown()).default({}),
  etcd: z.record(z.string(), z.unknown()).default({}),
};
