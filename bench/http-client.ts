/**
 * The benches' out-of-process GraphQL client: Node's `http` with a keep-alive
 * agent. Clients share this machine's 2 cores with the service, so what a
 * call costs them is taken from it; this costs a call about a fifth of what
 * `fetch` (undici) does here.
 */
import http from 'node:http';

export function keepAliveAgent(): http.Agent {
  return new http.Agent({ keepAlive: true, maxSockets: 256 });
}

/** POSTs a GraphQL body to `${base}/graphql`; resolves with the answer's text. */
export function postGraphql(base: string, token: string, body: string, agent: http.Agent): Promise<string> {
  const url = new URL('/graphql', base);
  return new Promise((resolve, reject) => {
    const request = http.request({
      host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'content-length': Buffer.byteLength(body) },
    }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => { text += chunk; });
      response.on('end', () => resolve(text));
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end(body);
  });
}

/** A query's `data`, or an error naming the GraphQL errors. */
export async function graphqlData<T>(base: string, token: string, query: string, variables: Record<string, unknown>, agent: http.Agent): Promise<T> {
  const answer = JSON.parse(await postGraphql(base, token, JSON.stringify({ query, variables }), agent)) as { data?: T; errors?: unknown[] };
  if (answer.errors?.length || !answer.data) throw new Error(`GraphQL error: ${JSON.stringify(answer.errors)}`);
  return answer.data;
}
