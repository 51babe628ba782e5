import { z } from "zod";

/** A Slack channel id (public, private or DM): names change and are ambiguous, ids are not. */
export const ChannelIdSchema = z
  .string()
  .regex(/^[CGD][A-Z0-9]{2,}$/, "must be a Slack channel id such as C0123456789 (not a #name)");
