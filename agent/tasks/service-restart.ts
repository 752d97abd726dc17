// `node.service-restart`: restart one of this node's configured units with its configured command,
// then wait for its probe. The plane names the unit; the command and the probe are this node's
// configuration (see service-restart-config.ts), so the plane cannot make the agent run anything else.
import type { TaskHandler } from './handler.ts';
import { runCommand, type CommandRun } from './service-restart-command.ts';
import { waitForProbe } from './service-restart-probe.ts';

function lastLines(text: string, n = 3): string {
  return text.trim().split('\n').filter(Boolean).slice(-n).join('; ');
}

function failure(run: CommandRun, timeoutMs: number): string | undefined {
  if (run.spawnError) return `could not be started (${run.spawnError})`;
  if (run.timedOut) return `timed out after ${timeoutMs} ms`;
  if (run.signal) return `was killed by ${run.signal}`;
  if (run.exitCode !== 0) return `exited with code ${run.exitCode}`;
  return undefined;
}

export const nodeServiceRestart: TaskHandler<'node.service-restart'> = async (p, env, signal) => {
  const services = env.services ?? [];
  const service = services.find((s) => s.unit === p.unit);
  if (!service) {
    const allowed = services.map((s) => s.unit).join(', ') || 'none configured';
    throw new Error(`unit "${p.unit}" may not be restarted on this node (agent.tasks.services: ${allowed})`);
  }
  const run = await runCommand(service.restart, service.timeoutMs, signal);
  const failed = failure(run, service.timeoutMs);
  if (failed) {
    const stderr = lastLines(run.stderrTail);
    throw new Error(`${p.unit}: restart command ${JSON.stringify(service.restart)} ${failed}${stderr ? `: ${stderr}` : ''}`);
  }
  const probe = service.probe ? await waitForProbe(p.unit, service.probe, signal) : undefined;
  return { unit: p.unit, exitCode: 0, stdoutTail: run.stdoutTail, stderrTail: run.stderrTail, probeOk: probe?.ok ?? null, waitedMs: probe?.waitedMs ?? 0 };
};
