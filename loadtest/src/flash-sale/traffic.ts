import { LatencyRecorder } from '../latency.js';
import { TransportError, type LoadRequest, type LoadResponse, type Transport } from '../transport.js';
import type { Endpoint, SecondCounts } from '../flash-sale.js';
import type { RunClock } from './clock.js';

export function errorCodeOf(body: unknown): string | undefined {
  const code = (body as { error?: { code?: unknown } } | undefined)?.error?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Sends the shoppers' requests and records what came back: latency from each request's intended
 * send time, answers by endpoint, counts per second, and what was in flight or abandoned at the end.
 */
export class Traffic {
  readonly latency = new LatencyRecorder();
  readonly answers: Record<string, Record<string, number>> = {};
  readonly perSecond: SecondCounts[] = [];
  inFlight = 0;
  abandoned = 0;
  ticketsServed = 0;
  /** Shoppers still asking for a ticket (the run may end early only when none is). */
  ticketsOutstanding = 0;

  constructor(
    private readonly transport: Transport,
    private readonly clock: RunClock,
    private readonly timeoutMs: number,
  ) {}

  /** The counts of the second `ms` falls in. */
  second(ms: number): SecondCounts {
    const index = Math.max(0, Math.floor(ms / 1000));
    while (this.perSecond.length <= index) this.perSecond.push({ arrivals: 0, ticketsServed: 0, turnedAway: 0, requests: 0, errors: 0 });
    return this.perSecond[index] as SecondCounts;
  }

  ticketServed(): void {
    this.second(this.clock.now()).ticketsServed++;
    this.ticketsServed++;
  }

  turnedAway(): void {
    this.second(this.clock.now()).turnedAway++;
  }

  /** Sends one request meant to go out at `intendedMs`; records its latency from then and its answer. */
  async call(endpoint: Endpoint, intendedMs: number, request: LoadRequest): Promise<LoadResponse | TransportError> {
    this.inFlight++;
    const second = this.second(this.clock.now());
    second.requests++;
    let stopped = false;
    try {
      const response = await this.transport.send(request, this.timeoutMs, this.clock.signal);
      if (this.clock.stopped) {
        // Answered after the run ended (the truth may already be being read): not recorded.
        stopped = true;
        return new TransportError('STOPPED', 'the run ended first');
      }
      const code = response.status >= 400 ? errorCodeOf(response.body) : undefined;
      this.count(endpoint, code ? `${response.status} ${code}` : String(response.status));
      if (response.status >= 400 && response.status !== 410 && response.status !== 429) second.errors++;
      return response;
    } catch (error) {
      const failure = error instanceof TransportError ? error : new TransportError('ERROR', (error as Error).message);
      stopped = failure.code === 'STOPPED';
      if (!stopped) {
        this.count(endpoint, failure.code);
        second.errors++;
      }
      return failure;
    } finally {
      // A request the end of the run abandoned has no latency to speak of; it is counted apart.
      if (stopped) this.abandoned++;
      else this.latency.record(endpoint, this.clock.now() - intendedMs);
      this.inFlight--;
    }
  }

  private count(endpoint: string, key: string): void {
    const counts = (this.answers[endpoint] ??= {});
    counts[key] = (counts[key] ?? 0) + 1;
  }
}
