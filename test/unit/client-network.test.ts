import { describe, expect, it } from 'vitest';
import { addressSubject, clientNetworkOf } from '../../src/kernel/client-network';

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
    expect(addressSubject('2001:db8:a:7::9')).toBe('ip:2001:db8:a:7::/64');
  });
});
