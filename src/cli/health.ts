/**
 * `sup health [URL | --http HOST:PORT]`: asks a node's `/_sup/health` over HTTP and exits 0 when it
 * answers 200 with status "ok", 1 otherwise. It is the container image's HEALTHCHECK, so the image
 * needs no curl; unlike `sup status` it goes through the HTTP front, as a load balancer would.
 */
import { EXIT_FAILURE, EXIT_OK, UsageError, parse } from "./args.ts";
import { errorLine, writeOut } from "./output.ts";

export const HEALTH_USAGE = "Usage: sup health [URL | --http HOST:PORT]   (default http://127.0.0.1:8080)";

/** The node's default HTTP address as seen from its own host. */
const DEFAULT_BASE_URL = "http://127.0.0.1:8080";
/** Beyond this a node is unhealthy whatever it would have said: a probe must not hang. */
const HEALTH_TIMEOUT_MS = 3_000;

/** Runs the `health` subcommand. */
export async function healthCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { http: { type: "string" } });
  if (positionals.length > 1 || (positionals.length === 1 && values.http !== undefined)) throw new UsageError(`Too many arguments\n${HEALTH_USAGE}`);
  const base = positionals[0] ?? (values.http !== undefined ? `http://${values.http}` : DEFAULT_BASE_URL);
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new UsageError(`Invalid URL "${base}"\n${HEALTH_USAGE}`);
  }
  if (url.pathname === "/" || url.pathname === "") url.pathname = "/_sup/health";
  let status: number;
  let body: string;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS) });
    status = res.status;
    body = await res.text();
  } catch (e) {
    errorLine(`error: Cannot reach "${url.href}": ${e instanceof Error ? e.message : String(e)}`);
    return EXIT_FAILURE;
  }
  writeOut(body.endsWith("\n") ? body : body + "\n");
  let reported: unknown = null;
  try {
    reported = (JSON.parse(body) as { status?: unknown }).status;
  } catch {
    // Not JSON: not a sup node's health answer, so unhealthy below.
  }
  if (status === 200 && reported === "ok") return EXIT_OK;
  errorLine(`error: Node at "${url.href}" is not healthy: HTTP ${status}, status ${JSON.stringify(reported)}`);
  return EXIT_FAILURE;
}
