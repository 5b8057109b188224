/** Where the load tester's commands write (loadtest/out, loadtest/RESULTS.md) and how they report progress. */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const loadtestDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A progress line with the time of day. */
export const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
