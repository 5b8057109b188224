import type { ParseArgsConfig } from 'node:util';
import type { ProfileName } from '../profiles.js';

/** One `quickdeal <name>` subcommand: its own options, parsed with node:util parseArgs. */
export interface Command {
  summary: string; // one line for `quickdeal --help`
  usage: string; // e.g. 'up [-d]'
  options?: NonNullable<ParseArgsConfig['options']>;
  run(context: CommandContext): Promise<number>; // resolves to the exit code
}

export interface CommandContext {
  profile: ProfileName;
  values: Record<string, string | boolean | Array<string | boolean> | undefined>;
  positionals: string[];
}
