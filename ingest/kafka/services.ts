// What the transport stage provides beyond the telemetry sink: this worker's consumer, when
// scaled out (null embedded), which knows the clusters of the partitions it holds.
import { serviceRef } from '../../core/stage.ts';
import type { TelemetryConsumer } from './consumer.ts';

export const kafkaServices = {
  consumer: serviceRef<TelemetryConsumer | null>('kafka.consumer'),
};
