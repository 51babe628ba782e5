import { readFileSync } from "node:fs";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { gzipSync } from "node:zlib";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FalcoAlert } from "../../src/falco/alert.js";
import type { Accepted } from "../../src/ingest/accept.js";
import { createFalcoEndpoint } from "../../src/ingest/falco-endpoint.js";
import { register } from "../../src/metrics.js";

const shell = readFileSync(new URL("../../examples/terminal-shell.json", import.meta.url), "utf8");
const body = (i: number) => JSON.stringify({ ...JSON.parse(shell), hostname: `budget-${i}` });

/** POST /falco over real HTTP; resolves with the status and the parsed answer. */
function post(
  port: number,
  text: string | Buffer,
  onSocket?: (abort: () => void) => void,
  headers: Record<string, string> = {},
) {
  return new Promise<{ status: number; answer: { accepted?: number } }>((resolve, reject) => {
    const req = request(
      {
        port,
        host: "127.0.0.1",
        method: "POST",
        path: "/falco",
        headers: { "content-type": "application/json", ...headers },
      },
      (res) => {
        let data = "";
        res.on("data", (c: Buffer) => (data += c.toString()));
        res.on("end", () =>
          resolve({ status: res.statusCode!, answer: JSON.parse(data) as { accepted?: number } }),
        );
      },
    );
    req.on("error", reject);
    onSocket?.(() => req.destroy());
    req.end(text);
  });
}

async function gauge(name: string): Promise<number> {
  const metric = (await register.getMetricsAsJSON()).find((m) => m.name === name);
  return Number(metric?.values[0]?.value ?? Number.NaN);
}

const until = async (check: () => boolean | Promise<boolean>) => {
  for (let i = 0; i < 200 && !(await check()); i++) await new Promise((r) => setTimeout(r, 10));
  expect(await check()).toBe(true);
};

describe("POST /falco holds at most INGEST_MAX_BYTES_IN_FLIGHT of requests at once (real HTTP)", () => {
  let server: Server;
  let port: number;
  /** Each accept call, held until the test lets it finish. */
  const calls: { hosts: string[]; finish: () => void }[] = [];

  beforeAll(async () => {
    const bytes = Buffer.byteLength(body(0));
    const endpoint = createFalcoEndpoint({
      // Room for one request and a half: a second one must wait for the first to be answered.
      maxBytesInFlight: Math.floor(bytes * 1.5),
      maxBodyBytes: 1024 * 1024,
      ingestToken: undefined,
      log: pino({ level: "silent" }),
      accept: (alerts: FalcoAlert[]) =>
        new Promise<Accepted>((resolve) => {
          calls.push({
            hosts: alerts.map((a) => a.hostname ?? ""),
            finish: () => resolve({ duplicates: [], health: [] }),
          });
        }),
    });
    server = createServer(endpoint);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it("reads a request only when the one before it is answered, and answers every one", async () => {
    calls.length = 0;
    const answers = [post(port, body(1)), post(port, body(2)), post(port, body(3))];
    await until(() => calls.length === 1);
    await until(async () => (await gauge("falco_chatops_ingest_requests_waiting")) === 2);
    expect(await gauge("falco_chatops_ingest_bytes_in_flight")).toBe(Buffer.byteLength(body(1)));
    expect(calls.map((c) => c.hosts)).toEqual([["budget-1"]]);
    calls[0]!.finish();
    await until(() => calls.length === 2);
    expect(calls[1]!.hosts).toEqual(["budget-2"]);
    calls[1]!.finish();
    await until(() => calls.length === 3);
    calls[2]!.finish();
    const results = await Promise.all(answers);
    expect(results.map((r) => [r.status, r.answer.accepted])).toEqual([
      [202, 1],
      [202, 1],
      [202, 1],
    ]);
    await until(async () => (await gauge("falco_chatops_ingest_bytes_in_flight")) === 0);
    expect(await gauge("falco_chatops_ingest_requests_waiting")).toBe(0);
  });

  it("gives up the place of a sender that disconnects while waiting", async () => {
    calls.length = 0;
    const first = post(port, body(4));
    await until(() => calls.length === 1);
    let abort = () => {};
    const gone = post(port, body(5), (a) => (abort = a)).catch((e: Error) => e);
    const third = post(port, body(6));
    await until(async () => (await gauge("falco_chatops_ingest_requests_waiting")) === 2);
    abort();
    await until(async () => (await gauge("falco_chatops_ingest_requests_waiting")) === 1);
    calls[0]!.finish();
    await until(() => calls.length === 2);
    expect(calls[1]!.hosts).toEqual(["budget-6"]); // the disconnected one was never read
    calls[1]!.finish();
    expect((await first).status).toBe(202);
    expect((await third).status).toBe(202);
    expect(await gone).toBeInstanceOf(Error);
  });

  it("counts a compressed body as MAX_BODY_BYTES, its decoded size being unknown until it is read", async () => {
    calls.length = 0;
    const zipped = post(port, gzipSync(body(7)), undefined, { "content-encoding": "gzip" });
    await until(() => calls.length === 1);
    expect(await gauge("falco_chatops_ingest_bytes_in_flight")).toBe(1024 * 1024);
    // Small enough for the budget on its own, but not beside the compressed one.
    const plain = post(port, body(8));
    await until(async () => (await gauge("falco_chatops_ingest_requests_waiting")) === 1);
    calls[0]!.finish();
    await until(() => calls.length === 2);
    calls[1]!.finish();
    expect([(await zipped).status, (await plain).status]).toEqual([202, 202]);
  });
});
