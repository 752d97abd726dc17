// Config sections owned by later parts of the pipeline (detectors, notifications, remediation,
// Kubernetes watching, etcd). Each part exports its own schema; they are gathered here so the
// top-level schema stays one strict object.
import { z } from 'zod';
import { detectorsSchema } from '../../detectors/config.ts';
import { etcdSchema } from '../../bootstrap/etcd/config.ts';
import { remediationSchema } from '../../remediators/policy/config.ts';
import { incidentsSchema } from '../../remediators/incidents/config.ts';
import { notificationsSchema } from '../../remediators/notify/config.ts';

export const sectionSchemas = {
  detectors: detectorsSchema,
  notifications: notificationsSchema.prefault({}),
  incidents: incidentsSchema.prefault({}),
  remediation: remediationSchema,
  kube: z.record(z.string(), z.unknown()).default({}),
  etcd: etcdSchema,
};
