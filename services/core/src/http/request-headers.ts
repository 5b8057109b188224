import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';

/** Reads one request header by name (any case); undefined when it is absent. */
export type HeaderReader = (name: string) => string | undefined;

/** A header of Node's own incoming message; repeated headers are joined as the Fetch API joins them. */
export function incomingHeaderOf(incoming: IncomingMessage, name: string): string | undefined {
  const value = incoming.headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(', ') : value;
}

/**
 * A request header. On Node it is read from the incoming message itself: asking Hono's request
 * for a header builds a WHATWG Headers object from every header first, a fifth of a poll's cost.
 */
export function headerOf(c: Context, name: string): string | undefined {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  return incoming ? incomingHeaderOf(incoming, name) : c.req.header(name);
}
