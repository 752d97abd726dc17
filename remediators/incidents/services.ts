// What the incidents stage provides to the stages after it.
import { serviceRef } from '../../core/stage.ts';
import type { IncidentManager } from './manager.ts';
import type { IncidentTimeline } from './timeline.ts';

export const incidentServices = {
  /** Findings in, incidents out: detectors report here; remediators and channels subscribe. */
  manager: serviceRef<IncidentManager>('incidents.manager'),
  /** Where other stages add to an incident's view (notifications, ...). */
  timeline: serviceRef<IncidentTimeline>('incidents.timeline'),
};
