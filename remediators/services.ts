// What the remediation stage provides: the policy every remediator acts through, the plans awaiting
// approval, and the record of actions.
import { serviceRef } from '../core/stage.ts';
import type { Approvals } from './policy/approvals.ts';
import type { RemediationPause } from './policy/pause.ts';
import type { RemediationPolicy } from './policy/policy.ts';
import type { ActionRecorder } from './policy/recorder.ts';

export const remediationServices = {
  policy: serviceRef<RemediationPolicy>('remediation.policy'),
  approvals: serviceRef<Approvals>('remediation.approvals'),
  recorder: serviceRef<ActionRecorder>('remediation.recorder'),
  /** Which clusters have remediation paused (the console shows it). */
  pause: serviceRef<RemediationPause>('remediation.pause'),
};
