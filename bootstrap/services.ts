// What the bootstrap stage provides to the stages after it: the channel to node agents and the etcd
// engine that drives members through it.
import { serviceRef } from '../core/stage.ts';
import type { EtcdEngine } from './etcd/engine.ts';
import type { TaskQueue } from './tasks/queue.ts';

export const bootstrapServices = {
  /** Allow-listed work for node agents (long-polled), with each result awaited under a deadline. */
  taskQueue: serviceRef<TaskQueue>('bootstrap.taskQueue'),
  /** etcd init, join, info, remove, reset, snapshot, restore, each recorded before and after. */
  etcdEngine: serviceRef<EtcdEngine>('bootstrap.etcdEngine'),
};
