/** wrk, the HTTP benchmarking tool, from Debian's package: only its binary (the bench's wrk rounds run it). */
import { ensureAptPackages } from '../apt.js';

const WRK = '/usr/bin/wrk';

/** Installs wrk if missing; returns the executable. */
export async function installWrk(): Promise<string> {
  await ensureAptPackages('wrk', ['wrk']);
  return WRK;
}
