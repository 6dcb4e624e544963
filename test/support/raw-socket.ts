import WebSocket from 'ws';

/** A graphql-transport-ws socket spoken by hand, so hostile payloads go out byte for byte. */
export interface RawSocket {
  /** The server's first answer to connection_init: `connection_ack`, or `{ type: 'closed', code }`. */
  greeting: Record<string, any>;
  /** Sends a raw frame and waits for the next message (or `{ type: 'closed', code }`). */
  exchange(raw: string): Promise<Record<string, any>>;
  close(): void;
}

/** `headers` go with the upgrade request (an X-Forwarded-For behind a trusted proxy, say). */
export async function openRawSocket(url: string, token?: string | null, headers: Record<string, string> = {}): Promise<RawSocket> {
  const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws', { headers });
  const inbox: Record<string, any>[] = [];
  let wake: (() => void) | null = null;
  socket.on('message', (data) => {
    inbox.push(JSON.parse(String(data)));
    wake?.();
  });
  socket.on('close', (code) => {
    inbox.push({ type: 'closed', code });
    wake?.();
  });
  const receive = async () => {
    while (!inbox.length) await new Promise<void>((resolve) => (wake = resolve));
    return inbox.shift()!;
  };
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  socket.send(JSON.stringify({ type: 'connection_init', payload: token ? { authorization: `Bearer ${token}` } : {} }));
  const greeting = await receive();
  return {
    greeting,
    async exchange(raw) {
      if (socket.readyState === WebSocket.OPEN) socket.send(raw);
      return receive();
    },
    close: () => socket.close(),
  };
}

let messageId = 0;

/** A subscribe frame; `variablesJson` is raw JSON so it may be deeper than JSON.stringify allows. */
export function subscribeFrame(query: string, variablesJson = '{}'): string {
  messageId += 1;
  return `{"id":"${messageId}","type":"subscribe","payload":{"query":${JSON.stringify(query)},"variables":${variablesJson}}}`;
}
