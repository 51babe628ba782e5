import { readFileSync } from "node:fs";
import { randomUUID } from "node:crypto";

/** The examples shipped with the app, found from src/ and from dist/src/. */
function example(name: string): Record<string, unknown> {
  for (const up of ["../../examples", "../../../examples"]) {
    try {
      return JSON.parse(readFileSync(new URL(`${up}/${name}`, import.meta.url), "utf8")) as Record<
        string,
        unknown
      >;
    } catch {
      // try the next location
    }
  }
  throw new Error(`example ${name} not found`);
}

/**
 * The demo's alerts: the memfd_create example, a terminal shell, a root console sign-in without MFA
 * from AWS CloudTrail, and a storm of 50 shells in one container (one message whose counter climbs). Fresh uuids and times, so a demo can run twice.
 */
export function demoAlerts(now = new Date()): Record<string, unknown>[] {
  const at = (i: number) =>
    new Date(now.getTime() + i)
      .toISOString()
      .replace("Z", "000000Z")
      .replace(/\.(\d{3})000000Z$/, ".$1000000Z");
  const memfd = { ...example("memfd-create.json"), uuid: randomUUID(), time: at(0) };
  const shell = example("terminal-shell.json");
  const storm = Array.from({ length: 50 }, (_, i) => ({
    ...shell,
    uuid: randomUUID(),
    time: at(10 + i),
    hostname: "demo-node-1",
    output_fields: { ...(shell.output_fields as object), "proc.cmdline": `bash -c step-${i % 5}` },
  }));
  const cloud = { ...example("cloudtrail-root-login.json"), uuid: randomUUID(), time: at(7) };
  return [memfd, { ...shell, uuid: randomUUID(), time: at(5) }, cloud, ...storm];
}

/** Posts the demo alerts to a running falco-chatops; returns what the server answered. */
export async function runDemo(baseUrl: string, token: string | undefined): Promise<string[]> {
  const headers: Record<string, string> = { "content-type": "application/x-ndjson" };
  if (token) headers.authorization = `Bearer ${token}`;
  const alerts = demoAlerts();
  const lines: string[] = [];
  const send = async (label: string, batch: Record<string, unknown>[]) => {
    const res = await fetch(new URL("/falco", baseUrl), {
      method: "POST",
      headers,
      body: batch.map((a) => JSON.stringify(a)).join("\n"),
    });
    const text = await res.text();
    if (res.status !== 202) throw new Error(`${label}: the server answered ${res.status}: ${text}`);
    lines.push(`${label}: ${(JSON.parse(text) as { accepted: number }).accepted} accepted`);
  };
  await send("fileless execution via memfd_create", alerts.slice(0, 1));
  await send("terminal shell in a container", alerts.slice(1, 2));
  await send("AWS root console sign-in without MFA", alerts.slice(2, 3));
  await send("a storm of 50 shells in one container", alerts.slice(3));
  return lines;
}
