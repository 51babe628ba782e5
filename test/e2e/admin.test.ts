import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHANNEL, type Harness, startHarness } from "../../support/harness.js";

const PASSWORD = "admin-password-for-tests";
const basic = (user: string, password: string) => ({
  authorization: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`,
});

describe("the queue dashboard at /admin/queues (Bull Board)", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness("admin", { env: { ADMIN_PASSWORD: PASSWORD } });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it("asks for HTTP Basic authentication and refuses a wrong password", async () => {
    const none = await fetch(`${h.base}/admin/queues`);
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toMatch(/^Basic realm=/);
    expect(((await none.json()) as { error: string }).error).toContain("ADMIN_PASSWORD");
    const wrong = await fetch(`${h.base}/admin/queues`, { headers: basic("admin", "not-the-password") });
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as { error: string }).error).toContain("wrong password");
  });

  it("serves the dashboard and the delivery queues, with their jobs, to the right password", async () => {
    const page = await fetch(`${h.base}/admin/queues`, { headers: basic("anyone", PASSWORD) });
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toContain("text/html");

    const res = await h.postAlerts(
      JSON.stringify({
        rule: "Terminal shell in container",
        priority: "Notice",
        time: new Date().toISOString(),
        output: "shell",
        output_fields: { "proc.name": "bash" },
      }),
    );
    expect(res.status).toBe(202);
    const api = await fetch(`${h.base}/admin/queues/api/queues?activeQueue=deliveries-${CHANNEL}`, {
      headers: basic("anyone", PASSWORD),
    });
    expect(api.status).toBe(200);
    const body = (await api.json()) as { queues: { name: string; counts: Record<string, number> }[] };
    const names = body.queues.map((q) => q.name);
    expect(names).toContain(`deliveries-${CHANNEL}`);
  });
});

describe("without ADMIN_PASSWORD", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness("admin-off", { worker: false });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it("keeps the dashboard off and says how to turn it on", async () => {
    const res = await fetch(`${h.base}/admin/queues`, { headers: basic("admin", "whatever-password") });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: string }).error).toBe(
      "the queue dashboard is off: set ADMIN_PASSWORD to enable it",
    );
  });
});
