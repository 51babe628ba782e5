import { readFileSync } from "node:fs";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ACTIONS } from "../../blocks/alert-message.js";
import { loadConfig } from "../../src/config/config.js";
import { loadKnowledgeBase } from "../../src/enrich/knowledge.js";
import { startWeb, startWorker, type WebProcess, type WorkerProcess } from "../../src/main/compose.js";
import {
  type LocalSlack,
  PREVIEW_ALERT_CHANNEL,
  PREVIEW_ESCALATION_CHANNEL,
  PREVIEW_USER,
  previewWorkspace,
} from "../../src/preview/local-slack.js";
import { dropPrefix, TEST_REDIS_URL, uniquePrefix, waitFor } from "../../support/redis.js";

/*
 * The preview page's routes for modals and the Home tab, over HTTP against the real web and worker
 * and preview mode's workspace: what they render, what they send to the app, and the 4xx answers
 * for what no Slack control could send. (The page itself, in Chromium: preview-browser.test.ts.)
 */

const TOKEN = "preview-views-token-0123456789";
const memfd = readFileSync(new URL("../../examples/memfd-create.json", import.meta.url), "utf8");

describe("the preview page's modal and Home tab routes", () => {
  const prefix = uniquePrefix("preview-views");
  let local: LocalSlack;
  let web: WebProcess;
  let worker: WorkerProcess;
  let base = "";

  beforeAll(async () => {
    local = previewWorkspace(() => {});
    await local.start();
    const config = loadConfig({
      PORT: "0",
      REDIS_KEY_PREFIX: prefix,
      LOG_LEVEL: "silent",
      INGEST_TOKEN: TOKEN,
      GROUP_WINDOW_SECONDS: "0",
      DEDUPE_WINDOW_SECONDS: "0",
      SLACK_BOT_TOKEN: local.token,
      SLACK_SIGNING_SECRET: local.signingSecret,
      SLACK_CHANNEL: PREVIEW_ALERT_CHANNEL,
      SLACK_ESCALATION_CHANNEL: PREVIEW_ESCALATION_CHANNEL,
      SLACK_API_URL: local.apiUrl,
    });
    const kb = loadKnowledgeBase();
    const log = pino({ level: "silent" });
    web = await startWeb({ config, redisUrl: TEST_REDIS_URL, kb, log, local });
    worker = await startWorker({ config, redisUrl: TEST_REDIS_URL, kb, log, localWorkspace: true });
    base = `http://127.0.0.1:${web.port}`;
  });
  afterAll(async () => {
    await worker?.close();
    await web?.close();
    await local?.stop();
    await dropPrefix(prefix);
  });

  const post = async (path: string, body: unknown = {}) => {
    const res = await fetch(`${base}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };
  const state = async () =>
    (await (
      await fetch(`${base}/preview/state`, { headers: { authorization: `Bearer ${TOKEN}` } })
    ).json()) as { modal: string | null; home: string; html: string };

  async function postedAlert(uuid: string): Promise<string> {
    const res = await fetch(`${base}/falco`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ ...JSON.parse(memfd), uuid }),
    });
    expect(res.status).toBe(202);
    const message = await waitFor(
      () =>
        local.channels
          .get(PREVIEW_ALERT_CHANNEL)
          ?.messages.find((m) => JSON.stringify(m.blocks).includes(uuid)),
      "the posted alert",
    );
    return message.ts;
  }

  it("opens the Home tab through app_home_opened and clicks its buttons as clicks in the view", async () => {
    expect((await state()).home).toContain("has not published a Home tab");
    const uuid = "9e0e0000-0000-4000-8000-000000000001";
    await postedAlert(uuid);
    expect(await post("/preview/home")).toEqual({ status: 200, json: { slackEvents: 200 } });
    await waitFor(() => local.homes.get(PREVIEW_USER), "the published Home tab");
    const home = (await state()).home;
    expect(home).toContain("Fileless execution via memfd_create");
    const viewId = local.homes.get(PREVIEW_USER)!.id;
    expect(home).toContain(`data-view-id="${viewId}"`);

    expect(await post("/preview/view-click", { viewId, actionId: ACTIONS.take, value: uuid })).toEqual({
      status: 200,
      json: { slackEvents: 200 },
    });
    await waitFor(async () => (await state()).home.includes("Owned by"), "the republished Home tab");

    expect(
      (await post("/preview/view-click", { viewId, actionId: "falco_nothing", value: uuid })).status,
    ).toBe(400);
    expect(
      (await post("/preview/view-click", { viewId: "V404", actionId: ACTIONS.take, value: uuid })).status,
    ).toBe(404);
    const missing = await post("/preview/view-click", { viewId, actionId: ACTIONS.take });
    expect(missing).toMatchObject({ status: 400, json: { error: expect.stringContaining("value") } });
  });

  it("renders the open modal with the workspace's people, sends its submission, and shows the app's errors", async () => {
    const uuid = "9e0e0000-0000-4000-8000-000000000002";
    const ts = await postedAlert(uuid);
    expect((await state()).modal).toBeNull();
    await post("/preview/click", {
      channel: PREVIEW_ALERT_CHANNEL,
      ts,
      actionId: ACTIONS.assign,
      value: uuid,
    });
    const modal = await waitFor(() => local.openModal(PREVIEW_USER), "the Assign modal");
    const html = (await state()).modal!;
    expect(html).toContain('role="dialog"');
    expect(html).toContain(">Assign alert</h2>");
    expect(html).toContain('<option value="UPREVIEWALEX">Alex Rivera</option>');

    // What no users_select could send: refused here, and the app hears nothing.
    const stranger = await post("/preview/submit", {
      viewId: modal.id,
      values: { owner: { user: "U0NOBODY" } },
    });
    expect(stranger).toEqual({
      status: 400,
      json: { error: "values.owner.user: not a person in this workspace" },
    });
    expect((await post("/preview/submit", { viewId: modal.id, values: { owner: "x" } })).status).toBe(400);
    expect((await post("/preview/submit", { viewId: "V0GONE", values: {} })).status).toBe(409);

    const bot = await post("/preview/submit", {
      viewId: modal.id,
      values: { owner: { user: "U0LOCALBOT" } },
    });
    expect(bot).toMatchObject({
      status: 200,
      json: { action: "errors", errors: { owner: "The bot cannot own an alert. Pick a person." } },
    });
    expect((await state()).modal).toContain(
      '<p class="bk-error" role="alert">The bot cannot own an alert. Pick a person.</p>',
    );

    const done = await post("/preview/submit", {
      viewId: modal.id,
      values: { owner: { user: "UPREVIEWSAM" } },
    });
    expect(done).toEqual({ status: 200, json: { status: 200, action: "closed" } });
    expect((await state()).modal).toBeNull();
    await waitFor(async () => (await state()).html.includes("Owned by"), "the owner on the message");

    await post("/preview/click", {
      channel: PREVIEW_ALERT_CHANNEL,
      ts,
      actionId: ACTIONS.assign,
      value: uuid,
    });
    await waitFor(() => local.openModal(PREVIEW_USER), "the modal again");
    expect((await state()).modal).toContain('<option value="UPREVIEWSAM" selected>');
    expect(await post("/preview/close-modal")).toEqual({ status: 200, json: { closed: true } });
    expect(local.openModal(PREVIEW_USER)).toBeUndefined();
  });
});
