import { readFileSync } from "node:fs";
import { WebClient } from "@slack/web-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { ACTIONS } from "../../blocks/alert-message.js";
import { TUNE_CALLBACKS, TUNING_ACTIONS, type TuneFormMeta, renderTuneModal } from "../../blocks/tune.js";
import type { ViewValues } from "../../src/preview/slack-requests.js";
import { offeredFields } from "../../src/tuning/exception.js";
import { BOT_TOKEN, CHANNEL, type Harness, startHarness } from "../../support/harness.js";
import { waitFor } from "../../support/redis.js";
import { conditionWithExceptions, type FalcoException, quoteItem } from "../helpers/falco-loader.js";
import { compileFilter, HAVE_SYSDIG, NO_SYSDIG_REASON, withKnownFields } from "../helpers/filter-compiler.js";
import { LocalGitHub } from "../helpers/local-github.js";

/*
 * Tune, end to end: the real web and worker processes on real Redis, Bolt's receiver with signed
 * requests from the local Slack, a local GitHub answering as its REST API does, and libsinsp's
 * filter compiler for the rules file that Falco would load.
 */

const shell = JSON.parse(
  readFileSync(new URL("../../examples/terminal-shell.json", import.meta.url), "utf8"),
) as {
  uuid?: string;
  hostname: string;
  output_fields: Record<string, unknown>;
};
const memfd = readFileSync(new URL("../../examples/memfd-create.json", import.meta.url), "utf8");

const TOKEN = "tune-test-ingest-token-0123456789";
const AUTH = { authorization: `Bearer ${TOKEN}` };
const GITHUB_TOKEN = "ghp_localtesttoken0123456789";
const REPO = "team/falco-config";
const RULES_PATH = "falco/tuning-rules.yaml";
const ALICE = "U0ALICE";
const MALLORY = "U0MALLORY";

let counter = 0;
/** A terminal-shell alert with its own uuid, on this host, in this image and namespace. */
function shellAlert(o: { host?: string; image?: string; ns?: string; pod?: string; rule?: string } = {}) {
  counter++;
  const uuid = `7e57${String(counter).padStart(4, "0")}-0000-4000-8000-${String(Date.now() % 1e12).padStart(12, "0")}`;
  return {
    uuid,
    body: JSON.stringify({
      ...shell,
      uuid,
      ...(o.rule ? { rule: o.rule } : {}),
      hostname: o.host ?? shell.hostname,
      output_fields: {
        ...shell.output_fields,
        "container.image.repository": o.image ?? "registry.example.com/shop/debug",
        "k8s.ns.name": o.ns ?? "shop",
        "k8s.pod.name": o.pod ?? `debug-${counter}`,
      },
    }),
  };
}

const allText = (x: unknown) => JSON.stringify(x) ?? "";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- walks the view JSON the app sent
type Json = any;

/** The form's inputs as Slack sends them, from the view's initial values with these changes. */
function formValues(
  view: Json,
  changes: Record<string, { include?: boolean; comp?: string; value?: string }>,
  name?: string,
): ViewValues {
  const meta = JSON.parse(view.private_metadata as string) as TuneFormMeta;
  const blocks = view.blocks as Json[];
  const byId = (id: string) => blocks.find((b) => b.block_id === id);
  const values: ViewValues = {
    name: { value: { type: "plain_text_input", value: name ?? byId("name").element.initial_value } },
  };
  meta.fields.forEach((field, i) => {
    const c = changes[field] ?? {};
    const include = c.include ?? (byId(`f${i}_use`).element.initial_options ?? []).length > 0;
    values[`f${i}_use`] = {
      value: { type: "checkboxes", selected_options: include ? [{ value: "include" }] : [] },
    };
    values[`f${i}_op`] = { value: { type: "static_select", selected_option: { value: c.comp ?? "=" } } };
    values[`f${i}_value`] = {
      value: { type: "plain_text_input", value: c.value ?? byId(`f${i}_value`).element.initial_value },
    };
  });
  return values;
}

/** Only the changed fields ticked. */
function only(view: Json, changes: Record<string, { comp?: string; value?: string }>, name?: string) {
  const meta = JSON.parse(view.private_metadata as string) as TuneFormMeta;
  const all = Object.fromEntries(meta.fields.map((f) => [f, { include: false }]));
  for (const [f, c] of Object.entries(changes)) all[f] = { include: true, ...c };
  return formValues(view, all, name);
}

describe("Tune: a Falco exception from an alert, replayed, saved, served, proposed, withdrawn", () => {
  let h: Harness;
  let github: LocalGitHub;
  const existingFile = "# the team's tuning file before the bot proposed anything\n[]\n";

  beforeAll(async () => {
    github = new LocalGitHub(REPO, GITHUB_TOKEN, "main", { [RULES_PATH]: existingFile });
    await github.start();
    h = await startHarness("tune", {
      env: {
        INGEST_TOKEN: TOKEN,
        SLACK_ALLOWED_RESPONDERS: ALICE,
        GITHUB_TOKEN,
        TUNING_REPO: REPO,
        GITHUB_API_URL: github.url,
      },
    });
  });
  afterAll(async () => {
    await h?.stop();
    await github?.stop();
  });

  const post = async (body: string) => {
    const res = await h.postAlerts(body, { "content-type": "application/json", ...AUTH });
    expect(res.status).toBe(202);
  };
  const stored = async (uuid: string): Promise<Json> => (await h.getAlert(uuid, AUTH)).json();
  const posted = (uuid: string) =>
    h
      .slack!.callsOf("chat.postMessage")
      .some((c) => !c.args.thread_ts && allText(c.args.blocks).includes(uuid));
  async function postAndWait(body: string, uuid: string): Promise<string> {
    await post(body);
    return waitFor(
      async () => (await stored(uuid)).slack?.ts as string | undefined,
      `the message of ${uuid}`,
    );
  }
  const rulesFile = async () => {
    const res = await fetch(`${h.base}/tuning/falco-rules.yaml`, { headers: AUTH });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/yaml/);
    return res.text();
  };
  const threadOf = (ts: string) =>
    h
      .slack!.channels.get(CHANNEL)!
      .messages.find((m) => m.ts === ts)!
      .replies.map((r) => r.text);
  async function openTune(uuid: string, ts: string, user = ALICE): Promise<Json> {
    expect((await h.click(ACTIONS.tune, uuid, user, ts)).status).toBe(200);
    return waitFor(() => h.slack!.openModal(user)?.view, "the Tune modal");
  }
  async function replayed(user = ALICE): Promise<Json> {
    return waitFor(() => {
      const v = h.slack!.openModal(user)?.view as Json;
      return v?.callback_id === TUNE_CALLBACKS.save && v.private_metadata ? v : null;
    }, "the replay view");
  }

  let savedId = "";
  let sourceTs = "";

  it("replays the exception over the rule's stored alerts, saves it, and holds matching alerts back", async () => {
    // Five alerts of the rule: three from the debug image in "shop" (two hosts), two that differ.
    const hidden = [
      shellAlert({ host: "node-a", pod: "debug-1" }),
      shellAlert({ host: "node-a", pod: "debug-2" }),
      shellAlert({ host: "node-b", pod: "debug-3" }),
    ];
    const kept = [shellAlert({ image: "registry.example.com/shop/web" }), shellAlert({ ns: "payments" })];
    const otherRule = JSON.parse(memfd) as Record<string, unknown>;
    for (const a of [...hidden, ...kept]) await postAndWait(a.body, a.uuid);
    await post(JSON.stringify({ ...otherRule, uuid: "7e57ffff-0000-4000-8000-000000000001" }));
    sourceTs = (await stored(hidden[0]!.uuid)).slack.ts;

    const form = await openTune(hidden[0]!.uuid, sourceTs);
    expect(form.callback_id).toBe(TUNE_CALLBACKS.replay);
    const meta = JSON.parse(form.private_metadata as string) as TuneFormMeta;
    // The knowledge entry's fields first (ticked), then the alert's stable fields; never what the
    // process chooses itself.
    expect(meta.fields.slice(0, 2)).toEqual(["container.image.repository", "k8s.ns.name"]);
    expect(meta.fields).toEqual(expect.arrayContaining(["proc.exepath", "user.name", "container.id"]));
    for (const chosen of ["proc.cmdline", "proc.name", "proc.pname", "proc.exe", "proc.args"])
      expect(meta.fields).not.toContain(chosen);
    const ticked = (form.blocks as Json[])
      .filter((b) => b.element?.type === "checkboxes" && (b.element.initial_options ?? []).length > 0)
      .map((b) => b.label.text);
    expect(ticked).toEqual(["container.image.repository", "k8s.ns.name"]);

    const submitted = await h.slack!.submitView(ALICE, formValues(form, {}, "debug_image_shells"));
    expect(submitted).toMatchObject({ status: 200, action: "updated" });
    const replay = await replayed();
    const text = allText(replay.blocks);
    expect(text).toContain("would have hidden *3* of the rule's *5* stored alerts");
    expect(text).toContain("still let *2* through");
    expect(text).toContain("`node-a` (2), `node-b` (1)");
    expect(text).toContain("`shop/debug-1` (1)");
    expect(text).toContain(
      'container.image.repository = \\"registry.example.com/shop/debug\\" and k8s.ns.name = \\"shop\\"',
    );
    for (const a of hidden) expect(text).toContain(a.uuid);
    for (const a of kept) expect(text).not.toContain(a.uuid);

    expect(await h.slack!.submitView(ALICE, {})).toMatchObject({ action: "cleared" });
    expect(h.slack!.openModal(ALICE)).toBeUndefined();

    // Saved: the rules file carries it, the thread records it, the person is told.
    const file = parseYaml(await rulesFile()) as Json[];
    expect(file).toEqual([
      {
        rule: "Terminal shell in container",
        exceptions: [
          {
            name: "debug_image_shells",
            fields: ["container.image.repository", "k8s.ns.name"],
            comps: ["=", "="],
            values: [['"registry.example.com/shop/debug"', '"shop"']],
          },
        ],
        override: { exceptions: "append" },
      },
    ]);
    await waitFor(
      () => threadOf(sourceTs).find((t) => t.includes("added the Falco exception `debug_image_shells`")),
      "the thread's record of the saving",
    );
    const list = await h.command("tuning");
    expect(list.status).toBe(200);
    const answer = await waitFor(
      () => h.slack!.responses.find((r) => r.url === list.responseUrl),
      "the /falco tuning answer",
    );
    expect(allText(answer.body)).toContain("debug_image_shells");
    savedId = /"action_id":"falco_tuning_withdraw","value":"(t[0-9a-f]{12})"/.exec(allText(answer.body))![1]!;

    // A new matching alert is stored as tuned and not posted; a new other one is posted.
    const matching = shellAlert({ host: "node-c" });
    const other = shellAlert({ image: "registry.example.com/shop/web" });
    await post(matching.body);
    await postAndWait(other.body, other.uuid);
    const held = await stored(matching.uuid);
    expect(held.delivery).toMatchObject({ status: "tuned", heldBy: savedId });
    expect(posted(matching.uuid)).toBe(false);
  });

  it("proposes the rules file as a pull request whose description gives the replay's figures", async () => {
    const pull = await waitFor(() => github.pulls[0], "the pull request");
    expect(pull).toMatchObject({
      number: 1,
      base: "main",
      head: `falco-chatops/tuning-${savedId}`,
      title: "Falco exception debug_image_shells for Terminal shell in container",
    });
    expect(pull.body).toContain("it would have hidden **3** and let **2** through");
    expect(pull.body).toContain("`node-a` (2), `node-b` (1)");
    // The file on the branch is the one served, written over the existing file with its sha.
    expect(github.file(pull.head, RULES_PATH)?.content).toBe(await rulesFile());
    expect(github.file("main", RULES_PATH)?.content).toBe(existingFile);
    const put = github.requests.find((r) => r.method === "PUT")!;
    expect(put.body).toMatchObject({ branch: pull.head, sha: github.file("main", RULES_PATH)!.sha });
    expect(github.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      `GET /repos/${REPO}/git/ref/heads/main`,
      `POST /repos/${REPO}/git/refs`,
      `GET /repos/${REPO}/contents/${RULES_PATH}`,
      `PUT /repos/${REPO}/contents/${RULES_PATH}`,
      `POST /repos/${REPO}/pulls`,
    ]);
    for (const r of github.requests)
      expect(r).toMatchObject({
        authorization: `Bearer ${GITHUB_TOKEN}`,
        accept: "application/vnd.github+json",
        apiVersion: "2022-11-28",
      });
    await waitFor(
      () =>
        threadOf(sourceTs).find((t) => t.includes(`<https://github.example/${REPO}/pull/1|pull request #1>`)),
      "the pull request's link in the thread",
    );
  });

  it("refuses Tune, its form and Withdraw to people outside SLACK_ALLOWED_RESPONDERS", async () => {
    const a = shellAlert({ image: "registry.example.com/other" });
    const ts = await postAndWait(a.body, a.uuid);
    expect((await h.click(ACTIONS.tune, a.uuid, MALLORY, ts)).status).toBe(200);
    const refusal = await waitFor(
      () => h.slack!.channels.get(CHANNEL)!.ephemerals.find((e) => e.user === MALLORY),
      "the refusal",
    );
    expect(refusal.text).toContain("SLACK_ALLOWED_RESPONDERS");
    expect(h.slack!.openModal(MALLORY)).toBeUndefined();

    // A form opened for her anyway (say, before she left the group) is refused beside its inputs.
    const bot = new WebClient(BOT_TOKEN, { slackApiUrl: h.slack!.apiUrl });
    const got = (await stored(a.uuid)) as Json;
    const alert = {
      ...got,
      outputFields: got.outputFields,
      uuidGenerated: false,
      timeDerivedFrom: "alert",
      repairs: [],
    };
    const view = renderTuneModal({
      alert,
      offered: offeredFields(alert, h.kb.byRule.get(alert.rule)),
      name: "mallory",
    });
    await bot.views.open({ trigger_id: h.slack!.triggerFor(MALLORY), view: view as never });
    const before = await rulesFile();
    const answer = await h.slack!.submitView(MALLORY, formValues(h.slack!.openModal(MALLORY)!.view, {}));
    expect(answer).toMatchObject({
      action: "errors",
      errors: { name: expect.stringContaining("SLACK_ALLOWED_RESPONDERS") },
    });
    expect(await rulesFile()).toBe(before);
    h.slack!.closeModal(MALLORY);

    expect((await h.click(TUNING_ACTIONS.withdraw, savedId, MALLORY, ts)).status).toBe(200);
    await waitFor(
      () => h.slack!.channels.get(CHANNEL)!.ephemerals.filter((e) => e.user === MALLORY).length >= 2,
      "the second refusal",
    );
    expect(await rulesFile()).toBe(before);
  });

  it("answers bad input in the form itself and changes nothing", async () => {
    const a = shellAlert({ image: "registry.example.com/shop/tools" });
    const ts = await postAndWait(a.body, a.uuid);
    const form = await openTune(a.uuid, ts);
    const fields = (JSON.parse(form.private_metadata as string) as TuneFormMeta).fields;
    const row = (f: string) => `f${fields.indexOf(f)}_value`;
    const before = await rulesFile();

    const hostile = await h.slack!.submitView(
      ALICE,
      only(
        form,
        {
          "container.image.repository": { value: "x)or(proc.pid>0" },
          "user.uid": { value: "root" },
          "proc.exepath": { comp: "in", value: "/bin/sh, it's" },
          "container.id": { comp: "startswith", value: "abc\\" },
        },
        "bad name",
      ),
    );
    expect(hostile.action).toBe("errors");
    const errors = (hostile as { errors: Record<string, string> }).errors;
    expect(errors.name).toMatch(/letter, then letters, digits or underscores/);
    expect(errors[row("container.image.repository")]).toMatch(
      /cannot be one Falco string literal: it contains a word \("or"\)/,
    );
    expect(errors[row("user.uid")]).toMatch(/user\.uid is a number: "root" is not one/);
    expect(errors[row("proc.exepath")]).toMatch(/single quote/);
    expect(errors[row("container.id")]).toMatch(/ends with a backslash/);

    const none = await h.slack!.submitView(ALICE, only(form, {}, "fine_name"));
    expect(none).toMatchObject({
      action: "errors",
      errors: { f0_use: expect.stringMatching(/Tick at least one field/) },
    });

    const wrongOp = await h.slack!.submitView(
      ALICE,
      only(form, { "user.uid": { comp: "startswith", value: "0" } }, "fine_name"),
    );
    expect((wrongOp as { errors: Record<string, string> }).errors[row("user.uid")]).toMatch(
      /cannot be compared with startswith/,
    );

    const taken = await h.slack!.submitView(
      ALICE,
      only(form, { "k8s.ns.name": { value: "shop" } }, "debug_image_shells"),
    );
    expect((taken as { errors: Record<string, string> }).errors.name).toMatch(
      /already has a saved exception/,
    );
    expect(await rulesFile()).toBe(before);
    h.slack!.closeModal(ALICE);
  });

  it("tells the person privately when Slack does not open the form", async () => {
    const a = shellAlert({ image: "registry.example.com/shop/late" });
    const ts = await postAndWait(a.body, a.uuid);
    h.slack!.script("views.open", { error: "expired_trigger_id" });
    expect((await h.click(ACTIONS.tune, a.uuid, ALICE, ts)).status).toBe(200);
    const told = await waitFor(
      () =>
        h
          .slack!.channels.get(CHANNEL)!
          .ephemerals.find((e) => e.user === ALICE && e.text.includes("Slack did not open the form")),
      "the private notice",
    );
    expect(told.text).toContain("click the button again");
    expect(h.slack!.openModal(ALICE)).toBeUndefined();
  });

  it("keeps the exception when GitHub refuses the pull request, and says why privately", async () => {
    const a = shellAlert({ image: "registry.example.com/shop/batch" });
    const ts = await postAndWait(a.body, a.uuid);
    const form = await openTune(a.uuid, ts);
    await h.slack!.submitView(
      ALICE,
      only(
        form,
        { "container.image.repository": { comp: "startswith", value: "registry.example.com/shop/ba" } },
        "batch_images",
      ),
    );
    await replayed();
    github.failNext(401, "Bad credentials");
    expect(await h.slack!.submitView(ALICE, {})).toMatchObject({ action: "cleared" });
    const dm = await waitFor(
      () =>
        h
          .slack!.callsOf("chat.postMessage")
          .find((c) => c.args.channel === ALICE && String(c.args.text).includes("no pull request")),
      "the private notice about GitHub",
    );
    expect(String(dm.args.text)).toContain("GitHub refused GITHUB_TOKEN (401)");
    expect(await rulesFile()).toContain("batch_images");
    expect(github.pulls).toHaveLength(1);
  });

  it("withdraws an exception from /falco tuning: posted again, gone from the file, recorded in the thread", async () => {
    expect((await h.click(TUNING_ACTIONS.withdraw, savedId, ALICE, sourceTs)).status).toBe(200);
    await waitFor(
      () => threadOf(sourceTs).find((t) => t.includes("withdrew the Falco exception `debug_image_shells`")),
      "the thread's record of the withdrawal",
    );
    expect(await rulesFile()).not.toContain("debug_image_shells");
    const again = shellAlert({ host: "node-d" });
    await postAndWait(again.body, again.uuid);
    expect((await stored(again.uuid)).delivery.status).toBe("posted");
    const removal = await waitFor(() => github.pulls[1], "the withdrawal's pull request");
    expect(removal.title).toBe("Withdraw Falco exception debug_image_shells for Terminal shell in container");
  });

  it("serves the rules file only with the token", async () => {
    const res = await fetch(`${h.base}/tuning/falco-rules.yaml`);
    expect(res.status).toBe(401);
  });

  describe.skipIf(!HAVE_SYSDIG)(
    `the served file in libsinsp's filter compiler (${HAVE_SYSDIG ? "sysdig" : NO_SYSDIG_REASON})`,
    () => {
      /** Values an attacker can give an image or a pod, each offered to Tune as it is. */
      const HOSTILE = [
        'a"b',
        "back\\slash",
        "/tmp/a b",
        "a,b",
        "shell_binaries",
        "x)or(proc.pid>0",
        "x) or (proc.name=bash",
        "it's",
        "line\nbreak",
        "ünïcødé",
        '\\"escaped quote',
      ];

      it("turns every saved exception into a condition that compiles, each value one literal; the rest are refused in the form", async () => {
        const outcome: Record<string, string> = {};
        for (const [i, value] of HOSTILE.entries()) {
          const a = shellAlert({ image: `registry.example.com/hostile/${i}` });
          const ts = await postAndWait(a.body, a.uuid);
          const form = await openTune(a.uuid, ts);
          const comp = i % 3 === 0 ? "in" : i % 3 === 1 ? "startswith" : "=";
          const typed = comp === "in" ? `${value}, plain` : value;
          const answer = await h.slack!.submitView(
            ALICE,
            only(
              form,
              { "container.image.repository": { comp, value: typed }, "k8s.ns.name": {} },
              `hostile_${i}`,
            ),
          );
          if (answer.action === "errors") {
            outcome[value] = `refused: ${Object.values(answer.errors).join(" ")}`;
            h.slack!.closeModal(ALICE);
            continue;
          }
          await replayed();
          expect(await h.slack!.submitView(ALICE, {})).toMatchObject({ action: "cleared" });
          outcome[value] = "saved";
        }
        expect(outcome).toMatchObject({
          'a"b': "saved",
          "back\\slash": "saved",
          "/tmp/a b": "saved",
          shell_binaries: "saved",
          "line\nbreak": "saved",
          ünïcødé: "saved",
          '\\"escaped quote': "saved",
        });
        expect(outcome["x)or(proc.pid>0"]).toMatch(/^refused: .*one Falco string literal/);
        expect(outcome["x) or (proc.name=bash"]).toMatch(/^refused: .*one Falco string literal/);
        expect(outcome["it's"]).toMatch(/^refused: .*single quote/);
        // "a,b" is a list of two for `in` (comma-separated), one value for the others.
        expect(outcome["a,b"]).toBe("saved");

        const file = parseYaml(await rulesFile()) as { rule: string; exceptions: FalcoException[] }[];
        expect(file.map((e) => e.rule)).toEqual(["Terminal shell in container"]);
        const exceptions = file[0]!.exceptions.filter((e) => String((e as Json).name).startsWith("hostile_"));
        expect(exceptions).toHaveLength(Object.values(outcome).filter((o) => o === "saved").length);
        for (const ex of exceptions) {
          for (const v of (ex.values as unknown[][]).flat(2) as string[]) {
            expect(v.startsWith('"') && v.endsWith('"')).toBe(true);
            expect(quoteItem(v)).toBe(v);
            // The literal ends exactly where written: a stray parenthesis after it is the first error.
            const probe = `fd.name = ${v} )`;
            expect(await compileFilter(probe)).toMatchObject({
              ok: false,
              position: Buffer.byteLength(probe),
            });
          }
          const condition = withKnownFields(conditionWithExceptions("evt.type = execve", [ex]));
          expect({ condition, result: await compileFilter(condition) }).toEqual({
            condition,
            result: { ok: true },
          });
        }
        // All of them at once, as Falco appends them to the rule.
        const all = withKnownFields(conditionWithExceptions("evt.type = execve", file[0]!.exceptions));
        expect(await compileFilter(all)).toEqual({ ok: true });
      });
    },
  );
});
