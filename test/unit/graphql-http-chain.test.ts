import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { afterEach, describe, expect, it } from 'vitest';
import { answerGraphQL, type Middleware } from '../../src/server/graphql-http';

/**
 * The plain chain `/graphql` runs in front of Apollo Server
 * (docs/architecture.md, "The request path"): what a middleware throws or
 * passes on reaches the failure handler, and a failure handler that itself
 * fails costs that request its socket, never the server.
 */
const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()));
});

async function serve(middleware: Middleware[], failed: (error: unknown, res: http.ServerResponse) => void): Promise<string> {
  const apollo = new ApolloServer({ typeDefs: 'type Query { hello: String }', resolvers: { Query: { hello: () => 'hi' } } });
  await apollo.start();
  const parse: Middleware = (req, _res, next) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => { text += chunk; });
    req.on('end', () => { req.body = JSON.parse(text); next(); });
  };
  const server = http.createServer(answerGraphQL(apollo, [...middleware, parse], () => async () => ({}), failed));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  stops.push(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await apollo.stop();
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const ask = (url: string, headers: Record<string, string> = {}) => fetch(url, {
  method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query: '{ hello }' }),
});

describe('the /graphql chain', () => {
  it('answers through Apollo once every middleware has passed', async () => {
    const url = await serve([(_req, res, next) => { res.setHeader('x-seen', 'yes'); next(); }], () => undefined);
    const res = await ask(url);
    expect(res.headers.get('x-seen')).toBe('yes');
    expect(await res.json()).toEqual({ data: { hello: 'hi' } });
  });

  it('hands what a middleware throws or passes on to the failure handler, and nothing after it runs', async () => {
    const seen: string[] = [];
    const failing: Middleware = (req, _res, next) => {
      if (req.headers['x-fail'] === 'throw') throw new Error('thrown');
      if (req.headers['x-fail'] === 'next') return next(new Error('passed on'));
      next();
    };
    const url = await serve([failing, (_req, _res, next) => { seen.push('after'); next(); }], (error, res) => {
      res.statusCode = 418;
      res.end((error as Error).message);
    });
    for (const [how, message] of [['throw', 'thrown'], ['next', 'passed on']]) {
      const res = await ask(url, { 'x-fail': how });
      expect(res.status).toBe(418);
      expect(await res.text()).toBe(message);
    }
    expect(seen).toEqual([]);
  });

  it('drops the socket of a request whose failure handler fails, and goes on serving', async () => {
    const url = await serve([(req, _res, next) => next(req.headers['x-fail'] ? new Error('first') : undefined)], () => {
      throw new Error('the handler broke too');
    });
    await expect(ask(url, { 'x-fail': '1' })).rejects.toThrow();
    expect(await (await ask(url)).json()).toEqual({ data: { hello: 'hi' } });
  });
});
