// Subcommands of the later pipeline stages: incidents, silences and maintenance, etcd, approvals,
// dashboards, the fleet's clusters, console operators.
import type { Command } from 'commander';
import { approveCommand } from './commands/approve.ts';
import { clustersCommand } from './commands/clusters.ts';
import { dashboardsCommand } from './commands/dashboards.ts';
import { etcdCommand } from './commands/etcd.ts';
import { incidentsCommand } from './commands/incidents.ts';
import { operatorsCommand } from './commands/operators.ts';
import { releasesCommand } from './commands/releases.ts';
import { maintenanceCommand, silencesCommand } from './commands/silences.ts';
import { upgradeCommand } from './commands/upgrade.ts';

export function extraCommands(): Command[] {
  return [incidentsCommand(), silencesCommand(), maintenanceCommand(), etcdCommand(), approveCommand(), dashboardsCommand(), releasesCommand(), upgradeCommand(), clustersCommand(), operatorsCommand()];
}
