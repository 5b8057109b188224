/** One line of progress per step, `name  message`, so a long first run shows what it is doing. */
export function report(name: string, message: string): void {
  if (process.env.QUICKDEAL_QUIET === '1') return;
  process.stdout.write(`${name.padEnd(11)} ${message}\n`);
}

/** Seconds with one decimal, for "ready in 2.3s" lines. */
export function secondsSince(start: number): string {
  return `${((Date.now() - start) / 1000).toFixed(1)}s`;
}
