/** Reads instant vectors over Prometheus's HTTP API (GET /api/v1/query). */
export class PrometheusError extends Error {
  override name = 'PrometheusError';
}

export interface Sample {
  labels: Record<string, string>;
  value: number;
}

interface QueryResponse {
  status: 'success' | 'error';
  error?: string;
  data?: { resultType: string; result: Array<{ metric: Record<string, string>; value: [number, string] }> };
}

export class PrometheusClient {
  constructor(
    readonly url: string,
    private readonly timeoutMs = 5_000,
  ) {}

  async query(promql: string): Promise<Sample[]> {
    const target = new URL('api/v1/query', this.url.endsWith('/') ? this.url : `${this.url}/`);
    target.searchParams.set('query', promql);
    let response: Response;
    try {
      response = await fetch(target, { signal: AbortSignal.timeout(this.timeoutMs), headers: { accept: 'application/json' } });
    } catch (error) {
      const cause = error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error);
      throw new PrometheusError(`Prometheus at ${this.url} cannot be reached (${cause})`, { cause: error });
    }
    const text = await response.text();
    let body: QueryResponse | undefined;
    try {
      body = JSON.parse(text) as QueryResponse;
    } catch {
      body = undefined;
    }
    if (!response.ok || body?.status !== 'success') {
      throw new PrometheusError(`Prometheus at ${this.url} answered ${response.status}: ${body?.error ?? text.slice(0, 200)}`);
    }
    if (body.data?.resultType !== 'vector')
      throw new PrometheusError(`Prometheus answered a ${body.data?.resultType ?? 'missing'} result, not a vector`);
    return body.data.result.map(({ metric, value }) => ({ labels: metric, value: Number(value[1]) }));
  }
}
