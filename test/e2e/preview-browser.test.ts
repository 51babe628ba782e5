import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exited, type Proc, ROOT, run } from "../../support/processes.js";
import { dropPrefix, TEST_REDIS_URL, uniquePrefix, waitFor } from "../../support/redis.js";

/*
 * The preview page, end to end, as a newcomer uses it: `npm start` with no Slack token, the page in
 * a real headless Chromium (Debian's package; .ci/run installs it), the demo button, and the
 * message buttons and /falco command running the app's real Bolt listeners. A screenshot is kept
 * in test-artifacts/.
 */

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const HAVE_CHROMIUM = existsSync(CHROMIUM);
if (!HAVE_CHROMIUM)
  console.warn(
    `preview browser test skipped: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`,
  );

const ARTIFACTS = resolve(ROOT, "test-artifacts");
const TOKEN = "preview-test-token-0123456789";
const AUTH = { authorization: `Bearer ${TOKEN}` };

const shellSample = JSON.parse(
  readFileSync(new URL("../../examples/terminal-shell.json", import.meta.url), "utf8"),
) as { output_fields: Record<string, unknown> } & Record<string, unknown>;

let sampleSerial = 0;
/** The terminal-shell sample with a fresh uuid, this host and these output fields changed. */
function shellAlert(hostname: string, fields: Record<string, unknown> = {}): { uuid: string; body: string } {
  const uuid = `b7005e00-0000-4000-8000-${String(++sampleSerial).padStart(12, "0")}`;
  return {
    uuid,
    body: JSON.stringify({
      ...shellSample,
      uuid,
      hostname,
      time: new Date().toISOString(),
      output_fields: { ...shellSample.output_fields, ...fields },
    }),
  };
}

describe.skipIf(!HAVE_CHROMIUM)("the /preview page in headless Chromium (skipped without Chromium)", () => {
  const prefix = uniquePrefix("preview-page");
  let app: Proc;
  let base = "";
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    app = run("main/all-in-one.js", {
      PORT: "0",
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: prefix,
      INGEST_TOKEN: TOKEN,
      GROUP_UPDATE_SECONDS: "1",
      // The tests send one rule from several hosts, each to act on its own message: no fleet roll-up.
      FLEET_ROLLUP_GROUPS: "0",
    });
    base = `http://127.0.0.1:${await waitFor(app.port, "the listening port")}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    app?.child.kill("SIGTERM");
    if (app) await exited(app.child);
    await dropPrefix(prefix);
  });

  const message = (rule: string) => page.locator("section#ch-CPREVIEWALERTS article.msg", { hasText: rule });
  const alertJson = async (uuid: string) =>
    (await (
      await fetch(`${base}/alerts/${uuid}`, { headers: { authorization: `Bearer ${TOKEN}` } })
    ).json()) as {
      state: string;
      delivery: { status: string; heldBy?: string };
      slack: { ts: string } | null;
      acknowledgedBy: string | null;
      escalatedBy: string | null;
      ownedBy: string | null;
      group: { occurrences: number } | null;
    };

  it("refuses the page without the ingest token", async () => {
    expect((await fetch(`${base}/preview`)).status).toBe(401);
    expect((await fetch(`${base}/preview/state`)).status).toBe(401);
  });

  it("shows the demo's alerts, and its buttons and /falco run the real handlers, live", async () => {
    const res = await page.goto(`${base}/preview?token=${TOKEN}`);
    expect(res?.headers()["content-security-policy"]).toContain("script-src 'self'");
    await page.getByRole("button", { name: "Send sample alerts" }).click();

    const memfd = message("Fileless execution via memfd_create");
    await memfd.waitFor({ timeout: 15_000 });
    await message("Terminal shell in container").first().waitFor({ timeout: 15_000 });
    await message("Console Root Login Without MFA").waitFor({ timeout: 15_000 });
    expect(await message("Console Root Login Without MFA").innerText()).toContain("region us-east-1");
    // The storm of 50 becomes one message whose counter the worker updates in place.
    await page.getByText("50 occurrences").waitFor({ timeout: 15_000 });
    expect(
      await page.locator("article.msg:not(.reply)", { hasText: "Terminal shell in container" }).count(),
    ).toBe(2);

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: resolve(ARTIFACTS, "preview-messages.png") });

    await memfd.getByRole("button", { name: "Show mitigation steps" }).click();
    await memfd.getByText("How to investigate (read-only)").waitFor();
    await memfd.getByRole("button", { name: "Hide mitigation steps" }).waitFor();

    const uuid = (await memfd.getByRole("button", { name: "Acknowledge" }).getAttribute("data-value"))!;
    await memfd.getByRole("button", { name: "Acknowledge" }).click();
    await memfd.getByText("Acknowledged by").waitFor();
    expect(await memfd.getByRole("button", { name: "Acknowledge" }).count()).toBe(0);
    expect(await alertJson(uuid)).toMatchObject({ state: "acknowledged", acknowledgedBy: "UPREVIEW01" });

    await memfd.getByRole("button", { name: "Escalate" }).click();
    await page.locator("section#ch-CPREVIEWESCAL article.msg").waitFor();
    expect(await page.locator("section#ch-CPREVIEWESCAL").innerText()).toContain("escalated by");
    expect((await alertJson(uuid)).escalatedBy).toBe("UPREVIEW01");

    await page.getByLabel("/falco").fill(uuid.slice(0, 8));
    await page.getByRole("button", { name: "Send", exact: true }).click();
    const answer = page.locator(".ephemeral", { hasText: "Fileless execution via memfd_create" });
    await answer.waitFor();
    // Posted to the preview workspace, which has no Slack link: the answer must not say "not posted".
    expect(await answer.innerText()).toContain("Posted; no link to the message is available.");

    await page.getByRole("button", { name: "Full report" }).first().click();
    await memfd.locator("details.thread").waitFor();

    await page.screenshot({ path: resolve(ARTIFACTS, "preview-after-clicks.png"), fullPage: true });
  }, 60_000);

  it("renders the Assign… modal as Slack would, shows errors under its input, and submits it to the app", async () => {
    const alert = message("Console Root Login Without MFA");
    const uuid = (await alert.getByRole("button", { name: "Assign…" }).getAttribute("data-value"))!;
    await alert.getByRole("button", { name: "Assign…" }).click();
    const dialog = page.getByRole("dialog", { name: "Assign alert" });
    await dialog.waitFor();
    const owner = dialog.getByLabel("Owner");
    expect(await owner.locator("option").allInnerTexts()).toEqual(
      expect.arrayContaining(["you (preview user)", "Alex Rivera", "falco (bot)"]),
    );

    // Nothing picked: Slack's client asks for it without sending anything.
    await dialog.getByRole("button", { name: "Assign" }).click();
    await dialog.getByText("Please complete this required field.").waitFor();
    expect((await alertJson(uuid)).ownedBy ?? null).toBeNull();

    // The app's own error, from its answer to the submission, under the input it names.
    await owner.selectOption({ label: "falco (bot)" });
    await dialog.getByRole("button", { name: "Assign" }).click();
    await dialog
      .locator(".bk-input .bk-error", { hasText: "The bot cannot own an alert. Pick a person." })
      .waitFor();
    await page.screenshot({ path: resolve(ARTIFACTS, "preview-modal-error.png") });
    // As in Slack, the form keeps what was entered beside the error.
    expect(await owner.inputValue()).toBe("U0LOCALBOT");
    expect((await alertJson(uuid)).ownedBy ?? null).toBeNull();

    await dialog.getByLabel("Owner").selectOption({ label: "Alex Rivera" });
    await dialog.getByRole("button", { name: "Assign" }).click();
    await dialog.waitFor({ state: "detached" });
    await alert.getByText("Owned by @Alex Rivera").waitFor();
    expect((await alertJson(uuid)).ownedBy).toBe("UPREVIEWALEX");

    // Cancel closes without a word to the app.
    await alert.getByRole("button", { name: "Assign…" }).click();
    await dialog.waitFor();
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await dialog.waitFor({ state: "detached" });
    expect((await alertJson(uuid)).ownedBy).toBe("UPREVIEWALEX");
    await page.screenshot({ path: resolve(ARTIFACTS, "preview-assigned.png"), fullPage: true });
  }, 60_000);

  it("shows the Home tab the app publishes, whose buttons act and refresh it", async () => {
    await page.getByRole("tab", { name: "Home" }).click();
    const home = page.locator("#home .home");
    await home.waitFor();
    expect(await home.innerText()).toContain("Console Root Login Without MFA");
    const memfdRow = home.locator(".bk-section", { hasText: "Fileless execution via memfd_create" }).first();
    await memfdRow.waitFor();
    const uuid = (await home
      .locator(".bk-actions button", { hasText: "Take it" })
      .first()
      .getAttribute("data-value"))!;
    await home.locator(`.bk-actions button[data-value="${uuid}"]`, { hasText: "Take it" }).first().click();
    await waitFor(async () => (await alertJson(uuid)).ownedBy === "UPREVIEW01", "taken from the Home tab");
    // Republished: the alert is now under Yours, with no Take it for its owner.
    await page.locator("#home .bk-section", { hasText: "Owned by @you (preview user)" }).first().waitFor();
    expect(
      await page.locator(`#home .bk-actions button[data-value="${uuid}"]`, { hasText: "Take it" }).count(),
    ).toBe(0);
    await page.screenshot({ path: resolve(ARTIFACTS, "preview-home.png"), fullPage: true });
    await page.getByRole("tab", { name: "Channels" }).click();
    await page.locator("#workspace").waitFor({ state: "visible" });
  }, 60_000);

  it("shows hostile alert text as text: no markup, no pings, no links", async () => {
    const hostile = `<img src=x onerror="document.title='pwned'"> <!channel> <https://evil.example|log in>`;
    const res = await fetch(`${base}/falco`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({
        rule: "Terminal shell in container",
        priority: "Notice",
        source: "syscall",
        time: new Date().toISOString(),
        output: hostile,
        hostname: "hostile-node",
        output_fields: { "proc.cmdline": hostile, "proc.name": "bash", "container.id": "abc123abc123" },
      }),
    });
    expect(res.status).toBe(202);
    const shown = page.locator("article.msg", { hasText: "hostile-node" });
    await shown.first().waitFor({ timeout: 15_000 });
    expect(await page.locator("main img").count()).toBe(0);
    expect(await page.locator('main a[href^="https://evil"]').count()).toBe(0);
    expect(await shown.first().innerText()).toContain("<img src=x");
    expect(await page.title()).toBe("falco-chatops preview");
  }, 30_000);

  it("resolves an alert through the Resolve form, which asks for the verdict as Slack's client does", async () => {
    const root = message("Console Root Login Without MFA");
    await root.waitFor({ timeout: 15_000 });
    const uuid = (await root.getByRole("button", { name: "Resolve" }).getAttribute("data-value"))!;
    await root.getByRole("button", { name: "Resolve" }).click();
    const form = page.getByRole("dialog", { name: "Resolve alert" });
    await form.waitFor();
    // No verdict: the verdict is a required input, which Slack's client asks for without sending.
    await form.getByRole("button", { name: "Resolve" }).click();
    await form.getByText("Please complete this required field.").waitFor();
    expect((await alertJson(uuid)).state).not.toBe("resolved");

    await form.getByLabel("Expected activity").check();
    await form.locator("textarea").fill("break-glass drill <b>planned</b>");
    await form.getByRole("button", { name: "Resolve" }).click();
    await form.waitFor({ state: "detached" });
    await root.getByText("Resolved as expected activity by").waitFor();
    await root.getByRole("button", { name: "Reopen" }).waitFor();
    expect(await root.getByRole("button", { name: "Tune" }).count()).toBe(1);
    expect(await root.getByRole("button", { name: "Acknowledge" }).count()).toBe(0);
    expect(await root.locator("details.thread").innerText()).toContain(
      "resolved it as expected activity: break-glass drill <b>planned</b>",
    );
    expect(await alertJson(uuid)).toMatchObject({ state: "resolved" });
    await page.screenshot({ path: resolve(ARTIFACTS, "preview-resolved.png"), fullPage: true });

    await root.getByRole("button", { name: "Reopen" }).click();
    await root.getByRole("button", { name: "Acknowledge" }).waitFor();
    expect((await alertJson(uuid)).state).toBe("new");
  }, 30_000);

  const sendAlert = async (alert: { body: string }) => {
    const res = await fetch(`${base}/falco`, {
      method: "POST",
      headers: { "content-type": "application/json", ...AUTH },
      body: alert.body,
    });
    expect(res.status).toBe(202);
  };
  const byUuid = (uuid: string) => page.locator(`article.msg:has(button[data-value="${uuid}"])`);

  it("silences an alert through the Silence form: the message says so, and a matching alert is not posted", async () => {
    const first = shellAlert("browser-silence-node", { "k8s.pod.name": "shop-web-7d9c8b6f5-aaaaa" });
    await sendAlert(first);
    const msg = byUuid(first.uuid).first();
    await msg.waitFor({ timeout: 15_000 });
    await msg.getByRole("button", { name: "Silence" }).click();
    const form = page.getByRole("dialog", { name: "Silence alerts" });
    await form.waitFor();
    // The scope offered from the alert's own values, all ticked; the first duration chosen.
    expect(await form.getByLabel("Host: browser-silence-node").isChecked()).toBe(true);
    expect(await form.getByLabel("Namespace: shop").isChecked()).toBe(true);
    expect(await form.getByLabel("1 hour").isChecked()).toBe(true);

    // The reason is required: Slack's client asks for it without sending anything.
    await form.getByRole("button", { name: "Silence" }).click();
    await form.getByText("Please complete this required field.").waitFor();
    const none = (await (await fetch(`${base}/silences`, { headers: AUTH })).json()) as {
      silences: unknown[];
    };
    expect(none.silences).toEqual([]);

    await form.getByLabel("4 hours").check();
    await form.getByLabel("Reason").fill("node rebuild <b>today</b>");
    await form.getByRole("button", { name: "Silence" }).click();
    await form.waitFor({ state: "detached" });
    await msg.getByText("Silenced until").waitFor();
    await msg.getByRole("button", { name: "Unsilence" }).waitFor();
    expect(await msg.locator("details.thread").innerText()).toContain("node rebuild <b>today</b>");
    const { silences } = (await (await fetch(`${base}/silences`, { headers: AUTH })).json()) as {
      silences: { id: string; match: Record<string, string>; createdBy: string }[];
    };
    expect(silences).toHaveLength(1);
    expect(silences[0]).toMatchObject({
      match: { hostname: "browser-silence-node" },
      createdBy: "UPREVIEW01",
    });

    // The same workload's next alert, from another pod: stored as silenced, no new message on the page.
    const next = shellAlert("browser-silence-node", { "k8s.pod.name": "shop-web-7d9c8b6f5-bbbbb" });
    await sendAlert(next);
    await waitFor(async () => (await alertJson(next.uuid)).delivery?.status === "silenced", "held back");
    expect(await alertJson(next.uuid)).toMatchObject({
      delivery: { status: "silenced", heldBy: silences[0]!.id },
      slack: null,
    });
    // Another host's alert is posted meanwhile, so the page has caught up with the worker.
    const other = shellAlert("browser-other-node");
    await sendAlert(other);
    await byUuid(other.uuid).first().waitFor({ timeout: 15_000 });
    expect(await byUuid(next.uuid).count()).toBe(0);
    expect(await page.locator("#workspace").innerText()).not.toContain(next.uuid);
    await page.screenshot({ path: resolve(ARTIFACTS, "preview-silenced.png"), fullPage: true });
  }, 60_000);

  it("lists the silence on the Home tab, whose Unsilence lifts it and refreshes the tab", async () => {
    await page.getByRole("tab", { name: "Home" }).click();
    // The silence's row (the alert it was made from is listed under New as well).
    const row = page.locator("#home .bk-section", { hasText: "node rebuild <b>today</b>" });
    await row.waitFor();
    expect(await row.innerText()).toContain("where Host browser-silence-node");
    await page.locator("#home .bk-actions button", { hasText: "Unsilence" }).first().click();
    await page.locator("#home", { hasText: "No active silences: every alert is posted." }).waitFor();
    expect(await page.locator("#home .bk-section", { hasText: "node rebuild" }).count()).toBe(0);
    const { silences } = (await (await fetch(`${base}/silences`, { headers: AUTH })).json()) as {
      silences: unknown[];
    };
    expect(silences).toEqual([]);
    await page.getByRole("tab", { name: "Channels" }).click();
    await page.locator("#workspace").waitFor({ state: "visible" });
    // The silenced message's thread says it was lifted, and how many alerts it held back.
    await page
      .locator("article.msg details.thread", { hasText: "lifted the silence" })
      .first()
      .waitFor({ timeout: 15_000 });
  }, 30_000);

  it("tunes an alert: resolved as a false positive, Tune replays the exception, Save puts it in the rules file", async () => {
    const image = "registry.example.com/shop/browser-debug";
    const alert = shellAlert("browser-tune-node", {
      "container.image.repository": image,
      "k8s.ns.name": "browser-ns",
    });
    await sendAlert(alert);
    const msg = byUuid(alert.uuid).first();
    await msg.waitFor({ timeout: 15_000 });
    expect(await msg.getByRole("button", { name: "Tune" }).count()).toBe(0);

    await msg.getByRole("button", { name: "Resolve" }).click();
    const resolve_ = page.getByRole("dialog", { name: "Resolve alert" });
    await resolve_.waitFor();
    await resolve_.getByLabel("False positive").check();
    await resolve_.getByRole("button", { name: "Resolve" }).click();
    await resolve_.waitFor({ state: "detached" });
    await msg.getByText("Resolved as false positive by").waitFor();

    await msg.getByRole("button", { name: "Tune" }).click();
    const tune = page.getByRole("dialog", { name: "Tune this rule" });
    await tune.waitFor();
    // The knowledge entry's fields, ticked, with the alert's values; the name is editable.
    expect(await tune.getByLabel("Include container.image.repository").isChecked()).toBe(true);
    expect(await tune.getByLabel("container.image.repository: value").inputValue()).toBe(image);
    await tune.getByLabel("Exception name").fill("browser_debug_image");
    await tune.getByRole("button", { name: "Replay" }).click();

    // The replay: what it would have hidden, before anything is saved.
    await tune.getByRole("button", { name: "Save" }).waitFor({ timeout: 15_000 });
    const replay = await tune.innerText();
    expect(replay).toMatch(/It would have hidden 1 of the rule's \d+ stored alerts/);
    expect(replay).toContain(alert.uuid);
    const before = await (await fetch(`${base}/tuning/falco-rules.yaml`, { headers: AUTH })).text();
    expect(before).not.toContain("browser_debug_image");
    await page.screenshot({ path: resolve(ARTIFACTS, "preview-tune-replay.png"), fullPage: true });

    await tune.getByRole("button", { name: "Save" }).click();
    await tune.waitFor({ state: "detached" });
    const file = await waitFor(async () => {
      const text = await (await fetch(`${base}/tuning/falco-rules.yaml`, { headers: AUTH })).text();
      return text.includes("browser_debug_image") ? text : null;
    }, "the exception in the rules file");
    expect(file).toContain("- rule: Terminal shell in container");
    expect(file).toContain(`'"${image}"'`);
    expect(file).toContain(`'"browser-ns"'`);
    await msg.locator("details.thread", { hasText: "added the Falco exception" }).waitFor();
  }, 60_000);
});
