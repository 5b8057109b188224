import { stopAll } from '../stack.js';
import type { Command } from './command.js';

export const down: Command = {
  summary: "stop everything the profile's pid files name (services and servers)",
  usage: 'down',
  async run({ profile }) {
    const stopped = await stopAll(profile);
    if (stopped.length === 0) console.log(`profile ${profile}: nothing was running`);
    for (const server of stopped) console.log(`stopped ${server.name} (pid ${server.pid})`);
    return 0;
  },
};
