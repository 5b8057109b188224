import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';

/**
 * A request header. On Node it is read from the incoming message itself: asking Hono's request
 * for a header builds a WHATWG Headers object from every header first, a fifth of a poll's cost.
 */
export function headerOf(c: Context, name: string): string | undefined {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (!incoming) return c.req.header(name);
  const value = incoming.headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(', ') : value;
}
