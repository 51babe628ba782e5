import { randomBytes } from "node:crypto";
import { EventEmitter } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { WebSocket, WebSocketServer } from "ws";
import { blocksToText, terminalSafe } from "../../blocks/console-preview.js";
import type { Block } from "../../blocks/limits.js";
import type { SlackConfig } from "../config/config.js";
import { slackBlockProblem, slackViewProblem } from "./slack-block-rules.js";
import {
  appHomeOpenedBody,
  LOCAL_WORKSPACE,
  signedHeaders,
  viewBlockActionsBody,
  type ViewPayload,
  type ViewValues,
  viewSubmissionBody,
} from "./slack-requests.js";

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

/** A message only one user sees ("Only visible to you" in Slack). */
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

/** One Web API request the local Slack received. */
export interface SlackCall {
  method: string;
  args: Record<string, unknown>;
  token: string | null;
  at: number;
}

/** A modal or Home tab view as the local workspace holds it. */
export interface LocalView extends ViewPayload {
  /** The user it is open for (a modal) or whose Home tab it is. */
  user: string;
  /** What the last view_submission was answered with `response_action: "errors"`: block id → message. */
  errors: Record<string, string> | null;
}

/** How Slack treated the app's answer to a view_submission. */
export type SubmitAction =
  | { action: "closed" | "cleared" }
  | { action: "errors"; errors: Record<string, string> }
  | { action: "updated" | "pushed"; view: LocalView }
  | { action: "refused"; error: string };

/** A view_submission's HTTP status and what Slack did with the app's answer. */
export type SubmitOutcome = SubmitAction & { status: number };

/** Slack lets a trigger id open a view once, within 3 seconds of the interaction that made it. */
export const TRIGGER_ID_LIFETIME_MS = 3000;

/** A POST to a response_url: where the interaction it answers happened, and what it said. */
export interface SlackResponse {
  url: string;
  channel: string;
  user: string;
  body: Record<string, unknown>;
}

/**
 * An answer the next call of a method gets instead of Slack's normal service (see `script`): Slack's
 * rate limit (429 with Retry-After), an outage (500), or `ok: false` with an error.
 */
export type ScriptedAnswer = ({ status: 429; retryAfter: number } | { status: 500 } | { error: string }) & {
  /** Only calls to this channel get this answer; others pass by it. */
  channel?: string;
  /** The call is recorded at once but answered only once this settles: the app waits on Slack meanwhile. */
  holdUntil?: Promise<unknown>;
};

export interface LocalSlackOptions {
  /** The bot token the Web API accepts; a random one when not given. */
  token?: string;
  /** The secret requests from this workspace are signed with; a random one when not given. */
  signingSecret?: string;
  /** Socket Mode's app-level token: with it, apps.connections.open opens a socket on this server. */
  appToken?: string;
  /** Channels that exist from the start, with the names shown for them. */
  channels?: { id: string; name: string }[];
  /** The workspace's people (and bots), as a users_select lists them. */
  users?: { id: string; name: string }[];
  /** The app's Request URL (its /slack/events), where interactions in views and events are sent. */
  requestUrl?: string;
  /** How long a trigger id opens a view: Slack's 3 seconds when not given. */
  triggerLifetimeMs?: number;
  /** Where new channel messages are echoed as text; not echoed when not given. */
  echo?: (text: string) => void;
  /** What chat.getPermalink answers; Slack's archive link in LOCAL_WORKSPACE.url when not given. */
  permalink?: (channel: string, ts: string) => string;
}

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
 * A Slack workspace that lives in this process. It answers the Web API methods the app calls as
 * Slack does (`ok`/`error` envelopes, `invalid_blocks` for layouts Slack would refuse, 429 with
 * Retry-After under `perChannelLimit`), takes response_url answers, opens Socket Mode connections
 * when given an app token, keeps the messages, and records every call. The app talks to it through
 * its ordinary WebClient (`apiUrl`), so that preview mode (the /preview page) and the tests run the
 * same code as a real workspace; the tests also `script` answers and read `calls`.
 */
export class LocalSlack extends EventEmitter {
  readonly token: string;
  readonly signingSecret: string;
  readonly appToken: string | undefined;
  readonly channels = new Map<string, LocalChannel>();
  /** Every Web API request, in the order received. */
  readonly calls: SlackCall[] = [];
  /** Every POST to a response_url, in the order received. */
  readonly responses: SlackResponse[] = [];
  /** Members of user groups, for usergroups.users.list. */
  readonly userGroups = new Map<string, string[]>();
  /** The workspace's people (and bots), as a users_select lists them. */
  readonly users: { id: string; name: string }[];
  /** When set, chat.postMessage answers 429 like Slack when a channel gets more than one per second. */
  perChannelLimit = false;
  /** 429 answers given by the per-channel limit. */
  rateLimited = 0;
  /** Bumped on every change; the page asks for the state when it moves. */
  version = 0;
  /** Open modals by user, the first opened first (views.push stacks on top). */
  readonly modals = new Map<string, LocalView[]>();
  /** Each user's Home tab as views.publish last set it. */
  readonly homes = new Map<string, LocalView>();
  /** The app's Request URL (its /slack/events): where submissions, view clicks and events go. */
  requestUrl: string | null;

  private readonly scripted = new Map<string, ScriptedAnswer[]>();
  private readonly responseTargets = new Map<string, { channel: string; user: string }>();
  private readonly triggers = new Map<string, { user: string; at: number; used: boolean }>();
  private viewSequence = 0;
  private readonly triggerLifetimeMs: number;
  private readonly lastPost = new Map<string, number>();
  private readonly echo: ((text: string) => void) | undefined;
  private readonly permalinkOf: (channel: string, ts: string) => string;
  private server: Server | null = null;
  private sockets: WebSocketServer | null = null;
  private readonly connected: WebSocket[] = [];
  private envelopes = 0;
  private port = 0;
  private sequence = 0;

  constructor(options: LocalSlackOptions = {}) {
    super();
    this.token = options.token ?? `xoxb-local-${randomBytes(6).toString("hex")}`;
    this.signingSecret = options.signingSecret ?? randomBytes(24).toString("hex");
    this.appToken = options.appToken;
    this.requestUrl = options.requestUrl ?? null;
    this.triggerLifetimeMs = options.triggerLifetimeMs ?? TRIGGER_ID_LIFETIME_MS;
    this.echo = options.echo;
    this.permalinkOf =
      options.permalink ??
      ((channel, ts) => `${LOCAL_WORKSPACE.url}archives/${channel}/p${ts.replace(".", "")}`);
    for (const { id, name } of options.channels ?? []) this.channel(id, name);
    this.users = options.users ?? [];
  }

  get apiUrl(): string {
    return `http://127.0.0.1:${this.port}/api/`;
  }

  /** A response_url for an interaction of `user` in `channel`: its answers show to that user there. */
  responseUrl(channel: string, user: string): string {
    const id = `${this.responseTargets.size + 1}-${randomBytes(4).toString("hex")}`;
    this.responseTargets.set(id, { channel, user });
    return `http://127.0.0.1:${this.port}/response/${id}`;
  }

  /**
   * A trigger id for an interaction of `user`, as Slack puts in the payloads it sends: views.open and
   * views.push take it once, within TRIGGER_ID_LIFETIME_MS (or the lifetime it was made with).
   */
  triggerFor(user: string): string {
    const id = `${Date.now()}.${randomBytes(6).toString("hex")}`;
    this.triggers.set(id, { user, at: Date.now(), used: false });
    return id;
  }

  /** The modal on top of `user`'s stack, if one is open. */
  openModal(user: string): LocalView | undefined {
    return this.modals.get(user)?.at(-1);
  }

  /** Finds an open modal or a Home tab by its id. */
  view(id: string): LocalView | undefined {
    for (const stack of this.modals.values()) {
      const found = stack.find((v) => v.id === id);
      if (found) return found;
    }
    return [...this.homes.values()].find((v) => v.id === id);
  }

  /** The user presses Cancel (or ✕): Slack closes the whole modal without telling the app. */
  closeModal(user: string): void {
    if (this.modals.delete(user)) this.changed();
  }

  /**
   * The user presses the submit button of the modal on top of their stack, with these inputs: Slack
   * sends the app a signed view_submission and acts on its answer (closes the view, shows the errors
   * beside the inputs, updates or pushes a view).
   */
  async submitView(user: string, values: ViewValues): Promise<SubmitOutcome> {
    const top = this.openModal(user);
    if (!top) throw new Error(`${user} has no open modal`);
    const res = await this.toApp(
      viewSubmissionBody({ userId: user, view: top, values, triggerId: this.triggerFor(user) }),
    );
    const text = await res.text();
    if (res.status !== 200) return { status: res.status, action: "refused", error: text };
    const answer = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    const stack = this.modals.get(user) ?? [];
    const outcome = this.applySubmitAnswer(user, stack, top, answer);
    this.changed();
    return { status: res.status, ...outcome };
  }

  private applySubmitAnswer(
    user: string,
    stack: LocalView[],
    top: LocalView,
    answer: Record<string, unknown>,
  ): SubmitAction {
    const action = answer.response_action;
    if (action === "errors") {
      top.errors = (answer.errors ?? {}) as Record<string, string>;
      return { action: "errors", errors: top.errors };
    }
    if (action === "clear") {
      this.modals.delete(user);
      return { action: "cleared" };
    }
    if (action === "update" || action === "push") {
      const problem = slackViewProblem(answer.view);
      if (problem) return { action: "refused", error: `invalid view: ${problem}` };
      if (action === "update") {
        top.view = answer.view as Record<string, unknown>;
        top.hash = this.nextHash();
        top.errors = null;
        return { action: "updated", view: top };
      }
      const pushed = this.newView(user, "modal", answer.view as Record<string, unknown>, top);
      stack.push(pushed);
      return { action: "pushed", view: pushed };
    }
    stack.pop();
    if (stack.length === 0) this.modals.delete(user);
    return { action: "closed" };
  }

  /** The user clicks a button in a modal or on their Home tab: Slack sends the app a block_actions. */
  async clickInView(
    user: string,
    viewId: string,
    button: { actionId: string; value: string },
    values: ViewValues = {},
  ): Promise<number> {
    const view = this.view(viewId);
    if (!view) throw new Error(`no view ${viewId}`);
    const found = findButton(view.view.blocks, button.actionId, button.value);
    if (!found) throw new Error(`view ${viewId} has no button ${button.actionId} (${button.value})`);
    const res = await this.toApp(
      viewBlockActionsBody({
        userId: user,
        view,
        values,
        actionId: button.actionId,
        blockId: found.blockId,
        value: button.value,
        buttonText: found.text,
        triggerId: this.triggerFor(user),
      }),
    );
    await res.text();
    return res.status;
  }

  /** The user opens the app's Home tab: Slack sends the app the app_home_opened event. */
  async openHome(user: string): Promise<number> {
    const body = appHomeOpenedBody({ userId: user, homeViewId: this.homes.get(user)?.id });
    const res = await this.toApp(body, "application/json");
    await res.text();
    return res.status;
  }

  private async toApp(body: string, contentType?: string): Promise<Response> {
    if (!this.requestUrl) throw new Error("the local Slack has no requestUrl to send the app's requests to");
    return fetch(this.requestUrl, {
      method: "POST",
      headers: signedHeaders(this.signingSecret, body, undefined, contentType),
      body,
    });
  }

  private nextHash(): string {
    return `${Date.now()}.${randomBytes(4).toString("hex")}`;
  }

  private newView(
    user: string,
    type: "modal" | "home",
    view: Record<string, unknown>,
    below: LocalView | null,
  ): LocalView {
    const id = `V${String(++this.viewSequence).padStart(8, "0")}`;
    return {
      id,
      hash: this.nextHash(),
      type,
      view,
      user,
      rootViewId: below ? (below.rootViewId ?? below.id) : null,
      previousViewId: below?.id ?? null,
      errors: null,
    };
  }

  /** The next calls of `method` get these answers, in order, before normal service resumes. */
  script(method: string, ...answers: ScriptedAnswer[]): void {
    this.scripted.set(method, [...(this.scripted.get(method) ?? []), ...answers]);
  }

  callsOf(method: string): SlackCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => void this.handle(req, res));
    if (this.appToken) {
      // Loaded only for Socket Mode, which preview mode never uses.
      const { WebSocketServer } = await import("ws");
      this.sockets = new WebSocketServer({ server, path: "/socket-mode" });
      this.sockets.on("connection", (socket) => {
        this.connected.push(socket);
        socket.send(
          JSON.stringify({
            type: "hello",
            num_connections: 1,
            connection_info: { app_id: LOCAL_WORKSPACE.appId },
          }),
        );
      });
    }
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    for (const socket of this.connected) socket.terminate();
    this.sockets?.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

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
    let args: Record<string, unknown>;
    try {
      args = parseArgs(await readBody(req), req.headers["content-type"] ?? "");
    } catch {
      return this.send(res, 400, { ok: false, error: "invalid_arguments" });
    }
    const path = (req.url ?? "").split("?")[0]!;
    if (path.startsWith("/response/")) return this.respond(res, path.slice("/response/".length), args);
    const method = path.replace(/^\/api\//, "");
    const auth = req.headers.authorization;
    const token = auth?.startsWith("Bearer ")
      ? auth.slice(7)
      : typeof args.token === "string"
        ? args.token
        : null;
    this.calls.push({ method, args, token, at: Date.now() });

    const scripted = this.takeScripted(method, args);
    if (scripted) {
      await scripted.holdUntil;
      return this.sendScripted(res, scripted);
    }

    if (method === "apps.connections.open") {
      if (!this.appToken || token !== this.appToken)
        return this.send(res, 200, { ok: false, error: "invalid_auth" });
      return this.send(res, 200, { ok: true, url: `ws://127.0.0.1:${this.port}/socket-mode` });
    }
    if (token !== this.token) return this.send(res, 200, { ok: false, error: "invalid_auth" });
    const answer = this.answer(method, args);
    this.send(res, answer.status ?? 200, answer.body, answer.headers);
  }

  /** The first scripted answer for this call, taken off the script. */
  private takeScripted(method: string, args: Record<string, unknown>): ScriptedAnswer | undefined {
    const queue = this.scripted.get(method) ?? [];
    const at = queue.findIndex((s) => s.channel === undefined || s.channel === args.channel);
    return at === -1 ? undefined : queue.splice(at, 1)[0];
  }

  private sendScripted(res: ServerResponse, scripted: ScriptedAnswer): void {
    if ("status" in scripted && scripted.status === 429)
      return this.send(
        res,
        429,
        { ok: false, error: "ratelimited" },
        { "retry-after": String(scripted.retryAfter) },
      );
    if ("status" in scripted) return this.send(res, scripted.status, { ok: false, error: "internal_error" });
    this.send(res, 200, { ok: false, error: scripted.error });
  }

  /** Slack's normal service for an authenticated Web API call. */
  private answer(
    method: string,
    args: Record<string, unknown>,
  ): { status?: number; body: Record<string, unknown>; headers?: Record<string, string> } {
    const fail = (error: string, extra: Record<string, unknown> = {}) => ({
      body: { ok: false, error, ...extra },
    });
    const channelId = typeof args.channel === "string" ? args.channel : "";
    if (["chat.postMessage", "chat.update", "chat.postEphemeral"].includes(method)) {
      if (!channelId) return fail("channel_not_found");
      if (this.perChannelLimit && method === "chat.postMessage") {
        const last = this.lastPost.get(channelId) ?? 0;
        const now = Date.now();
        if (now - last < 1000) {
          this.rateLimited++;
          return {
            status: 429,
            body: { ok: false, error: "ratelimited" },
            headers: { "retry-after": String(Math.ceil((1000 - (now - last)) / 1000)) },
          };
        }
        this.lastPost.set(channelId, now);
      }
      const problem = args.blocks === undefined ? null : slackBlockProblem(args.blocks);
      if (problem) return fail("invalid_blocks", { errors: [problem] });
    }
    const blocks = (args.blocks ?? []) as Block[];
    switch (method) {
      case "auth.test":
        return {
          body: {
            ok: true,
            url: LOCAL_WORKSPACE.url,
            team: LOCAL_WORKSPACE.teamName,
            user: "falco-chatops",
            team_id: LOCAL_WORKSPACE.teamId,
            user_id: LOCAL_WORKSPACE.botUserId,
            bot_id: LOCAL_WORKSPACE.botId,
          },
        };
      case "chat.postMessage": {
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
          if (!parent) return fail("thread_not_found");
          parent.replies.push(message);
        } else {
          const channel = this.channel(channelId);
          channel.messages.push(message);
          this.echo?.(
            `[preview] #${terminalSafe(channel.name)}: ${terminalSafe(text)}\n${blocksToText(blocks)}`,
          );
        }
        this.changed();
        return { body: { ok: true, channel: channelId, ts: message.ts, message: { text, blocks } } };
      }
      case "chat.update": {
        const message = this.find(channelId, String(args.ts ?? ""));
        if (!message) return fail("message_not_found");
        message.text = String(args.text ?? message.text);
        if (args.blocks !== undefined) message.blocks = blocks;
        message.edits++;
        this.changed();
        return {
          body: {
            ok: true,
            channel: channelId,
            ts: message.ts,
            text: message.text,
            message: { text: message.text, blocks: message.blocks },
          },
        };
      }
      case "chat.postEphemeral":
        this.channel(channelId).ephemerals.push({
          user: String(args.user ?? ""),
          text: String(args.text ?? ""),
          blocks,
          at: Date.now(),
        });
        this.changed();
        return { body: { ok: true, message_ts: this.nextTs() } };
      case "chat.getPermalink": {
        const ts = String(args.message_ts ?? "");
        if (!this.find(channelId, ts)) return fail("message_not_found");
        return { body: { ok: true, channel: channelId, permalink: this.permalinkOf(channelId, ts) } };
      }
      case "conversations.history": {
        // Slack's `oldest` is exclusive unless `inclusive` is set; newest first.
        const oldest = Number(args.oldest ?? 0);
        const inclusive = args.inclusive === true || args.inclusive === "true";
        const messages = [...(this.channels.get(channelId)?.messages ?? [])]
          .filter((m) => (inclusive ? Number(m.ts) >= oldest : Number(m.ts) > oldest))
          .reverse()
          .slice(0, Number(args.limit ?? 100))
          .map((m) => ({ type: "message", ts: m.ts, text: m.text, metadata: m.metadata }));
        return { body: { ok: true, messages, has_more: false } };
      }
      case "views.open":
      case "views.push": {
        const trigger = this.triggers.get(String(args.trigger_id ?? ""));
        if (!trigger) return fail("invalid_trigger_id");
        if (trigger.used) return fail("exchanged_trigger_id");
        if (Date.now() - trigger.at > this.triggerLifetimeMs) return fail("expired_trigger_id");
        const view = viewArg(args.view);
        const problem = view ? slackViewProblem(view) : "view must be a JSON object";
        if (problem || !view)
          return fail("invalid_arguments", { response_metadata: { messages: [problem] } });
        if (view.type !== "modal")
          return fail("invalid_arguments", { response_metadata: { messages: ["views.open opens modals"] } });
        const stack = this.modals.get(trigger.user) ?? [];
        if (method === "views.push" && stack.length === 0) return fail("not_found");
        if (stack.length >= 3 && method === "views.push") return fail("push_limit_reached");
        trigger.used = true;
        const opened = this.newView(
          trigger.user,
          "modal",
          view,
          method === "views.push" ? stack.at(-1)! : null,
        );
        this.modals.set(trigger.user, method === "views.push" ? [...stack, opened] : [opened]);
        this.changed();
        return { body: { ok: true, view: viewObjectOf(opened) } };
      }
      case "views.update": {
        const target =
          typeof args.view_id === "string"
            ? this.view(args.view_id)
            : [...this.modals.values(), [...this.homes.values()]]
                .flat()
                .find((v) => args.external_id !== undefined && v.view.external_id === args.external_id);
        if (!target) return fail("not_found");
        if (typeof args.hash === "string" && args.hash !== target.hash) return fail("hash_conflict");
        const view = viewArg(args.view);
        const problem = view ? slackViewProblem(view) : "view must be a JSON object";
        if (problem || !view)
          return fail("invalid_arguments", { response_metadata: { messages: [problem] } });
        target.view = view;
        target.hash = this.nextHash();
        target.errors = null;
        this.changed();
        return { body: { ok: true, view: viewObjectOf(target) } };
      }
      case "views.publish": {
        const user = String(args.user_id ?? "");
        if (!/^[UW][A-Z0-9]+$/.test(user)) return fail("user_not_found");
        const view = viewArg(args.view);
        const problem = view ? slackViewProblem(view) : "view must be a JSON object";
        if (problem || !view)
          return fail("invalid_arguments", { response_metadata: { messages: [problem] } });
        if (view.type !== "home")
          return fail("invalid_arguments", {
            response_metadata: { messages: ["views.publish publishes a home view"] },
          });
        const current = this.homes.get(user);
        if (current && typeof args.hash === "string" && args.hash !== current.hash)
          return fail("hash_conflict");
        const home = current ?? this.newView(user, "home", view, null);
        home.view = view;
        home.hash = current ? this.nextHash() : home.hash;
        this.homes.set(user, home);
        this.changed();
        return { body: { ok: true, view: viewObjectOf(home) } };
      }
      case "usergroups.users.list":
        return { body: { ok: true, users: this.userGroups.get(String(args.usergroup)) ?? [] } };
      default:
        return fail("unknown_method");
    }
  }

  /** An answer through a response_url: an ephemeral message to the user where they clicked or typed. */
  private respond(res: ServerResponse, id: string, body: Record<string, unknown>): void {
    const target = this.responseTargets.get(id);
    if (!target) return this.send(res, 404, { ok: false, error: "no_such_response_url" });
    this.responses.push({ url: `http://127.0.0.1:${this.port}/response/${id}`, ...target, body });
    const problem = body.blocks === undefined ? null : slackBlockProblem(body.blocks);
    if (problem) return this.send(res, 200, { ok: false, error: "invalid_blocks", errors: [problem] });
    this.channel(target.channel).ephemerals.push({
      user: target.user,
      text: String(body.text ?? ""),
      blocks: (body.blocks ?? []) as Block[],
      at: Date.now(),
    });
    this.changed();
    this.send(res, 200, { ok: true });
  }
}

/** A view argument: the WebClient sends it as a JSON string. */
function viewArg(value: unknown): Record<string, unknown> | null {
  let view = value;
  if (typeof value === "string") {
    try {
      view = JSON.parse(value);
    } catch {
      return null;
    }
  }
  return typeof view === "object" && view !== null && !Array.isArray(view)
    ? (view as Record<string, unknown>)
    : null;
}

/** A view as Slack's views.* methods answer with it. */
function viewObjectOf(v: LocalView): Record<string, unknown> {
  return {
    ...v.view,
    id: v.id,
    hash: v.hash,
    type: v.type,
    state: { values: {} },
    root_view_id: v.rootViewId ?? v.id,
    previous_view_id: v.previousViewId,
    app_id: LOCAL_WORKSPACE.appId,
    bot_id: LOCAL_WORKSPACE.botId,
  };
}

/** A button in a view's blocks (in an actions block or as a section's accessory). */
export function findButton(
  blocks: unknown,
  actionId: string,
  value: string,
): { blockId: string; text: string } | null {
  if (!Array.isArray(blocks)) return null;
  for (const [i, b] of (blocks as Record<string, unknown>[]).entries()) {
    const elements = [
      ...(Array.isArray(b.elements) ? (b.elements as Record<string, unknown>[]) : []),
      ...(b.accessory ? [b.accessory as Record<string, unknown>] : []),
    ];
    for (const e of elements)
      if (e.type === "button" && e.action_id === actionId && e.value === value)
        return {
          blockId: typeof b.block_id === "string" ? b.block_id : `block-${i}`,
          text: String((e.text as { text?: unknown } | undefined)?.text ?? ""),
        };
  }
  return null;
}

/** The user who clicks and types in the preview page. */
export const PREVIEW_USER = "UPREVIEW01";
export const PREVIEW_ALERT_CHANNEL = "CPREVIEWALERTS";
export const PREVIEW_ESCALATION_CHANNEL = "CPREVIEWESCAL";

/** The people of preview mode's workspace; the bot is listed too, as Slack's user picker lists bots. */
export const PREVIEW_USERS = [
  { id: PREVIEW_USER, name: "you (preview user)" },
  { id: "UPREVIEWALEX", name: "Alex Rivera" },
  { id: "UPREVIEWSAM", name: "Sam Okafor" },
  { id: "UPREVIEWKIM", name: "Kim Laine" },
  { id: LOCAL_WORKSPACE.botUserId, name: "falco (bot)" },
];

/**
 * Preview mode's workspace: an alerts and an escalations channel, new messages echoed to the
 * terminal that runs `npm start`, and permalinks that point into the /preview page.
 */
export function previewWorkspace(
  echo: (text: string) => void = (text) => process.stdout.write(`${text}\n\n`),
): LocalSlack {
  return new LocalSlack({
    channels: [
      { id: PREVIEW_ALERT_CHANNEL, name: "falco-alerts" },
      { id: PREVIEW_ESCALATION_CHANNEL, name: "falco-escalations" },
    ],
    users: PREVIEW_USERS,
    echo,
    permalink: (channel, ts) => `/preview#msg-${encodeURIComponent(channel)}-${ts.replace(".", "-")}`,
  });
}

/** The Slack settings the app runs with against preview mode's workspace. */
export function previewSlackConfig(local: LocalSlack): SlackConfig {
  return {
    botToken: local.token,
    signingSecret: local.signingSecret,
    appToken: undefined,
    apiUrl: local.apiUrl,
    channel: PREVIEW_ALERT_CHANNEL,
    escalationChannel: PREVIEW_ESCALATION_CHANNEL,
    allowedResponders: [],
  };
}
