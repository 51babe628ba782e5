import type { App, BlockAction, ButtonAction } from "@slack/bolt";
import type { WebClient } from "@slack/web-api";
import { ACTIONS } from "../../../../blocks/alert-message.js";
import { escapeMrkdwn, slackDate, userMention } from "../../../../blocks/escape.js";
import { verdictText } from "../../../../blocks/resolution.js";
import { renderResolveModal } from "../../../../blocks/resolve-modal.js";
import type { ListenerDeps } from "../deps.js";
import { refreshAlertMessage } from "../message-refresh.js";
import { buttonHandler, type Click, clickedMessage } from "../button.js";
import { openModal, tellPrivately } from "../open-modal.js";
import { notAResponder } from "./responders.js";

/** The Resolve button (opens the verdict modal; the submission is views/resolution.ts) and Reopen. */
export function register(app: App, deps: ListenerDeps): void {
  const { store, log } = deps;
  const { responders } = deps;
  const handle = (work: (client: WebClient, click: Click) => Promise<void>) => buttonHandler(deps, work);

  app.action<BlockAction<ButtonAction>>(
    ACTIONS.resolve,
    handle(async (client, click) => {
      if (!(await responders.allows(client, click.user))) {
        log.warn({ uuid: click.uuid, user: click.user }, "refused: not in SLACK_ALLOWED_RESPONDERS");
        await tellPrivately(client, click, notAResponder("resolve alerts"));
        return;
      }
      const stored = await store.get(click.uuid);
      if (!stored) {
        await tellPrivately(
          client,
          click,
          `This alert (${escapeMrkdwn(click.uuid)}) is no longer stored, so it cannot be resolved.`,
        );
        return;
      }
      const r = stored.resolution;
      if (r) {
        await tellPrivately(
          client,
          click,
          `${r.by === click.user ? "You" : userMention(r.by)} already resolved this alert as ${verdictText(r.verdict)} at ${slackDate(r.at)}.`,
        );
        return;
      }
      const message = stored.slack ?? clickedMessage(click);
      if (!message) return;
      await openModal(client, {
        triggerId: click.triggerId ?? "",
        view: renderResolveModal(stored.alert, { uuid: click.uuid, ...message }),
        who: click,
        log,
      });
    }),
  );

  app.action<BlockAction<ButtonAction>>(
    ACTIONS.reopen,
    handle(async (client, click) => {
      if (!(await responders.allows(client, click.user))) {
        log.warn({ uuid: click.uuid, user: click.user }, "refused: not in SLACK_ALLOWED_RESPONDERS");
        await tellPrivately(client, click, notAResponder("reopen alerts"));
        return;
      }
      const at = new Date();
      const result = await store.reopenAlert(click.uuid);
      if (result.outcome === "missing") {
        await tellPrivately(
          client,
          click,
          `This alert (${escapeMrkdwn(click.uuid)}) is no longer stored, so it cannot be reopened.`,
        );
        return;
      }
      if (result.outcome === "not_resolved") {
        await tellPrivately(client, click, "This alert is not resolved (someone reopened it already).");
        return;
      }
      log.info({ uuid: click.uuid, user: click.user }, "alert reopened");
      const ref = await refreshAlertMessage(client, deps, click.uuid, clickedMessage(click));
      const was = result.was.verdict ? ` (it was resolved as ${verdictText(result.was.verdict)})` : "";
      await deps.threadLog.record(client, ref, { user: click.user, what: `reopened it${was}`, at });
    }),
  );
}
