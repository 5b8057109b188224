import { formatDuration, parseDuration } from '@quickdeal/core';

export type ArrivalProfile = 'constant' | 'poisson' | 'spike';

/** Everything one flash-sale run does: who arrives when, what the deal is, and how shoppers behave. */
export interface FlashSalePlan {
  scenario: string;
  shoppers: number;
  /** Mean arrivals per second; `spike` starts at twice this and falls to zero over the same span. */
  arrivalRate: number;
  arrivalProfile: ArrivalProfile;
  stock: number;
  cap: number;
  windowMs: number;
  ticketTtlMs: number;
  /** Of the shoppers admitted: the share who pay and who cancel; the rest walk away (their unit returns after the window). */
  pay: number;
  cancel: number;
  /** Of the payers: the share whose first card is declined (402); they pay with another card after a moment. */
  decline: number;
  /** How long an admitted shopper looks at the checkout before paying or cancelling (uniform in [min, max]). */
  thinkMs: [number, number];
  /** The run stops by itself after this long, finished or not. */
  maxDurationMs: number;
  /** Requests the generator keeps outstanding at most; an arrival beyond it is dropped (counted, never sent). */
  maxInFlight: number;
  /** HTTP connections the generator opens for ticket requests, and as many again for everything else. */
  connections: number;
  /** A request not answered within this long counts as a TIMEOUT error. */
  timeoutMs: number;
  seed: number;
  /** How many deals open together; the shoppers spread over them by a Zipf popularity (one hot deal, a long tail). */
  deals: number;
  /** The Zipf exponent s of the deals' popularity: deal k draws a share proportional to 1/k^s (0: all alike). */
  zipf: number;
  /**
   * 0: the deal is open from the first arrival. Otherwise the deal opens this long after the first
   * arrival, with a pre-queue taking shoppers from before it (spec.queue.prequeue), drawn at the open.
   */
  preOpenMs: number;
  /** With a pre-open time: the share of the shoppers who arrive before the open (the rest arrive from the open on, by the arrival profile and rate). */
  preOpenShare: number;
  /** The deal's proof-of-work difficulty (spec.queue.proofOfWork; 0: none): every ticket request solves a challenge. */
  proofOfWork: number;
}

const base: FlashSalePlan = {
  scenario: 'custom',
  shoppers: 2_000,
  arrivalRate: 500,
  arrivalProfile: 'constant',
  stock: 100,
  cap: 20,
  windowMs: 5_000,
  ticketTtlMs: 2 * 3_600_000,
  pay: 0.7,
  cancel: 0.1,
  decline: 0,
  thinkMs: [200, 1_500],
  maxDurationMs: 120_000,
  maxInFlight: 100_000,
  connections: 512,
  timeoutMs: 60_000,
  seed: 1,
  deals: 1,
  zipf: 1,
  preOpenMs: 0,
  preOpenShare: 0.5,
  proofOfWork: 0,
};

/** The named scenarios of `npm run loadtest -- --scenario <name>`; any option given beside it overrides the scenario's value. */
export const scenarios: Record<string, { summary: string; plan: Partial<FlashSalePlan> }> = {
  smoke: {
    summary: '2,000 shoppers at 500/s for 100 units, cap 20, 5 s window: the whole journey in about half a minute',
    plan: { shoppers: 2_000, arrivalRate: 500, stock: 100, cap: 20, windowMs: 5_000, decline: 0.05, maxDurationMs: 120_000 },
  },
  steady: {
    summary: '20,000 shoppers at a steady 1,000/s for 1,000 units, cap 200, 10 s window',
    plan: {
      shoppers: 20_000,
      arrivalRate: 1_000,
      arrivalProfile: 'poisson',
      stock: 1_000,
      cap: 200,
      windowMs: 10_000,
      maxDurationMs: 240_000,
    },
  },
  'spike-100k': {
    summary: '100,000 shoppers in 10 s, front-loaded (20,000/s at the open), for 1,000 units, cap 1,000, 10 s window',
    plan: {
      shoppers: 100_000,
      arrivalRate: 10_000,
      arrivalProfile: 'spike',
      stock: 1_000,
      cap: 1_000,
      windowMs: 10_000,
      maxDurationMs: 300_000,
      connections: 1_024,
    },
  },
  'cluster-faults': {
    summary:
      '3,000 shoppers at 10/s for 2,400 units, cap 20, on the cluster profile, while a Kafka broker, a Redis primary, one process of each service and an admission consumer fail one after another',
    plan: {
      shoppers: 3_000,
      arrivalRate: 10,
      stock: 2_400,
      cap: 20,
      windowMs: 5_000,
      thinkMs: [100, 600],
      maxDurationMs: 600_000,
      timeoutMs: 20_000,
      connections: 64,
    },
  },
  'opening-rush': {
    summary:
      '100,000 shoppers for 1,000 units, cap 1,000: 50,000 over the 10 minutes before the open into the pre-queue, drawn at the open, and 50,000 in its first 10 s (front-loaded)',
    plan: {
      shoppers: 100_000,
      preOpenMs: 600_000,
      preOpenShare: 0.5,
      arrivalRate: 5_000,
      arrivalProfile: 'spike',
      stock: 1_000,
      cap: 1_000,
      windowMs: 10_000,
      maxDurationMs: 960_000,
      connections: 1_024,
    },
  },
  'expired-tickets': {
    summary: '3,000 shoppers for 50 units with 8 s tickets and cap 5: many tickets expire in line and must be skipped, in order',
    plan: { shoppers: 3_000, arrivalRate: 1_000, stock: 50, cap: 5, windowMs: 3_000, ticketTtlMs: 8_000, maxDurationMs: 120_000 },
  },
};

export function planFor(scenario: string | undefined, overrides: Partial<FlashSalePlan> = {}): FlashSalePlan {
  if (scenario !== undefined && !scenarios[scenario]) {
    throw new PlanError(`unknown scenario "${scenario}"; the scenarios are: ${Object.keys(scenarios).join(', ')}`);
  }
  const plan: FlashSalePlan = { ...base, ...(scenario ? scenarios[scenario]?.plan : {}), ...overrides, scenario: scenario ?? 'custom' };
  validatePlan(plan);
  return plan;
}

export class PlanError extends Error {}

function validatePlan(plan: FlashSalePlan): void {
  const problems: string[] = [];
  const positiveInt = (name: string, value: number) => {
    if (!Number.isInteger(value) || value < 1) problems.push(`${name} must be a whole number ≥ 1 (got ${value})`);
  };
  positiveInt('--shoppers', plan.shoppers);
  positiveInt('--cap', plan.cap);
  positiveInt('--connections', plan.connections);
  positiveInt('--max-in-flight', plan.maxInFlight);
  positiveInt('--deals', plan.deals);
  if (plan.deals > plan.shoppers)
    problems.push(`--deals must not exceed --shoppers (got ${plan.deals} deals for ${plan.shoppers} shoppers)`);
  if (!(plan.zipf >= 0 && plan.zipf <= 10)) problems.push(`--zipf must be an exponent between 0 and 10 (got ${plan.zipf})`);
  if (!Number.isInteger(plan.stock) || plan.stock < 0) problems.push(`--stock must be a whole number ≥ 0 (got ${plan.stock})`);
  if (!(plan.arrivalRate > 0)) problems.push(`--arrival-rate must be above 0 (got ${plan.arrivalRate})`);
  for (const [name, value] of [
    ['--pay', plan.pay],
    ['--cancel', plan.cancel],
    ['--decline', plan.decline],
  ] as const) {
    if (!(value >= 0 && value <= 1)) problems.push(`${name} must be a share between 0 and 1 (got ${value})`);
  }
  if (plan.pay + plan.cancel > 1 + 1e-9) problems.push(`--pay + --cancel must not exceed 1 (got ${plan.pay + plan.cancel})`);
  if (plan.windowMs < 1_000) problems.push('--window must be at least 1s');
  if (plan.ticketTtlMs < 1_000) problems.push('--ticket-ttl must be at least 1s');
  if (plan.thinkMs[0] < 0 || plan.thinkMs[1] < plan.thinkMs[0]) problems.push('--think must be MIN-MAX with 0 ≤ MIN ≤ MAX');
  if (plan.preOpenMs !== 0 && plan.preOpenMs < 1_000) problems.push('--pre-open must be 0 or at least 1s');
  if (plan.preOpenMs > 0 && plan.deals > 1) problems.push('--pre-open runs a single deal (--deals 1)');
  if (!(plan.preOpenShare >= 0 && plan.preOpenShare <= 1))
    problems.push(`--pre-open-share must be a share between 0 and 1 (got ${plan.preOpenShare})`);
  if (!Number.isInteger(plan.proofOfWork) || plan.proofOfWork < 0 || plan.proofOfWork > 10_000_000)
    problems.push(`--proof-of-work must be a whole number of rounds from 0 to 10,000,000 (got ${plan.proofOfWork})`);
  if (problems.length > 0) throw new PlanError(problems.join('; '));
}

/** The options `npm run loadtest` takes besides --scenario, as node:util parseArgs options. */
export const planOptions = {
  shoppers: { type: 'string' },
  'arrival-rate': { type: 'string' },
  'arrival-profile': { type: 'string' },
  stock: { type: 'string' },
  cap: { type: 'string' },
  window: { type: 'string' },
  'ticket-ttl': { type: 'string' },
  pay: { type: 'string' },
  cancel: { type: 'string' },
  decline: { type: 'string' },
  think: { type: 'string' },
  'max-duration': { type: 'string' },
  'max-in-flight': { type: 'string' },
  connections: { type: 'string' },
  timeout: { type: 'string' },
  seed: { type: 'string' },
  deals: { type: 'string' },
  zipf: { type: 'string' },
  'pre-open': { type: 'string' },
  'pre-open-share': { type: 'string' },
  'proof-of-work': { type: 'string' },
} as const;

/** Turns the string values of `planOptions` into plan fields; a value that does not parse throws a PlanError naming it. */
export function planOverrides(values: Partial<Record<keyof typeof planOptions, string | undefined>>): Partial<FlashSalePlan> {
  const number = (name: string, text: string) => {
    const value = Number(text.replace(/_/g, ''));
    if (!Number.isFinite(value)) throw new PlanError(`--${name} must be a number (got "${text}")`);
    return value;
  };
  const duration = (name: string, text: string) => {
    try {
      return parseDuration(text);
    } catch {
      throw new PlanError(`--${name} must be a duration such as 20m, 10s or 1500ms (got "${text}")`);
    }
  };
  const out: Partial<FlashSalePlan> = {};
  const v = values;
  if (v.shoppers !== undefined) out.shoppers = number('shoppers', v.shoppers);
  if (v['arrival-rate'] !== undefined) out.arrivalRate = number('arrival-rate', v['arrival-rate']);
  if (v['arrival-profile'] !== undefined) {
    if (!['constant', 'poisson', 'spike'].includes(v['arrival-profile']))
      throw new PlanError('--arrival-profile must be constant, poisson or spike');
    out.arrivalProfile = v['arrival-profile'] as ArrivalProfile;
  }
  if (v.stock !== undefined) out.stock = number('stock', v.stock);
  if (v.cap !== undefined) out.cap = number('cap', v.cap);
  if (v.window !== undefined) out.windowMs = duration('window', v.window);
  if (v['ticket-ttl'] !== undefined) out.ticketTtlMs = duration('ticket-ttl', v['ticket-ttl']);
  if (v.pay !== undefined) out.pay = number('pay', v.pay);
  if (v.cancel !== undefined) out.cancel = number('cancel', v.cancel);
  if (v.decline !== undefined) out.decline = number('decline', v.decline);
  if (v.think !== undefined) {
    const [min = 0, max = min] = v.think.split('-').map((part) => duration('think', part.trim()));
    out.thinkMs = [min, max];
  }
  if (v['max-duration'] !== undefined) out.maxDurationMs = duration('max-duration', v['max-duration']);
  if (v['max-in-flight'] !== undefined) out.maxInFlight = number('max-in-flight', v['max-in-flight']);
  if (v.connections !== undefined) out.connections = number('connections', v.connections);
  if (v.timeout !== undefined) out.timeoutMs = duration('timeout', v.timeout);
  if (v.seed !== undefined) out.seed = number('seed', v.seed);
  if (v.deals !== undefined) out.deals = number('deals', v.deals);
  if (v.zipf !== undefined) out.zipf = number('zipf', v.zipf);
  if (v['pre-open'] !== undefined) out.preOpenMs = v['pre-open'] === '0' ? 0 : duration('pre-open', v['pre-open']);
  if (v['pre-open-share'] !== undefined) out.preOpenShare = number('pre-open-share', v['pre-open-share']);
  if (v['proof-of-work'] !== undefined) out.proofOfWork = number('proof-of-work', v['proof-of-work']);
  return out;
}

/** One line that says what a plan does. */
export function describePlan(plan: FlashSalePlan): string {
  const walk = Math.max(0, 1 - plan.pay - plan.cancel);
  const early = Math.round(plan.shoppers * plan.preOpenShare);
  return [
    plan.preOpenMs > 0
      ? `${plan.shoppers.toLocaleString('en-US')} shoppers: ${early.toLocaleString('en-US')} over the ${formatDuration(plan.preOpenMs)} before the open into the pre-queue, then ${(plan.shoppers - early).toLocaleString('en-US')} ${plan.arrivalProfile} at ${plan.arrivalRate.toLocaleString('en-US')}/s on average`
      : `${plan.shoppers.toLocaleString('en-US')} shoppers, ${plan.arrivalProfile} arrivals at ${plan.arrivalRate.toLocaleString('en-US')}/s on average`,
    ...(plan.proofOfWork > 0 ? [`a proof of work of ${plan.proofOfWork.toLocaleString('en-US')} SHA-256 rounds per ticket request`] : []),
    ...(plan.deals > 1 ? [`${plan.deals} deals opening together, popularity Zipf s=${plan.zipf}`] : []),
    `${plan.deals > 1 ? 'each deal: ' : ''}stock ${plan.stock.toLocaleString('en-US')}, cap ${plan.cap.toLocaleString('en-US')}, window ${formatDuration(plan.windowMs)}, ticket TTL ${formatDuration(plan.ticketTtlMs)}`,
    `admitted: pay ${share(plan.pay)}, cancel ${share(plan.cancel)}, walk away ${share(walk)}${plan.decline > 0 ? ` (${share(plan.decline)} of payers declined once)` : ''}`,
  ].join('; ');
}

const share = (value: number) => `${Math.round(value * 1000) / 10}%`;
