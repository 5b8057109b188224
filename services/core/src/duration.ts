const units: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const durationPattern = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;
const compoundPattern = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/;

/** Parses a Kubernetes-style duration such as `20m`, `5s`, `1h30m` or `1500ms` into milliseconds. */
export function parseDuration(text: string): number {
  const value = text.trim();
  if (!compoundPattern.test(value)) {
    throw new RangeError(`"${text}" is not a duration: use a number with ms, s, m, h or d, such as 20m or 1h30m`);
  }
  let total = 0;
  for (const part of value.match(/\d+(?:\.\d+)?(?:ms|s|m|h|d)/g) ?? []) {
    const [, amount, unit] = durationPattern.exec(part) ?? [];
    total += Number(amount) * (units[unit ?? ''] ?? 0);
  }
  return Math.round(total);
}

export function isDuration(text: string): boolean {
  return compoundPattern.test(text.trim());
}

/** The shortest exact spelling of a duration: 1200000 → `20m`, 90000 → `1m30s`. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  let rest = ms;
  let text = '';
  for (const [unit, size] of [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1_000],
    ['ms', 1],
  ] as const) {
    const count = Math.floor(rest / size);
    if (count > 0) {
      text += `${count}${unit}`;
      rest -= count * size;
    }
  }
  return text;
}
