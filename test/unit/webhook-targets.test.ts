import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendWebhook } from '../../src/services/webhook-delivery';
import { WebhookTargets } from '../../src/services/webhook-targets';

const payload = { id: 'd1', type: 'ping', createdAt: new Date(0).toISOString(), data: {} };
const REFUSED = 'Refused: webhook URLs must point at a public internet address';

describe('webhook targets (SSRF guard)', () => {
  const guard = new WebhookTargets({ requireHttps: false, allowedNetworks: [] });

  it.each([
    ['8.8.8.8', true], ['2001:4860:4860::8888', true], ['93.184.216.34', true],
    ['127.0.0.1', false], ['10.0.0.1', false], ['172.16.5.4', false], ['192.168.1.1', false], ['169.254.169.254', false],
    ['100.100.100.200', false], ['0.0.0.0', false], ['224.0.0.1', false], ['255.255.255.255', false], ['::1', false], ['::', false],
    ['fe80::1', false], ['fd00:ec2::254', false], ['::ffff:127.0.0.1', false], ['::ffff:169.254.169.254', false],
    ['64:ff9b::a9fe:a9fe', false], ['2002:7f00:1::', false], ['not an address', false],
  ])('%s is public: %s', (address, allowed) => {
    expect(guard.allows(address)).toBe(allowed);
  });

  it('lets an operator allow listed networks, and nothing next to them', () => {
    const dev = new WebhookTargets({ requireHttps: false, allowedNetworks: ['127.0.0.1/32', 'fd12::/16'] });
    expect([dev.allows('127.0.0.1'), dev.allows('::ffff:127.0.0.1'), dev.allows('fd12::5'), dev.allows('127.0.0.2'), dev.allows('10.0.0.1')])
      .toEqual([true, true, true, false, false]);
  });

  it('requires https in production and refuses names that resolve inside', async () => {
    const resolve = async (host: string) => [{ address: host === 'inside.example' ? '10.0.0.7' : '93.184.216.34', family: 4 }];
    const production = new WebhookTargets({ requireHttps: true, allowedNetworks: [] }, resolve);
    await expect(production.parse('http://hooks.example/x')).rejects.toMatchObject({ code: 'BAD_USER_INPUT', extensions: { field: 'url' } });
    await expect(production.parse('https://hooks.example/x')).resolves.toBe('https://hooks.example/x');
    await expect(production.parse('https://inside.example/x')).rejects.toMatchObject({ message: REFUSED, extensions: { field: 'url' } });
  });
});

describe('delivery through the guard', () => {
  let server: http.Server;
  let port: number;
  const hits: string[] = [];
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      hits.push(req.url ?? '');
      res.writeHead(200).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('checks the addresses it connects to: a name rebound to a private address after it was set is refused', async () => {
    let answer = '93.184.216.34';
    const targets = new WebhookTargets({ requireHttps: false, allowedNetworks: [] }, async () => [{ address: answer, family: 4 }]);
    await expect(targets.parse(`http://rebind.example:${port}/hook`)).resolves.toBeTruthy();
    answer = '127.0.0.1'; // the attacker's DNS now points at this machine
    const attempt = await sendWebhook(`http://rebind.example:${port}/hook`, 'whsec_x', payload, new Date(), targets);
    expect(attempt).toMatchObject({ delivered: false, statusCode: null, error: REFUSED });
    expect(hits).toEqual([]);
  });

  it('connects to the address the guard resolved (allowed here), by name and by literal', async () => {
    const targets = new WebhookTargets({ requireHttps: false, allowedNetworks: ['127.0.0.1/32'] }, async () => [{ address: '127.0.0.1', family: 4 }]);
    const byName = await sendWebhook(`http://receiver.example:${port}/named`, 'whsec_x', payload, new Date(), targets);
    const byLiteral = await sendWebhook(`http://127.0.0.1:${port}/literal`, 'whsec_x', payload, new Date(), targets);
    expect([byName.statusCode, byLiteral.statusCode]).toEqual([200, 200]);
    expect(hits).toEqual(['/named', '/literal']);
  });
});
