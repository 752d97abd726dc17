// What the fleet stage provides to the stages after it (the console shows the pool and clusters).
import { serviceRef } from '../../core/stage.ts';
import type { Fleet } from './fleet.ts';

export const fleetServices = {
  /** Clusters with their nodes, the pool, attach and detach (each recorded, one per cluster at a time). */
  fleet: serviceRef<Fleet>('fleet.fleet'),
};
