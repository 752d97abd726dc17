// Subcommands of later pipeline stages (incidents, silences, etcd, approve), gathered in one list.
import type { Command } from 'commander';

export function extraCommands(): Command[] {
  return [];
}
