/**
 * The `quickdeal` CLI: `quickdeal <command> [--profile dev|test] [options]`.
 * Run through bin/quickdeal.mjs, which installs the npm dependencies first and loads TypeScript.
 * To add a command, write a Command in ./commands and list it in `commands` below.
 */
import { parseArgs } from 'node:util';
import type { Command } from './commands/command.js';
import { apply } from './commands/apply.js';
import { down } from './commands/down.js';
import { get } from './commands/get.js';
import { images } from './commands/images.js';
import { status } from './commands/status.js';
import { up } from './commands/up.js';
import { verifyDrawCommand } from './commands/verify-draw.js';
import { SetupError } from './errors.js';
import type { ProfileName } from './profiles.js';

const commands: Record<string, Command> = { up, down, status, apply, get, images, 'verify-draw': verifyDrawCommand };

const PROFILES: readonly ProfileName[] = ['dev', 'test', 'fault', 'cluster'];

function usage(): string {
  const width = Math.max(...Object.values(commands).map((c) => c.usage.length));
  return [
    'usage: quickdeal <command> [--profile dev|test|cluster] [options]',
    '',
    ...Object.values(commands).map((c) => `  ${c.usage.padEnd(width)}  ${c.summary}`),
    '',
    'The dev profile (default) is what `npm start` runs; the test profile is what `npm test` uses;',
    'the cluster profile runs three Kafka brokers, a six-node Redis Cluster and two processes of each service.',
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (!command) {
    console.error(`quickdeal: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        ...command.options,
        profile: { type: 'string', short: 'p', default: 'dev' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    console.error(`quickdeal ${name}: ${(error as Error).message}\nusage: quickdeal ${command.usage}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(`usage: quickdeal ${command.usage} [--profile dev|test]\n\n${command.summary}`);
    return 0;
  }
  const profile = values.profile as ProfileName;
  if (!PROFILES.includes(profile)) {
    console.error(`quickdeal: unknown profile '${String(values.profile)}' (use ${PROFILES.join(' or ')})`);
    return 2;
  }
  try {
    return await command.run({ profile, values, positionals });
  } catch (error) {
    // Setup failures already say which server and where its log is: one line, no stack.
    const message = error instanceof Error ? error.message : String(error);
    console.error(`quickdeal ${name}: ${message}`);
    if (!(error instanceof SetupError) && process.env.QUICKDEAL_DEBUG) console.error(error);
    return 1;
  }
}

process.exit(await main(process.argv.slice(2)));
