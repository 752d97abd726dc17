// The built-in detectors, in the order they run.
import type { Detector } from '../api.ts';
import agentSilent from './agent-silent/index.ts';
import certExpiry from './cert-expiry/index.ts';
import dnsAddonFailure from './dns-addon-failure/index.ts';
import etcdQuorum from './etcd-quorum/index.ts';
import kubeletDown from './kubelet-down/index.ts';
import lowDisk from './low-disk/index.ts';
import nodeNotReady from './node-not-ready/index.ts';
import podRestartStorm from './pod-restart-storm/index.ts';

export const BUILTIN_DETECTORS: readonly Detector[] = [
  agentSilent,
  kubeletDown,
  nodeNotReady,
  lowDisk,
  podRestartStorm,
  dnsAddonFailure,
  etcdQuorum,
  certExpiry,
] as unknown as readonly Detector[];
