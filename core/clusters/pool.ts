// The node pool's reserved name, in a file of its own so the agent can import it without the catalog.
/** Agents that register with the fleet join token use it as their cluster; no cluster may take it. */
export const POOL = 'pool';
