import { readFileSync } from "node:fs";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ACTIONS } from "../../blocks/alert-message.js";
import { ASSIGN_MODAL } from "../../blocks/assign-modal.js";
import { CHANNEL, type Harness, SIGNING_SECRET, startHarness } from "../../support/harness.js";
import { signedHeaders, type ViewValues, viewSubmissionBody } from "../../src/preview/slack-requests.js";
import { LOCAL_WORKSPACE } from "../../src/preview/slack-requests.js";
import { StoreKeys } from "../../src/store/keys.js";
import { TEST_REDIS_URL, waitFor } from "../../support/redis.js";

/*
 * Take it, Assign…, /falco mine and the App Home, end to end: signed requests to the real Bolt
 * receiver, real Redis, and the local Slack's views.open / views.publish.
 */

const memfd = readFileSync(new URL("../../examples/memfd-create.json", import.meta.url), "utf8");
const shell = readFileSync(new URL("../../examples/terminal-shell.json", import.meta.url), "utf8");

const withUuid = (json: string, uuid: string) => JSON.stringify({ ...JSON.parse(json), uuid });
const allText = (value: unknown) => JSON.stringify(value);
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- assertions walk arbitrary JSON
type Json = Record<string, any>;

const picked = (user: string | null): ViewValues => ({
  [ASSIGN_MODAL.ownerBlock]: { [ASSIGN_MODAL.ownerAction]: { type: "users_select", selected_user: user } },
});

async function ingest(h: Harness, body: string): Promise<{ uuid: string; ts: string }> {
  const res = await h.postAlerts(body);
  expect(res.status).toBe(202);
  const uuid = ((await res.json()) as { uuids: string[] }).uuids[0]!;
  const ts = await waitFor(
    async () => ((await (await h.getAlert(uuid)).json()) as Json).slack?.ts as string | undefined,
    "the posted message",
  );
  return { uuid, ts };
}

const alertJson = async (h: Harness, uuid: string) => (await (await h.getAlert(uuid)).json()) as Json;

/** The text of the replies in the thread of message `ts`. */
const threadOf = (h: Harness, ts: string) =>
  h
    .slack!.callsOf("chat.postMessage")
    .filter((c) => c.args.thread_ts === ts)
    .map((c) => String(c.args.text));

async function answerTo(h: Harness, text: string, user: string): Promise<string> {
  const asked = await h.command(text, user);
  expect(asked.status).toBe(200);
  const answer = await waitFor(
    () => h.slack!.responses.find((r) => r.url === asked.responseUrl),
    `the answer to /falco ${text}`,
  );
  return allText(answer.body.blocks);
}

/** The Home tab's blocks, by section title: the block texts that follow each header. */
function homeSections(view: Json): Record<string, string> {
  const out: Record<string, string> = {};
  let current = "";
  for (const b of view.blocks as Json[]) {
    if (b.type === "header") current = b.text.text as string;
    else if (current) out[current] = (out[current] ?? "") + allText(b);
  }
  return out;
}

describe("Take it, Assign… and /falco mine", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness("ownership");
  });
  afterAll(async () => {
    await h.stop();
  });

  it("makes the clicker the owner, on the message, in the thread, the API and /falco; a take-over names who had it", async () => {
    const { uuid, ts } = await ingest(h, withUuid(memfd, "0a0e0000-0000-4000-8000-000000000001"));
    expect(await alertJson(h, uuid)).toMatchObject({ ownedBy: null, ownedAt: null });
    const res = await h.click(ACTIONS.take, uuid, "U0ALICE", ts);
    expect(res.status).toBe(200);
    await waitFor(
      () =>
        h
          .slack!.callsOf("chat.update")
          .find((c) => c.args.ts === ts && allText(c.args.blocks).includes("Owned by <@U0ALICE>")),
      "the message naming its owner",
    );
    expect(await alertJson(h, uuid)).toMatchObject({ ownedBy: "U0ALICE", state: "new" });
    await waitFor(() => threadOf(h, ts).find((t) => t.startsWith("<@U0ALICE> took it at")), "the thread log");
    expect(await answerTo(h, uuid, "U0ALICE")).toContain("*Owner:* <@U0ALICE>");

    await h.click(ACTIONS.take, uuid, "U0ALICE", ts);
    await waitFor(
      () =>
        h
          .slack!.callsOf("chat.postEphemeral")
          .find((c) => c.args.user === "U0ALICE" && String(c.args.text).includes("already own")),
      "already yours",
    );

    await h.click(ACTIONS.take, uuid, "U0BOB", ts);
    const told = await waitFor(
      () => h.slack!.callsOf("chat.postEphemeral").find((c) => c.args.user === "U0BOB"),
      "the take-over notice",
    );
    expect(String(told.args.text)).toBe("You took this alert over from <@U0ALICE>.");
    await waitFor(
      () => threadOf(h, ts).find((t) => t.startsWith("<@U0BOB> took it over from <@U0ALICE> at")),
      "the take-over in the thread",
    );
    expect((await alertJson(h, uuid)).ownedBy).toBe("U0BOB");
    expect(await answerTo(h, "mine", "U0BOB")).toContain(uuid.slice(0, 8));
    expect(await answerTo(h, "mine", "U0ALICE")).toContain("You own no open alerts");
    // The take-over moved the alert between the two indexes, not only the hash's owner.
    const keys = new StoreKeys(h.prefix);
    const redis = new Redis(TEST_REDIS_URL);
    try {
      expect(await redis.zrange(keys.ownedBy("U0ALICE"), 0, -1)).toEqual([]);
      expect(await redis.zrange(keys.ownedBy("U0BOB"), 0, -1)).toEqual([uuid]);
    } finally {
      redis.disconnect();
    }
  });

  it("assigns through a modal with a user picker; an empty or bot pick shows an error and changes nothing", async () => {
    const { uuid, ts } = await ingest(h, withUuid(shell, "0a0e0000-0000-4000-8000-000000000002"));
    await h.click(ACTIONS.assign, uuid, "U0CAROL", ts);
    const modal = await waitFor(() => h.slack!.openModal("U0CAROL"), "the Assign modal");
    expect(modal.view).toMatchObject({
      callback_id: ASSIGN_MODAL.callbackId,
      blocks: [
        { type: "section" },
        {
          type: "input",
          block_id: ASSIGN_MODAL.ownerBlock,
          element: { type: "users_select", action_id: ASSIGN_MODAL.ownerAction },
        },
      ],
    });

    expect(await h.slack!.submitView("U0CAROL", picked(null))).toEqual({
      status: 200,
      action: "errors",
      errors: { owner: "Pick the person who should own this alert." },
    });
    expect(await h.slack!.submitView("U0CAROL", picked(LOCAL_WORKSPACE.botUserId))).toMatchObject({
      action: "errors",
      errors: { owner: "The bot cannot own an alert. Pick a person." },
    });
    expect((await alertJson(h, uuid)).ownedBy).toBeNull();

    expect(await h.slack!.submitView("U0CAROL", picked("U0DAVE"))).toEqual({ status: 200, action: "closed" });
    expect(await alertJson(h, uuid)).toMatchObject({ ownedBy: "U0DAVE" });
    await waitFor(
      () =>
        h
          .slack!.callsOf("chat.update")
          .find((c) => c.args.ts === ts && allText(c.args.blocks).includes("Owned by <@U0DAVE>")),
      "the message naming the assignee",
    );
    await waitFor(
      () => threadOf(h, ts).find((t) => t.startsWith("<@U0CAROL> assigned it to <@U0DAVE> at")),
      "the assignment in the thread",
    );
    expect(await answerTo(h, "mine", "U0DAVE")).toContain(uuid.slice(0, 8));

    // Opening the modal again starts from the current owner.
    await h.click(ACTIONS.assign, uuid, "U0CAROL", ts);
    const again = await waitFor(() => h.slack!.openModal("U0CAROL"), "the modal again");
    expect(allText(again.view)).toContain('"initial_user":"U0DAVE"');
    h.slack!.closeModal("U0CAROL");
  });

  it("leaves simultaneous takes with one owner, listed in that owner's index only", async () => {
    const { uuid, ts } = await ingest(h, withUuid(memfd, "0a0e0000-0000-4000-8000-000000000005"));
    const users = ["U0P1", "U0P2", "U0P3", "U0P4"];
    await Promise.all(users.map((u) => h.click(ACTIONS.take, uuid, u, ts)));
    await waitFor(
      () => users.every((u) => threadOf(h, ts).some((t) => t.startsWith(`<@${u}> took it`))),
      "each take in the thread",
    );
    const owner = (await alertJson(h, uuid)).ownedBy as string;
    expect(users).toContain(owner);
    const keys = new StoreKeys(h.prefix);
    const redis = new Redis(TEST_REDIS_URL);
    try {
      for (const u of users)
        expect(await redis.zrange(keys.ownedBy(u), 0, -1), u).toEqual(u === owner ? [uuid] : []);
    } finally {
      redis.disconnect();
    }
  });

  it("drops alerts that expired from /falco mine and from the owner's index", async () => {
    const { uuid, ts } = await ingest(h, withUuid(memfd, "0a0e0000-0000-4000-8000-000000000003"));
    await h.click(ACTIONS.take, uuid, "U0ERIN", ts);
    await waitFor(async () => (await alertJson(h, uuid)).ownedBy === "U0ERIN", "taken");
    const keys = new StoreKeys(h.prefix);
    const redis = new Redis(TEST_REDIS_URL);
    try {
      expect(await redis.zrange(keys.ownedBy("U0ERIN"), 0, -1)).toEqual([uuid]);
      // What the retention's expiry does to an alert.
      await redis.del(keys.alert(uuid), keys.body(uuid));
      expect(await answerTo(h, "mine", "U0ERIN")).toContain("You own no open alerts");
      expect(await redis.zrange(keys.ownedBy("U0ERIN"), 0, -1)).toEqual([]);
    } finally {
      redis.disconnect();
    }
  });

  it("tells the clicker privately when Slack refuses to open the modal, and logs it", async () => {
    const { uuid, ts } = await ingest(h, withUuid(memfd, "0a0e0000-0000-4000-8000-000000000004"));
    h.slack!.script("views.open", { error: "expired_trigger_id" });
    await h.click(ACTIONS.assign, uuid, "U0FRANK", ts);
    const told = await waitFor(
      () => h.slack!.callsOf("chat.postEphemeral").find((c) => c.args.user === "U0FRANK"),
      "the private notice",
    );
    expect(told.args.channel).toBe(CHANNEL);
    expect(String(told.args.text)).toContain("the click took too long");
    expect(h.slack!.openModal("U0FRANK")).toBeUndefined();
  });
});

describe("the App Home tab", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness("home");
  });
  afterAll(async () => {
    await h.stop();
  });

  const published = (user: string) =>
    h.slack!.callsOf("views.publish").filter((c) => c.args.user_id === user);
  const lastHome = (user: string) => JSON.parse(String(published(user).at(-1)!.args.view)) as Json;

  it("publishes the user's open alerts by section when they open it, and acts and republishes on a click", async () => {
    const first = await ingest(h, withUuid(memfd, "0e0e0000-0000-4000-8000-000000000001"));
    const second = await ingest(h, withUuid(shell, "0e0e0000-0000-4000-8000-000000000002"));
    await h.click(ACTIONS.acknowledge, second.uuid, "U0GRACE", second.ts);
    await waitFor(async () => (await alertJson(h, second.uuid)).state === "acknowledged", "acknowledged");

    expect(await h.slack!.openHome("U0HEIDI")).toBe(200);
    await waitFor(() => published("U0HEIDI").length === 1, "the Home tab published");
    const home = h.slack!.homes.get("U0HEIDI")!;
    const sections = homeSections(lastHome("U0HEIDI"));
    expect(Object.keys(sections)).toEqual([
      "Yours",
      "New",
      "Acknowledged",
      "Escalated",
      "Active silences",
      "Saved Falco exceptions",
    ]);
    expect(sections.Yours).toContain("You own no open alerts");
    expect(sections.New).toContain(first.uuid);
    expect(sections.New).not.toContain(second.uuid);
    expect(sections.Acknowledged).toContain(second.uuid);
    expect(sections.Escalated).toContain("No escalated alerts.");

    // Acknowledge from the Home tab: the handler finds the message from the store, and the tab follows.
    expect(
      await h.slack!.clickInView("U0HEIDI", home.id, { actionId: ACTIONS.acknowledge, value: first.uuid }),
    ).toBe(200);
    await waitFor(() => published("U0HEIDI").length === 2, "the Home tab republished");
    expect(await alertJson(h, first.uuid)).toMatchObject({
      state: "acknowledged",
      acknowledgedBy: "U0HEIDI",
    });
    await waitFor(
      () =>
        h
          .slack!.callsOf("chat.update")
          .find(
            (c) => c.args.ts === first.ts && allText(c.args.blocks).includes("Acknowledged by <@U0HEIDI>"),
          ),
      "the message acknowledged",
    );
    expect(homeSections(lastHome("U0HEIDI")).New).not.toContain(first.uuid);
    expect(homeSections(lastHome("U0HEIDI")).Acknowledged).toContain(first.uuid);

    await h.slack!.clickInView("U0HEIDI", home.id, { actionId: ACTIONS.take, value: first.uuid });
    await waitFor(() => published("U0HEIDI").length === 3, "republished after Take it");
    const mine = homeSections(lastHome("U0HEIDI")).Yours!;
    expect(mine).toContain(first.uuid);
    expect(mine).toContain("Owned by <@U0HEIDI>");
    // The owner is offered no Take it for their own alert.
    expect(mine).not.toContain(ACTIONS.take);
  });

  it("assigns from the Home tab through the modal, and republishes the tab after the submission", async () => {
    const { uuid } = await ingest(h, withUuid(memfd, "0e0e0000-0000-4000-8000-000000000003"));
    await h.slack!.openHome("U0IVAN");
    await waitFor(() => published("U0IVAN").length === 1, "published");
    const home = h.slack!.homes.get("U0IVAN")!;
    await h.slack!.clickInView("U0IVAN", home.id, { actionId: ACTIONS.assign, value: uuid });
    await waitFor(() => h.slack!.openModal("U0IVAN"), "the modal opened from the Home tab");
    // The click itself republishes the tab once (as every click on it does): wait for that one, so
    // that the next is the submission's.
    await waitFor(() => published("U0IVAN").length === 2, "republished after the click");
    const count = published("U0IVAN").length;
    expect(await h.slack!.submitView("U0IVAN", picked("U0IVAN"))).toEqual({ status: 200, action: "closed" });
    await waitFor(() => published("U0IVAN").length > count, "republished after the submission");
    expect(homeSections(lastHome("U0IVAN")).Yours).toContain(uuid);
  });

  it("tells a Home tab user by direct message when Slack refuses the modal", async () => {
    const { uuid } = await ingest(h, withUuid(memfd, "0e0e0000-0000-4000-8000-000000000004"));
    await h.slack!.openHome("U0JUDY");
    await waitFor(() => published("U0JUDY").length === 1, "published");
    h.slack!.script("views.open", { error: "expired_trigger_id" });
    await h.slack!.clickInView("U0JUDY", h.slack!.homes.get("U0JUDY")!.id, {
      actionId: ACTIONS.assign,
      value: uuid,
    });
    const dm = await waitFor(
      () => h.slack!.callsOf("chat.postMessage").find((c) => c.args.channel === "U0JUDY"),
      "the direct message",
    );
    expect(String(dm.args.text)).toContain("the click took too long");
  });

  it("stays within Slack's 100 blocks however many alerts are open, and counts the rest", async () => {
    const body = Array.from({ length: 12 }, (_, i) =>
      JSON.parse(withUuid(memfd, `0e0e0000-0000-4000-8000-1000000000${String(i).padStart(2, "0")}`)),
    );
    const res = await h.postAlerts(JSON.stringify(body));
    expect(res.status).toBe(202);
    await h.slack!.openHome("U0KARL");
    await waitFor(() => published("U0KARL").length === 1, "published");
    const view = lastHome("U0KARL");
    expect((view.blocks as unknown[]).length).toBeLessThanOrEqual(100);
    expect(homeSections(view).New).toMatch(/and \d+ more among the latest 300 alerts/);
  });
});

describe("SLACK_ALLOWED_RESPONDERS and ownership", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness("ownership-responders", { env: { SLACK_ALLOWED_RESPONDERS: "U0LEAD" } });
  });
  afterAll(async () => {
    await h.stop();
  });

  it("refuses Take it, Assign… and an assignment by anyone else, privately, and changes nothing", async () => {
    const { uuid, ts } = await ingest(h, withUuid(memfd, "a110ed00-0000-4000-8000-000000000001"));
    await h.click(ACTIONS.take, uuid, "U0STRANGER", ts);
    await h.click(ACTIONS.assign, uuid, "U0STRANGER", ts);
    const refusals = await waitFor(() => {
      const r = h.slack!.callsOf("chat.postEphemeral").filter((c) => c.args.user === "U0STRANGER");
      return r.length === 2 ? r : null;
    }, "two refusals");
    for (const r of refusals) expect(String(r.args.text)).toContain("SLACK_ALLOWED_RESPONDERS");
    expect(h.slack!.openModal("U0STRANGER")).toBeUndefined();

    // A submission Slack would only send for a modal the app opened: signed as the stranger's.
    await h.click(ACTIONS.assign, uuid, "U0LEAD", ts);
    const modal = await waitFor(() => h.slack!.openModal("U0LEAD"), "the lead's modal");
    const body = viewSubmissionBody({
      userId: "U0STRANGER",
      view: modal,
      values: picked("U0STRANGER"),
      triggerId: h.slack!.triggerFor("U0STRANGER"),
    });
    const res = await fetch(`${h.base}/slack/events`, {
      method: "POST",
      headers: signedHeaders(SIGNING_SECRET, body),
      body,
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as Json).errors.owner).toContain("SLACK_ALLOWED_RESPONDERS");
    expect((await alertJson(h, uuid)).ownedBy).toBeNull();

    expect(await h.slack!.submitView("U0LEAD", picked("U0LEAD"))).toMatchObject({ action: "closed" });
    expect((await alertJson(h, uuid)).ownedBy).toBe("U0LEAD");
  });

  it("refuses a click on the Home tab by direct message, and changes nothing", async () => {
    const { uuid } = await ingest(h, withUuid(memfd, "a110ed00-0000-4000-8000-000000000002"));
    await h.slack!.openHome("U0STRANGER");
    const home = await waitFor(() => h.slack!.homes.get("U0STRANGER"), "the stranger's Home tab");
    await h.slack!.clickInView("U0STRANGER", home.id, { actionId: ACTIONS.take, value: uuid });
    await h.slack!.clickInView("U0STRANGER", home.id, { actionId: ACTIONS.acknowledge, value: uuid });
    const dms = await waitFor(() => {
      const sent = h.slack!.callsOf("chat.postMessage").filter((c) => c.args.channel === "U0STRANGER");
      return sent.length === 2 ? sent : null;
    }, "two refusals by direct message");
    for (const dm of dms) expect(String(dm.args.text)).toContain("SLACK_ALLOWED_RESPONDERS");
    expect(await alertJson(h, uuid)).toMatchObject({ ownedBy: null, state: "new" });
  });
});
