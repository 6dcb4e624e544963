import type http from 'node:http';

/**
 * The client's address for a request Express does not see (the WebSocket
 * upgrade), by the rule Express applies with `trust proxy` set to a hop count:
 * the socket's peer, then X-Forwarded-For from right to left, trusting `hops`
 * proxies.
 */
export function clientAddressOf(req: http.IncomingMessage, hops: number): string | undefined {
  const forwarded = String(req.headers['x-forwarded-for'] ?? '').split(',').map((a) => a.trim()).filter(Boolean).reverse();
  const chain = [req.socket.remoteAddress, ...forwarded];
  return chain[Math.min(hops, chain.length - 1)];
}
