import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { type WebSocket, WebSocketServer } from "ws";

/** One request the fake Slack received. */
export interface SlackCall {
  method: string;
  args: Record<string, unknown>;
  token: string | null;
  at: number;
}

export type Scripted = ({ status: 429; retryAfter: number } | { error: string } | { status: 500 }) & {
  /** Only calls to this channel get this answer; others pass by it. */
  channel?: string;
  /** The call is recorded at once but answered only once this settles: the app waits on Slack meanwhile. */
  holdUntil?: Promise<unknown>;
};

/**
 * Limits Slack's API enforces on Block Kit, written independently of the app's own checks so that a
 * bug in the app's budget is caught here as `invalid_blocks`, as Slack would answer.
 */
function blockProblems(blocks: unknown): string | null {
  if (!Array.isArray(blocks)) return "blocks must be an array";
  if (blocks.length > 50) return "more than 50 blocks";
  let chars = 0;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- validates untyped JSON the app sent
  for (const b of blocks as Record<string, any>[]) {
    const texts: string[] = [];
    if (b.type === "header") {
      if (b.text?.type !== "plain_text") return "header text must be plain_text";
      if (b.text.text.length > 150) return "header over 150";
      texts.push(b.text.text);
    } else if (b.type === "section") {
      if (!b.text && !b.fields) return "section needs text or fields";
      if (b.text && (b.text.text.length > 3000 || b.text.text.length === 0))
        return "section text must be 1-3000";
      if (b.fields && b.fields.length > 10) return "more than 10 fields";
      for (const f of b.fields ?? [])
        if (f.text.length > 2000 || f.text.length === 0) return "field must be 1-2000";
      if (b.text) texts.push(b.text.text);
      for (const f of b.fields ?? []) texts.push(f.text);
    } else if (b.type === "context") {
      if (!Array.isArray(b.elements) || b.elements.length === 0 || b.elements.length > 10)
        return "context needs 1-10 elements";
      for (const e of b.elements) texts.push(e.text);
    } else if (b.type === "actions") {
      if (!Array.isArray(b.elements) || b.elements.length === 0 || b.elements.length > 25)
        return "actions needs 1-25 elements";
      const ids = new Set<string>();
      for (const e of b.elements) {
        if (e.type !== "button") return "unexpected element";
        if (e.text.type !== "plain_text" || e.text.text.length > 75 || e.text.text.length === 0)
          return "button text must be 1-75 plain_text";
        if (typeof e.value === "string" && e.value.length > 2000) return "button value over 2000";
        if (ids.has(e.action_id)) return "duplicate action_id";
        ids.add(e.action_id);
        texts.push(e.text.text);
      }
    } else if (b.type !== "divider") return `unknown block type ${b.type}`;
    if (b.block_id !== undefined && (typeof b.block_id !== "string" || b.block_id.length > 255))
      return "bad block_id";
    chars += texts.reduce((n, t) => n + t.length, 0);
  }
  if (chars > 12000) return "message over 12000 characters of text";
  return null;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

/** The WebClient sends form-encoded arguments, with objects such as `blocks` as JSON strings. */
function parseArgs(body: string, contentType: string): Record<string, unknown> {
  if (contentType.includes("application/json"))
    return body ? (JSON.parse(body) as Record<string, unknown>) : {};
  const args: Record<string, unknown> = {};
  for (const [k, v] of new URLSearchParams(body)) {
    args[k] = (k === "blocks" || k === "attachments") && v.startsWith("[") ? JSON.parse(v) : v;
  }
  return args;
}

/**
 * A stand-in for Slack's Web API and response_url endpoint that answers like Slack: `ok`/`error`
 * envelopes, 429 with Retry-After, `invalid_blocks` for layouts Slack would refuse. Point a
 * WebClient at `apiUrl`.
 */
export class FakeSlack {
  readonly calls: SlackCall[] = [];
  readonly responses: { path: string; body: Record<string, unknown> }[] = [];
  private readonly scripted = new Map<string, Scripted[]>();
  private server!: Server;
  private tsCounter = 1000;
  port = 0;
  /** When set, chat.postMessage answers 429 like Slack when a channel gets more than one per second. */
  perChannelLimit = false;
  /** 429 answers given by the per-channel limit. */
  rateLimited = 0;
  private readonly lastPost = new Map<string, number>();
  /** Messages posted per channel, for conversations.history. */
  private readonly history = new Map<string, { ts: string; text: unknown; metadata: unknown }[]>();
  /** Members of user groups, for usergroups.users.list. */
  readonly userGroups = new Map<string, string[]>();

  /** Socket Mode: the app-level token `apps.connections.open` accepts, and the sockets it opened. */
  appToken = "xapp-1-test-app-token";
  private sockets!: WebSocketServer;
  private readonly connected: WebSocket[] = [];
  private envelopes = 0;

  constructor(private readonly validToken = "xoxb-test-token") {}

  /** Resolves once an app has opened a Socket Mode connection (and been sent Slack's hello). */
  async socketConnected(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.connected.length === 0) {
      if (Date.now() > deadline) throw new Error("no Socket Mode connection");
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /**
   * Sends an event over Socket Mode as Slack does (an envelope with an id) and resolves with the
   * app's acknowledgement, which must name that envelope.
   */
  async sendEnvelope(type: string, payload: Record<string, unknown>): Promise<Record<string, unknown>> {
    const socket = this.connected.at(-1);
    if (!socket) throw new Error("no Socket Mode connection");
    const id = `envelope-${++this.envelopes}`;
    const ack = new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no acknowledgement of ${id}`)), 5000);
      const onMessage = (data: Buffer) => {
        const message = JSON.parse(data.toString()) as Record<string, unknown>;
        if (message.envelope_id !== id) return;
        clearTimeout(timer);
        socket.off("message", onMessage);
        resolve(message);
      };
      socket.on("message", onMessage);
    });
    socket.send(
      JSON.stringify({ envelope_id: id, type, payload, accepts_response_payload: true, retry_attempt: 0 }),
    );
    return ack;
  }

  get apiUrl(): string {
    return `http://127.0.0.1:${this.port}/api/`;
  }

  responseUrl(id: string): string {
    return `http://127.0.0.1:${this.port}/response/${id}`;
  }

  /** The next calls of `method` answer these, in order, before normal service resumes. */
  script(method: string, ...answers: Scripted[]): void {
    this.scripted.set(method, [...(this.scripted.get(method) ?? []), ...answers]);
  }

  callsOf(method: string): SlackCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /**
   * Waits for a post per alert (and a moment more, so that a duplicate would show), then says which
   * of `uuids` each chat.postMessage carried (undefined: none of them).
   */
  async postedUuids(uuids: string[], timeoutMs = 15_000): Promise<(string | undefined)[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.callsOf("chat.postMessage").length < uuids.length) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${uuids.length} posts`);
      await new Promise((r) => setTimeout(r, 25));
    }
    await new Promise((r) => setTimeout(r, 300));
    return this.callsOf("chat.postMessage").map((c) =>
      uuids.find((u) => JSON.stringify(c.args.blocks).includes(u)),
    );
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.sockets = new WebSocketServer({ server: this.server, path: "/socket-mode" });
    this.sockets.on("connection", (socket) => {
      this.connected.push(socket);
      socket.send(
        JSON.stringify({ type: "hello", num_connections: 1, connection_info: { app_id: "A0FAKE" } }),
      );
    });
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    for (const socket of this.connected) socket.terminate();
    this.sockets.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private send(
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ): void {
    res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers });
    res.end(JSON.stringify(body));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const path = (req.url ?? "").split("?")[0]!;
    if (path.startsWith("/response/")) {
      this.responses.push({ path, body: JSON.parse(body) as Record<string, unknown> });
      return this.send(res, 200, { ok: true });
    }
    const method = path.replace(/^\/api\//, "");
    const args = parseArgs(body, req.headers["content-type"] ?? "");
    const auth = req.headers.authorization;
    const token = auth?.startsWith("Bearer ") ? auth.slice(7) : ((args.token as string | undefined) ?? null);
    this.calls.push({ method, args, token, at: Date.now() });

    if (method === "apps.connections.open") {
      if (token !== this.appToken) return this.send(res, 200, { ok: false, error: "invalid_auth" });
      return this.send(res, 200, { ok: true, url: `ws://127.0.0.1:${this.port}/socket-mode` });
    }

    const queue = this.scripted.get(method) ?? [];
    const at = queue.findIndex((s) => s.channel === undefined || s.channel === args.channel);
    const scripted = at === -1 ? undefined : queue.splice(at, 1)[0];
    if (scripted) {
      await scripted.holdUntil;
      if ("status" in scripted && scripted.status === 429)
        return this.send(
          res,
          429,
          { ok: false, error: "ratelimited" },
          { "retry-after": String(scripted.retryAfter) },
        );
      if ("status" in scripted)
        return this.send(res, scripted.status, { ok: false, error: "internal_error" });
      return this.send(res, 200, { ok: false, error: scripted.error });
    }
    if (token !== this.validToken) return this.send(res, 200, { ok: false, error: "invalid_auth" });

    switch (method) {
      case "auth.test":
        return this.send(res, 200, {
          ok: true,
          url: "https://example.slack.com/",
          team: "Example",
          user: "falco",
          team_id: "T0001",
          user_id: "U0BOT",
          bot_id: "B0001",
        });
      case "chat.postMessage":
      case "chat.update":
      case "chat.postEphemeral": {
        if (!args.channel) return this.send(res, 200, { ok: false, error: "channel_not_found" });
        if (this.perChannelLimit && method === "chat.postMessage") {
          const channel = String(args.channel);
          const last = this.lastPost.get(channel) ?? 0;
          const now = Date.now();
          if (now - last < 1000) {
            this.rateLimited++;
            return this.send(
              res,
              429,
              { ok: false, error: "ratelimited" },
              { "retry-after": String(Math.ceil((1000 - (now - last)) / 1000)) },
            );
          }
          this.lastPost.set(channel, now);
        }
        if (args.blocks !== undefined) {
          const problem = blockProblems(args.blocks);
          if (problem) return this.send(res, 200, { ok: false, error: "invalid_blocks", errors: [problem] });
        }
        if (method === "chat.postEphemeral")
          return this.send(res, 200, { ok: true, message_ts: `${this.tsCounter++}.000100` });
        const ts = method === "chat.update" ? String(args.ts) : `${this.tsCounter++}.000100`;
        if (method === "chat.postMessage" && !args.thread_ts) {
          const list = this.history.get(String(args.channel)) ?? [];
          const metadata = typeof args.metadata === "string" ? JSON.parse(args.metadata) : args.metadata;
          list.unshift({ ts, text: args.text, metadata });
          this.history.set(String(args.channel), list);
        }
        return this.send(res, 200, {
          ok: true,
          channel: args.channel,
          ts,
          message: { text: args.text, blocks: args.blocks },
        });
      }
      case "conversations.history":
        // Slack's ts is seconds since the epoch; this fake's ts counts up, so every message is "recent".
        return this.send(res, 200, {
          ok: true,
          messages: (this.history.get(String(args.channel)) ?? []).slice(0, Number(args.limit ?? 100)),
          has_more: false,
        });
      case "usergroups.users.list":
        return this.send(res, 200, { ok: true, users: this.userGroups.get(String(args.usergroup)) ?? [] });
      case "chat.getPermalink":
        return this.send(res, 200, {
          ok: true,
          channel: args.channel,
          permalink: `https://example.slack.com/archives/${String(args.channel)}/p${String(args.message_ts).replace(".", "")}`,
        });
      default:
        return this.send(res, 200, { ok: false, error: "unknown_method" });
    }
  }
}
