// Lifecycle contract for every long-running part (writer, agent, detector engine, notifier, kube
// watchers). `start` returns quickly and runs long work in the background; `stop` is safe before
// `start` and when called twice, and drains what it holds. Components start downstream-first and
// stop upstream-first so each can drain into the next.
export interface Component {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}
