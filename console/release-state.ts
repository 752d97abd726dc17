// A cluster's release as the console shows it: the release it runs (recorded by the last finished
// rollout, else the configured one) and the rollout under way, if any. Read from the upgrade
// engine's services at call time, so a rollout that starts or ends shows at the next render.
import type { RolloutEngine } from '../bootstrap/upgrade/engine.ts';
import type { ReleaseCatalog } from '../bootstrap/upgrade/releases.ts';
import { ACTIVE_STATES, type RolloutState } from '../bootstrap/upgrade/rollout-store.ts';

export interface ReleaseState {
  /** The stack release the cluster runs; null when none was configured or rolled out. */
  release: string | null;
  /** The latest rollout that is not over (running, waiting for a window, paused or failed). */
  rollout: { id: string; release: string; state: RolloutState; reason: string } | null;
}

export function releaseStateOf(releases: ReleaseCatalog, rollouts: RolloutEngine): (cluster: string) => ReleaseState {
  return (cluster) => {
    const active = rollouts
      .list(cluster)
      .filter((r) => ACTIVE_STATES.includes(r.state))
      .sort((a, b) => b.updatedAt - a.updatedAt)[0];
    return {
      release: releases.clusterRelease(cluster),
      rollout: active ? { id: active.id, release: active.release, state: active.state, reason: active.reason } : null,
    };
  };
}
