import { randomBytes } from "node:crypto";
import { EventEmitter } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { blocksToText, terminalSafe } from "../../blocks/console-preview.js";
import { type Block, limitProblems } from "../../blocks/limits.js";
import type { SlackConfig } from "../config/config.js";

/** One message as the local workspace holds it. */
export interface LocalMessage {
  ts: string;
  text: string;
  blocks: Block[];
  /** How many times chat.update replaced it. */
  edits: number;
  /** Message metadata, which the app uses to recognise its own posts after a crash. */
  metadata: unknown;
  replies: LocalMessage[];
}

/** A message only the clicking user sees ("Only visible to you" in Slack). */
export interface LocalEphemeral {
  user: string;
  text: string;
  blocks: Block[];
  at: number;
}

export interface LocalChannel {
  id: string;
  name: string;
  messages: LocalMessage[];
  ephemerals: LocalEphemeral[];
}

/** The user who clicks in the preview page. */
export const PREVIEW_USER = "UPREVIEW01";
export const PREVIEW_ALERT_CHANNEL = "CPREVIEWALERTS";
export const PREVIEW_ESCALATION_CHANNEL = "CPREVIEWESCAL";

function readBody(req: IncomingMessage, limit = 4 * 1024 * 1024): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > limit) req.destroy(new Error("request too large"));
      else chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

/** The WebClient sends form-encoded arguments, with objects such as `blocks` as JSON strings. */
function parseArgs(body: string, contentType: string): Record<string, unknown> {
  if (contentType.includes("application/json"))
    return body ? (JSON.parse(body) as Record<string, unknown>) : {};
  const args: Record<string, unknown> = {};
  for (const [k, v] of new URLSearchParams(body))
    args[k] = ["blocks", "metadata", "attachments"].includes(k) && /^[[{]/.test(v) ? JSON.parse(v) : v;
  return args;
}

/**
 * A Slack workspace that lives in this process, for preview mode: it answers the Web API methods the
 * app calls, as Slack does (including `invalid_blocks` for messages Slack would refuse), and keeps
 * the messages so that the /preview page can show them. The app talks to it through its ordinary
 * WebClient (`slackApiUrl`), and clicks reach the ordinary Bolt listeners as signed requests, so
 * preview mode runs the same code as a real workspace.
 */
export class LocalSlack extends EventEmitter {
  readonly token = `xoxb-local-preview-${randomBytes(6).toString("hex")}`;
  readonly signingSecret = randomBytes(24).toString("hex");
  readonly channels = new Map<string, LocalChannel>();
  /** Bumped on every change; the page asks for the state when it moves. */
  version = 0;
  private server: Server | null = null;
  private port = 0;
  private sequence = 0;

  constructor(
    /** Where new messages are echoed as text (the terminal that runs `npm start`). */
    private readonly echo: (text: string) => void = (text) => process.stdout.write(`${text}\n\n`),
  ) {
    super();
    this.channel(PREVIEW_ALERT_CHANNEL, "falco-alerts");
    this.channel(PREVIEW_ESCALATION_CHANNEL, "falco-escalations");
  }

  get apiUrl(): string {
    return `http://127.0.0.1:${this.port}/api/`;
  }

  responseUrl(channel: string): string {
    return `http://127.0.0.1:${this.port}/response/${encodeURIComponent(channel)}`;
  }

  /** The Slack settings the app runs with in preview mode. */
  slackConfig(): SlackConfig {
    return {
      botToken: this.token,
      signingSecret: this.signingSecret,
      appToken: undefined,
      apiUrl: this.apiUrl,
      channel: PREVIEW_ALERT_CHANNEL,
      escalationChannel: PREVIEW_ESCALATION_CHANNEL,
      allowedResponders: [],
    };
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  private channel(id: string, name = id.toLowerCase()): LocalChannel {
    let found = this.channels.get(id);
    if (!found) {
      found = { id, name, messages: [], ephemerals: [] };
      this.channels.set(id, found);
    }
    return found;
  }

  private find(channel: string, ts: string): LocalMessage | undefined {
    return this.channels.get(channel)?.messages.find((m) => m.ts === ts);
  }

  /** Slack's ts: seconds since the epoch and a sequence, unique per workspace. */
  private nextTs(): string {
    this.sequence = (this.sequence + 1) % 1_000_000;
    return `${Math.floor(Date.now() / 1000)}.${String(this.sequence).padStart(6, "0")}`;
  }

  private changed(): void {
    this.version++;
    this.emit("change", this.version);
  }

  private send(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { "content-type": "application/json; charset=utf-8" });
    res.end(JSON.stringify(body));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body: string;
    let args: Record<string, unknown>;
    try {
      body = await readBody(req);
      args = parseArgs(body, req.headers["content-type"] ?? "");
    } catch {
      return this.send(res, 400, { ok: false, error: "invalid_arguments" });
    }
    const path = (req.url ?? "").split("?")[0]!;
    if (path.startsWith("/response/")) return this.respond(res, decodeURIComponent(path.slice(10)), args);
    const method = path.replace(/^\/api\//, "");
    const auth = req.headers.authorization;
    const token = auth?.startsWith("Bearer ") ? auth.slice(7) : args.token;
    if (token !== this.token) return this.send(res, 200, { ok: false, error: "invalid_auth" });
    const blocks = (args.blocks ?? []) as Block[];
    if (
      ["chat.postMessage", "chat.update", "chat.postEphemeral"].includes(method) &&
      args.blocks !== undefined &&
      (!Array.isArray(args.blocks) || limitProblems(blocks).length > 0)
    )
      return this.send(res, 200, {
        ok: false,
        error: "invalid_blocks",
        errors: Array.isArray(args.blocks) ? limitProblems(blocks) : ["blocks must be an array"],
      });
    const channelId = typeof args.channel === "string" ? args.channel : "";
    switch (method) {
      case "auth.test":
        return this.send(res, 200, {
          ok: true,
          url: `http://127.0.0.1:${this.port}/`,
          team: "Local preview",
          user: "falco-chatops",
          team_id: "TPREVIEW01",
          user_id: "UPREVIEWBOT",
          bot_id: "BPREVIEW01",
        });
      case "chat.postMessage": {
        if (!channelId) return this.send(res, 200, { ok: false, error: "channel_not_found" });
        const text = String(args.text ?? "");
        const message: LocalMessage = {
          ts: this.nextTs(),
          text,
          blocks,
          edits: 0,
          metadata: args.metadata ?? null,
          replies: [],
        };
        const threadTs = typeof args.thread_ts === "string" ? args.thread_ts : null;
        if (threadTs) {
          const parent = this.find(channelId, threadTs);
          if (!parent) return this.send(res, 200, { ok: false, error: "thread_not_found" });
          parent.replies.push(message);
        } else {
          const channel = this.channel(channelId);
          channel.messages.push(message);
          this.echo(
            `[preview] #${terminalSafe(channel.name)}: ${terminalSafe(text)}\n${blocksToText(blocks)}`,
          );
        }
        this.changed();
        return this.send(res, 200, {
          ok: true,
          channel: channelId,
          ts: message.ts,
          message: { text, blocks },
        });
      }
      case "chat.update": {
        const message = this.find(channelId, String(args.ts ?? ""));
        if (!message) return this.send(res, 200, { ok: false, error: "message_not_found" });
        message.text = String(args.text ?? message.text);
        if (args.blocks !== undefined) message.blocks = blocks;
        message.edits++;
        this.changed();
        return this.send(res, 200, { ok: true, channel: channelId, ts: message.ts, text: message.text });
      }
      case "chat.postEphemeral": {
        if (!channelId) return this.send(res, 200, { ok: false, error: "channel_not_found" });
        this.channel(channelId).ephemerals.push({
          user: String(args.user ?? ""),
          text: String(args.text ?? ""),
          blocks,
          at: Date.now(),
        });
        this.changed();
        return this.send(res, 200, { ok: true, message_ts: this.nextTs() });
      }
      case "chat.getPermalink": {
        const ts = String(args.message_ts ?? "");
        if (!this.find(channelId, ts)) return this.send(res, 200, { ok: false, error: "message_not_found" });
        return this.send(res, 200, {
          ok: true,
          channel: channelId,
          permalink: `/preview#msg-${encodeURIComponent(channelId)}-${ts.replace(".", "-")}`,
        });
      }
      case "conversations.history": {
        const oldest = Number(args.oldest ?? 0);
        const messages = [...(this.channels.get(channelId)?.messages ?? [])]
          .filter((m) => Number(m.ts) >= oldest)
          .reverse()
          .slice(0, Number(args.limit ?? 100))
          .map((m) => ({ type: "message", ts: m.ts, text: m.text, metadata: m.metadata }));
        return this.send(res, 200, { ok: true, messages, has_more: false });
      }
      case "usergroups.users.list":
        return this.send(res, 200, { ok: true, users: [] });
      default:
        return this.send(res, 200, { ok: false, error: "unknown_method" });
    }
  }

  /** A slash command's `respond()`: an ephemeral answer shown to the user in the channel. */
  private respond(res: ServerResponse, channelId: string, args: Record<string, unknown>): void {
    const blocks = (Array.isArray(args.blocks) ? args.blocks : []) as Block[];
    if (limitProblems(blocks).length > 0)
      return this.send(res, 200, { ok: false, error: "invalid_blocks", errors: limitProblems(blocks) });
    this.channel(channelId).ephemerals.push({
      user: PREVIEW_USER,
      text: String(args.text ?? ""),
      blocks,
      at: Date.now(),
    });
    this.changed();
    this.send(res, 200, { ok: true });
  }
}
