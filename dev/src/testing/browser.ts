/**
 * Chromium for browser tests: Debian's build (dev/src/servers/chromium.ts installs it), driven by
 * playwright-core, headless, with the flags PLATFORM.md lists and a fresh profile each launch.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { repoRoot } from '../paths.js';

export async function launchChromium(executablePath: string): Promise<Browser> {
  return chromium.launch({
    executablePath,
    headless: true,
    args: [
      ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Where browser tests save screenshots for a person to look at (.quickdeal/ is gitignored). */
export function screenshotDir(): string {
  const dir = join(repoRoot, '.quickdeal', 'screenshots');
  mkdirSync(dir, { recursive: true });
  return dir;
}
