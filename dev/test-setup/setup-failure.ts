import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { stateDir } from '../src/paths.js';

/** dev/bootstrap.mjs reads this after vitest to print a setup failure as one line. */
export const SETUP_FAILURE_FILE = join(stateDir('test'), 'setup-failure.txt');

/** Runs a globalSetup step; a failure is recorded for `npm test` and rethrown as one line, without a stack. */
export async function recordSetupFailure(step: () => Promise<void>): Promise<void> {
  try {
    await step();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    mkdirSync(dirname(SETUP_FAILURE_FILE), { recursive: true });
    appendFileSync(SETUP_FAILURE_FILE, `${message}\n`);
    const oneLine = new Error(message);
    oneLine.stack = `Error: ${message}`;
    throw oneLine;
  }
}
