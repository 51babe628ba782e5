import { existsSync, mkdirSync } from "node:fs";
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
});
