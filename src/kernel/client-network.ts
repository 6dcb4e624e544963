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
  const text = address?.trim();
  if (!text) return 'unknown';
  // node:net's check first: ipaddr.js also takes legacy IPv4 forms (`3232235777`, `0xc0.168.1.1`) as addresses.
  if (isIP(text) === 0) return text.slice(0, MAX_OTHER);
  const ip = ipaddr.process(text);
  if (ip.kind() === 'ipv4') return ip.toString();
  const parts = (ip as ipaddr.IPv6).parts;
  const kept = IPV6_CLIENT_PREFIX / 16;
  const network = new ipaddr.IPv6([...parts.slice(0, kept), ...parts.slice(kept).map(() => 0)]);
  return `${network.toString()}/${IPV6_CLIENT_PREFIX}`;
}

/** The rate-limit subject of a client address (`ip:<clientNetworkOf>`), shared by every per-address limit. */
export const addressSubject = (address: string | null | undefined): string => `ip:${clientNetworkOf(address)}`;
