import { readFileSync } from "node:fs";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ACTIONS } from "../../blocks/alert-message.js";
import { slackDate } from "../../blocks/escape.js";
import { SILENCE_MODAL } from "../../blocks/silence.js";
import { startWeb, startWorker, type WebProcess, type WorkerProcess } from "../../src/main/compose.js";
import { queuePrefix } from "../../src/queue/names.js";
import { SILENCE_QUEUE } from "../../src/queue/silence-jobs.js";
import { StoreKeys } from "../../src/store/keys.js";
import type { ViewValues } from "../../src/preview/slack-requests.js";
import { CHANNEL, type Harness, startHarness } from "../../support/harness.js";
import { TEST_REDIS_URL, waitFor } from "../../support/redis.js";

const shell = JSON.parse(
  readFileSync(new URL("../../examples/terminal-shell.json", import.meta.url), "utf8"),
) as Record<string, unknown>;
const TOKEN = "silence-test-token-0123456789";
const auth = { authorization: `Bearer ${TOKEN}` };
const json = { ...auth, "content-type": "application/json" };

let serial = 0;
/** The terminal-shell sample with a fresh uuid and these changes. */
function alertJson(changes: Record<string, unknown> = {}): { uuid: string; body: string } {
  const uuid = `5e1e0ce0-0000-4000-8000-${String(++serial).padStart(12, "0")}`;
  return { uuid, body: JSON.stringify({ ...shell, uuid, ...changes }) };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- assertions walk arbitrary JSON
type Json = Record<string, any>;
const allText = (x: unknown) => JSON.stringify(x);

/** What a person fills in the Silence modal. */
function form(o: { fields?: string[]; choice?: string; date?: string | null; reason?: string }): ViewValues {
  return {
    [SILENCE_MODAL.scope.block]: {
      [SILENCE_MODAL.scope.action]: {
        type: "checkboxes",
        selected_options: (o.fields ?? []).map((value) => ({ value })),
      },
    },
    [SILENCE_MODAL.duration.block]: {
      [SILENCE_MODAL.duration.action]: {
        type: "radio_buttons",
        selected_option: { value: o.choice ?? "1h" },
      },
    },
    [SILENCE_MODAL.until.block]: {
      [SILENCE_MODAL.until.action]: { type: "datepicker", selected_date: o.date ?? null },
    },
    [SILENCE_MODAL.reason.block]: {
      [SILENCE_MODAL.reason.action]: { type: "plain_text_input", value: o.reason ?? "" },
    },
  };
}

/**
 * Brings a silence's end forward to `inMs` from now, as if its hours had passed: its end in its
 * hash and in the active set, and the delay of its BullMQ end job, which the real worker then runs.
 */
async function bringEndForward(prefix: string, id: string, inMs: number): Promise<Date> {
  const endsAt = new Date(Date.now() + inMs);
  const keys = new StoreKeys(prefix);
  const redis = new Redis(TEST_REDIS_URL);
  const queue = new Queue(SILENCE_QUEUE, { connection: redis, prefix: queuePrefix(prefix) });
  try {
    await redis.hset(keys.silence(id), "endsAt", endsAt.toISOString(), "endsAtMs", String(endsAt.getTime()));
    await redis.zadd(keys.activeSilences, endsAt.getTime(), id);
    const job = await queue.getJob(`end-${id}`);
    expect(await job!.isDelayed()).toBe(true);
    await job!.changeDelay(inMs);
  } finally {
    await queue.close();
    redis.disconnect();
  }
  return endsAt;
}

/** The silence an alert's hash is marked with (the one made from it), or null. */
async function silenceMark(prefix: string, uuid: string): Promise<string | null> {
  const redis = new Redis(TEST_REDIS_URL);
  try {
    return await redis.hget(new StoreKeys(prefix).alert(uuid), "silenceId");
  } finally {
    redis.disconnect();
  }
}

const dayFromNow = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

describe("silences, end to end", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness("silence", { env: { INGEST_TOKEN: TOKEN } });
  });
  afterAll(async () => {
    await h.stop();
  });

  const get = async (uuid: string) => (await (await h.getAlert(uuid, auth)).json()) as Json;
  const post = async (body: string) => expect((await h.postAlerts(body, json)).status).toBe(202);
  const silencesNow = async () =>
    ((await (await fetch(`${h.base}/silences`, { headers: auth })).json()) as { silences: Json[] }).silences;
  const postedMessage = (uuid: string) =>
    h.slack!.channels.get(CHANNEL)?.messages.find((m) => allText(m.blocks).includes(uuid));

  async function postedAlert(changes: Record<string, unknown> = {}) {
    const a = alertJson(changes);
    await post(a.body);
    const ts = await waitFor(async () => (await get(a.uuid)).slack?.ts as string | undefined, "the post");
    return { uuid: a.uuid, ts };
  }

  it("silences from the message: errors in the modal change nothing; then matching alerts are held, others posted; Unsilence reports the count once", async () => {
    const { uuid, ts } = await postedAlert();
    expect(allText(postedMessage(uuid)!.blocks)).toContain(ACTIONS.silence);
    await h.click(ACTIONS.silence, uuid, "U0ALICE", ts);
    const modal = await waitFor(() => h.slack!.openModal("U0ALICE"), "the Silence modal");
    const view = modal.view as Json;
    expect(view.private_metadata).toBe(uuid);
    const scope = view.blocks.find((b: Json) => b.block_id === SILENCE_MODAL.scope.block).element;
    expect(scope.options.map((o: Json) => [o.value, o.text.text])).toEqual([
      ["hostname", "Host: worker-node-2"],
      ["k8s.ns.name", "Namespace: shop"],
      ["k8s.workload", "Workload: shop-web"],
      ["container.image.repository", "Image repository: registry.example.com/shop/web"],
      ["proc.exepath", "Executable path: /usr/bin/bash"],
      ["user.name", "User: root"],
    ]);
    expect(scope.initial_options).toEqual(scope.options);
    const all = scope.options.map((o: Json) => o.value as string);

    expect(await h.slack!.submitView("U0ALICE", form({ fields: all, reason: "  " }))).toMatchObject({
      action: "errors",
      errors: { reason: expect.stringContaining("Say why") },
    });
    expect(
      await h.slack!.submitView(
        "U0ALICE",
        form({ fields: all, choice: "until", date: "2020-01-01", reason: "x" }),
      ),
    ).toMatchObject({ action: "errors", errors: { until: expect.stringContaining("in the past") } });
    expect(
      await h.slack!.submitView(
        "U0ALICE",
        form({ fields: all, choice: "until", date: dayFromNow(120), reason: "x" }),
      ),
    ).toMatchObject({ action: "errors", errors: { until: expect.stringContaining("at most 90 days") } });
    expect(await silencesNow()).toEqual([]);

    expect(
      await h.slack!.submitView("U0ALICE", form({ fields: all, choice: "4h", reason: "load test <!here>" })),
    ).toMatchObject({ action: "closed" });
    const [silence] = await silencesNow();
    expect(silence).toMatchObject({
      rule: "Terminal shell in container",
      priority: "Notice",
      match: {
        hostname: "worker-node-2",
        "k8s.ns.name": "shop",
        "k8s.workload": "shop-web",
        "container.image.repository": "registry.example.com/shop/web",
        "proc.exepath": "/usr/bin/bash",
        "user.name": "root",
      },
      createdBy: "U0ALICE",
      reason: "load test <!here>",
      alert: uuid,
      message: { channel: CHANNEL, ts },
      held: 0,
      active: true,
    });
    expect(Date.parse(silence!.endsAt) - Date.parse(silence!.createdAt)).toBe(4 * 3600_000);

    // The thread records who silenced what until when (escaped); the message shows it, with Unsilence.
    const record = await waitFor(
      () => postedMessage(uuid)!.replies.find((r) => r.text.includes("silenced")),
      "the thread's record",
    );
    expect(record.text).toContain(
      "<@U0ALICE> silenced *Terminal shell in container* (Notice or lower) where Host `worker-node-2`",
    );
    expect(record.text).toContain("load test &lt;!here&gt;");
    await waitFor(() => allText(postedMessage(uuid)!.blocks).includes("Silenced until"), "the silenced line");
    expect(allText(postedMessage(uuid)!.blocks)).toContain(
      `"action_id":"${ACTIONS.unsilence}","value":"${silence!.id}"`,
    );

    // Same values, other pod of the same Deployment: held. Other host, higher priority, other rule: posted.
    const held = alertJson({
      output_fields: { ...(shell.output_fields as object), "k8s.pod.name": "shop-web-7d9c8b6f5-bbbbb" },
    });
    const otherHost = alertJson({ hostname: "worker-node-9" });
    const severe = alertJson({ priority: "Critical" });
    const otherRule = alertJson({ rule: "Read sensitive file untrusted" });
    for (const a of [held, otherHost, severe, otherRule]) await post(a.body);
    for (const a of [otherHost, severe, otherRule])
      await waitFor(async () => (await get(a.uuid)).slack?.ts, `the post of ${a.uuid}`);
    const heldJson = await get(held.uuid);
    expect(heldJson.delivery).toMatchObject({ status: "silenced", heldBy: silence!.id });
    expect(heldJson.slack).toBeNull();
    expect(postedMessage(held.uuid)).toBeUndefined();
    expect((await silencesNow())[0]!.held).toBe(1);

    // Unsilence, twice at once: one lifts it, the other is told it had ended; one reply with the count.
    await Promise.all([
      h.click(ACTIONS.unsilence, silence!.id, "U0BOB", ts),
      h.click(ACTIONS.unsilence, silence!.id, "U0CAROL", ts),
    ]);
    const reply = await waitFor(
      () => postedMessage(uuid)!.replies.find((r) => r.text.includes("held back")),
      "the end reply",
    );
    expect(reply.text).toMatch(
      /^:loud_sound: <@U0(BOB|CAROL)> lifted the silence on \*Terminal shell in container\*.*It held back 1 alert\.$/,
    );
    await waitFor(
      () => h.slack!.channels.get(CHANNEL)!.ephemerals.some((e) => e.text.includes("already ended")),
      "the second click's answer",
    );
    await waitFor(() => !allText(postedMessage(uuid)!.blocks).includes("Silenced until"), "the line gone");
    await new Promise((r) => setTimeout(r, 300));
    expect(postedMessage(uuid)!.replies.filter((r) => r.text.includes("held back"))).toHaveLength(1);
    expect(await silencesNow()).toEqual([]);
    await postedAlert(); // posted again
  });

  it("ends a silence when it is due, once, with the count, and a second web process, old or new, honours it", async () => {
    const { uuid } = await postedAlert({ hostname: "expiry-host" });
    const logs: string[] = [];
    const early: WebProcess = await startWeb({
      config: h.config,
      redisUrl: TEST_REDIS_URL,
      kb: h.kb,
      log: pino({ level: "silent" }, { write: (l: string) => void logs.push(l) }),
    });
    try {
      // Made over HTTP on the first process, due in 3 s.
      const res = await fetch(`${h.base}/silences`, {
        method: "POST",
        headers: json,
        body: JSON.stringify({
          rule: "Terminal shell in container",
          priority: "notice",
          match: { hostname: "expiry-host" },
          reason: "host being rebuilt",
          createdBy: "U0DAVE",
          endsAt: new Date(Date.now() + 3000).toISOString(),
        }),
      });
      expect(res.status).toBe(201);
      const silence = (await res.json()) as Json;
      // The process started before it hears of it; one started after reads it from Redis.
      const late = await startWeb({
        config: h.config,
        redisUrl: TEST_REDIS_URL,
        kb: h.kb,
        log: pino({ level: "silent" }),
      });
      try {
        for (const port of [early.port, late.port]) {
          const a = alertJson({ hostname: "expiry-host" });
          const sent = await fetch(`http://127.0.0.1:${port}/falco`, {
            method: "POST",
            headers: json,
            body: a.body,
          });
          expect(sent.status).toBe(202);
          expect((await get(a.uuid)).delivery).toMatchObject({ status: "silenced", heldBy: silence.id });
        }
      } finally {
        await late.close();
      }
      // A silence made over HTTP has no message: the job ends it and counts, nothing is posted.
      const ended = await waitFor(
        async () => {
          const now = (await (
            await fetch(`${h.base}/silences/${silence.id}`, { headers: auth })
          ).json()) as Json;
          return now.endedAt ? now : null;
        },
        "the silence's end",
        8000,
      );
      expect(ended).toMatchObject({ held: 2, active: false, endedBy: null });
      expect(await silencesNow()).toEqual([]);
      expect(postedMessage(uuid)!.replies.filter((r) => r.text.includes("held back"))).toHaveLength(0);
      const after = alertJson({ hostname: "expiry-host" });
      await fetch(`http://127.0.0.1:${early.port}/falco`, {
        method: "POST",
        headers: json,
        body: after.body,
      });
      await waitFor(async () => (await get(after.uuid)).slack?.ts, "a post after the end");
    } finally {
      await early.close();
    }
  });

  it("refuses a submission with an empty reason, a past date or one beyond 90 days by block, and creates nothing", async () => {
    const { uuid, ts } = await postedAlert({ hostname: "refused-host" });
    await h.click(ACTIONS.silence, uuid, "U0GINA", ts);
    await waitFor(() => h.slack!.openModal("U0GINA"), "the Silence modal");
    const updatesBefore = h.slack!.callsOf("chat.update").filter((c) => c.args.ts === ts).length;
    const refused: [ViewValues, Record<string, unknown>][] = [
      [form({ fields: ["hostname"], reason: "" }), { reason: "Say why these alerts may be silenced." }],
      [form({ fields: ["hostname"], reason: " \n " }), { reason: "Say why these alerts may be silenced." }],
      [
        form({ fields: ["hostname"], choice: "until", date: "2020-01-01", reason: "x" }),
        { until: expect.stringContaining("in the past") },
      ],
      [
        form({ fields: ["hostname"], choice: "until", date: dayFromNow(91), reason: "x" }),
        { until: expect.stringContaining("at most 90 days") },
      ],
      [
        form({ fields: ["hostname"], choice: "until", date: null, reason: "x" }),
        { until: "Pick the date the silence ends." },
      ],
      // Both at once: each error under its own input.
      [
        form({ fields: ["hostname"], choice: "until", date: "2020-01-01", reason: "" }),
        { until: expect.stringContaining("in the past"), reason: "Say why these alerts may be silenced." },
      ],
    ];
    for (const [values, errors] of refused) {
      const answer = await h.slack!.submitView("U0GINA", values);
      expect(answer).toMatchObject({ status: 200, action: "errors" });
      expect((answer as { errors: Record<string, string> }).errors).toEqual(errors);
    }
    // The modal stays open for a correction; nothing was made, marked, scheduled or said.
    expect(h.slack!.openModal("U0GINA")).toBeDefined();
    expect(await silencesNow()).toEqual([]);
    expect(await silenceMark(h.prefix, uuid)).toBeNull();
    const redis = new Redis(TEST_REDIS_URL);
    const queue = new Queue(SILENCE_QUEUE, { connection: redis, prefix: queuePrefix(h.prefix) });
    try {
      const keys = new StoreKeys(h.prefix);
      expect(await redis.zcard(keys.activeSilences)).toBe(0);
      expect(await queue.getJobCounts("delayed", "waiting", "active")).toMatchObject({
        delayed: 0,
        waiting: 0,
        active: 0,
      });
    } finally {
      await queue.close();
      redis.disconnect();
    }
    await new Promise((r) => setTimeout(r, 200));
    expect(postedMessage(uuid)!.replies).toEqual([]);
    expect(h.slack!.callsOf("chat.update").filter((c) => c.args.ts === ts)).toHaveLength(updatesBefore);
    // A matching alert is still posted.
    await postedAlert({ hostname: "refused-host" });
    h.slack!.closeModal("U0GINA");
  });

  it("replies once in the thread of the message it was made from when the silence runs out, with the count", async () => {
    const { uuid, ts } = await postedAlert({ hostname: "runs-out-host" });
    await h.click(ACTIONS.silence, uuid, "U0HANK", ts);
    await waitFor(() => h.slack!.openModal("U0HANK"), "the Silence modal");
    expect(
      await h.slack!.submitView("U0HANK", form({ fields: ["hostname"], choice: "1h", reason: "rebuild" })),
    ).toMatchObject({ action: "closed" });
    const silence = (await silencesNow()).find((s) => s.match.hostname === "runs-out-host")!;
    expect(silence).toMatchObject({ alert: uuid, message: { channel: CHANNEL, ts } });
    expect(await silenceMark(h.prefix, uuid)).toBe(silence.id);
    await waitFor(() => allText(postedMessage(uuid)!.blocks).includes("Silenced until"), "the silenced line");
    const held = alertJson({ hostname: "runs-out-host" });
    await post(held.body);
    expect((await get(held.uuid)).delivery).toMatchObject({ status: "silenced", heldBy: silence.id });

    const endsAt = await bringEndForward(h.prefix, silence.id as string, 1500);
    const reply = await waitFor(
      () => postedMessage(uuid)!.replies.find((r) => r.text.includes("held back")),
      "the reply when it runs out",
      10_000,
    );
    expect(reply.text).toBe(
      `:loud_sound: The silence on *Terminal shell in container* (Notice or lower) where Host \`runs-out-host\` ended at ${slackDate(endsAt.toISOString())}. It held back 1 alert.`,
    );
    const ended = (await (await fetch(`${h.base}/silences/${silence.id}`, { headers: auth })).json()) as Json;
    expect(ended).toMatchObject({ active: false, endedBy: null, held: 1 });
    await waitFor(() => !allText(postedMessage(uuid)!.blocks).includes("Silenced until"), "the line gone");
    expect(await silenceMark(h.prefix, uuid)).toBeNull();
    await new Promise((r) => setTimeout(r, 300));
    expect(postedMessage(uuid)!.replies.filter((r) => r.text.includes("held back"))).toHaveLength(1);
    await postedAlert({ hostname: "runs-out-host" }); // posted again
  });

  it("answers the HTTP API only with the token, and names the field of a bad body", async () => {
    expect((await fetch(`${h.base}/silences`)).status).toBe(401);
    expect((await fetch(`${h.base}/silences`, { method: "POST", body: "{}" })).status).toBe(401);
    expect((await fetch(`${h.base}/silences/s-x`, { method: "DELETE" })).status).toBe(401);
    const good = {
      rule: "Terminal shell in container",
      priority: "Notice",
      match: { hostname: "h1" },
      reason: "maintenance",
      createdBy: "ops@example.com",
      duration: "1h",
    };
    const bad: [Record<string, unknown>, string][] = [
      [{ ...good, rule: "" }, "rule: must not be empty"],
      [{ ...good, priority: "Loud" }, "priority: must be a Falco priority"],
      [{ ...good, match: { "proc.cmdline": "x" } }, "match.proc.cmdline: must name one of"],
      [{ ...good, reason: " " }, "reason: must not be empty"],
      [{ ...good, duration: "2w" }, "duration: must be one of 1h, 4h, 1d, 7d"],
      [
        { ...good, endsAt: new Date(Date.now() + 3600_000).toISOString() },
        "endsAt: give exactly one of endsAt and duration",
      ],
      [{ ...good, duration: undefined, endsAt: "2020-01-01T00:00:00Z" }, "endsAt: That date is in the past"],
      [
        { ...good, duration: undefined, endsAt: new Date(Date.now() + 91 * 86_400_000).toISOString() },
        "endsAt: A silence lasts at most 90 days",
      ],
      [{ ...good, createdBy: undefined }, "createdBy:"],
      [{ ...good, colour: "red" }, 'unknown field "colour"'],
    ];
    for (const [body, error] of bad) {
      const res = await fetch(`${h.base}/silences`, {
        method: "POST",
        headers: json,
        body: JSON.stringify(body),
      });
      expect(res.status, error).toBe(400);
      expect(((await res.json()) as Json).error).toContain(error);
    }
    expect(
      (await fetch(`${h.base}/silences`, { method: "POST", headers: json, body: "{not json" })).status,
    ).toBe(400);
    expect(await silencesNow()).toEqual([]);

    const made = await fetch(`${h.base}/silences`, {
      method: "POST",
      headers: json,
      body: JSON.stringify(good),
    });
    expect(made.status).toBe(201);
    const { id } = (await made.json()) as Json;
    expect((await silencesNow()).map((s) => s.id)).toEqual([id]);
    const del = await fetch(`${h.base}/silences/${id}?by=ops@example.com`, {
      method: "DELETE",
      headers: auth,
    });
    expect(del.status).toBe(200);
    expect(await del.json()).toMatchObject({ id, endedBy: "ops@example.com", active: false });
    expect((await fetch(`${h.base}/silences/${id}`, { method: "DELETE", headers: auth })).status).toBe(409);
    expect((await fetch(`${h.base}/silences/s-none`, { method: "DELETE", headers: auth })).status).toBe(404);
  });

  it("lists active silences under /falco silences, each with its Unsilence button", async () => {
    const res = await fetch(`${h.base}/silences`, {
      method: "POST",
      headers: json,
      body: JSON.stringify({
        rule: "Terminal shell in container",
        priority: "Warning",
        match: { "k8s.ns.name": "batch" },
        reason: "nightly jobs",
        createdBy: "U0ERIN",
        duration: "1d",
      }),
    });
    const { id } = (await res.json()) as Json;
    const { responseUrl } = await h.command("silences", "U0ERIN");
    const answer = await waitFor(() => h.slack!.responses.find((r) => r.url === responseUrl), "the list");
    const text = allText(answer.body.blocks);
    expect(text).toContain("*1 active silence*");
    expect(text).toContain("Namespace `batch`");
    expect(text).toContain(`"action_id":"${ACTIONS.unsilence}","value":"${id}"`);
    await fetch(`${h.base}/silences/${id}`, { method: "DELETE", headers: auth });
  });

  it("tells the person privately when Slack will not open the modal", async () => {
    const { uuid, ts } = await postedAlert();
    h.slack!.script("views.open", { error: "expired_trigger_id" });
    await h.click(ACTIONS.silence, uuid, "U0FRANK", ts);
    const told = await waitFor(
      () => h.slack!.channels.get(CHANNEL)!.ephemerals.find((e) => e.user === "U0FRANK"),
      "the private answer",
    );
    expect(told.text).toContain("click the button again");
    expect(h.slack!.openModal("U0FRANK")).toBeUndefined();
  });
});

describe("silences and SLACK_ALLOWED_RESPONDERS", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness("silence-responders", { env: { SLACK_ALLOWED_RESPONDERS: "U0BOSS" } });
  });
  afterAll(async () => {
    await h.stop();
  });

  it("refuses the Silence and Unsilence buttons to others, and lets an allowed responder silence", async () => {
    const a = alertJson();
    await h.postAlerts(a.body);
    const ts = await waitFor(
      async () => ((await (await h.getAlert(a.uuid)).json()) as Json).slack?.ts as string | undefined,
      "the post",
    );
    await h.click(ACTIONS.silence, a.uuid, "U0MALLORY", ts);
    const refusal = await waitFor(
      () => h.slack!.channels.get(CHANNEL)!.ephemerals.find((e) => e.user === "U0MALLORY"),
      "the refusal",
    );
    expect(refusal.text).toContain("SLACK_ALLOWED_RESPONDERS");
    expect(h.slack!.openModal("U0MALLORY")).toBeUndefined();

    // The allowed responder opens the modal and saves the silence.
    await h.click(ACTIONS.silence, a.uuid, "U0BOSS", ts);
    await waitFor(() => h.slack!.openModal("U0BOSS"), "the boss's modal");
    expect(await h.slack!.submitView("U0BOSS", form({ reason: "ok" }))).toMatchObject({ action: "closed" });
    const list = (await (await fetch(`${h.base}/silences`)).json()) as { silences: Json[] };
    expect(list.silences).toHaveLength(1);
    await h.click(ACTIONS.unsilence, list.silences[0]!.id as string, "U0MALLORY", ts);
    await waitFor(
      () => h.slack!.channels.get(CHANNEL)!.ephemerals.filter((e) => e.user === "U0MALLORY").length === 2,
      "the second refusal",
    );
    expect(
      ((await (await fetch(`${h.base}/silences`)).json()) as { silences: Json[] }).silences,
    ).toHaveLength(1);
  });
});

describe("a silence's end across a worker restart", () => {
  let h: Harness;
  let worker: WorkerProcess | null = null;
  beforeAll(async () => {
    h = await startHarness("silence-restart", { worker: false });
  });
  afterAll(async () => {
    await worker?.close();
    await h?.stop();
  });

  const startAWorker = () =>
    startWorker({ config: h.config, redisUrl: TEST_REDIS_URL, kb: h.kb, log: pino({ level: "silent" }) });
  const message = (uuid: string) =>
    h.slack!.channels.get(CHANNEL)?.messages.find((m) => allText(m.blocks).includes(uuid));

  it("ends a silence that fell due while no worker ran once one starts on the same Redis, and replies in its thread", async () => {
    worker = await startAWorker();
    const a = alertJson({ hostname: "restart-host" });
    expect((await h.postAlerts(a.body)).status).toBe(202);
    const ts = await waitFor(
      async () => ((await (await h.getAlert(a.uuid)).json()) as Json).slack?.ts as string | undefined,
      "the post",
    );
    await h.click(ACTIONS.silence, a.uuid, "U0IRIS", ts);
    await waitFor(() => h.slack!.openModal("U0IRIS"), "the Silence modal");
    expect(
      await h.slack!.submitView("U0IRIS", form({ fields: ["hostname"], choice: "1h", reason: "node drain" })),
    ).toMatchObject({ action: "closed" });
    const { silences } = (await (await fetch(`${h.base}/silences`)).json()) as { silences: Json[] };
    const id = silences[0]!.id as string;

    // The worker stops; the silence falls due while none runs.
    await worker.close();
    worker = null;
    await bringEndForward(h.prefix, id, 300);
    await new Promise((r) => setTimeout(r, 1500));
    const pending = (await (await fetch(`${h.base}/silences/${id}`)).json()) as Json;
    expect(pending.endedAt).toBeNull();
    expect(message(a.uuid)!.replies.filter((r) => r.text.includes("held back"))).toHaveLength(0);

    // A worker starts again on the same prefix: the job left in Redis ends it and replies once.
    worker = await startAWorker();
    const reply = await waitFor(
      () => message(a.uuid)!.replies.find((r) => r.text.includes("held back")),
      "the reply after the restart",
      10_000,
    );
    expect(reply.text).toMatch(/^:loud_sound: The silence on .*`restart-host`.* It held back 0 alerts\.$/);
    const ended = (await (await fetch(`${h.base}/silences/${id}`)).json()) as Json;
    expect(ended).toMatchObject({ active: false, endedBy: null });
    expect(ended.endedAt).not.toBeNull();
  });
});
