/**
 * vitest globalSetup of the `browser` project: the infrastructure of the `test` profile and Chromium.
 * Tests read the executable with `inject('chromiumPath')`.
 */
import type { TestProject } from 'vitest/node';
import { ensureChromium } from '../src/servers/chromium.js';
import { ensureInfra } from '../src/stack.js';
import { recordSetupFailure } from './setup-failure.js';

declare module 'vitest' {
  export interface ProvidedContext {
    chromiumPath: string;
  }
}

export default async function setup(project: TestProject): Promise<void> {
  await recordSetupFailure(async () => {
    const [chromiumPath] = await Promise.all([ensureChromium(), ensureInfra('test')]);
    project.provide('chromiumPath', chromiumPath);
  });
}
