import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import express from 'express';
import { buildSchema, execute, parse } from 'graphql';
import { MAX_REQUEST_BYTES, answerGraphQL, plain } from '../src/server/graphql-http';
import { cors } from '../src/server/cors';
import { compressResponses } from '../src/server/http-responses';
import { graphQLSecurityHeaders, securityHeaders } from '../src/server/security-headers';
import { startClients } from './admission.bench';
import { row } from './harness';

/*
 * What each layer of the HTTP stack costs the API process per call:
 * `{ __typename }` answered by servers that add one layer at a time, with
 * the admission bench's clients in their own process (8 in flight, after a
 * warm-up). Each row is against a bare `node:http` server that parses the
 * body, executes and answers (docs/performance.md, "The HTTP stack, layer by
 * layer"); the admission bench's `{ __typename }` row is the whole service.
 */
const CALLS = Number(process.env.HTTP_LAYERS_CALLS ?? 4000);
const schema = buildSchema('type Query { hello: String }');
const document = parse('{ __typename }');

type Mount = (server: http.Server) => Promise<void> | void;

const bare: Mount = (server) => {
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => { body += chunk; });
    req.on('end', () => {
      JSON.parse(body);
      void Promise.resolve(execute({ schema, document })).then((result) => {
        const text = JSON.stringify(result);
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
      });
    });
  });
};

function withExpress(middleware: express.RequestHandler[], apollo: boolean): Mount {
  return async (server) => {
    const app = express();
    app.disable('x-powered-by');
    if (middleware.length) app.use(...middleware);
    if (apollo) {
      const graphql = new ApolloServer({ schema });
      await graphql.start();
      app.use('/graphql', express.json({ limit: MAX_REQUEST_BYTES }), expressMiddleware(graphql));
    } else {
      app.post('/graphql', express.json({ limit: MAX_REQUEST_BYTES }), (_req, res) => {
        void Promise.resolve(execute({ schema, document })).then((result) => res.json(result));
      });
    }
    server.on('request', app);
  };
}

/** The service's `/graphql` (mountGraphQL): the same middleware and Apollo Server on node:http, past Express. */
const direct: Mount = async (server) => {
  const graphql = new ApolloServer({ schema });
  await graphql.start();
  const middleware = [
    graphQLSecurityHeaders({ publicUrl: 'http://localhost:4000', corsOrigins: '*' }), plain(cors('*')), plain(compressResponses()),
    plain(express.json({ limit: MAX_REQUEST_BYTES })),
  ];
  server.on('request', answerGraphQL(graphql, middleware, () => async () => ({}), (error, res) => { res.statusCode = 500; res.end(String(error)); }));
};

export async function httpLayersBench(): Promise<void> {
  console.log(`\n== HTTP layers ({ __typename }, API-process CPU per call, 8 in flight, ${CALLS} calls after as many warm-up) ==`);
  const ours = [
    ...securityHeaders({ publicUrl: 'http://localhost:4000', corsOrigins: '*' }), cors('*'), compressResponses(),
  ];
  const variants: [string, Mount][] = [
    ['node:http, JSON body, execute', bare],
    ['+ Express and its JSON body parser', withExpress([], false)],
    ['+ our security headers, CORS, compression', withExpress(ours, false)],
    ['Express and Apollo Server (no plugins)', withExpress([], true)],
    ['Express, our middleware and Apollo Server', withExpress(ours, true)],
    ['node:http, our middleware and Apollo (the service)', direct],
  ];
  const clients = startClients();
  let baseline = 0;
  try {
    for (const [name, mount] of variants) {
      const server = http.createServer();
      await mount(server);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const plan = { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, token: 'none', query: '{ __typename }', variables: {}, concurrency: 8 };
      await clients.run({ ...plan, n: CALLS });
      const cpu = process.cpuUsage();
      await clients.run({ ...plan, n: CALLS });
      const used = process.cpuUsage(cpu);
      const ms = (used.user + used.system) / 1000 / CALLS;
      if (!baseline) baseline = ms;
      row(`  ${name}`, ms, baseline, 'ms');
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  } finally {
    clients.close();
  }
}
