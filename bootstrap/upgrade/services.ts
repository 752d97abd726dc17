// What the upgrades stage provides: the release catalog, the recurring windows, the rollout engine.
import { serviceRef } from '../../core/stage.ts';
import type { RolloutEngine } from './engine.ts';
import type { ReleaseCatalog } from './releases.ts';
import type { WindowStore } from './window-store.ts';

export const upgradeServices = {
  releases: serviceRef<ReleaseCatalog>('upgrades.releases'),
  windows: serviceRef<WindowStore>('upgrades.windows'),
  rollouts: serviceRef<RolloutEngine>('upgrades.rollouts'),
};
