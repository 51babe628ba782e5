import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalSlack } from "../../src/preview/local-slack.js";
import { postedUuids } from "../helpers/posted-uuids.js";
import { exited, freePort, type Proc, ROOT, run } from "../../support/processes.js";
import { waitFor } from "../../support/redis.js";

const memfd = readFileSync(resolve(ROOT, "examples/memfd-create.json"), "utf8");
const haveRedisServer = spawnSync("redis-server", ["--version"]).status === 0;
if (!haveRedisServer)
  console.warn("redis-cluster.test: redis-server is not on PATH, so the Redis Cluster test is skipped");

/** Three primaries on private ports, the 16384 slots split between them, formed with CLUSTER MEET. */
async function startCluster(dir: string): Promise<{ ports: number[]; servers: ChildProcess[] }> {
  const ports = [await freePort(), await freePort(), await freePort()];
  const servers = ports.map((port) =>
    spawn(
      "redis-server",
      ["--port", String(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes"].concat([
        "--cluster-config-file",
        `nodes-${port}.conf`,
        "--dir",
        dir,
        "--save",
        "",
        "--appendonly",
        "no",
      ]),
      { stdio: "ignore" },
    ),
  );
  const nodes = ports.map((port) => new Redis({ port, host: "127.0.0.1", lazyConnect: true }));
  for (const node of nodes) node.on("error", () => {}); // refused until the server listens
  try {
    for (const node of nodes)
      await waitFor(
        () =>
          node.connect().then(
            () => true,
            () => false,
          ),
        "redis-server",
      );
    const ranges = [
      [0, 5460],
      [5461, 10922],
      [10923, 16383],
    ];
    for (const [i, node] of nodes.entries())
      await node.call("CLUSTER", "ADDSLOTSRANGE", ranges[i]![0]!, ranges[i]![1]!);
    for (const port of ports.slice(1)) await nodes[0]!.call("CLUSTER", "MEET", "127.0.0.1", port);
    await waitFor(
      async () => {
        const infos = await Promise.all(nodes.map((n) => n.call("CLUSTER", "INFO") as Promise<string>));
        return infos.every(
          (info) => info.includes("cluster_state:ok") && info.includes("cluster_known_nodes:3"),
        );
      },
      "the cluster to form",
      15_000,
    );
  } finally {
    for (const node of nodes) node.disconnect();
  }
  return { ports, servers };
}

describe.skipIf(!haveRedisServer)(
  "Redis Cluster (REDIS_CLUSTER=true, a {hashtag} prefix), Procfile processes",
  () => {
    const slack = new LocalSlack({ token: "xoxb-cluster" });
    const dir = mkdtempSync(join(tmpdir(), "falco-chatops-cluster-"));
    const prefix = "{fc-cluster-test}";
    let servers: ChildProcess[] = [];
    const procs: Proc[] = [];
    let seedPort = 0;

    beforeAll(async () => {
      await slack.start();
      const cluster = await startCluster(dir);
      servers = cluster.servers;
      // Seed the app with a node that does NOT hold the prefix's slot: a plain client would get
      // MOVED for every key; the cluster client must follow it.
      const probe = new Redis({ port: cluster.ports[0]!, host: "127.0.0.1" });
      const slot = Number(await probe.call("CLUSTER", "KEYSLOT", prefix));
      probe.disconnect();
      seedPort = cluster.ports[slot <= 5460 ? 1 : 0]!;
      const env = {
        PORT: "0",
        REDIS_URL: `redis://127.0.0.1:${seedPort}`,
        REDIS_CLUSTER: "true",
        REDIS_KEY_PREFIX: prefix,
        SLACK_BOT_TOKEN: "xoxb-cluster",
        SLACK_SIGNING_SECRET: "cluster-signing-secret-123",
        SLACK_CHANNEL: "C0CLUSTER",
        SLACK_API_URL: slack.apiUrl,
        SLACK_MAX_POSTS_PER_SECOND: "100",
        GROUP_WINDOW_SECONDS: "0",
        DEDUPE_WINDOW_SECONDS: "0",
      };
      procs.push(run("main/web.js", env), run("main/worker.js", env));
      const port = await waitFor(() => procs[0]!.port(), "the web process");
      // The cluster client is ready once it has read the slot map (ingest answers 503 until then).
      await waitFor(
        () => fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.status === 200),
        "the web process to reach the cluster",
      );
    }, 30_000);

    afterAll(async () => {
      for (const p of procs) p.child.kill("SIGTERM");
      await Promise.all(procs.map((p) => exited(p.child)));
      for (const s of servers) s.kill("SIGKILL");
      await Promise.all(servers.map((s) => exited(s)));
      await slack.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it("stores, queues and posts every alert once, and answers lookups, through a node that holds none of its keys", async () => {
      const base = `http://127.0.0.1:${procs[0]!.port()}`;
      const uuids = Array.from(
        { length: 10 },
        (_, i) => `c1a5e700-0000-4000-8000-${String(i).padStart(12, "0")}`,
      );
      const answers = await Promise.all(
        uuids.map((uuid) =>
          fetch(`${base}/falco`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ ...JSON.parse(memfd), uuid }),
          }).then(async (r) => [r.status, await r.text()] as const),
        ),
      );
      expect(answers.filter(([status]) => status !== 202)).toEqual([]);
      expect((await postedUuids(slack, uuids)).sort()).toEqual([...uuids].sort());

      type Stored = { delivery: { status: string } };
      await waitFor(
        async () =>
          ((await (await fetch(`${base}/alerts/${uuids[3]}`)).json()) as Stored).delivery.status === "posted",
        "the delivery to be recorded",
      );
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toMatch(/falco_chatops_alerts_accepted_total\{source="syscall",outcome="new"\} 10/);
      expect(procs.map((p) => p.out.join("")).join("")).not.toContain("MOVED");

      // Every key the app wrote is on the node that holds the hashtag's slot, none on the seed.
      const seed = new Redis({ port: seedPort, host: "127.0.0.1" });
      expect(await seed.dbsize()).toBe(0);
      seed.disconnect();
    });
  },
);
