import type { App, BlockAction, ButtonAction } from "@slack/bolt";
import type { WebClient } from "@slack/web-api";
import { ACTIONS } from "../../../../blocks/alert-message.js";
import { ASSIGN_MODAL, type AssignMetadata, assignModal } from "../../../../blocks/assign-modal.js";
import { escapeMrkdwn, userMention } from "../../../../blocks/escape.js";
import type { TakeResult } from "../../../store/alert-store.js";
import { publishHome } from "../../home.js";
import type { ListenerDeps } from "../deps.js";
import { openModal, tellPrivately } from "../open-modal.js";
import { buttonHandler, type Click } from "../button.js";
import { notAResponder } from "./responders.js";

/** What the alert buttons' module lends these handlers, so that they refresh messages as its own do. */
export interface ButtonTools {
  /** Re-renders the alert message from the stored state. */
  refresh: (client: WebClient, uuid: string, click: Click) => Promise<void>;
}

const REFUSED = notAResponder("take or assign alerts");

function metadataOf(text: string): AssignMetadata | null {
  try {
    const parsed = JSON.parse(text) as Partial<AssignMetadata>;
    return typeof parsed.uuid === "string" && parsed.uuid.length > 0
      ? { uuid: parsed.uuid, fromHome: parsed.fromHome === true }
      : null;
  } catch {
    return null;
  }
}

/** What the thread records for a change of owner (mrkdwn; user ids come from Slack). */
function ownerChange(by: string, owner: string, previous: string | null): string {
  const from = previous ? ` from ${userMention(previous)}` : "";
  return by === owner
    ? `took it${previous ? ` over${from}` : ""}`
    : `assigned it to ${userMention(owner)}${from}`;
}

/**
 * Ownership: "Take it" makes the clicker the owner; "Assign…" opens a modal to pick the owner. Both
 * take over from an earlier owner, and say whose it was.
 */
export function registerOwnership(app: App, deps: ListenerDeps, tools: ButtonTools): void {
  const { store, log } = deps;
  const { refresh } = tools;
  const { responders } = deps;
  const handle = (work: (client: WebClient, click: Click) => Promise<void>) => buttonHandler(deps, work);
  const tell = tellPrivately;

  /** After a change of owner: the message, the thread's log. */
  async function changed(client: WebClient, click: Click, owner: string, result: TakeResult): Promise<void> {
    if (result.outcome !== "taken") return;
    log.info({ uuid: click.uuid, user: click.user, owner, previous: result.previous }, "alert owner set");
    await refresh(client, click.uuid, click);
    const stored = await store.get(click.uuid);
    if (stored)
      await deps.threadLog.record(client, stored.slack, {
        user: click.user,
        what: ownerChange(click.user, owner, result.previous),
        at: new Date(result.at),
      });
  }

  app.action<BlockAction<ButtonAction>>(
    ACTIONS.take,
    handle(async (client, click) => {
      if (!(await responders.allows(client, click.user))) {
        log.warn({ uuid: click.uuid, user: click.user }, "refused: not in SLACK_ALLOWED_RESPONDERS");
        await tell(client, click, REFUSED);
        return;
      }
      const result = await store.take(click.uuid, click.user, new Date());
      if (result.outcome === "missing") {
        await tell(
          client,
          click,
          `This alert (${escapeMrkdwn(click.uuid)}) is no longer stored, so it cannot be taken.`,
        );
        return;
      }
      if (result.outcome === "already") {
        await tell(client, click, "You already own this alert.");
        return;
      }
      await changed(client, click, click.user, result);
      if (result.previous)
        await tell(client, click, `You took this alert over from ${userMention(result.previous)}.`);
    }),
  );

  app.action<BlockAction<ButtonAction>>(
    ACTIONS.assign,
    handle(async (client, click) => {
      if (!(await responders.allows(client, click.user))) {
        log.warn({ uuid: click.uuid, user: click.user }, "refused: not in SLACK_ALLOWED_RESPONDERS");
        await tell(client, click, REFUSED);
        return;
      }
      const stored = await store.get(click.uuid);
      if (!stored) {
        await tell(client, click, `This alert (${escapeMrkdwn(click.uuid)}) is no longer stored.`);
        return;
      }
      await openModal(client, {
        triggerId: click.triggerId ?? "",
        view: assignModal(stored.alert, stored.ownedBy, click.fromHome),
        who: click,
        log,
      });
    }),
  );

  app.view(ASSIGN_MODAL.callbackId, async ({ ack, body, view, client, context }) => {
    const user = body.user.id;
    const errors = (message: string) =>
      ack({ response_action: "errors", errors: { [ASSIGN_MODAL.ownerBlock]: message } });
    try {
      if (!(await responders.allows(client, user))) {
        log.warn({ user }, "refused: not in SLACK_ALLOWED_RESPONDERS");
        return await errors(
          "Only the responders this bot is configured with (SLACK_ALLOWED_RESPONDERS) can assign alerts.",
        );
      }
      const metadata = metadataOf(view.private_metadata);
      if (!metadata)
        return await errors(
          "This form does not say which alert it is for. Close it and press Assign… again.",
        );
      const picked = view.state.values[ASSIGN_MODAL.ownerBlock]?.[ASSIGN_MODAL.ownerAction]?.selected_user;
      if (!picked) return await errors("Pick the person who should own this alert.");
      if (picked === context.botUserId) return await errors("The bot cannot own an alert. Pick a person.");
      const result = await store.take(metadata.uuid, picked, new Date());
      if (result.outcome === "missing")
        return await errors("This alert is no longer stored, so it cannot be assigned.");
      await ack();
      const click: Click = {
        uuid: metadata.uuid,
        user,
        channel: undefined,
        messageTs: undefined,
        triggerId: undefined,
        fromHome: metadata.fromHome === true,
      };
      await changed(client, click, picked, result);
      if (click.fromHome) await publishHome(client, deps, user);
    } catch (error) {
      log.error({ err: error, user }, "assigning an alert failed");
      await errors("That did not work (Slack or Redis answered with an error). Please try again.").catch(
        () => {},
      );
    }
  });
}
