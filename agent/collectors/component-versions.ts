// The versions of the components this node manages (`agent.tasks.packages`), as the install task
// reads them: `node_component_version{component, version}` = 1 when a version was read, 0 with an
// empty version when it could not be (the command failed; `error` says why). The upgrade engine
// waits for these samples, from this node's own agent, before it calls a node upgraded.
import type { PackageConfig } from '../tasks/upgrade-install-config.ts';
import { readVersion } from '../tasks/component-versions.ts';
import { point, type Collector, type Point } from './types.ts';

export class ComponentVersionsCollector implements Collector {
  readonly name = 'component-versions';

  constructor(
    private readonly packages: PackageConfig[],
    private readonly dataRoot: string,
  ) {}

  async collect(): Promise<Point[]> {
    const signal = new AbortController().signal;
    return Promise.all(
      this.packages.map(async (pkg) => {
        const { version, error } = await readVersion(pkg, this.dataRoot, signal);
        return version === null ? point('node_component_version', 0, { component: pkg.name, version: '', ...(error ? { error: error.slice(0, 200) } : {}) }) : point('node_component_version', 1, { component: pkg.name, version });
      }),
    );
  }
}
