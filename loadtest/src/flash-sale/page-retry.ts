import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from '@quickdeal/dev/paths';
import { TransportError, type LoadResponse } from '../transport.js';

/** The waiting-room page's browser module (plain JavaScript), typed here for the one function used. */
interface PageLib {
  nextDelay(outcome: { kind: 'ok' | 'error' | 'limited'; failures?: number; retryAfterMs?: number }, random?: () => number): number;
}

const pageLib = (await import(pathToFileURL(join(repoRoot, 'services', 'ticketing', 'public', 'lib.js')).href)) as PageLib;

/**
 * When a simulated shopper asks again after an answer that was not the one hoped for, by the page's
 * own rule (public/lib.js `nextDelay`): a 429, or any answer with Retry-After, never sooner than
 * Retry-After nor than the back-off for `failures` in a row (1 s doubling to 30 s, jittered);
 * anything else after the back-off alone. So the generator's crowd comes back as browsers would.
 */
export function retryDelayMs(answer: LoadResponse | TransportError, failures: number, random?: () => number): number {
  if (answer instanceof TransportError) return pageLib.nextDelay({ kind: 'error', failures }, random);
  const retryAfterMs = answer.retryAfterS === undefined ? undefined : answer.retryAfterS * 1_000;
  const limited = answer.status === 429 || retryAfterMs !== undefined;
  return pageLib.nextDelay({ kind: limited ? 'limited' : 'error', failures, retryAfterMs }, random);
}
