import express, { type Request, type RequestHandler, type Response } from "express";
import type { Logger } from "pino";
import { z } from "zod";
import { blocksToHtml, mrkdwnToHtml, type UserNames } from "../../blocks/html.js";
import { homeHtml, modalHtml, namesOf, NO_HOME_HTML } from "../../blocks/view-html.js";
import { escapeHtml } from "../report/html.js";
import { runDemo } from "../cli/demo.js";
import {
  findButton,
  type LocalChannel,
  type LocalMessage,
  type LocalSlack,
  PREVIEW_USER,
} from "./local-slack.js";
import { blockActionsBody, signedHeaders, slashCommandBody } from "./slack-requests.js";
import { PREVIEW_PAGE_CSS, PREVIEW_PAGE_HTML, PREVIEW_PAGE_SCRIPT } from "./page-assets.js";
import { FormValueError, viewStateValues } from "./view-state.js";

/** What the page's modal form sends: block id → action id → a control's value. */
const formValues = z.record(
  z.string().max(255),
  z.record(
    z.string().max(255),
    z.union([z.string().max(3000), z.array(z.string().max(150)).max(10), z.null()]),
  ),
);

/** The preview user's open modal and Home tab, as HTML (null: none open / none published). */
export function viewsHtml(local: LocalSlack): { modal: string | null; home: string } {
  const modal = local.openModal(PREVIEW_USER);
  const home = local.homes.get(PREVIEW_USER);
  return {
    modal: modal ? modalHtml(modal, local.users) : null,
    home: home ? homeHtml(home, local.users) : NO_HOME_HTML,
  };
}

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

function messageHtml(channel: LocalChannel, m: LocalMessage, names: UserNames, reply = false): string {
  const id = `msg-${channel.id}-${m.ts.replace(".", "-")}`;
  const body = m.blocks.length
    ? blocksToHtml(m.blocks, { channel: channel.id, ts: m.ts }, names)
    : `<div class="bk-text">${mrkdwnToHtml(m.text, names)}</div>`;
  const replies = m.replies.length
    ? `<details class="thread" open><summary>${m.replies.length} ${m.replies.length === 1 ? "reply" : "replies"}</summary>${m.replies.map((r) => messageHtml(channel, r, names, true)).join("")}</details>`
    : "";
  return (
    `<article class="msg${reply ? " reply" : ""}" id="${escapeHtml(id)}" data-ts="${escapeHtml(m.ts)}">` +
    `<div class="meta"><b>falco-chatops</b> <span class="app">APP</span> ${timeOf(m.ts)}${m.edits ? ' <span class="edited">(edited)</span>' : ""}</div>` +
    `${body}${replies}</article>`
  );
}

/** The local workspace as HTML: every value in it was escaped by the Block Kit renderer. */
export function workspaceHtml(local: LocalSlack): string {
  const names = namesOf(local.users);
  return [...local.channels.values()]
    .map((c) => {
      const ephemerals = c.ephemerals
        .slice(-5)
        .map(
          (e) =>
            `<div class="ephemeral"><span class="only-you">Only visible to you</span>${e.blocks.length ? blocksToHtml(e.blocks, { channel: c.id, ts: "" }, names) : `<div class="bk-text">${mrkdwnToHtml(e.text, names)}</div>`}</div>`,
        )
        .join("");
      const messages = c.messages.map((m) => messageHtml(c, m, names)).join("");
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
    res.json({ version: local.version, html: workspaceHtml(local), ...viewsHtml(local) });
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

  router.post("/preview/submit", deps.auth, requireJson, json, async (req, res) => {
    const { viewId, values } = (req.body ?? {}) as Record<string, unknown>;
    const modal = local.openModal(PREVIEW_USER);
    if (typeof viewId !== "string" || !modal || modal.id !== viewId)
      return res
        .status(409)
        .json({ error: "viewId is not the open modal: it was closed or replaced; reload the page" });
    const form = formValues.safeParse(values ?? {});
    if (!form.success)
      return res.status(400).json({
        error: `values must map block ids to action ids to a string, a list of strings or null (${form.error.issues[0]?.path.join(".") ?? ""})`,
      });
    let state;
    try {
      state = viewStateValues(modal.view, form.data, new Set(local.users.map((u) => u.id)));
    } catch (error) {
      if (error instanceof FormValueError) return res.status(400).json({ error: error.message });
      throw error;
    }
    try {
      const outcome = await local.submitView(PREVIEW_USER, state);
      res.status(outcome.status === 200 ? 200 : 502).json(outcome);
    } catch (error) {
      log.error({ err: error }, "preview: could not send the submission to this server's /slack/events");
      res.status(502).json({ error: (error as Error).message });
    }
  });

  router.post("/preview/view-click", deps.auth, requireJson, json, async (req, res) => {
    const { viewId, actionId, value } = (req.body ?? {}) as Record<string, unknown>;
    for (const [name, v] of Object.entries({ viewId, actionId, value }))
      if (typeof v !== "string" || v.length === 0 || v.length > 200)
        return res
          .status(400)
          .json({ error: `${name} must be a non-empty string of at most 200 characters` });
    const view = local.view(viewId as string);
    if (!view || view.user !== PREVIEW_USER)
      return res.status(404).json({ error: `no view ${String(viewId)}` });
    if (!findButton(view.view.blocks, actionId as string, value as string))
      return res.status(400).json({ error: `the view has no button ${String(actionId)}` });
    try {
      const status = await local.clickInView(PREVIEW_USER, view.id, {
        actionId: actionId as string,
        value: value as string,
      });
      res.status(status === 200 ? 200 : 502).json({ slackEvents: status });
    } catch (error) {
      log.error({ err: error }, "preview: could not send the click to this server's /slack/events");
      res.status(502).json({ error: (error as Error).message });
    }
  });

  router.post("/preview/close-modal", deps.auth, requireJson, (_req, res) => {
    local.closeModal(PREVIEW_USER);
    res.json({ closed: true });
  });

  router.post("/preview/home", deps.auth, requireJson, async (_req, res) => {
    try {
      res.status(200).json({ slackEvents: await local.openHome(PREVIEW_USER) });
    } catch (error) {
      res.status(502).json({ error: (error as Error).message });
    }
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
