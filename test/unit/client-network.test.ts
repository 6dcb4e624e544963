import { describe, expect, it } from 'vitest';
import { addressSubjects, clientNetworkOf, clientNetworksOf } from '../../src/kernel/client-network';

// What every per-address limit counts a client by (docs/request-limits.md, "Client addresses").
describe('clientNetworkOf', () => {
  it('keys an IPv6 address by its /64, whatever form it is written in', () => {
    const forms = ['2001:db8:a:7::1', '2001:DB8:A:7:0:0:0:2', '2001:0db8:000a:0007:ffff:1:2:3', '2001:db8:a:7:1234:5678:9abc:def0', 'fe80::1%eth0'];
    expect(forms.map(clientNetworkOf)).toEqual(['2001:db8:a:7::/64', '2001:db8:a:7::/64', '2001:db8:a:7::/64', '2001:db8:a:7::/64', 'fe80::/64']);
    expect(clientNetworkOf('2001:db8:a:8::1')).toBe('2001:db8:a:8::/64');
    expect(clientNetworkOf('::1')).toBe('::/64');
  });

  it('keeps an IPv4 address whole, and an IPv4-mapped IPv6 address as the IPv4 one it carries', () => {
    expect(clientNetworkOf('203.0.113.7')).toBe('203.0.113.7');
    expect(clientNetworkOf('203.0.113.8')).toBe('203.0.113.8');
    expect(clientNetworkOf('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(clientNetworkOf('::FFFF:cb00:7107')).toBe('203.0.113.7');
  });

  it('counts what is not an address as its text, and no address as unknown', () => {
    expect(clientNetworkOf('3232235777')).toBe('3232235777'); // not read as 192.168.1.1
    expect(clientNetworkOf(' proxy-wrote-this ')).toBe('proxy-wrote-this');
    expect(clientNetworkOf('x'.repeat(500))).toHaveLength(100);
    expect([undefined, null, '', '  '].map(clientNetworkOf)).toEqual(['unknown', 'unknown', 'unknown', 'unknown']);
    expect(addressSubjects('2001:db8:a:7::9')[0]).toBe('ip:2001:db8:a:7::/64');
  });
});

describe('clientNetworksOf', () => {
  it('counts an IPv6 address in its /64, then its /56 and /48 at 4 and 16 times the allowance', () => {
    expect(clientNetworksOf('2001:db8:abcd:12ff:1:2:3:4')).toEqual([
      { network: '2001:db8:abcd:12ff::/64', times: 1 },
      { network: '2001:db8:abcd:1200::/56', times: 4 },
      { network: '2001:db8:abcd::/48', times: 16 },
    ]);
    // Two /64s of one /56 share it and its /48; a /64 of the next /56 shares only the /48.
    const [, own56, own48] = clientNetworksOf('2001:db8:abcd:1201::1');
    expect([own56.network, own48.network]).toEqual(['2001:db8:abcd:1200::/56', '2001:db8:abcd::/48']);
    expect(clientNetworksOf('2001:db8:abcd:1301::1').map((n) => n.network)).toEqual(['2001:db8:abcd:1301::/64', '2001:db8:abcd:1300::/56', '2001:db8:abcd::/48']);
    expect(clientNetworksOf('fe80::1%eth0').map((n) => n.network)).toEqual(['fe80::/64', 'fe80::/56', 'fe80::/48']);
  });

  it('counts IPv4, an IPv4-mapped address and what is not an address once', () => {
    for (const address of ['203.0.113.7', '::ffff:203.0.113.7']) expect(clientNetworksOf(address)).toEqual([{ network: '203.0.113.7', times: 1 }]);
    expect(clientNetworksOf('proxy-wrote-this')).toEqual([{ network: 'proxy-wrote-this', times: 1 }]);
    expect(clientNetworksOf(null)).toEqual([{ network: 'unknown', times: 1 }]);
  });

  it('gives the rate limiter the /64 at the limit and the wider networks at their multiples, named for the refusal', () => {
    expect(addressSubjects('2001:db8:abcd:12ff::9')).toEqual([
      'ip:2001:db8:abcd:12ff::/64',
      { subject: 'ip:2001:db8:abcd:1200::/56', times: 4, from: '2001:db8:abcd:1200::/56' },
      { subject: 'ip:2001:db8:abcd::/48', times: 16, from: '2001:db8:abcd::/48' },
    ]);
    expect(addressSubjects('198.51.100.9')).toEqual(['ip:198.51.100.9']);
  });
});
