// The built-in remediators. A new one is a folder beside etcd-member-replace/ and one line here.
import type { Remediator } from './api.ts';
import addonRestart from './addon-restart/index.ts';
import cordonDrain from './cordon-drain/index.ts';
import diskCleanup from './disk-cleanup/index.ts';
import etcdMemberReplace from './etcd-member-replace/index.ts';
import rolloutRollback from './rollout-rollback/index.ts';
import serviceRestart from './service-restart/index.ts';

export const BUILTIN_REMEDIATORS: readonly Remediator[] = [etcdMemberReplace, diskCleanup, serviceRestart, addonRestart, cordonDrain, rolloutRollback] as unknown as readonly Remediator[];
