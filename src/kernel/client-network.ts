import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * Leading bits of an IPv6 address that identify one client: a /64, the
 * smallest prefix a provider gives one subscriber, inside which the
 * subscriber's devices pick addresses at will (SLAAC, privacy addresses).
 */
export const IPV6_CLIENT_PREFIX = 64;

/** Longest text kept of something that is not an address. */
const MAX_OTHER = 100;

/**
 * What a per-address limit counts a client by (docs/request-limits.md, "Client
 * addresses"): an IPv4 address as it is; an IPv4-mapped IPv6 address
 * (`::ffff:203.0.113.7`, how a dual-stack server sees an IPv4 client) as the
 * IPv4 address it carries, so both forms share one count; any other IPv6
 * address as its /64 (`2001:db8:1:2::/64`, in RFC 5952's lowercase
 * compressed form, the zone dropped), since a client holding a /64 could
 * otherwise take a fresh allowance with every address in it. Text that is
 * not an address (an X-Forwarded-For entry a proxy wrote oddly) counts as
 * itself, cut to 100 characters; no address at all as `unknown`.
 */
export function clientNetworkOf(address: string | null | undefined): string {
  return clientNetworksOf(address)[0].network;
}

/**
 * Wider IPv6 networks an address is counted in besides its /64, each with a
 * larger allowance (docs/request-limits.md, "Client addresses"): a provider
 * gives a home a /56 (256 /64s) and a site a /48 (65,536), and a holder of
 * one would otherwise get a fresh allowance in each of its /64s. [prefix
 * length, times the /64's allowance].
 */
export const IPV6_WIDER_NETWORKS: readonly (readonly [prefix: number, times: number])[] = [[56, 4], [48, 16]];

/** A network a per-address limit counts a client in, and how many times the address's allowance it has. */
export interface ClientNetwork {
  network: string;
  times: number;
}

/**
 * Every network a per-address limit counts a client in: `clientNetworkOf`
 * first (times 1); an IPv6 client's /64 then also its /56 and /48
 * (IPV6_WIDER_NETWORKS). An IPv4 address, or text that is not an address,
 * is counted once.
 */
export function clientNetworksOf(address: string | null | undefined): ClientNetwork[] {
  const text = address?.trim();
  if (!text) return [{ network: 'unknown', times: 1 }];
  // node:net's check first: ipaddr.js also takes legacy IPv4 forms (`3232235777`, `0xc0.168.1.1`) as addresses.
  if (isIP(text) === 0) return [{ network: text.slice(0, MAX_OTHER), times: 1 }];
  const ip = ipaddr.process(text);
  if (ip.kind() === 'ipv4') return [{ network: ip.toString(), times: 1 }];
  const parts = (ip as ipaddr.IPv6).parts;
  return [[IPV6_CLIENT_PREFIX, 1] as const, ...IPV6_WIDER_NETWORKS].map(([prefix, times]) => ({ network: networkOf(parts, prefix), times }));
}

/** The /`prefix` network of an IPv6 address's 16-bit `parts`, as `2001:db8:1::/48` (RFC 5952's form). */
function networkOf(parts: readonly number[], prefix: number): string {
  const kept = parts.map((part, i) => {
    const bits = Math.min(16, Math.max(0, prefix - 16 * i));
    return bits === 0 ? 0 : part & (0xffff << (16 - bits)) & 0xffff;
  });
  return `${new ipaddr.IPv6(kept).toString()}/${prefix}`;
}

/**
 * The rate-limit subjects of a client address, one per network it is counted
 * in (`clientNetworksOf`): `ip:<clientNetworkOf>` at the limit itself, then
 * an IPv6 client's wider networks at their multiples of it, each naming
 * itself for the refusal's message. Every per-address limit counts by these.
 */
export function addressSubjects(address: string | null | undefined): (string | { subject: string; times: number; from: string })[] {
  const [own, ...wider] = clientNetworksOf(address);
  return [`ip:${own.network}`, ...wider.map(({ network, times }) => ({ subject: `ip:${network}`, times, from: network }))];
}
