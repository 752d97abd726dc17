// Every stage `whistle start` runs. Order here does not matter: the composition root orders them
// from what each declares it needs. A new stage is one line here and one folder of its own.
import { fleetStage } from '../bootstrap/fleet/stage.ts';
import { bootstrapStage } from '../bootstrap/stage.ts';
import { upgradesStage } from '../bootstrap/upgrade/stage.ts';
import { consoleStage } from '../console/stage.ts';
import { detectorsStage } from '../detectors/stage.ts';
import { kafkaStage } from '../ingest/kafka/stage.ts';
import { kubeStage } from '../ingest/kube/stage.ts';
import { ingestStage } from '../ingest/stage.ts';
import { writerStage } from '../ingest/writer-stage.ts';
import { incidentsStage } from '../remediators/incidents/stage.ts';
import { notifyStage } from '../remediators/notify/stage.ts';
import { slackActionsStage } from '../remediators/slack-actions/stage.ts';
import { remediationStage } from '../remediators/stage.ts';

export const builtinStages = [
  writerStage,
  kafkaStage,
  ingestStage,
  kubeStage,
  incidentsStage,
  notifyStage,
  detectorsStage,
  bootstrapStage,
  fleetStage,
  remediationStage,
  slackActionsStage,
  upgradesStage,
  consoleStage,
] as const;
