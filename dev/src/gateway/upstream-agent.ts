import { Agent, type AgentOptions, type ClientRequest } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

/**
 * Kept-alive connections to the services that the gateway closes itself once idle for
 * `idleTimeoutMs`, which stays below the services' keep-alive timeout (65 s by default): the
 * gateway then never sends a request down a socket the service is just closing. Node's Agent
 * keeps idle sockets until the other side closes them, which is exactly that race (a 502).
 * A socket in use has no idle limit: a slow payment is not cut off.
 */
export class UpstreamAgent extends Agent {
  constructor(
    readonly idleTimeoutMs: number,
    options: AgentOptions = {},
  ) {
    super({ ...options, keepAlive: true });
  }

  override keepSocketAlive(socket: Duplex): void {
    // Node's own returns whether it kept the socket (its types say void); Agent destroys a free socket that times out.
    const kept = super.keepSocketAlive(socket) as unknown as boolean;
    if (kept) (socket as Socket).setTimeout(this.idleTimeoutMs);
    return kept as unknown as void;
  }

  override reuseSocket(socket: Duplex, request: ClientRequest): void {
    (socket as Socket).setTimeout(0);
    super.reuseSocket(socket, request);
  }
}
