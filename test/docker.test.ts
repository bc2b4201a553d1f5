/**
 * The container image (issue 5). No Docker engine may exist where tests run, so the Dockerfile is
 * parsed and its final stage checked: base, user, volume, ports, health check, entrypoint; the
 * commands it declares are run with the compiled binary in test/binary.test.ts ("as the image runs
 * it"). Where an engine answers (and SUP_TEST_DOCKER is not 0) the image is also built and run until
 * Docker reports it healthy.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DOCKERFILE, envOf, execForm, FINAL_STAGE, healthcheckCommand, only } from "./support/dockerfile.ts";

const ROOT = join(import.meta.dir, "..");
const build = DOCKERFILE[0]!;
const final = FINAL_STAGE;

describe("Dockerfile", () => {
  test("is a multi-stage build whose first stage runs `bun run build`'s script", () => {
    expect(DOCKERFILE.length).toBeGreaterThanOrEqual(2);
    expect(build[0]!.args).toMatch(/ AS build$/);
    expect(build.some((i) => i.op === "RUN" && i.args.includes("scripts/build"))).toBe(true);
  });

  test("the final stage is the binary alone on a slim glibc base", () => {
    expect(final[0]!.args).toMatch(/^debian:[a-z]+-slim$/);
    const copies = final.filter((i) => i.op === "COPY");
    expect(copies.map((c) => c.args)).toEqual(["--from=build /out/sup /usr/local/bin/sup"]);
    // Nothing installed besides the binary: no Bun, no Node, no compiler.
    for (const run of final.filter((i) => i.op === "RUN")) expect(run.args).not.toMatch(/apt-get|apk|npm|bun|gcc/);
  });

  test("runs as a non-root user with its data in the /data volume", () => {
    const user = only(final, "USER");
    expect(user.split(":")[0]).not.toMatch(/^(root|0)$/);
    const useradd = final.find((i) => i.op === "RUN" && i.args.includes("useradd"))!.args;
    expect(Number(/--uid (\d+)/.exec(useradd)?.[1])).toBeGreaterThan(0);
    expect(useradd).toContain(` ${user.split(":")[0]}`);
    expect(execForm(only(final, "VOLUME"))).toEqual(["/data"]);
    const env = envOf(final);
    expect(env.SUP_DATA).toBe("/data");
    expect(env.SUP_HOME!.startsWith("/data/")).toBe(true);
    expect(only(final, "WORKDIR")).toBe("/data");
  });

  test("exposes the HTTP and backchannel ports and starts `sup start` on the HTTP one", () => {
    expect(only(final, "EXPOSE").split(/\s+/)).toEqual(["8080", "7000"]);
    expect(execForm(only(final, "ENTRYPOINT"))).toEqual(["sup"]);
    expect(execForm(only(final, "CMD"))).toEqual(["start", "--http", "0.0.0.0:8080"]);
    expect(only(final, "STOPSIGNAL")).toBe("SIGTERM");
  });

  test("checks its health through /_sup/health on the HTTP port", () => {
    const hc = only(final, "HEALTHCHECK");
    expect(healthcheckCommand(hc)).toEqual(["sup", "health", "http://127.0.0.1:8080/_sup/health"]);
    expect(hc).toMatch(/--interval=\d+s/);
    expect(hc).toMatch(/--timeout=\d+s/);
  });

  test(".dockerignore keeps the host's build products and dependencies out of the context", () => {
    const ignored = readFileSync(join(ROOT, ".dockerignore"), "utf8").split("\n").map((l) => l.trim());
    for (const p of [".git", "node_modules", ".tools", "dist", "sup-data", "/cluster", "*.key"]) expect(ignored).toContain(p);
  });
});

describe("docker-compose.yml", () => {
  test("runs one node from this Dockerfile with its data in a named volume", () => {
    const compose = Bun.YAML.parse(readFileSync(join(ROOT, "docker-compose.yml"), "utf8")) as {
      services: Record<string, { build: { context: string }; ports: string[]; volumes: string[]; stop_grace_period: string }>;
      volumes: Record<string, unknown>;
    };
    const services = Object.values(compose.services);
    expect(services.length).toBe(1);
    const s = services[0]!;
    expect(s.build.context).toBe(".");
    expect(s.ports).toContain("8080:8080");
    const [volume, target] = s.volumes[0]!.split(":");
    expect(target).toBe("/data");
    expect(Object.keys(compose.volumes)).toContain(volume);
    // sup drains for up to 10 s after SIGTERM; compose must wait at least that long.
    expect(Number(/^(\d+)s$/.exec(s.stop_grace_period)?.[1])).toBeGreaterThanOrEqual(10);
  });
});

interface ComposeService {
  build?: { context: string };
  image: string;
  command: string[];
  ports: string[];
  volumes: string[];
  depends_on?: string[];
  stop_grace_period: string;
}

describe("docker-compose.cluster.yml", () => {
  const compose = Bun.YAML.parse(readFileSync(join(ROOT, "docker-compose.cluster.yml"), "utf8")) as { services: Record<string, ComposeService>; volumes: Record<string, unknown> };

  test("a root node with its identity and a second node that joins it on the backchannel port", () => {
    const [rootName, webName] = Object.keys(compose.services);
    const root = compose.services[rootName!]!;
    const web = compose.services[webName!]!;
    expect(root.build?.context).toBe(".");
    expect(web.image).toBe(root.image);
    expect(root.command.slice(0, 1)).toEqual(["start"]);
    expect(root.command).toContain("--identity");
    // The line users type: options and no subcommand.
    expect(web.command.slice(0, 4)).toEqual(["--identity", "/identity/node.key", "--join", `${rootName}:7000`]);
    expect(web.depends_on).toContain(rootName);
  });

  test("identities are mounted read-only, data lives in one named volume per node", () => {
    for (const s of Object.values(compose.services)) {
      const id = s.volumes.find((v) => v.includes("/identity/"))!;
      expect(id).toMatch(/^\.\/cluster\/[\w-]+\.key:\/identity\/node\.key:ro$/);
      const [volume, target] = s.volumes.find((v) => v.endsWith(":/data"))!.split(":");
      expect(target).toBe("/data");
      expect(Object.keys(compose.volumes)).toContain(volume);
      expect(Number(/^(\d+)s$/.exec(s.stop_grace_period)?.[1])).toBeGreaterThanOrEqual(10);
    }
  });
});

const dockerCommand = Bun.which("docker");
const DOCKER =
  process.env.SUP_TEST_DOCKER !== "0" && dockerCommand !== null && Bun.spawnSync([dockerCommand, "info"], { stdout: "ignore", stderr: "ignore", timeout: 10_000 }).exitCode === 0;
/** Building the image downloads base images and the pinned Bun: minutes on a cold machine. */
const DOCKER_TIMEOUT_MS = 15 * 60_000;

describe.skipIf(!DOCKER)("with a Docker engine", () => {
  const tag = `sup-test:${process.pid}`;
  const name = `sup-test-${process.pid}`;
  const docker = (args: string[]) => {
    const r = Bun.spawnSync([dockerCommand!, ...args], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
    return { code: r.exitCode, out: r.stdout.toString().trim(), err: r.stderr.toString() };
  };

  test(
    "docker build, docker run and the health check",
    async () => {
      try {
        await buildRunAndCheck();
      } finally {
        docker(["rm", "-f", name]);
        docker(["rmi", "-f", tag]);
      }
    },
    DOCKER_TIMEOUT_MS,
  );

  async function buildRunAndCheck(): Promise<void> {
    const built = docker(["build", "-t", tag, "."]);
    if (built.code !== 0) console.error(built.err);
    expect(built.code).toBe(0);
    expect(docker(["run", "--rm", tag, "version"]).out).toMatch(/^sup \d+\.\d+\.\d+\n/);
    expect(docker(["run", "-d", "--name", name, "-p", "127.0.0.1::8080", tag]).code).toBe(0);
    const port = /:(\d+)$/.exec(docker(["port", name, "8080/tcp"]).out.split("\n")[0]!)![1];
    const deadline = Date.now() + 120_000;
    let health = "";
    while (Date.now() < deadline && health !== "healthy") {
      health = docker(["inspect", "-f", "{{.State.Health.Status}}", name]).out;
      if (health !== "healthy") await Bun.sleep(500);
    }
    expect(health).toBe("healthy");
    expect(docker(["exec", name, "id", "-u"]).out).not.toBe("0");
    const res = await fetch(`http://127.0.0.1:${port}/`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("Welcome to sup");
  }
});

/**
 * The two-node compose cluster for real: opt-in (SUP_TEST_DOCKER_CLUSTER=1), since building the
 * image takes minutes. Runs docker-compose.cluster.yml from a temporary folder (build context: this
 * checkout; identities made with bin/sup, owned by the image's uid, mounted read-only) and waits
 * until each node lists the other alive.
 */
const composeCommand: string[] | null = (() => {
  if (dockerCommand !== null && Bun.spawnSync([dockerCommand, "compose", "version"], { stdout: "ignore", stderr: "ignore" }).exitCode === 0) return [dockerCommand, "compose"];
  const v1 = Bun.which("docker-compose");
  return v1 === null ? null : [v1];
})();
const CLUSTER = DOCKER && composeCommand !== null && process.env.SUP_TEST_DOCKER_CLUSTER === "1";

describe.skipIf(!CLUSTER)("with a Docker engine: the compose cluster", () => {
  test(
    "root-1 and web-1 start from docker-compose.cluster.yml and list each other alive",
    async () => {
      const { mkdtempSync, rmSync, writeFileSync, chownSync } = await import("node:fs");
      const { tmpdir } = await import("node:os");
      const dir = mkdtempSync(join(tmpdir(), "sup-compose-cluster-"));
      const project = `supcluster${process.pid}`;
      const compose = (args: string[]) => {
        const r = Bun.spawnSync([...composeCommand!, "-p", project, "-f", join(dir, "compose.yml"), ...args], { cwd: dir, stdout: "pipe", stderr: "pipe" });
        return { code: r.exitCode, out: r.stdout.toString(), err: r.stderr.toString() };
      };
      try {
        const sup = (args: string[]) => Bun.spawnSync([join(ROOT, "bin", "sup"), "identity", ...args], { cwd: dir, stdout: "pipe", stderr: "pipe" }).exitCode;
        expect(sup(["root", "--out", "root.key"])).toBe(0);
        Bun.spawnSync(["mkdir", "-p", join(dir, "cluster")]);
        expect(sup(["issue", "root-1", "--root", "root.key", "--can", "admin,code", "--out", "cluster/root-1.key"])).toBe(0);
        expect(sup(["issue", "web-1", "--root", "root.key", "--role", "web", "--out", "cluster/web-1.key"])).toBe(0);
        for (const k of ["root-1", "web-1"]) chownSync(join(dir, "cluster", `${k}.key`), 10001, 10001);
        // The example as shipped, with the build context pointed back at this checkout, an image
        // tag of its own and no fixed host ports (they may be taken).
        const text = readFileSync(join(ROOT, "docker-compose.cluster.yml"), "utf8")
          .replace("context: .", `context: ${ROOT}`)
          .replaceAll("image: sup:latest", `image: sup-cluster-test:${process.pid}`)
          .replace(/ports:\n(\s+- "\d+:8080"\n)/g, "ports:\n      - \"8080\"\n");
        writeFileSync(join(dir, "compose.yml"), text);
        const up = compose(["up", "-d", "--build"]);
        if (up.code !== 0) console.error(up.err);
        expect(up.code).toBe(0);
        const deadline = Date.now() + 180_000;
        const alive = (svc: string, other: string) => {
          const r = compose(["exec", "-T", svc, "sup", "nodes", "--json"]);
          if (r.code !== 0) return false;
          const members = JSON.parse(r.out) as { name: string; state: string }[];
          return members.some((m) => m.name === other && m.state === "alive");
        };
        while (Date.now() < deadline && !(alive("root-1", "web-1") && alive("web-1", "root-1"))) await Bun.sleep(1000);
        expect(alive("root-1", "web-1")).toBe(true);
        expect(alive("web-1", "root-1")).toBe(true);
        // web-1 is restarted with no flags but its command: it rejoins from its store.
        expect(compose(["restart", "web-1"]).code).toBe(0);
        const again = Date.now() + 60_000;
        while (Date.now() < again && !alive("root-1", "web-1")) await Bun.sleep(1000);
        expect(alive("root-1", "web-1")).toBe(true);
      } finally {
        compose(["down", "-v", "--rmi", "local"]);
        Bun.spawnSync([dockerCommand!, "rmi", "-f", `sup-cluster-test:${process.pid}`], { stdout: "ignore", stderr: "ignore" });
        rmSync(dir, { recursive: true, force: true });
      }
    },
    DOCKER_TIMEOUT_MS,
  );
});
