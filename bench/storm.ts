/**
 * npm run bench:storm — alert storms against the real web and worker code, real Redis and HTTP,
 * and a fake Slack Web API that enforces Slack's one-message-per-second-per-channel limit with 429
 * and Retry-After. Prints the figures; asserts nothing.
 *
 * 1. 5,000 alerts of one rule on one host, posted as fast as ingest takes them: how many
 *    chat.postMessage for the group, and how long after the last alert the message shows 5,000.
 * 2. 60 distinct groups into one channel limited to 1 message/s: delivered, lost, 429s, duration.
 * 3. A fleet storm: one rule on 1,000 hosts into one channel limited to 1 message/s, with fleet
 *    roll-ups at their defaults: top-level messages posted, and how long after the last alert the
 *    roll-up's message shows all 1,000 hosts; once as fast as ingest takes them, once spread over
 *    10 s (the roll-up posted early, then climbing by updates).
 */
import { CHANNEL, startHarness } from "../support/harness.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function alert(i: number, host: string, rule = "Terminal shell in container") {
  const nanos = String(i % 1_000_000_000).padStart(9, "0");
  const seconds = String(Math.floor(i / 1_000_000_000)).padStart(2, "0");
  return JSON.stringify({
    rule,
    priority: "Notice",
    source: "syscall",
    hostname: host,
    time: `2025-06-01T10:00:${seconds}.${nanos}Z`,
    output: `A shell was spawned in a container with an attached terminal (n=${i})`,
    output_fields: {
      "container.id": "abcdef123456",
      "k8s.ns.name": "shop",
      "k8s.pod.name": "web-1",
      "proc.cmdline": `bash -c job-${i % 9}`,
    },
    tags: ["T1059"],
  });
}

async function storm(): Promise<void> {
  const h = await startHarness("bench-storm", {
    env: {
      SLACK_MAX_POSTS_PER_SECOND: "1",
      GROUP_WINDOW_SECONDS: "600",
      DEDUPE_WINDOW_SECONDS: "600",
      GROUP_UPDATE_SECONDS: "3",
      WORKER_CONCURRENCY: "8",
    },
  });
  h.slack!.perChannelLimit = true;
  try {
    const total = 5000;
    const started = Date.now();
    // Falco's http_output sends one alert per request; 32 in flight at a time.
    let next = 0;
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < total) {
          const i = next++;
          const res = await h.postAlerts(alert(i, "storm-host"));
          if (res.status !== 202) throw new Error(`ingest answered ${res.status}`);
        }
      }),
    );
    const lastAlertAt = Date.now();
    const shown = () =>
      [...h.slack!.callsOf("chat.postMessage"), ...h.slack!.callsOf("chat.update")].some((c) =>
        JSON.stringify(c.args.blocks).includes("5,000 occurrences"),
      );
    while (!shown() && Date.now() - lastAlertAt < 60_000) await sleep(50);
    const visibleAfter = Date.now() - lastAlertAt;
    const posts = h.slack!.callsOf("chat.postMessage").filter((c) => c.args.channel && !c.args.thread_ts);
    console.log("Storm: 5,000 alerts, one rule, one host (one alert per request, 32 concurrent)");
    console.log(
      `  ingest:                      ${total} alerts in ${lastAlertAt - started} ms (${Math.round((total * 1000) / (lastAlertAt - started))} alerts/s)`,
    );
    console.log(`  chat.postMessage calls:      ${posts.length} (goal: at most 5)`);
    console.log(`  chat.update calls:           ${h.slack!.callsOf("chat.update").length}`);
    console.log(
      `  count 5,000 visible after:   ${shown() ? `${(visibleAfter / 1000).toFixed(1)} s` : "not within 60 s"} after the last alert (goal: 10 s)`,
    );
  } finally {
    await h.stop();
  }
}

async function sixtyGroups(): Promise<void> {
  const h = await startHarness("bench-groups", {
    env: { SLACK_MAX_POSTS_PER_SECOND: "1", GROUP_WINDOW_SECONDS: "600", WORKER_CONCURRENCY: "8" },
  });
  h.slack!.perChannelLimit = true;
  try {
    const started = Date.now();
    const body = Array.from({ length: 60 }, (_, g) => alert(g, `group-host-${g}`)).join("\n");
    const res = await h.postAlerts(body, { "content-type": "application/x-ndjson" });
    const { uuids } = (await res.json()) as { uuids: string[] };
    const posted = async () => {
      let n = 0;
      for (const uuid of uuids)
        if (((await (await h.getAlert(uuid)).json()) as { slack: unknown }).slack) n++;
      return n;
    };
    let delivered = 0;
    while ((delivered = await posted()) < 60 && Date.now() - started < 180_000) await sleep(500);
    const took = (Date.now() - started) / 1000;
    const accepted = h.slack!.callsOf("chat.postMessage").length - h.slack!.rateLimited;
    console.log("Sixty groups into one channel, Slack limit 1 message/s per channel");
    console.log(`  delivered:                   ${delivered} of 60 (lost: ${60 - delivered})`);
    console.log(`  messages Slack accepted:     ${accepted}`);
    console.log(`  429 answers:                 ${h.slack!.rateLimited} (goal: no more than messages)`);
    console.log(`  finished after:              ${took.toFixed(1)} s (the limit allows about 59 s)`);
  } finally {
    await h.stop();
  }
}

/**
 * `spreadSeconds` 0: the alerts as fast as ingest takes them; otherwise spread evenly over that long,
 * as a rollout reaching host after host does, so that the roll-up's message is posted early and
 * climbs by updates.
 */
async function fleetStorm({ spreadSeconds }: { spreadSeconds: number }): Promise<void> {
  const hosts = 1000;
  const rule = "Read sensitive file untrusted";
  const h = await startHarness(`bench-fleet-${spreadSeconds}`, {
    env: {
      SLACK_MAX_POSTS_PER_SECOND: "1",
      GROUP_WINDOW_SECONDS: "600",
      DEDUPE_WINDOW_SECONDS: "600",
      GROUP_UPDATE_SECONDS: "3",
      WORKER_CONCURRENCY: "8",
      // The defaults, which the harness turns off for the other tests.
      FLEET_ROLLUP_GROUPS: "3",
      FLEET_ROLLUP_WINDOW_SECONDS: "300",
    },
  });
  h.slack!.perChannelLimit = true;
  try {
    const started = Date.now();
    // One alert per request, as Falco's http_output sends them, 32 in flight.
    let next = 0;
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < hosts) {
          const i = next++;
          if (spreadSeconds > 0) await sleep(started + (i * spreadSeconds * 1000) / hosts - Date.now());
          const res = await h.postAlerts(alert(i, `fleet-node-${String(i).padStart(4, "0")}`, rule));
          if (res.status !== 202) throw new Error(`ingest answered ${res.status}`);
        }
      }),
    );
    const lastAlertAt = Date.now();
    const target = `fired on *${hosts.toLocaleString("en-US")} hosts*`;
    const shown = () =>
      [...h.slack!.callsOf("chat.postMessage"), ...h.slack!.callsOf("chat.update")].some((c) =>
        JSON.stringify(c.args.blocks).includes(target),
      );
    while (!shown() && Date.now() - lastAlertAt < 120_000) await sleep(50);
    const visibleAfter = Date.now() - lastAlertAt;
    // Wait out any post still queued, so that the count below is final.
    await sleep(3000);
    // The messages the channel holds (a post answered 429 left none; thread replies are not among them).
    const messages = h.slack!.channels.get(CHANNEL)?.messages.length ?? 0;
    console.log(
      `Fleet storm: one rule on ${hosts.toLocaleString("en-US")} hosts into one channel at 1 message/s (one alert per request, 32 concurrent${spreadSeconds ? `, spread over ${spreadSeconds} s` : ""})`,
    );
    console.log(
      `  ingest:                      ${hosts} alerts in ${lastAlertAt - started} ms (${Math.round((hosts * 1000) / (lastAlertAt - started))} alerts/s)`,
    );
    console.log(
      `  messages posted in channel:  ${messages} (goal: at most 5; ${h.slack!.rateLimited} posts answered 429)`,
    );
    console.log(`  chat.update calls:           ${h.slack!.callsOf("chat.update").length}`);
    console.log(
      `  all ${hosts.toLocaleString("en-US")} hosts visible after:  ${shown() ? `${(visibleAfter / 1000).toFixed(1)} s` : "not within 120 s"} after the last alert (goal: 10 s)`,
    );
  } finally {
    await h.stop();
  }
}

await storm();
await sixtyGroups();
await fleetStorm({ spreadSeconds: 0 });
await fleetStorm({ spreadSeconds: 10 });
process.exit(0);
