/**
 * A local stand-in for the GitHub REST API: serves recorded responses
 * (status, headers, body) by method + path + query, on 127.0.0.1 with an
 * ephemeral port, and records the requests it got. Tests never touch the network.
 *
 * Recorded exchanges with the same key form a queue: each request takes the
 * next one and the last one keeps being served (so "500 then 200" is two
 * entries and "502 forever" is one). `{{base}}` in a header value or a string
 * of the body is replaced by the server's URL, for `Link` pagination headers.
 * A request nothing was recorded for gets a 501 (and is listed in `unmatched`).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';

export interface RecordedExchange {
  method: string;
  /** Path as sent on the wire (percent-encoded), without query. */
  path: string;
  /** Query parameters the request must carry, exactly; absent means none. */
  query?: Record<string, string>;
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface FixtureFile {
  description: string;
  exchanges: RecordedExchange[];
}

export interface ReceivedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingMessage['headers'];
}

export interface ReplayServer {
  readonly baseUrl: string;
  readonly requests: ReceivedRequest[];
  readonly unmatched: ReceivedRequest[];
  /** Adds exchanges (from a fixture file name under test/fixtures/github, or objects). */
  add(...exchanges: RecordedExchange[]): void;
  load(...fixtureNames: string[]): void;
  /** `METHOD /path?query` of every request received, in order. */
  requestLines(): string[];
  close(): Promise<void>;
}

export const FIXTURES = join(__dirname, '..', 'fixtures', 'github');

export function readFixture(name: string): FixtureFile {
  return JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), 'utf8')) as FixtureFile;
}

function keyOf(method: string, path: string, query: Record<string, string>): string {
  const sorted = Object.keys(query)
    .sort()
    .map((name) => `${name}=${query[name]}`)
    .join('&');
  return `${method.toUpperCase()} ${path}${sorted ? `?${sorted}` : ''}`;
}

function substitute(value: unknown, base: string): unknown {
  if (typeof value === 'string') return value.split('{{base}}').join(base);
  if (Array.isArray(value)) return value.map((item) => substitute(item, base));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([name, item]) => [name, substitute(item, base)]));
  }
  return value;
}

/** Starts a replay server loaded with the named fixture files. */
export async function startReplayServer(...fixtureNames: string[]): Promise<ReplayServer> {
  const queues = new Map<string, RecordedExchange[]>();
  const requests: ReceivedRequest[] = [];
  const unmatched: ReceivedRequest[] = [];
  let base = '';

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://replay.invalid');
    const query = Object.fromEntries(url.searchParams.entries());
    const received: ReceivedRequest = { method: req.method ?? 'GET', path: url.pathname, query, headers: req.headers };
    requests.push(received);
    const queue = queues.get(keyOf(received.method, received.path, query));
    const exchange = queue === undefined ? undefined : queue.length > 1 ? queue.shift() : queue[0];
    if (exchange === undefined) {
      unmatched.push(received);
      res.writeHead(501, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify({ message: `replay: no recorded response for ${keyOf(received.method, received.path, query)}` }));
      return;
    }
    const headers = substitute({ 'content-type': 'application/json; charset=utf-8', ...exchange.headers }, base) as Record<string, string>;
    res.writeHead(exchange.status, headers);
    const body = substitute(exchange.body, base);
    // A string body is sent as is (an HTML error page); anything else as JSON.
    res.end(body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body));
  };

  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => handle(req, res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const replay: ReplayServer = {
    baseUrl: base,
    requests,
    unmatched,
    add(...exchanges) {
      for (const exchange of exchanges) {
        const key = keyOf(exchange.method, exchange.path, exchange.query ?? {});
        const queue = queues.get(key);
        if (queue === undefined) queues.set(key, [exchange]);
        else queue.push(exchange);
      }
    },
    load(...names) {
      for (const name of names) replay.add(...readFixture(name).exchanges);
    },
    requestLines() {
      return requests.map((request) => keyOf(request.method, request.path, request.query));
    },
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
  replay.load(...fixtureNames);
  return replay;
}

/** A URL on 127.0.0.1 where nothing listens (a server was bound there, then closed). */
export async function refusedUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}
