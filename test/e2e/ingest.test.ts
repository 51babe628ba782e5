import { readFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { createServer } from "node:net";
import { deflateSync, gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness } from "../../support/harness.js";
import { Redis } from "ioredis";
import { StoreKeys } from "../../src/store/keys.js";
import { TEST_REDIS_URL, waitFor } from "../../support/redis.js";

const memfd = readFileSync(new URL("../../examples/memfd-create.json", import.meta.url), "utf8");
const shell = readFileSync(new URL("../../examples/terminal-shell.json", import.meta.url), "utf8");
const alertWith = (extra: Record<string, unknown>) => JSON.stringify({ ...JSON.parse(shell), ...extra });
const TOKEN = "ingest-token-0123456789abcdef";

describe("POST /falco and GET /alerts", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness("ingest", { env: { INGEST_TOKEN: TOKEN, MAX_BODY_BYTES: "65536" } });
  });
  afterAll(async () => {
    await h.stop();
  });
  const auth = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };

  it("requires the ingest token, by header or by ?token= for Falco's http_output", async () => {
    const none = await h.postAlerts(memfd);
    expect(none.status).toBe(401);
    expect(((await none.json()) as { error: string }).error).toMatch(/missing token/);
    const wrong = await h.postAlerts(memfd, {
      authorization: "Bearer nope",
      "content-type": "application/json",
    });
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as { error: string }).error).toMatch(/wrong token/);
    expect(
      (await h.postAlerts(memfd, { "content-type": "application/json" }, `?token=${TOKEN}`)).status,
    ).toBe(202);
    expect((await h.getAlert("x")).status).toBe(401);
  });

  it("accepts arrays and NDJSON, every alert stored and posted once", async () => {
    const a = alertWith({ uuid: "0000aaaa-0000-4000-8000-000000000001" });
    const b = alertWith({ uuid: "0000aaaa-0000-4000-8000-000000000002" });
    const c = alertWith({ uuid: "0000aaaa-0000-4000-8000-000000000003" });
    const arr = await h.postAlerts(`[${a},${b}]`, auth);
    expect(arr.status).toBe(202);
    expect(await arr.json()).toEqual({
      accepted: 2,
      uuids: ["0000aaaa-0000-4000-8000-000000000001", "0000aaaa-0000-4000-8000-000000000002"],
      duplicates: [],
      health: [],
    });
    const nd = await h.postAlerts(`${c}\n`, { ...auth, "content-type": "application/x-ndjson" });
    expect(nd.status).toBe(202);
    for (const uuid of [
      "0000aaaa-0000-4000-8000-000000000001",
      "0000aaaa-0000-4000-8000-000000000002",
      "0000aaaa-0000-4000-8000-000000000003",
    ]) {
      await waitFor(
        async () => ((await (await h.getAlert(uuid, auth)).json()) as { slack: unknown }).slack,
        `${uuid} posted`,
      );
      expect(
        h
          .slack!.callsOf("chat.postMessage")
          .filter((call) => JSON.stringify(call.args.blocks).includes(uuid)),
      ).toHaveLength(1);
    }
  });

  it("does not enqueue or post a repeated uuid twice", async () => {
    const body = alertWith({ uuid: "0000bbbb-0000-4000-8000-000000000001" });
    const first = await h.postAlerts(body, auth);
    expect(((await first.json()) as { duplicates: string[] }).duplicates).toEqual([]);
    await waitFor(
      async () =>
        (
          (await (await h.getAlert("0000bbbb-0000-4000-8000-000000000001", auth)).json()) as {
            slack: unknown;
          }
        ).slack,
      "posted",
    );
    const again = await h.postAlerts(body, auth);
    expect(again.status).toBe(202);
    expect(((await again.json()) as { duplicates: string[] }).duplicates).toEqual([
      "0000bbbb-0000-4000-8000-000000000001",
    ]);
    await new Promise((r) => setTimeout(r, 300));
    expect(
      h
        .slack!.callsOf("chat.postMessage")
        .filter((c) => JSON.stringify(c.args.blocks).includes("0000bbbb-0000-4000-8000-000000000001")),
    ).toHaveLength(1);
  });

  it("answers 400 naming the field and the alert's index, and stores nothing of a bad batch", async () => {
    const good = alertWith({ uuid: "0000cccc-0000-4000-8000-000000000001" });
    const res = await h.postAlerts(`[${good},${alertWith({ priority: "Severe" })}]`, auth);
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: string; issues: { index: number; field: string }[] };
    expect(body.error).toMatch(/^alert\[1\]\.priority: must be one of Emergency/);
    expect(body.issues).toEqual([expect.objectContaining({ index: 1, field: "priority" })]);
    expect((await h.getAlert("0000cccc-0000-4000-8000-000000000001", auth)).status).toBe(404);

    const notJson = await h.postAlerts("{this is not json", auth);
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { error: string }).error).toMatch(/body is not valid JSON/);
  });

  it("answers 413 over the body limit and 415 for other content types", async () => {
    const big = JSON.stringify({ ...JSON.parse(shell), output: "x".repeat(70_000) });
    const tooBig = await h.postAlerts(big, auth);
    expect(tooBig.status).toBe(413);
    expect(((await tooBig.json()) as { error: string }).error).toMatch(/MAX_BODY_BYTES \(65536 bytes\)/);
    const form = await h.postAlerts(memfd, { ...auth, "content-type": "application/x-www-form-urlencoded" });
    expect(form.status).toBe(415);
    expect(((await form.json()) as { error: string }).error).toMatch(
      /Content-Type 'application\/json'|-H 'Content-Type: application\/json'/,
    );
  });

  it("reads gzip and deflate bodies, and refuses an encoding it cannot decode with 415", async () => {
    const gz = await fetch(`${h.base}/falco`, {
      method: "POST",
      headers: { ...auth, "content-encoding": "gzip" },
      body: gzipSync(alertWith({ uuid: "0000dede-0000-4000-8000-000000000001" })),
    });
    expect(gz.status).toBe(202);
    const deflated = await fetch(`${h.base}/falco`, {
      method: "POST",
      headers: { ...auth, "content-encoding": "deflate" },
      body: deflateSync(alertWith({ uuid: "0000dede-0000-4000-8000-000000000002" })),
    });
    expect(deflated.status).toBe(202);
    for (const uuid of ["0000dede-0000-4000-8000-000000000001", "0000dede-0000-4000-8000-000000000002"])
      expect((await h.getAlert(uuid, auth)).status).toBe(200);

    const zstd = await fetch(`${h.base}/falco`, {
      method: "POST",
      headers: { ...auth, "content-encoding": "zstd" },
      body: memfd,
    });
    expect(zstd.status).toBe(415);
    expect(((await zstd.json()) as { error: string }).error).toMatch(/Content-Encoding "zstd"/);
    const corrupt = await fetch(`${h.base}/falco`, {
      method: "POST",
      headers: { ...auth, "content-encoding": "gzip" },
      body: "not gzip at all",
    });
    expect(corrupt.status).toBe(415);
    // A bomb: a small gzip body that inflates past MAX_BODY_BYTES is refused, not inflated in full.
    const bomb = await fetch(`${h.base}/falco`, {
      method: "POST",
      headers: { ...auth, "content-encoding": "gzip" },
      body: gzipSync(Buffer.alloc(10 * 1024 * 1024, 32)),
    });
    expect(bomb.status).toBe(413);
  });

  it("answers 413 for a streamed body without Content-Length once it passes the limit", async () => {
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(
        `${h.base}/falco`,
        { method: "POST", headers: { ...auth, "transfer-encoding": "chunked" } },
        (res) => {
          let body = "";
          res.on("data", (d: Buffer) => (body += d.toString()));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on("error", reject);
      // 80 KiB in 8 KiB chunks, past the 64 KiB limit; the server may close before the last ones.
      const chunk = "x".repeat(8192);
      for (let i = 0; i < 10; i++) req.write(chunk);
      req.end();
    });
    expect(answer.status).toBe(413);
    expect(answer.body).toMatch(/MAX_BODY_BYTES/);
  });

  it("answers each of many simultaneous requests for its own alerts, committed together", async () => {
    const uuids = Array.from(
      { length: 40 },
      (_, i) => `0000eeee-0000-4000-8000-${String(i).padStart(12, "0")}`,
    );
    // Every uuid sent twice at once: exactly one of the two requests stores it.
    const answers = await Promise.all(
      [...uuids, ...uuids].map(async (uuid) => {
        const res = await h.postAlerts(alertWith({ uuid, hostname: `host-${uuid.slice(-2)}` }), auth);
        return {
          uuid,
          status: res.status,
          body: (await res.json()) as { uuids: string[]; duplicates: string[] },
        };
      }),
    );
    expect(answers.every((a) => a.status === 202)).toBe(true);
    for (const uuid of uuids) {
      const mine = answers.filter((a) => a.uuid === uuid);
      expect(mine.map((a) => a.body.uuids)).toEqual([[uuid], [uuid]]);
      expect(mine.map((a) => a.body.duplicates.length).sort()).toEqual([0, 1]);
    }
    for (const uuid of uuids)
      await waitFor(
        async () => ((await (await h.getAlert(uuid, auth)).json()) as { slack: unknown }).slack,
        `${uuid} posted`,
      );
    const posts = h
      .slack!.callsOf("chat.postMessage")
      .filter((c) => JSON.stringify(c.args).includes("0000eeee"));
    expect(posts).toHaveLength(uuids.length);
  });

  it("answers 404 for unknown alerts and routes", async () => {
    const res = await h.getAlert("ffffffff-ffff-4fff-8fff-ffffffffffff", auth);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: string }).error).toContain("no alert with uuid");
    expect((await fetch(`${h.base}/nope`)).status).toBe(404);
  });

  it("accepts the two alerts Falco emitted as invalid JSON, saying what was repaired", async () => {
    const x2 =
      '{"output":": Notice Unexpected setuid call by non-sudo, non-root program (user=<NA> user_loginuid=-1 cur_uid= parent=<NA> command=<NA> uid=<NA> container_id=host image=<NA>)","priority":"Notice","rule":"Non sudo setuid","source":"syscall","tags":["mitre_privilege_escalation","users"],"time":"", "output_fields": {"container.id":"host","evt.time":,"user.uid":}}';
    const res = await h.postAlerts(x2, auth);
    expect(res.status).toBe(202);
    const { uuids } = (await res.json()) as { uuids: string[] };
    const alert = (await (await h.getAlert(uuids[0]!, auth)).json()) as Record<string, unknown>;
    expect(alert.repairs).toHaveLength(1);
    expect(alert.timeDerivedFrom).toBe("received");
    expect(alert.outputFields).toMatchObject({ "evt.time": null, "user.uid": null });
    expect(alert.enrichment).toMatchObject({ match: "rule", knowledgeId: "non-sudo-setuid" });
  });

  it("serves the incident report as Markdown by default and as HTML on request, behind the same token", async () => {
    const uuid = "0000cccc-0000-4000-8000-000000000001";
    expect((await h.postAlerts(JSON.stringify({ ...JSON.parse(memfd), uuid }), auth)).status).toBe(202);
    const url = `${h.base}/alerts/${uuid}/report`;
    expect((await fetch(url)).status).toBe(401);

    const markdown = await fetch(url, { headers: { authorization: auth.authorization } });
    expect(markdown.status).toBe(200);
    expect(markdown.headers.get("content-type")).toBe("text/markdown; charset=utf-8");
    const text = await markdown.text();
    expect(text).toMatch(/^# Critical: Fileless execution via memfd\\_create$/m);
    expect(text).toContain("## Event breakdown");
    expect(text).toContain(uuid);

    const html = await fetch(`${url}?token=${TOKEN}`, { headers: { accept: "text/html,*/*;q=0.8" } });
    expect(html.status).toBe(200);
    expect(html.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(html.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(await html.text()).toContain("<h2>Observations</h2>");

    const json = await fetch(url, {
      headers: { authorization: auth.authorization, accept: "application/json" },
    });
    expect(json.status).toBe(406);
    expect(((await json.json()) as { error: string }).error).toMatch(/text\/markdown/);
    const missing = await fetch(`${h.base}/alerts/0000cccc-0000-4000-8000-00000000dead/report`, {
      headers: { authorization: auth.authorization },
    });
    expect(missing.status).toBe(404);
  });

  it("serves Prometheus metrics behind the same token", async () => {
    const metric = async (line: RegExp) => {
      const text = await (
        await fetch(`${h.base}/metrics`, { headers: { authorization: auth.authorization } })
      ).text();
      const m = line.exec(text);
      return m ? Number(m[1]) : 0;
    };
    const accepted = /^falco_chatops_alerts_accepted_total\{source="syscall",outcome="new"\} (\d+)$/m;
    const rejected = /^falco_chatops_alerts_rejected_total\{reason="bad_request"\} (\d+)$/m;
    const [acceptedBefore, rejectedBefore] = [await metric(accepted), await metric(rejected)];
    expect(
      (await h.postAlerts(alertWith({ uuid: "0000dddd-0000-4000-8000-000000000001" }), auth)).status,
    ).toBe(202);
    expect((await h.postAlerts("{", auth)).status).toBe(400);
    expect(await metric(accepted)).toBe(acceptedBefore + 1);
    expect(await metric(rejected)).toBe(rejectedBefore + 1);

    const res = await fetch(`${h.base}/metrics`, { headers: { authorization: auth.authorization } });
    expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toMatch(/^falco_chatops_queue_jobs\{queue="deliveries-C0ALERTS",state="waiting"\} \d+$/m);
    expect(text).toMatch(/^falco_chatops_groups_open \d+$/m);
    expect(text).toMatch(/^falco_chatops_process_resident_memory_bytes \d+/m);
    expect((await fetch(`${h.base}/metrics`)).status).toBe(401);
  });

  it("reports healthz and readyz", async () => {
    expect(await (await fetch(`${h.base}/healthz`)).json()).toEqual({ status: "ok" });
    expect((await fetch(`${h.base}/readyz`)).status).toBe(200);
  });
});

describe("Slack failures", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness("slackfail");
  });
  afterAll(async () => {
    await h.stop();
  });

  it("waits out a 429 with Retry-After through BullMQ, then posts once", async () => {
    h.slack!.script("chat.postMessage", { status: 429, retryAfter: 1 });
    const started = Date.now();
    const res = await h.postAlerts(alertWith({ uuid: "0000dddd-0000-4000-8000-000000000001" }));
    expect(res.status).toBe(202);
    const alert = await waitFor(async () => {
      const a = (await (await h.getAlert("0000dddd-0000-4000-8000-000000000001")).json()) as {
        slack: unknown;
        delivery: { status: string };
      };
      return a.slack ? a : null;
    }, "the post after the rate limit");
    expect(alert.delivery.status).toBe("posted");
    const posts = h.slack!.callsOf("chat.postMessage");
    expect(posts).toHaveLength(2);
    expect(posts[1]!.at - posts[0]!.at).toBeGreaterThanOrEqual(900);
    expect(Date.now() - started).toBeLessThan(8000);
  });

  it("retries Slack 5xx answers with backoff and posts once they pass", async () => {
    // Three 500s: the client's two quick retries are used up, then BullMQ's backoff retries the job.
    h.slack!.script("chat.postMessage", { status: 500 }, { status: 500 }, { status: 500 });
    const uuid = "0000dddd-0000-4000-8000-0000000005e5";
    expect((await h.postAlerts(alertWith({ uuid }))).status).toBe(202);
    const alert = await waitFor(
      async () => {
        const a = (await (await h.getAlert(uuid)).json()) as { slack: unknown; delivery: { status: string } };
        return a.slack ? a : null;
      },
      "the post after the 5xx answers",
      15_000,
    );
    expect(alert.delivery.status).toBe("posted");
    const calls = h
      .slack!.callsOf("chat.postMessage")
      .filter((c) => JSON.stringify(c.args.blocks).includes(uuid));
    expect(calls).toHaveLength(4);
    expect(calls[3]!.at - calls[2]!.at).toBeGreaterThanOrEqual(1500); // BullMQ's backoff, not the client's
  });

  it("falls back to a reduced message when Slack answers invalid_blocks", async () => {
    h.slack!.script("chat.postMessage", { error: "invalid_blocks" });
    await h.postAlerts(alertWith({ uuid: "0000dddd-0000-4000-8000-000000000002" }));
    const alert = await waitFor(async () => {
      const a = (await (await h.getAlert("0000dddd-0000-4000-8000-000000000002")).json()) as {
        slack: unknown;
      };
      return a.slack ? a : null;
    }, "the reduced post");
    expect(alert.slack).toBeTruthy();
    const last = h.slack!.callsOf("chat.postMessage").at(-1)!;
    expect((last.args.blocks as { type: string }[]).map((b) => b.type)).toEqual(["header", "actions"]);
  });

  it("records a permanent error without retrying", async () => {
    h.slack!.script("chat.postMessage", { error: "not_in_channel" });
    const before = h.slack!.callsOf("chat.postMessage").length;
    await h.postAlerts(alertWith({ uuid: "0000dddd-0000-4000-8000-000000000003" }));
    const alert = await waitFor(async () => {
      const a = (await (await h.getAlert("0000dddd-0000-4000-8000-000000000003")).json()) as {
        delivery: { status: string; error: string };
      };
      return a.delivery.status === "failed" ? a : null;
    }, "the failure recorded");
    expect(alert.delivery.error).toBe("not_in_channel");
    await new Promise((r) => setTimeout(r, 500));
    expect(h.slack!.callsOf("chat.postMessage").length - before).toBe(1);
  });

  it("never lets hostile alert text reach Slack as markup", async () => {
    await h.postAlerts(
      alertWith({
        uuid: "0000dddd-0000-4000-8000-000000000004",
        hostname: "<!channel>",
        output_fields: {
          ...JSON.parse(shell).output_fields,
          "proc.cmdline": "sh -c '<!here> <@U024BE7LH> <https://evil.example|login>'",
          "proc.name": "@everyone",
        },
      }),
    );
    await waitFor(
      async () =>
        ((await (await h.getAlert("0000dddd-0000-4000-8000-000000000004")).json()) as { slack: unknown })
          .slack,
      "posted",
    );
    const post = h
      .slack!.callsOf("chat.postMessage")
      .find((c) => JSON.stringify(c.args.blocks).includes("0000dddd-0000-4000-8000-000000000004"))!;
    const sent = JSON.stringify(post.args);
    expect(sent).not.toContain("<!channel>");
    expect(sent).not.toContain("<!here>");
    expect(sent).not.toContain("<@U024BE7LH>");
    expect(sent).not.toContain("<https://evil.example");
    expect(sent).not.toMatch(/@everyone/);
    expect(sent).toContain("&lt;!channel&gt;");
  });
});

describe("without Redis", () => {
  it("answers 503 within 2 s and readyz 503", async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, "127.0.0.1", () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const h = await startHarness("noredis", {
      slack: false,
      worker: false,
      redisUrl: `redis://127.0.0.1:${port}`,
    });
    try {
      const started = Date.now();
      const res = await h.postAlerts(memfd);
      expect(res.status).toBe(503);
      expect(Date.now() - started).toBeLessThan(2000);
      expect(((await res.json()) as { error: string }).error).toMatch(
        /Redis is unavailable, nothing was accepted/,
      );
      expect((await fetch(`${h.base}/readyz`)).status).toBe(503);
    } finally {
      await h.stop();
    }
  });
});

describe("preview mode (no Slack token)", () => {
  it("renders each alert readably to the console", async () => {
    const h = await startHarness("preview", { slack: false });
    try {
      const res = await h.postAlerts(memfd);
      expect(res.status).toBe(202);
      const { uuids } = (await res.json()) as { uuids: string[] };
      const shown = await waitFor(() => h.preview.find((t) => t.includes(uuids[0]!)), "the preview");
      expect(shown).toContain("━━ :red_circle: Critical: Fileless execution via memfd_create ━━");
      expect(shown).toContain("peaceful_mestorf");
      const alert = (await (await h.getAlert(uuids[0]!)).json()) as {
        delivery: { status: string };
        slack: unknown;
      };
      expect(alert.delivery.status).toBe("preview");
      expect(alert.slack).toBeNull();
    } finally {
      await h.stop();
    }
  });
});

describe("retention", () => {
  it("expires stored alerts after ALERT_RETENTION_DAYS and drops them from the indexes", async () => {
    // 0.00003 days is 2.6 s: long enough to read the alert back, short enough to watch it expire.
    const h = await startHarness("retention", { env: { ALERT_RETENTION_DAYS: "0.00003" } });
    const redis = new Redis(TEST_REDIS_URL);
    try {
      const old = alertWith({ uuid: "0e7e0000-0000-4000-8000-000000000001" });
      expect((await h.postAlerts(old)).status).toBe(202);
      expect((await h.getAlert("0e7e0000-0000-4000-8000-000000000001")).status).toBe(200);
      const keys = new StoreKeys(h.prefix);
      const ttl = await redis.ttl(keys.alert("0e7e0000-0000-4000-8000-000000000001"));
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(3);
      await waitFor(
        async () => (await h.getAlert("0e7e0000-0000-4000-8000-000000000001")).status === 404,
        "the alert expired",
      );
      // The next alert's arrival clears the expired one from the uuid-prefix index.
      expect((await h.postAlerts(alertWith({ uuid: "0e7e0000-0000-4000-8000-000000000002" }))).status).toBe(
        202,
      );
      expect(await redis.zrange(keys.idBucket("0e7e"), 0, -1)).toEqual([
        "0e7e0000-0000-4000-8000-000000000002",
      ]);
      expect(await redis.zrange(keys.byTime, 0, -1)).toEqual(["0e7e0000-0000-4000-8000-000000000002"]);
    } finally {
      redis.disconnect();
      await h.stop();
    }
  });
});
