/**
 * npm run bench — the real web and worker processes on a private Redis, side by side with a bare
 * node:http server doing one Redis write per request. Prints the figures; asserts nothing.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { resolve } from "node:path";
import autocannon from "autocannon";
import { Redis } from "ioredis";
import { LocalSlack } from "../src/preview/local-slack.js";
import { freePort, ROOT } from "../support/processes.js";
import { procfileCommand } from "../support/procfile.js";
import { StoreKeys } from "../src/store/keys.js";
import { SilenceStore } from "../src/store/silences.js";
import { parseAlertBody } from "../src/falco/body.js";
import { indexSilences, silenceFor } from "../src/silence/active.js";

const PREFIX = "bench";
/**
 * Rounds of the with/without-silences comparison: its goal (a drop of at most 10 %) is finer than
 * this machine's drift between two 5-second runs, so it takes twice the rounds of the others.
 */
const SILENCE_ROUNDS = 4;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// The web and worker processes start as the Procfile starts them, Node flags included.
const WEB = procfileCommand(ROOT, "web");
const WORKER = procfileCommand(ROOT, "worker");

function start(
  { nodeFlags, script }: { nodeFlags: string[]; script: string },
  env: Record<string, string>,
): { child: ChildProcess; port: Promise<number>; logged: (pattern: RegExp) => Promise<void> } {
  const child = spawn(process.execPath, [...nodeFlags, script], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", LOG_LEVEL: "info", LOG_FORMAT: "json", ...env },
    stdio: ["ignore", "pipe", "ignore"],
  });
  let out = "";
  const waiters: { pattern: RegExp; ok: () => void }[] = [];
  child.stdout!.on("data", (d: Buffer) => {
    out += d.toString();
    for (const w of waiters) if (w.pattern.test(out)) w.ok();
  });
  const logged = (pattern: RegExp) =>
    new Promise<void>((ok) => {
      if (pattern.test(out)) ok();
      else waiters.push({ pattern, ok });
    });
  const port = logged(/"port":\d+/).then(() => Number(/"port":(\d+)/.exec(out)![1]));
  return { child, port, logged };
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

/** CPU time a process has used, ms (its utime and stime, in Linux's clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

const sample = JSON.parse(readFileSync(resolve(ROOT, "examples/terminal-shell.json"), "utf8")) as Record<
  string,
  unknown
>;
// Each alert's text is the sample with three values filled in: a template split once, so that the
// load generator, which shares the 2 CPUs with the processes it measures, spends a microsecond per
// alert rather than the dozen a JSON.stringify of the whole alert costs.
const hole = (name: string) => `\u0001${name}\u0001`;
const template = JSON.stringify({
  ...sample,
  uuid: undefined,
  hostname: hole("hostname"),
  time: hole("time"),
  output_fields: { ...(sample.output_fields as object), "proc.cmdline": hole("cmdline") },
}).split(/\\u0001(\w+)\\u0001/); // [text, name, text, name, …, text]
let serial = 0;
function alert(channelHint = 0): string {
  const i = serial++;
  const values: Record<string, string> = {
    hostname: `bench-${channelHint}-${i % 50}`,
    time: `2025-06-01T10:${String(Math.floor(i / 60_000_000) % 60).padStart(2, "0")}:00.${String(i).padStart(9, "0")}Z`,
    cmdline: `bash -c job-${i}`,
  };
  let text = template[0]!;
  for (let k = 1; k < template.length; k += 2) text += values[template[k]!]! + template[k + 1]!;
  return text;
}

/** An alert as falcosidekick forwards it, with a random (version 4) uuid of its own, as it makes them. */
function alertWithUuid(): string {
  return `{"uuid":"${randomUUID()}",${alert().slice(1)}`;
}

/**
 * POSTs for `seconds`, `concurrency` connections at a time, each with a fresh body, using autocannon
 * (HTTP/1.1 keep-alive, no pipelining, like Falco's http_output and falcosidekick): a load generator
 * light enough not to be the bottleneck on a 2-CPU machine. A fixed duration, not a fixed count:
 * autocannon ends counted runs on a one-second tick, which would skew short runs by up to 20 %.
 */
async function load(
  url: string,
  seconds: number,
  concurrency: number,
  body: () => string,
  type = "application/json",
) {
  const started = performance.now();
  const result = await autocannon({
    url,
    method: "POST",
    connections: concurrency,
    duration: seconds,
    headers: { "content-type": type },
    requests: [{ method: "POST", setupRequest: (req) => ({ ...req, body: body() }) }],
  });
  const failed = result.non2xx + result.errors + result.timeouts;
  return {
    requests: result.requests.total,
    perSecond: result.requests.total / ((performance.now() - started) / 1000),
    p50: result.latency.p50,
    p99: result.latency.p99,
    failed,
  };
}

type LoadResult = Awaited<ReturnType<typeof load>>;

/**
 * Runs each load in turn, `rounds` times, and adds up each one's rounds: requests and rate over all
 * of its rounds, p50 their mean, p99 their worst.
 */
async function interleaved(
  loads: [() => Promise<LoadResult>, () => Promise<LoadResult>],
  rounds: number,
): Promise<[LoadResult, LoadResult]> {
  const results: [LoadResult[], LoadResult[]] = [[], []];
  for (let r = 0; r < rounds; r++) for (const [i, run] of loads.entries()) results[i]!.push(await run());
  const total = (runs: LoadResult[]): LoadResult => {
    const requests = runs.reduce((n, x) => n + x.requests, 0);
    const seconds = runs.reduce((n, x) => n + x.requests / x.perSecond, 0);
    return {
      requests,
      perSecond: requests / seconds,
      p50: runs.reduce((n, x) => n + x.p50, 0) / runs.length,
      p99: Math.max(...runs.map((x) => x.p99)),
      failed: runs.reduce((n, x) => n + x.failed, 0),
    };
  };
  return [total(results[0]), total(results[1])];
}

const redisPort = await freePort();
const redisServer = spawn("redis-server", ["--port", String(redisPort), "--save", "", "--appendonly", "no"], {
  stdio: "ignore",
});
const redisUrl = `redis://127.0.0.1:${redisPort}`;
const redis = new Redis(redisUrl);
redis.on("error", () => {});
while ((await redis.ping().catch(() => "")) !== "PONG") await sleep(100);
const slack = new LocalSlack({ token: "xoxb-bench" });
await slack.start();
const channels = ["C0BENCH1", "C0BENCH2", "C0BENCH3", "C0BENCH4", "C0BENCH5"];
const routesFile = resolve(ROOT, "dist-bench/routes.yaml");
(await import("node:fs")).writeFileSync(
  routesFile,
  `routes:\n${channels.map((c, i) => `  - when: { hostname: "bench-${i}-*" }\n    channel: ${c}`).join("\n")}\n`,
);
const children: ChildProcess[] = [];
try {
  console.log(
    `Machine: ${cpus().length} CPUs (${cpus()[0]?.model ?? "?"}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
  );
  console.log(`web started as in the Procfile: node ${[...WEB.nodeFlags, "dist/src/main/web.js"].join(" ")}`);

  // 1. Single-alert POSTs: falco-chatops web vs the bare server.
  const baseline = start(
    { nodeFlags: [], script: resolve(ROOT, "dist-bench/bench/baseline-server.js") },
    {
      REDIS_URL: redisUrl,
      PORT: "0",
    },
  );
  children.push(baseline.child);
  const env = {
    PORT: "0",
    REDIS_URL: redisUrl,
    REDIS_KEY_PREFIX: PREFIX,
    SLACK_BOT_TOKEN: "xoxb-bench",
    SLACK_SIGNING_SECRET: "bench-signing-secret",
    SLACK_CHANNEL: channels[0]!,
    SLACK_API_URL: slack.apiUrl,
    ROUTES_FILE: routesFile,
    SLACK_MAX_POSTS_PER_SECOND: "1",
    // Ingest figures at the defaults: every alert stored, grouped (50 hosts: 50 groups) and queued
    // for Slack, a post for each group's first alert and debounced updates after. No worker runs
    // during them, so the jobs wait in Redis.
  };
  const web = start(WEB, env);
  children.push(web.child);
  const [basePort, webPort] = [await baseline.port, await web.port];
  await load(`http://127.0.0.1:${webPort}/falco`, 2, 32, () => alert()); // warm-up
  await load(`http://127.0.0.1:${basePort}/`, 2, 32, () => alert());
  // Interleaved, 5 s each, twice: this machine's speed drifts from one minute to the next, and a
  // ratio of two runs taken one after the other would carry that drift.
  const [ours, bare] = await interleaved(
    [
      () => load(`http://127.0.0.1:${webPort}/falco`, 5, 64, () => alert()),
      () => load(`http://127.0.0.1:${basePort}/`, 5, 64, () => alert()),
    ],
    2,
  );
  console.log(
    `\nSingle-alert POST /falco, 64 connections, 2 × 5 s interleaved with the bare server (${ours.requests.toLocaleString("en-US")} alerts, default grouping)`,
  );
  console.log(
    `  falco-chatops web:  ${Math.round(ours.perSecond)} alerts/s, p50 ${ours.p50.toFixed(1)} ms, p99 ${ours.p99.toFixed(1)} ms, failed ${ours.failed}`,
  );
  console.log(
    `  bare node:http + 1 Redis write: ${Math.round(bare.perSecond)} req/s, p50 ${bare.p50.toFixed(1)} ms, p99 ${bare.p99.toFixed(1)} ms`,
  );
  console.log(`  ratio: ${(ours.perSecond / bare.perSecond).toFixed(2)} (goal ≥ 0.5 and ≥ 3,000 alerts/s)`);

  // 1b. The same load with 1,000 active silences, none matching the benchmark's alerts: 200 on the
  // benchmark's own rule for other hosts (the worst case for the index: same rule, other values),
  // the rest on other rules, as a team's silences spread over the rules that are noisy for them.
  const SILENCED_PREFIX = "bench-silenced";
  const silenceStore = new SilenceStore(redis, SILENCED_PREFIX);
  const endsAt = new Date(Date.now() + 86_400_000).toISOString();
  for (let i = 0; i < 1000; i++)
    await silenceStore.create({
      id: `bench-${i}`,
      rule: i < 200 ? String(sample.rule) : `Noisy rule ${i % 40}`,
      priority: "Notice",
      match:
        i < 200
          ? { hostname: `other-host-${i}`, "k8s.ns.name": "shop" }
          : { hostname: `node-${i}`, "container.image.repository": `registry.example.com/app-${i}` },
      createdBy: "bench",
      reason: "bench",
      createdAt: new Date().toISOString(),
      endsAt,
      alert: null,
      message: null,
      endedAt: null,
      endedBy: null,
    });
  const silenced = start(WEB, { ...env, REDIS_KEY_PREFIX: SILENCED_PREFIX });
  children.push(silenced.child);
  const silencedPort = await silenced.port;
  await load(`http://127.0.0.1:${silencedPort}/falco`, 2, 32, () => alert()); // warm-up
  // Each process's CPU time over its runs as well: per alert, it drifts less than the rate does.
  const cpuUsed = { without: 0, with: 0 };
  const counted = (pid: number, key: keyof typeof cpuUsed, run: () => Promise<LoadResult>) => async () => {
    const before = cpuMs(pid);
    const result = await run();
    cpuUsed[key] += cpuMs(pid) - before;
    return result;
  };
  const [without, withSilences] = await interleaved(
    [
      counted(web.child.pid!, "without", () =>
        load(`http://127.0.0.1:${webPort}/falco`, 5, 64, () => alert()),
      ),
      counted(silenced.child.pid!, "with", () =>
        load(`http://127.0.0.1:${silencedPort}/falco`, 5, 64, () => alert()),
      ),
    ],
    SILENCE_ROUNDS,
  );
  const drop = 1 - withSilences.perSecond / without.perSecond;
  console.log(
    `\nSingle-alert POST /falco with 1,000 active silences (none matching), ${SILENCE_ROUNDS} × 5 s interleaved`,
  );
  console.log(
    `  without silences: ${Math.round(without.perSecond)} alerts/s; with 1,000: ${Math.round(withSilences.perSecond)} alerts/s, p99 ${withSilences.p99.toFixed(1)} ms, failed ${withSilences.failed}; drop ${(drop * 100).toFixed(1)} % (goal ≤ 10 %)`,
  );
  const cpuPerAlert = {
    without: (cpuUsed.without * 1000) / without.requests,
    with: (cpuUsed.with * 1000) / withSilences.requests,
  };
  console.log(
    `  web CPU per alert: without ${cpuPerAlert.without.toFixed(1)} µs, with 1,000 silences ${cpuPerAlert.with.toFixed(1)} µs (${((cpuPerAlert.with / cpuPerAlert.without - 1) * 100).toFixed(1)} %)`,
  );
  // The hold check itself, timed alone on the same silences and alerts: what the silences add.
  const index = indexSilences(await silenceStore.active());
  const parsed = Array.from({ length: 2000 }, () => parseAlertBody(alert(), "json")).flatMap((r) =>
    r.ok ? r.alerts : [],
  );
  let matched = 0;
  const checkStarted = process.cpuUsage();
  for (let round = 0; round < 50; round++)
    for (const a of parsed) if (silenceFor(index, a, Date.now()) !== null) matched++;
  const checkUsed = process.cpuUsage(checkStarted);
  const checkUs = (checkUsed.user + checkUsed.system) / (50 * parsed.length);
  console.log(
    `  the silence check alone: ${checkUs.toFixed(2)} µs per alert (${matched} matched), ${((checkUs / cpuPerAlert.without) * 100).toFixed(1)} % of the web process's CPU per alert`,
  );
  const heldCount = await redis.zcard(new StoreKeys(SILENCED_PREFIX).activeSilences);
  if (heldCount !== 1000) console.log(`  (expected 1,000 active silences, found ${heldCount})`);
  silenced.child.kill("SIGTERM");

  // 2. Batches of 500 alerts as NDJSON.
  const batch = () => Array.from({ length: 500 }, () => alert()).join("\n");
  const batches = await load(`http://127.0.0.1:${webPort}/falco`, 10, 8, batch, "application/x-ndjson");
  console.log(
    `\nBatch ingest (NDJSON, 500 alerts per POST, 8 connections, 10 s: ${(batches.requests * 500).toLocaleString("en-US")} alerts)`,
  );
  console.log(
    `  ${Math.round(batches.perSecond * 500)} alerts/s, failed requests ${batches.failed} (goal ≥ 15,000 alerts/s)`,
  );

  // 2b. The same as falcosidekick's webhook sends them: a JSON array, each alert with its own uuid.
  const sidekickBatch = () => `[${Array.from({ length: 500 }, () => alertWithUuid()).join(",")}]`;
  const sidekick = await load(`http://127.0.0.1:${webPort}/falco`, 10, 8, sidekickBatch, "application/json");
  console.log(
    `\nBatch ingest with uuids (JSON array, 500 alerts per POST each with its own uuid, as falcosidekick sends; 8 connections, 10 s: ${(sidekick.requests * 500).toLocaleString("en-US")} alerts)`,
  );
  console.log(
    `  ${Math.round(sidekick.perSecond * 500)} alerts/s, failed requests ${sidekick.failed} (goal ≥ 15,000 alerts/s)`,
  );

  // 3. Memory after those alerts.
  const stored = await redis.zcard(new StoreKeys(PREFIX).byTime);
  const info = await redis.info("memory");
  const used = Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
  const baselineKeys = await redis.dbsize();
  console.log(`\nAfter ${stored.toLocaleString("en-US")} stored alerts`);
  console.log(`  web process RSS: ${rssMb(web.child.pid!).toFixed(0)} MB (goal ≤ 250 MB)`);
  console.log(
    `  Redis used_memory: ${(used / 2 ** 20).toFixed(0)} MB for ${baselineKeys} keys incl. the baseline's`,
  );
  web.child.kill("SIGTERM");

  // 3b. The worst case for ingest: grouping off, so that every alert gets its own post job.
  const ungrouped = start(WEB, { ...env, GROUP_WINDOW_SECONDS: "0" });
  children.push(ungrouped.child);
  const ungroupedPort = await ungrouped.port;
  await load(`http://127.0.0.1:${ungroupedPort}/falco`, 2, 32, () => alert()); // warm-up
  const [each, bareAgain] = await interleaved(
    [
      () => load(`http://127.0.0.1:${ungroupedPort}/falco`, 5, 64, () => alert()),
      () => load(`http://127.0.0.1:${basePort}/`, 5, 64, () => alert()),
    ],
    2,
  );
  console.log(
    "\nSingle-alert POST /falco with GROUP_WINDOW_SECONDS=0 (one post job per alert), 64 connections, 2 × 5 s interleaved",
  );
  console.log(
    `  ${Math.round(each.perSecond)} alerts/s, p50 ${each.p50.toFixed(1)} ms, p99 ${each.p99.toFixed(1)} ms, failed ${each.failed}; bare ${Math.round(bareAgain.perSecond)} req/s; ratio ${(each.perSecond / bareAgain.perSecond).toFixed(2)}`,
  );
  baseline.child.kill("SIGTERM");
  ungrouped.child.kill("SIGTERM");
  await redis.flushall();
  const before = Number(/used_memory:(\d+)/.exec(await redis.info("memory"))?.[1] ?? 0);

  // 4. Alert → Slack latency at 20 alerts/s over 5 channels (4/s each), one message per alert: grouping
  // off and pacing at 10/s per channel, so the figure is the pipeline's own latency, not Slack's limit.
  const liveEnv = {
    ...env,
    MIN_PRIORITY: "debug",
    GROUP_WINDOW_SECONDS: "0",
    SLACK_MAX_POSTS_PER_SECOND: "10",
  };
  const live = start(WEB, liveEnv);
  const worker = start(WORKER, liveEnv);
  children.push(live.child, worker.child);
  const livePort = await live.port;
  // The worker loads the knowledge base before it takes jobs: start the clock only once it does.
  await worker.logged(/worker posting to Slack/);
  await sleep(500);
  const sentAt = new Map<string, number>();
  const sentInSecond = new Map<string, number>();
  for (let s = 0; s < 15; s++) {
    const tick = performance.now();
    await Promise.all(
      Array.from({ length: 20 }, async (_, k) => {
        const body = alert(k % 5);
        const res = await fetch(`http://127.0.0.1:${livePort}/falco`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body,
        });
        const { uuids } = (await res.json()) as { uuids: string[] };
        sentAt.set(uuids[0]!, Date.now());
        sentInSecond.set(uuids[0]!, s);
      }),
    );
    await sleep(Math.max(0, 1000 - (performance.now() - tick)));
  }
  await sleep(5000);
  const firstPostAt = new Map<string, number>();
  for (const c of slack.callsOf("chat.postMessage")) {
    const uuid = /"value":"([0-9a-f-]{36})"/.exec(JSON.stringify(c.args.blocks))?.[1];
    if (uuid && !firstPostAt.has(uuid)) firstPostAt.set(uuid, c.at);
  }
  const delayed = [...firstPostAt]
    .filter(([u]) => sentAt.has(u))
    .map(([u, at]) => ({ ms: at - sentAt.get(u)!, second: sentInSecond.get(u)! }))
    .sort((a, b) => a.ms - b.ms);
  const delays = delayed.map((d) => d.ms);
  const slowest = delayed.at(-1);
  console.log("\nAlert → Slack, 20 alerts/s for 15 s over 5 channels one message per alert");
  console.log(
    `  posted ${delays.length} of ${sentAt.size}; latency p50 ${percentile(delays, 50)} ms, p99 ${percentile(delays, 99)} ms (goal p99 ≤ 500 ms)` +
      (slowest ? `; slowest ${slowest.ms} ms, sent in second ${slowest.second + 1} of 15` : ""),
  );

  // 5. Redis bytes per stored alert: 10,000 alerts into an empty Redis.
  const perAlertPort = live;
  const n = 10_000;
  const bodies = Array.from({ length: n / 500 }, () => Array.from({ length: 500 }, () => alert()).join("\n"));
  for (const b of bodies)
    await fetch(`http://127.0.0.1:${await perAlertPort.port}/falco`, {
      method: "POST",
      headers: { "content-type": "application/x-ndjson" },
      body: b,
    });
  await sleep(2000);
  const after = Number(/used_memory:(\d+)/.exec(await redis.info("memory"))?.[1] ?? 0);
  console.log(
    `\nRedis bytes per stored alert (10,000 alerts, queue jobs included): ${Math.round((after - before) / n)} (goal ≤ 4 KB)`,
  );
  console.log(
    `  web RSS ${rssMb(live.child.pid!).toFixed(0)} MB, worker RSS ${rssMb(worker.child.pid!).toFixed(0)} MB`,
  );
} finally {
  for (const c of children) c.kill("SIGTERM");
  redis.disconnect();
  redisServer.kill("SIGTERM");
  await slack.stop();
}
process.exit(0);
