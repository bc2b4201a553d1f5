/**
 * The baseline of `bench/http.ts`: a bare Elysia app with one route returning the same small JSON
 * body as the stored SLP route, run in its own `bun` process. Listens on 127.0.0.1 at the port given
 * as the first argument (0: any free port) and prints `listening <port>` on stdout once it does.
 */
import { Elysia } from "elysia";

const app = new Elysia().get("/hello", () => ({ hello: "world" })).listen({ hostname: "127.0.0.1", port: Number(process.argv[2] ?? 0) });
process.stdout.write(`listening ${app.server?.port ?? 0}\n`);
process.once("SIGTERM", () => {
  void app.stop().then(() => process.exit(0));
});
