import type { App } from "@slack/bolt";
import { publishHome } from "../../home.js";
import type { ListenerDeps } from "../deps.js";

/** Events API (or Socket Mode) events: the Home tab is published each time someone opens it. */
export function register(app: App, deps: ListenerDeps): void {
  app.event("app_home_opened", async ({ event, client }) => {
    // The event also fires for the Messages tab, which shows no view of ours.
    if (event.tab !== "home") return;
    try {
      await publishHome(client, deps, event.user);
    } catch (error) {
      deps.log.error({ err: error, user: event.user }, "could not publish the Home tab");
    }
  });
}
