import dns from 'node:dns';
import type { LookupFunction } from 'node:net';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { badInput } from '../kernel/errors';

const MAX_URL_LENGTH = 2000;

/** Who may be called: https only (production), and which non-public networks are allowed anyway. */
export interface WebhookTargetPolicy {
  requireHttps: boolean;
  /** CIDRs (ATELIER_WEBHOOK_ALLOWED_NETWORKS) reachable although not public, e.g. `127.0.0.1/32` in tests. */
  allowedNetworks: string[];
}

/** A webhook address Atelier will not call; its message says nothing about what is there. */
export class WebhookTargetRefusedError extends Error {
  readonly code = 'EWEBHOOKREFUSED';
  constructor() {
    super('Refused: webhook URLs must point at a public internet address');
    this.name = 'WebhookTargetRefusedError';
  }
}

type Resolve = (hostname: string) => Promise<dns.LookupAddress[]>;
const systemResolve: Resolve = (hostname) => dns.promises.lookup(hostname, { all: true, verbatim: true });

/**
 * Guards webhook deliveries against server-side request forgery: only
 * addresses ipaddr.js classifies as public unicast are called (no loopback,
 * private, link-local (cloud metadata), carrier-grade NAT, unique-local,
 * multicast, reserved or IPv6 transition forms of them), unless an operator
 * lists the network. The check runs when a URL is set and again as each
 * delivery connects, on the very addresses it connects to, so a name that
 * later resolves somewhere private (DNS rebinding) is refused then.
 */
export class WebhookTargets {
  private readonly allowed: [ipaddr.IPv4 | ipaddr.IPv6, number][];

  constructor(private readonly policy: WebhookTargetPolicy, private readonly resolve: Resolve = systemResolve) {
    this.allowed = policy.allowedNetworks.map((cidr) => ipaddr.parseCIDR(cidr));
  }

  /** Whether Atelier may connect to this IP address. */
  allows(address: string): boolean {
    if (!ipaddr.isValid(address)) return false;
    const ip = ipaddr.process(address); // IPv4-mapped IPv6 becomes the IPv4 it carries
    if (this.allowed.some(([net, bits]) => net.kind() === ip.kind() && ip.match(net, bits))) return true;
    return ip.range() === 'unicast';
  }

  /** Checks a URL as `setApiKeyWebhook` receives it, resolving its host; returns it normalised. */
  async parse(raw: string): Promise<string> {
    const url = this.syntax(raw);
    try {
      await this.addressesOf(url);
    } catch (error) {
      throw badInput('url', error instanceof WebhookTargetRefusedError ? error.message : `Host ${url.hostname} does not resolve`);
    }
    return url.toString();
  }

  /**
   * Checks a stored URL before a delivery (scheme, and the address when the
   * host is an IP literal, which never goes through `lookup`).
   */
  assertDeliverable(url: URL): void {
    if (this.policy.requireHttps && url.protocol !== 'https:') throw new WebhookTargetRefusedError();
    const literal = url.hostname.replace(/^\[|\]$/g, '');
    if (isIP(literal) && !this.allows(literal)) throw new WebhookTargetRefusedError();
  }

  /** A `lookup` for http(s).request that resolves and hands over only allowed addresses. */
  readonly lookup: LookupFunction = (hostname, options, callback) => {
    this.resolveAllowed(hostname).then((addresses) => {
      if (options.all) return callback(null, addresses);
      const family = options.family === 4 || options.family === 6 ? options.family : null;
      const pick = addresses.find((a) => family === null || a.family === family) ?? addresses[0];
      callback(null, pick.address, pick.family);
    }, (error: NodeJS.ErrnoException) => callback(error, '', 0));
  };

  private syntax(raw: string): URL {
    const value = raw.trim();
    if (!value) throw badInput('url', 'Enter the URL deliveries should be POSTed to');
    if (value.length > MAX_URL_LENGTH) throw badInput('url', `URL must be at most ${MAX_URL_LENGTH} characters`);
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw badInput('url', 'URL is not valid');
    }
    if (this.policy.requireHttps && url.protocol !== 'https:') throw badInput('url', 'URL must use https');
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw badInput('url', 'URL must use http or https');
    // Credentials would sit in our database and logs in plain text.
    if (url.username || url.password) throw badInput('url', 'URL must not contain a user name or password');
    return url;
  }

  private async addressesOf(url: URL): Promise<void> {
    this.assertDeliverable(url);
    const literal = url.hostname.replace(/^\[|\]$/g, '');
    if (!isIP(literal)) await this.resolveAllowed(literal);
  }

  /** Every address the name resolves to must be allowed: one private answer refuses the lot. */
  private async resolveAllowed(hostname: string): Promise<dns.LookupAddress[]> {
    const addresses = await this.resolve(hostname);
    if (addresses.length === 0 || addresses.some((a) => !this.allows(a.address))) throw new WebhookTargetRefusedError();
    return addresses;
  }
}
