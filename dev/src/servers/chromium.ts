/** Chromium for the browser tests, from Debian, with CJK fonts so Korean text renders. */
import { ensureAptPackages } from '../apt.js';

const CHROMIUM = '/usr/bin/chromium';

/**
 * Installs Chromium if missing; returns the executable path. As root it needs `--no-sandbox`;
 * see PLATFORM.md for the other flags a headless run wants.
 */
export async function ensureChromium(): Promise<string> {
  await ensureAptPackages('chromium', ['chromium', 'fonts-noto-cjk']);
  return CHROMIUM;
}
