import { randomBytes } from "node:crypto";
import type { App, BlockAction, ButtonAction, ViewSubmitAction } from "@slack/bolt";
import type { View } from "@slack/types";
import type { WebClient } from "@slack/web-api";
import { z } from "zod";
import { ACTIONS } from "../../../../blocks/alert-message.js";
import { escapeMrkdwn, inlineCode, permalinkLink } from "../../../../blocks/escape.js";
import {
  INCLUDE_OPTION,
  type ModalView,
  INPUT_ACTION,
  NAME_BLOCK,
  renderReplayView,
  renderReplayingView,
  renderTuneModal,
  rowBlocks,
  TUNE_CALLBACKS,
  TUNING_ACTIONS,
  type TuneFormMeta,
} from "../../../../blocks/tune.js";
import type { SlackRef } from "../../../store/alert-store.js";
import type { StoredException } from "../../../store/tuning-store.js";
import {
  buildException,
  type DraftRow,
  offeredFields,
  type TuningException,
} from "../../../tuning/exception.js";
import { GitHubError, type PullRequestDraft } from "../../../tuning/github.js";
import { additionProposal, withdrawalProposal } from "../../../tuning/proposal.js";
import { type ReplayResult, replayException } from "../../../tuning/replay.js";
import { tuningRulesYaml } from "../../../tuning/rules-file.js";
import { notAResponder } from "../actions/responders.js";
import { buttonHandler, type Click } from "../button.js";
import type { ListenerDeps, TuningDeps } from "../deps.js";
import { type Clicker, openModal, tellPrivately } from "../open-modal.js";

/**
 * Tune: a modal that builds a Falco exception from an alert, replays it against the rule's stored
 * alerts, and saves it (held back here at once, served in the tuning rules file, proposed as a pull
 * request when GitHub is configured); and the Withdraw button of `/falco tuning`.
 */

const REFUSED = notAResponder("tune rules");
const TUNING_OFF = "Tuning is not available in this deployment.";

const formMeta = z.object({ uuid: z.string(), fields: z.array(z.string()) });

/** What waits in Redis between the replay and Save. */
const draftSchema = z.object({
  exception: z.object({
    rule: z.string(),
    name: z.string(),
    fields: z.array(z.string()),
    comps: z.array(z.enum(["=", "in", "startswith"])),
    values: z.array(z.union([z.string(), z.array(z.string())])),
    alertUuid: z.string(),
  }),
  replay: z.custom<ReplayResult>((v) => typeof v === "object" && v !== null),
});

type StateValues = ViewSubmitAction["view"]["state"]["values"];

/** The form's rows as the person left them. */
function rowsOf(values: StateValues, fields: string[]): DraftRow[] {
  return fields.map((field, i) => {
    const ids = rowBlocks(i);
    const include = values[ids.include]?.[INPUT_ACTION]?.selected_options ?? [];
    return {
      field,
      include: include.some((o) => o.value === INCLUDE_OPTION),
      comp: values[ids.comp]?.[INPUT_ACTION]?.selected_option?.value ?? "",
      value: values[ids.value]?.[INPUT_ACTION]?.value ?? "",
    };
  });
}

/** An id for an exception: short, a word, unique enough across a deployment's lifetime. */
function newId(): string {
  return `t${randomBytes(6).toString("hex")}`;
}

/** Our views are checked against Slack's rules by the tests (the local Slack refuses what Slack would). */
function asView(view: ModalView): View {
  return view as unknown as View;
}

function slackError(error: unknown): string {
  return (error as { data?: { error?: string } }).data?.error ?? (error as Error).message;
}

export function register(app: App, deps: ListenerDeps): void {
  const { store, kb, log } = deps;
  const { responders } = deps;

  async function alertThread(uuid: string): Promise<SlackRef | null> {
    return (await store.get(uuid))?.slack ?? null;
  }

  /** Proposes the current rules file as a pull request; tells the person when GitHub refuses. */
  async function propose(
    tuning: TuningDeps,
    client: WebClient,
    who: Clicker,
    draft: (content: string, path: string) => PullRequestDraft,
    thread: SlackRef | null,
  ): Promise<void> {
    if (!tuning.github) return;
    const { pulls, repo, path } = tuning.github;
    try {
      const content = tuningRulesYaml(await tuning.store.list());
      const pr = await pulls.propose(draft(content, path));
      log.info({ pr: pr.url, repo }, "tuning pull request opened");
      const link =
        permalinkLink(pr.url, `pull request #${pr.number}`) ??
        `pull request #${pr.number} (${inlineCode(pr.url, 200)})`;
      await deps.threadLog.record(client, thread, {
        user: who.user,
        what: `proposed the change to ${inlineCode(repo, 140)} in ${link}`,
        at: new Date(),
      });
    } catch (error) {
      log.warn({ err: error, repo }, "could not open the tuning pull request");
      const why =
        error instanceof GitHubError
          ? error.advice
          : `GitHub could not be reached (${(error as Error).message}).`;
      await tellPrivately(
        client,
        who,
        `The exception change is saved, but no pull request was opened: ${escapeMrkdwn(why)}`,
      ).catch(() => {});
    }
  }

  /** A Tune or Withdraw button: only where tuning is available, and only for allowed responders. */
  const guarded = (work: (client: WebClient, click: Click, tuning: TuningDeps) => Promise<void>) =>
    buttonHandler(deps, async (client, click) => {
      if (!deps.tuning) return tellPrivately(client, click, TUNING_OFF);
      if (!(await responders.allows(client, click.user))) {
        log.warn({ user: click.user }, "refused: not in SLACK_ALLOWED_RESPONDERS");
        return tellPrivately(client, click, REFUSED);
      }
      await work(client, click, deps.tuning);
    });

  // The Tune button: opens the form, after checking that the alert is still stored.
  app.action<BlockAction<ButtonAction>>(
    ACTIONS.tune,
    guarded(async (client, click) => {
      const uuid = click.uuid;
      const stored = await store.get(uuid);
      if (!stored)
        return tellPrivately(
          client,
          click,
          `This alert (${escapeMrkdwn(uuid.slice(0, 80))}) is no longer stored, so it cannot be tuned from here.`,
        );
      const view = renderTuneModal({
        alert: stored.alert,
        offered: offeredFields(stored.alert, kb.byRule.get(stored.alert.rule)),
        name: `chatops_${uuid.replace(/[^A-Za-z0-9]/g, "").slice(0, 8)}`,
      });
      await openModal(client, { triggerId: click.triggerId ?? "", view: asView(view), who: click, log });
    }),
  );

  // Replay: validate the form, answer at once with a "replaying" view, then show the replay.
  app.view<ViewSubmitAction>(TUNE_CALLBACKS.replay, async ({ ack, body, view, client }) => {
    const who: Clicker = { user: body.user.id, channel: undefined };
    const meta = formMeta.safeParse(JSON.parse(view.private_metadata || "null"));
    const tuning = deps.tuning;
    if (!tuning || !meta.success)
      return ack({ response_action: "errors", errors: { [NAME_BLOCK]: TUNING_OFF } });
    if (!(await responders.allows(client, who.user))) {
      log.warn({ user: who.user }, "refused: not in SLACK_ALLOWED_RESPONDERS");
      return ack({ response_action: "errors", errors: { [NAME_BLOCK]: REFUSED } });
    }
    const { uuid, fields } = meta.data as TuneFormMeta;
    const stored = await store.get(uuid);
    if (!stored)
      return ack({
        response_action: "errors",
        errors: {
          [NAME_BLOCK]: "The alert this form was built from is no longer stored: tune from a newer alert.",
        },
      });
    const rule = stored.alert.rule;
    const existing = (await tuning.store.list()).filter((e) => e.rule === rule).map((e) => e.name);
    const id = newId();
    const built = buildException(
      {
        rule,
        name: view.state.values[NAME_BLOCK]?.[INPUT_ACTION]?.value ?? "",
        rows: rowsOf(view.state.values, fields),
      },
      existing,
      { id, alertUuid: uuid, createdBy: who.user, createdAt: new Date().toISOString() },
    );
    if ("problems" in built) {
      const errors: Record<string, string> = {};
      if (built.problems.name) errors[NAME_BLOCK] = built.problems.name;
      for (const [i, message] of Object.entries(built.problems.rows))
        errors[rowBlocks(Number(i)).value] = message;
      if (built.problems.general)
        errors[fields.length > 0 ? rowBlocks(0).include : NAME_BLOCK] = built.problems.general;
      return ack({ response_action: "errors", errors });
    }
    await ack({ response_action: "update", view: asView(renderReplayingView(rule)) });
    try {
      const replay = await replayException(
        built.exception,
        tuning.store.ruleAlerts(rule, Date.now() - tuning.retentionSeconds * 1000),
      );
      const { id: _id, createdBy: _by, createdAt: _at, ...exception } = built.exception;
      await tuning.store.saveDraft(id, { exception, replay });
      await client.views.update({
        view_id: view.id,
        view: asView(
          renderReplayView({
            exception: built.exception,
            replay,
            draftId: id,
            retentionDays: Math.round(tuning.retentionSeconds / 86400),
          }),
        ),
      });
    } catch (error) {
      const code = slackError(error);
      log.warn({ err: error, user: who.user, slackError: code }, "the Tune replay could not be shown");
      // not_found: the person closed the form meanwhile, and needs no apology.
      if (code === "not_found") return;
      await tellPrivately(
        client,
        who,
        "Sorry, the replay could not be shown (Slack or Redis answered with an error). Please press Tune again.",
      ).catch(() => {});
    }
  });

  // Save: the exception becomes a hold here at once, an entry of the rules file, and maybe a pull request.
  app.view<ViewSubmitAction>(TUNE_CALLBACKS.save, async ({ ack, body, view, client }) => {
    const who: Clicker = { user: body.user.id, channel: undefined };
    const tuning = deps.tuning;
    if (!tuning) {
      await ack();
      return tellPrivately(client, who, TUNING_OFF);
    }
    if (!(await responders.allows(client, who.user))) {
      // The replay view has no input to show an error beside: close it and say why.
      await ack();
      log.warn({ user: who.user }, "refused: not in SLACK_ALLOWED_RESPONDERS");
      return tellPrivately(client, who, REFUSED);
    }
    const id = view.private_metadata;
    const draft = /^t[0-9a-f]{12}$/.test(id) ? await tuning.store.readDraft(id, draftSchema) : null;
    if (!draft) {
      await ack();
      return tellPrivately(
        client,
        who,
        "This replay has expired or was saved already: press Tune again to build the exception.",
      );
    }
    const clash = (await tuning.store.list()).find(
      (e) => e.rule === draft.exception.rule && e.name === draft.exception.name,
    );
    if (clash) {
      await ack();
      return tellPrivately(
        client,
        who,
        `Not saved: the rule already has a saved exception named ${inlineCode(clash.name, 64)}. Press Tune again and choose another name.`,
      );
    }
    const exception: TuningException = {
      ...draft.exception,
      id,
      createdBy: who.user,
      createdAt: new Date().toISOString(),
    };
    await tuning.store.save(exception);
    await tuning.store.dropDraft(id);
    await ack({ response_action: "clear" });
    await tuning.hold.refresh(true);
    log.info({ id, rule: exception.rule, user: who.user }, "Falco exception saved");
    const thread = await alertThread(exception.alertUuid);
    await deps.threadLog.record(client, thread, {
      user: who.user,
      what:
        `added the Falco exception ${inlineCode(exception.name, 64)} for this rule: replayed, it would have hidden ` +
        `${draft.replay.hidden} of ${draft.replay.replayed} stored alerts. Matching alerts are no longer posted`,
      at: new Date(exception.createdAt),
    });
    await tellPrivately(
      client,
      who,
      `Saved the Falco exception ${inlineCode(exception.name, 64)} for ${inlineCode(exception.rule, 200)}: matching alerts are held back now, and it is in \`GET /tuning/falco-rules.yaml\` for Falco to load. \`/falco tuning\` lists and withdraws it.`,
    ).catch((error: unknown) => log.warn({ err: error }, "could not tell the user privately"));
    await propose(
      tuning,
      client,
      who,
      (content, path) => additionProposal(exception, draft.replay, content, path),
      thread,
    );
  });

  // Withdraw, from the list `/falco tuning` shows and from the Home tab.
  app.action<BlockAction<ButtonAction>>(
    TUNING_ACTIONS.withdraw,
    guarded(async (client, click, tuning) => {
      const withdrawn: StoredException | null = await tuning.store.withdraw(click.uuid);
      if (!withdrawn)
        return tellPrivately(client, click, "That exception is not saved (any more): nothing to withdraw.");
      await tuning.hold.refresh(true);
      log.info({ id: withdrawn.id, rule: withdrawn.rule, user: click.user }, "Falco exception withdrawn");
      const thread = await alertThread(withdrawn.alertUuid);
      await deps.threadLog.record(client, thread, {
        user: click.user,
        what: `withdrew the Falco exception ${inlineCode(withdrawn.name, 64)}: matching alerts are posted again`,
        at: new Date(),
      });
      await tellPrivately(
        client,
        click,
        `Withdrew ${inlineCode(withdrawn.name, 64)} from ${inlineCode(withdrawn.rule, 200)}: matching alerts are posted again, and it is gone from the rules file.`,
      );
      await propose(
        tuning,
        client,
        click,
        (content, path) => withdrawalProposal(withdrawn, click.user, content, path),
        thread,
      );
    }),
  );
}
