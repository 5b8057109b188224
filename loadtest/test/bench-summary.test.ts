import { describe, expect, it } from 'vitest';
import { summarizeWrk } from '../src/bench/summary.js';
import type { WrkResult } from '../src/bench/wrk.js';

const options = { rounds: 3, durationSeconds: 5, threads: 2, connections: 50 };

function results(rates: Record<WrkResult['id'], number>): WrkResult[] {
  return (Object.entries(rates) as Array<[WrkResult['id'], number]>).map(([id, okPerSecond]) => ({
    id,
    name: `path ${id}`,
    runs: [okPerSecond, okPerSecond, okPerSecond],
    okPerSecond,
    cpuUs: 50,
  }));
}

/** The verdict line of the target whose name starts with `name`. */
const verdict = (terminal: string, name: string) => terminal.split('\n').find((line) => line.slice(7).startsWith(name));

describe('the wrk table', () => {
  it('judges the poll against the bare route and ticket issue against the jose sign-only route', () => {
    const { terminal, markdown } = summarizeWrk(
      results({ bare: 10_000, 'sign-jose': 4_000, sign: 5_000, issue: 2_400, poll: 8_000 }),
      options,
    );

    expect(verdict(terminal, 'status poll ≥ 0.8 × bare')).toBe('met    status poll ≥ 0.8 × bare: 0.80 ×');
    expect(verdict(terminal, 'ticket issue ≥ 0.6 × sign-only (jose)')).toBe(
      'met    ticket issue ≥ 0.6 × sign-only (jose): 0.60 × (0.48 × the node:crypto sign-only route)',
    );
    expect(markdown).toContain('- met: status poll ≥ 0.8 × bare — 0.80 ×');
  });

  it('says missed below a target, and sets ticket issue beside the peer with the sign-only routes as its ceiling', () => {
    const { terminal, markdown } = summarizeWrk(
      results({ bare: 10_000, 'sign-jose': 3_500, sign: 3_900, issue: 2_000, poll: 7_900 }),
      options,
    );

    expect(verdict(terminal, 'status poll ≥ 0.8 × bare')).toMatch(/^MISSED .*0\.79 ×$/);
    expect(verdict(terminal, 'ticket issue ≥ 0.6 × sign-only (jose)')).toMatch(/^MISSED .*0\.57 ×/);
    expect(verdict(terminal, "status poll ahead of the peer's status")).toMatch(/^met .*0\.79 × bare$/);
    expect(verdict(terminal, "ticket issue ahead of the peer's enqueue")).toBe(
      "MISSED ticket issue ahead of the peer's enqueue (0.41 × its bare route): 0.20 × bare; a route that does nothing but sign runs at 0.35 × (jose) and 0.39 × (node:crypto)",
    );
    expect(markdown).toContain("- **missed**: ticket issue ahead of the peer's enqueue");
    expect(markdown).toContain('| path issue | 2,000 | 0.20 | 0.57 | 2,000 / 2,000 / 2,000 | 50 µs | 0.41 × (its enqueue) |');
  });
});
