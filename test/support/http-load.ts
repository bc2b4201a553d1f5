/**
 * A cheap HTTP load generator for tests and benchmarks that need many requests: keep-alive
 * connections over raw TCP, each with a window of pipelined `GET`s, responses counted by status.
 * Far cheaper per request than fetch, so the client does not dominate a run on a small machine.
 * It only understands responses with a Content-Length, which is what a sup node sends.
 */

/** What a load run got back. */
export interface LoadResult {
  /** Responses by status code. */
  readonly statuses: ReadonlyMap<number, number>;
  readonly ms: number;
}

/** How to load one path. */
export interface LoadOptions {
  readonly requests: number;
  readonly connections: number;
  /** Requests in flight per connection. */
  readonly pipeline: number;
}

/**
 * Sends `requests` GETs to `baseUrl` (http://host:port) and counts the answers; `path` is the path
 * of every request, or a function giving the path of the i-th.
 */
export async function loadGet(baseUrl: string, path: string | ((i: number) => string), o: LoadOptions): Promise<LoadResult> {
  const { hostname, port } = new URL(baseUrl);
  const fixed = typeof path === "string" ? Buffer.from(`GET ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\n\r\n`, "latin1") : null;
  let sent = 0;
  const requestOf = (): Buffer => fixed ?? Buffer.from(`GET ${(path as (i: number) => string)(sent++)} HTTP/1.1\r\nHost: ${hostname}:${port}\r\n\r\n`, "latin1");
  const statuses = new Map<number, number>();
  let unsent = o.requests;
  const t0 = performance.now();
  const one = () =>
    new Promise<void>((resolve, reject) => {
      let inFlight = 0;
      let pending = Buffer.alloc(0);
      const send = (socket: Bun.Socket) => {
        const n = Math.min(o.pipeline - inFlight, unsent);
        if (n <= 0) return;
        unsent -= n;
        inFlight += n;
        socket.write(n === 1 ? requestOf() : Buffer.concat(Array.from({ length: n }, requestOf)));
      };
      void Bun.connect({
        hostname,
        port: Number(port),
        socket: {
          open: send,
          data(socket, chunk) {
            pending = pending.length === 0 ? Buffer.from(chunk) : Buffer.concat([pending, chunk]);
            for (;;) {
              const head = pending.indexOf("\r\n\r\n");
              if (head < 0) break;
              const text = pending.toString("latin1", 0, head);
              const length = Number(/\r\ncontent-length: *(\d+)/i.exec(text)?.[1] ?? NaN);
              if (!Number.isFinite(length)) return reject(new Error(`response without a content-length: ${text}`));
              if (pending.length < head + 4 + length) break;
              const status = Number(text.slice(9, 12));
              statuses.set(status, (statuses.get(status) ?? 0) + 1);
              pending = pending.subarray(head + 4 + length);
              inFlight--;
            }
            if (inFlight === 0 && unsent === 0) {
              socket.end();
              resolve();
            } else send(socket);
          },
          close: () => (inFlight > 0 ? reject(new Error(`connection closed with ${inFlight} requests unanswered`)) : resolve()),
          error: (_socket, e) => reject(e),
          connectError: (_socket, e) => reject(e),
        },
      }).catch(reject);
    });
  await Promise.all(Array.from({ length: o.connections }, one));
  return { statuses, ms: performance.now() - t0 };
}
