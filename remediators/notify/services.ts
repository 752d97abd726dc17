// What the notifications stage provides: the notifier, which also opens tickets for remediators.
import { serviceRef } from '../../core/stage.ts';
import type { Notifier } from './notifier.ts';

export const notifyServices = {
  notifier: serviceRef<Notifier>('notify.notifier'),
};
