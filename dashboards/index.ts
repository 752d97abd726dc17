// Every Whistle dashboard, with the tables it reads (a dashboard is only listed when all of its
// tables exist in store/migrations; the test checks that).
import { DATASOURCE_TYPE, DEFAULT_DATASOURCE_UID, type Dashboard, type DataSourceRef } from './builder.ts';
import { consoleLinks } from './console-links.ts';
import { ETCD_TABLES, etcdDashboard } from './etcd.ts';
import { FLEET_TABLES, fleetDashboard } from './fleet.ts';
import { INCIDENT_TABLES, incidentsDashboard } from './incidents.ts';
import { KUBE_TABLES, kubernetesDashboard } from './kubernetes.ts';
import { NODE_TABLES, nodeDashboard } from './node.ts';
import { REMEDIATION_TABLES, remediationDashboard } from './remediation.ts';

export interface DashboardDef {
  /** File name stem and Grafana uid. */
  uid: string;
  tables: string[];
  build: (ds: DataSourceRef) => Dashboard;
}

export const DASHBOARDS: readonly DashboardDef[] = [
  { uid: 'whistle-fleet', tables: FLEET_TABLES, build: fleetDashboard },
  { uid: 'whistle-node', tables: NODE_TABLES, build: nodeDashboard },
  { uid: 'whistle-incidents', tables: INCIDENT_TABLES, build: incidentsDashboard },
  { uid: 'whistle-remediation', tables: REMEDIATION_TABLES, build: remediationDashboard },
  { uid: 'whistle-etcd', tables: ETCD_TABLES, build: etcdDashboard },
  { uid: 'whistle-kubernetes', tables: KUBE_TABLES, build: kubernetesDashboard },
];

export function datasourceRef(uid = DEFAULT_DATASOURCE_UID): DataSourceRef {
  return { type: DATASOURCE_TYPE, uid };
}

/** Every dashboard; with `publicUrl` (server.publicUrl), table cells link to the console's pages. */
export function buildAll(datasourceUid = DEFAULT_DATASOURCE_UID, publicUrl?: string): Dashboard[] {
  const ds = datasourceRef(datasourceUid);
  return DASHBOARDS.map((d) => consoleLinks(d.build(ds), publicUrl));
}
