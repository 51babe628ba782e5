import express, { type Request, type RequestHandler, type Response } from "express";
import type { Logger } from "pino";
import { blocksToHtml, mrkdwnToHtml } from "../../blocks/html.js";
import { escapeHtml } from "../report/html.js";
import { runDemo } from "../cli/demo.js";
import { type LocalChannel, type LocalMessage, type LocalSlack, PREVIEW_USER } from "./local-slack.js";
import { blockActionsBody, signedHeaders, slashCommandBody } from "./slack-requests.js";
import { PREVIEW_PAGE_CSS, PREVIEW_PAGE_HTML, PREVIEW_PAGE_SCRIPT } from "./page-assets.js";
import { modalHtml, viewValuesOf } from "./modal-html.js";

export interface PreviewDeps {
  local: LocalSlack;
  /** The same token check as the rest of the HTTP API. */
  auth: RequestHandler;
  ingestToken: string | undefined;
  log: Logger;
}

/**
 * This server, as the request at hand reached it: where the page's clicks, commands and demo alerts
 * are sent on (over loopback: the server listens on every interface).
 */
function selfUrl(req: Request): string {
  return `http://127.0.0.1:${req.socket.localPort}`;
}

function timeOf(ts: string): string {
  const d = new Date(Number(ts.split(".")[0]) * 1000);
  return `<time datetime="${d.toISOString()}">${d.toISOString().slice(11, 19)}</time>`;
}

function messageHtml(channel: LocalChannel, m: LocalMessage, reply = false): string {
  const id = `msg-${channel.id}-${m.ts.replace(".", "-")}`;
  const body = m.blocks.length
    ? blocksToHtml(m.blocks, { channel: channel.id, ts: m.ts })
    : `<div class="bk-text">${mrkdwnToHtml(m.text)}</div>`;
  const replies = m.replies.length
    ? `<details class="thread" open><summary>${m.replies.length} ${m.replies.length === 1 ? "reply" : "replies"}</summary>${m.replies.map((r) => messageHtml(channel, r, true)).join("")}</details>`
    : "";
  return (
    `<article class="msg${reply ? " reply" : ""}" id="${escapeHtml(id)}" data-ts="${escapeHtml(m.ts)}">` +
    `<div class="meta"><b>falco-chatops</b> <span class="app">APP</span> ${timeOf(m.ts)}${m.edits ? ' <span class="edited">(edited)</span>' : ""}</div>` +
    `${body}${replies}</article>`
  );
}

/** The local workspace as HTML: every value in it was escaped by the Block Kit renderer. */
export function workspaceHtml(local: LocalSlack): string {
  return [...local.channels.values()]
    .map((c) => {
      const ephemerals = c.ephemerals
        .slice(-5)
        .map(
          (e) =>
            `<div class="ephemeral"><span class="only-you">Only visible to you</span>${e.blocks.length ? blocksToHtml(e.blocks, { channel: c.id, ts: "" }) : `<div class="bk-text">${mrkdwnToHtml(e.text)}</div>`}</div>`,
        )
        .join("");
      const messages = c.messages.map((m) => messageHtml(c, m)).join("");
      return (
        `<section class="channel" id="ch-${escapeHtml(c.id)}"><h2># ${escapeHtml(c.name)}</h2>` +
        `${messages || '<p class="empty">No messages yet.</p>'}${ephemerals}</section>`
      );
    })
    .join("");
}

/**
 * The local preview page (preview mode only): shows the local workspace's channels as Slack would,
 * and turns button clicks and `/falco` commands into signed Slack requests to this server's own
 * /slack/events, so that they run the app's real Bolt listeners.
 */
export function previewRoutes(deps: PreviewDeps): express.Router {
  const { local, log } = deps;
  const router = express.Router();
  const securityHeaders = (res: Response) =>
    res.set({
      "Content-Security-Policy":
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'",
      "X-Content-Type-Options": "nosniff",
      "Referrer-Policy": "no-referrer",
    });

  router.get("/preview", deps.auth, (_req, res) => {
    securityHeaders(res);
    res.type("text/html; charset=utf-8").send(PREVIEW_PAGE_HTML);
  });
  router.get("/preview/app.js", (_req, res) => {
    securityHeaders(res);
    res.type("text/javascript; charset=utf-8").send(PREVIEW_PAGE_SCRIPT);
  });
  router.get("/preview/app.css", (_req, res) => {
    securityHeaders(res);
    res.type("text/css; charset=utf-8").send(PREVIEW_PAGE_CSS);
  });

  router.get("/preview/state", deps.auth, (_req, res) => {
    securityHeaders(res);
    res.json({
      version: local.version,
      html: workspaceHtml(local),
      modal: modalHtml(local.openModal(PREVIEW_USER)),
    });
  });

  router.get("/preview/events", deps.auth, (req, res) => {
    res.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      connection: "keep-alive",
    });
    res.write(`data: ${local.version}\n\n`);
    const onChange = (version: number) => res.write(`data: ${version}\n\n`);
    local.on("change", onChange);
    const heartbeat = setInterval(() => res.write(": keep-alive\n\n"), 25_000);
    req.on("close", () => {
      clearInterval(heartbeat);
      local.off("change", onChange);
    });
  });

  // JSON bodies only: a cross-site form cannot send them without the browser asking first.
  const json = express.json({ limit: "16kb", type: "application/json" });
  const requireJson: RequestHandler = (req, res, next) =>
    req.is("application/json")
      ? next()
      : res.status(415).json({ error: "send the request as application/json" });

  const toSlackEvents = async (req: Request, body: string) => {
    const res = await fetch(new URL("/slack/events", selfUrl(req)), {
      method: "POST",
      headers: signedHeaders(local.signingSecret, body),
      body,
    });
    return { status: res.status, text: await res.text() };
  };

  router.post("/preview/click", deps.auth, requireJson, json, async (req, res) => {
    const { channel, ts, actionId, value } = (req.body ?? {}) as Record<string, unknown>;
    for (const [name, v] of Object.entries({ channel, ts, actionId, value }))
      if (typeof v !== "string" || v.length === 0 || v.length > 200)
        return res
          .status(400)
          .json({ error: `${name} must be a non-empty string of at most 200 characters` });
    const target = local.channels.get(channel as string);
    const message = target?.messages.find((m) => m.ts === ts);
    if (!target || !message)
      return res.status(404).json({ error: `no message ${String(ts)} in ${String(channel)}` });
    const button = message.blocks
      .flatMap((b) => (b.type === "actions" ? b.elements : []))
      .find((e) => e.action_id === actionId && e.value === value);
    if (!button) return res.status(400).json({ error: `the message has no button ${String(actionId)}` });
    const body = blockActionsBody({
      actionId: actionId as string,
      value: value as string,
      userId: PREVIEW_USER,
      channel: target.id,
      channelName: target.name,
      messageTs: message.ts,
      responseUrl: local.responseUrl(target.id, PREVIEW_USER),
      buttonText: button.text.text,
      triggerId: local.triggerFor(PREVIEW_USER),
    });
    try {
      const answer = await toSlackEvents(req, body);
      res.status(answer.status === 200 ? 200 : 502).json({ slackEvents: answer.status });
    } catch (error) {
      log.error({ err: error }, "preview: could not reach this server's /slack/events");
      res.status(502).json({ error: (error as Error).message });
    }
  });

  router.post("/preview/command", deps.auth, requireJson, json, async (req, res) => {
    const text = (req.body as { text?: unknown } | undefined)?.text;
    if (typeof text !== "string" || text.length > 500)
      return res.status(400).json({ error: "text must be a string of at most 500 characters" });
    const [first] = local.channels.values();
    const body = slashCommandBody({
      text,
      userId: PREVIEW_USER,
      channel: first!.id,
      channelName: first!.name,
      responseUrl: local.responseUrl(first!.id, PREVIEW_USER),
      triggerId: local.triggerFor(PREVIEW_USER),
    });
    try {
      const answer = await toSlackEvents(req, body);
      res.status(answer.status === 200 ? 200 : 502).json({ slackEvents: answer.status });
    } catch (error) {
      res.status(502).json({ error: (error as Error).message });
    }
  });

  // The open modal's submit button: Slack's view_submission, and the app's answer applied to the modal.
  router.post("/preview/submit", deps.auth, requireJson, json, async (req, res) => {
    const values = viewValuesOf((req.body as { inputs?: unknown } | undefined)?.inputs);
    if (typeof values === "string") return res.status(400).json({ error: values });
    if (!local.openModal(PREVIEW_USER)) return res.status(409).json({ error: "no modal is open" });
    try {
      const outcome = await local.submitView(PREVIEW_USER, values);
      res.status(outcome.action === "refused" ? 502 : 200).json(outcome);
    } catch (error) {
      log.error({ err: error }, "preview: could not send the modal's submission");
      res.status(502).json({ error: (error as Error).message });
    }
  });

  router.post("/preview/close", deps.auth, requireJson, (_req, res) => {
    local.closeModal(PREVIEW_USER);
    res.json({ closed: true });
  });

  router.post("/preview/demo", deps.auth, requireJson, async (req, res) => {
    try {
      res.json({ sent: await runDemo(selfUrl(req), deps.ingestToken) });
    } catch (error) {
      res.status(502).json({ error: (error as Error).message });
    }
  });

  return router;
}
