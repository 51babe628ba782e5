import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ACTIONS } from "../../blocks/alert-message.js";
import { SILENCE_MODAL } from "../../blocks/silence.js";
import { TUNE_CALLBACKS, TUNING_ACTIONS, type TuneFormMeta } from "../../blocks/tune.js";
import type { ViewValues } from "../../src/preview/slack-requests.js";
import { CHANNEL, type Harness, startHarness } from "../../support/harness.js";
import { waitFor } from "../../support/redis.js";

/*
 * The Home tab's active silences and saved Falco exceptions, end to end: signed requests to the
 * real Bolt receiver, real Redis, the local Slack's views.publish, and Unsilence and Withdraw
 * clicked on the tab (no channel: answers by direct message, the tab published again).
 */

const shell = JSON.parse(
  readFileSync(new URL("../../examples/terminal-shell.json", import.meta.url), "utf8"),
) as { output_fields: Record<string, unknown> } & Record<string, unknown>;

const LEAD = "U0LEAD";
const STRANGER = "U0STRANGER";
/** Attacker-controlled values: they must reach the tab as text. */
const HOSTILE_HOST = "<!channel>-node`1`";
const HOSTILE_IMAGE = "registry.example.com/<!here>/debug";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- assertions walk arbitrary JSON
type Json = Record<string, any>;
const allText = (x: unknown) => JSON.stringify(x) ?? "";

let serial = 0;
function alertJson(changes: { hostname?: string; image?: string }): { uuid: string; body: string } {
  const uuid = `40e51100-0000-4000-8000-${String(++serial).padStart(12, "0")}`;
  return {
    uuid,
    body: JSON.stringify({
      ...shell,
      uuid,
      hostname: changes.hostname ?? shell.hostname,
      output_fields: {
        ...shell.output_fields,
        "container.image.repository": changes.image ?? shell.output_fields["container.image.repository"],
      },
    }),
  };
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

/** What Slack sends for the Tune form left as the app drew it: each input's initial value. */
function tuneFormAsDrawn(view: Json): ViewValues {
  const meta = JSON.parse(view.private_metadata as string) as TuneFormMeta;
  const byId = (id: string) => (view.blocks as Json[]).find((b) => b.block_id === id)!;
  const values: ViewValues = {
    name: { value: { type: "plain_text_input", value: "debug_images_home" } },
  };
  meta.fields.forEach((_field, i) => {
    values[`f${i}_use`] = {
      value: { type: "checkboxes", selected_options: byId(`f${i}_use`).element.initial_options ?? [] },
    };
    values[`f${i}_op`] = {
      value: { type: "static_select", selected_option: byId(`f${i}_op`).element.initial_option },
    };
    values[`f${i}_value`] = {
      value: { type: "plain_text_input", value: byId(`f${i}_value`).element.initial_value },
    };
  });
  return values;
}

describe("the Home tab's active silences and saved exceptions", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness("home-loop", { env: { SLACK_ALLOWED_RESPONDERS: LEAD } });
  });
  afterAll(async () => {
    await h?.stop();
  });

  const get = async (uuid: string) => (await (await h.getAlert(uuid)).json()) as Json;
  async function posted(a: { uuid: string; body: string }): Promise<string> {
    expect((await h.postAlerts(a.body)).status).toBe(202);
    return waitFor(async () => (await get(a.uuid)).slack?.ts as string | undefined, `the post of ${a.uuid}`);
  }
  const published = (user: string) =>
    h.slack!.callsOf("views.publish").filter((c) => c.args.user_id === user);
  const lastHome = (user: string) => JSON.parse(String(published(user).at(-1)!.args.view)) as Json;
  const dms = (user: string) =>
    h
      .slack!.callsOf("chat.postMessage")
      .filter((c) => c.args.channel === user)
      .map((c) => String(c.args.text));
  const activeSilences = async () =>
    ((await (await fetch(`${h.base}/silences`)).json()) as { silences: Json[] }).silences;
  const rulesFile = async () => (await fetch(`${h.base}/tuning/falco-rules.yaml`)).text();
  const threadOf = (ts: string) =>
    h
      .slack!.channels.get(CHANNEL)!
      .messages.find((m) => m.ts === ts)!
      .replies.map((r) => r.text);

  let silenceId = "";
  let silencedTs = "";
  let exceptionId = "";
  let tunedTs = "";

  it("shows the silence and the exception made in Slack, hostile values as text, on app_home_opened", async () => {
    // A silence made from a message whose host name is hostile, through the modal.
    const noisy = alertJson({ hostname: HOSTILE_HOST });
    silencedTs = await posted(noisy);
    await h.click(ACTIONS.silence, noisy.uuid, LEAD, silencedTs);
    await waitFor(() => h.slack!.openModal(LEAD), "the Silence modal");
    const silenceForm: ViewValues = {
      [SILENCE_MODAL.scope.block]: {
        [SILENCE_MODAL.scope.action]: { type: "checkboxes", selected_options: [{ value: "hostname" }] },
      },
      [SILENCE_MODAL.duration.block]: {
        [SILENCE_MODAL.duration.action]: { type: "radio_buttons", selected_option: { value: "4h" } },
      },
      [SILENCE_MODAL.until.block]: {
        [SILENCE_MODAL.until.action]: { type: "datepicker", selected_date: null },
      },
      [SILENCE_MODAL.reason.block]: {
        [SILENCE_MODAL.reason.action]: { type: "plain_text_input", value: "node rebuild <!everyone>" },
      },
    };
    expect(await h.slack!.submitView(LEAD, silenceForm)).toMatchObject({ action: "closed" });
    const [silence] = await activeSilences();
    expect(silence).toMatchObject({ match: { hostname: HOSTILE_HOST }, createdBy: LEAD });
    silenceId = silence!.id as string;

    // An exception saved through Tune from an alert whose image repository is hostile.
    const debug = alertJson({ image: HOSTILE_IMAGE });
    tunedTs = await posted(debug);
    await h.click(ACTIONS.tune, debug.uuid, LEAD, tunedTs);
    const form = await waitFor(() => h.slack!.openModal(LEAD)?.view as Json | undefined, "the Tune form");
    expect(await h.slack!.submitView(LEAD, tuneFormAsDrawn(form))).toMatchObject({ action: "updated" });
    await waitFor(() => {
      const v = h.slack!.openModal(LEAD)?.view as Json | undefined;
      return v?.callback_id === TUNE_CALLBACKS.save && v.private_metadata ? v : null;
    }, "the replay");
    const savedAnswer = await h.slack!.submitView(LEAD, {});
    expect(savedAnswer).toMatchObject({ action: "cleared" });
    expect(await rulesFile()).toContain("debug_images_home");

    expect(await h.slack!.openHome(LEAD)).toBe(200);
    await waitFor(() => published(LEAD).length === 1, "the Home tab published");
    const view = lastHome(LEAD);
    const sections = homeSections(view);
    expect(Object.keys(sections).slice(-2)).toEqual(["Active silences", "Saved Falco exceptions"]);
    const silences = sections["Active silences"]!;
    expect(silences).toContain("where Host `&lt;!channel&gt;-nodeˋ1ˋ`");
    expect(silences).toContain(`by <@${LEAD}>`);
    expect(silences).toContain("_node rebuild &lt;!everyone&gt;_");
    expect(silences).toContain(`"action_id":"${ACTIONS.unsilence}","value":"${silenceId}"`);
    const saved = sections["Saved Falco exceptions"]!;
    expect(saved).toContain("`debug_images_home` on `Terminal shell in container`");
    expect(saved).toContain('container.image.repository = \\"registry.example.com/&lt;!here&gt;/debug\\"');
    exceptionId = /"action_id":"falco_tuning_withdraw","value":"(t[0-9a-f]{12})"/.exec(saved)![1]!;
    expect(allText(view)).not.toMatch(/<!(channel|here|everyone)>/);
    expect(view.blocks.length).toBeLessThanOrEqual(100);
  });

  it("refuses Unsilence and Withdraw on the Home tab to anyone outside SLACK_ALLOWED_RESPONDERS, by direct message", async () => {
    await h.slack!.openHome(STRANGER);
    const home = await waitFor(() => h.slack!.homes.get(STRANGER), "the stranger's Home tab");
    await h.slack!.clickInView(STRANGER, home.id, { actionId: ACTIONS.unsilence, value: silenceId });
    await h.slack!.clickInView(STRANGER, home.id, { actionId: TUNING_ACTIONS.withdraw, value: exceptionId });
    const refusals = await waitFor(() => (dms(STRANGER).length === 2 ? dms(STRANGER) : null), "two refusals");
    for (const text of refusals) expect(text).toContain("SLACK_ALLOWED_RESPONDERS");
    expect((await activeSilences()).map((s) => s.id)).toEqual([silenceId]);
    expect(await rulesFile()).toContain("debug_images_home");
  });

  it("lifts the silence from the Home tab: ended, its thread told, the clicker told, the tab republished without it", async () => {
    const home = h.slack!.homes.get(LEAD)!;
    const before = published(LEAD).length;
    expect(await h.slack!.clickInView(LEAD, home.id, { actionId: ACTIONS.unsilence, value: silenceId })).toBe(
      200,
    );
    await waitFor(() => published(LEAD).length > before, "the tab republished");
    expect(await activeSilences()).toEqual([]);
    const silences = homeSections(lastHome(LEAD))["Active silences"]!;
    expect(silences).toContain("No active silences: every alert is posted.");
    expect(silences).not.toContain(silenceId);
    expect(dms(LEAD).find((t) => t.startsWith("Lifted the silence on"))).toContain(
      "Host `&lt;!channel&gt;-nodeˋ1ˋ`",
    );
    const reply = await waitFor(
      () => threadOf(silencedTs).find((t) => t.includes("lifted the silence")),
      "the end reply in the silenced message's thread",
    );
    expect(reply).toMatch(
      new RegExp(`^:loud_sound: <@${LEAD}> lifted the silence on .*It held back 0 alerts\\.$`),
    );
    // Matching alerts are posted again.
    await posted(alertJson({ hostname: HOSTILE_HOST }));
  });

  it("withdraws the exception from the Home tab: gone from the rules file, recorded, the tab republished without it", async () => {
    const home = h.slack!.homes.get(LEAD)!;
    const before = published(LEAD).length;
    expect(
      await h.slack!.clickInView(LEAD, home.id, { actionId: TUNING_ACTIONS.withdraw, value: exceptionId }),
    ).toBe(200);
    await waitFor(() => published(LEAD).length > before, "the tab republished");
    expect(await rulesFile()).not.toContain("debug_images_home");
    const saved = homeSections(lastHome(LEAD))["Saved Falco exceptions"]!;
    expect(saved).toContain("No Falco exceptions are saved.");
    expect(saved).not.toContain(exceptionId);
    expect(dms(LEAD).some((t) => t.startsWith("Withdrew `debug_images_home`"))).toBe(true);
    await waitFor(
      () => threadOf(tunedTs).find((t) => t.includes("withdrew the Falco exception `debug_images_home`")),
      "the withdrawal in the thread",
    );
    // A matching alert is posted again.
    const again = alertJson({ image: HOSTILE_IMAGE });
    await posted(again);
    expect((await get(again.uuid)).delivery.status).toBe("posted");
  });
});
