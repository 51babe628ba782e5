import { describe, expect, it } from "vitest";
import { mrkdwnToHtml } from "../../blocks/html.js";
import { homeHtml, modalHtml, namesOf } from "../../blocks/view-html.js";
import { FormValueError, viewStateValues } from "../../src/preview/view-state.js";

const HOSTILE = `<img src=x onerror="alert(1)"> "quoted" & <script>`;
const users = [
  { id: "U0ALEX", name: "Alex" },
  { id: "U0SAM", name: HOSTILE },
];
const option = (text: string, value: string) => ({ text: { type: "plain_text", text }, value });

/** A modal with every input element the Block Kit rules know. */
const modal = {
  type: "modal",
  title: { type: "plain_text", text: "Resolve" },
  submit: { type: "plain_text", text: "Save" },
  close: { type: "plain_text", text: "Cancel" },
  blocks: [
    { type: "section", text: { type: "mrkdwn", text: `*Why* ${HOSTILE.replaceAll("<", "&lt;")}` } },
    {
      type: "input",
      block_id: "note",
      label: { type: "plain_text", text: HOSTILE },
      hint: { type: "plain_text", text: "A sentence or two" },
      element: {
        type: "plain_text_input",
        action_id: "text",
        multiline: true,
        max_length: 500,
        initial_value: HOSTILE,
      },
    },
    {
      type: "input",
      block_id: "reason",
      label: { type: "plain_text", text: "Reason" },
      element: {
        type: "static_select",
        action_id: "pick",
        options: [option("False positive", "fp"), option(HOSTILE, "other")],
        initial_option: option("False positive", "fp"),
      },
    },
    {
      type: "input",
      block_id: "scope",
      optional: true,
      label: { type: "plain_text", text: "Scope" },
      element: {
        type: "radio_buttons",
        action_id: "radio",
        options: [option("Host", "host"), option("All", "all")],
      },
    },
    {
      type: "input",
      block_id: "flags",
      optional: true,
      label: { type: "plain_text", text: "Flags" },
      element: {
        type: "checkboxes",
        action_id: "boxes",
        options: [option("Notify", "notify"), option("Log", "log")],
      },
    },
    {
      type: "input",
      block_id: "owner",
      label: { type: "plain_text", text: "Owner" },
      element: { type: "users_select", action_id: "user", initial_user: "U0SAM" },
    },
    {
      type: "input",
      block_id: "until",
      optional: true,
      label: { type: "plain_text", text: "Until" },
      element: { type: "datepicker", action_id: "date", initial_date: "2026-12-31" },
    },
  ],
};

describe("modals and the Home tab as HTML", () => {
  const view = { id: "V1", type: "modal" as const, view: modal, errors: { reason: `Pick one ${HOSTILE}` } };
  const html = modalHtml(view, users);

  it("draws each input element as Slack's client does, with its label, hint and initial value", () => {
    expect(html).toContain('<h2 id="modal-title">Resolve</h2>');
    expect(html).toContain('<textarea id="input-1" class="bk-control" maxlength="500" rows="4">');
    expect(html).toContain('<option value="fp" selected>False positive</option>');
    expect(html).toContain('<input type="radio" name="input-3" id="input-3-0" value="host"> Host');
    expect(html).toContain('<input type="checkbox" name="input-4" id="input-4-1" value="log"> Log');
    expect(html).toContain('<option value="U0ALEX">Alex</option>');
    expect(html).toContain('<input type="date" id="input-6" class="bk-control" value="2026-12-31">');
    expect(html).toContain('<p class="bk-hint">A sentence or two</p>');
    expect(html).toContain(
      'data-block-id="scope" data-action-id="radio" data-type="radio_buttons" data-required="false"',
    );
    expect(html).toContain(
      'data-block-id="owner" data-action-id="user" data-type="users_select" data-required="true"',
    );
    expect(html).toContain('<button type="submit" form="modal-form" class="btn btn-primary">Save</button>');
  });

  it("shows the app's error under the input it names", () => {
    expect(html).toMatch(/data-block-id="reason"[^]*?<p class="bk-error" role="alert">Pick one &lt;img/);
    expect(html).toContain('class="bk-input has-error" data-block-id="reason"');
  });

  it("keeps every text from the view as text", () => {
    const withoutOwn = html.replace(
      /<\/?(div|header|h2|form|footer|button|label|p|span|section|textarea|select|option|input|b)\b[^>]*>/g,
      "",
    );
    expect(withoutOwn).not.toMatch(/<[a-z]/i);
    expect(html).not.toContain("<img");
    expect(html).not.toContain("<script");
    expect(html).toContain("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;");
  });

  it("names the workspace's people in mentions, as text, and shows anyone else's id", () => {
    const names = namesOf(users);
    expect(mrkdwnToHtml("Owned by <@U0ALEX>", names)).toBe('Owned by <span class="mention">@Alex</span>');
    expect(mrkdwnToHtml("<@U0SAM>", names)).toBe(
      '<span class="mention">@&lt;img src=x onerror=&quot;alert(1)&quot;&gt; &quot;quoted&quot; &amp; &lt;script&gt;</span>',
    );
    expect(mrkdwnToHtml("<@U0OTHER>", names)).toBe('<span class="mention">@U0OTHER</span>');
  });

  it("sends Home tab buttons as clicks in the view", () => {
    const home = homeHtml(
      {
        id: "V2",
        type: "home",
        errors: null,
        view: {
          type: "home",
          blocks: [
            {
              type: "actions",
              elements: [
                {
                  type: "button",
                  text: { type: "plain_text", text: "Take it" },
                  action_id: "falco_take",
                  value: "u-1",
                },
              ],
            },
          ],
        },
      },
      users,
    );
    expect(home).toContain(
      '<button type="button" class="btn" data-action-id="falco_take" data-value="u-1" data-view-id="V2">Take it</button>',
    );
  });
});

describe("the page's form as Slack's state.values", () => {
  const known = new Set(users.map((u) => u.id));

  it("builds each element's state as Slack sends it, empty inputs included", () => {
    expect(
      viewStateValues(
        modal,
        {
          note: { text: "expected backup" },
          reason: { pick: "other" },
          flags: { boxes: ["notify", "log"] },
          owner: { user: "U0ALEX" },
          until: { date: "2027-01-02" },
        },
        known,
      ),
    ).toEqual({
      note: { text: { type: "plain_text_input", value: "expected backup" } },
      reason: { pick: { type: "static_select", selected_option: { value: "other" } } },
      scope: { radio: { type: "radio_buttons", selected_option: null } },
      flags: { boxes: { type: "checkboxes", selected_options: [{ value: "notify" }, { value: "log" }] } },
      owner: { user: { type: "users_select", selected_user: "U0ALEX" } },
      until: { date: { type: "datepicker", selected_date: "2027-01-02" } },
    });
  });

  it("refuses what no control could send, naming the input", () => {
    const refused = (form: Parameters<typeof viewStateValues>[1]) => {
      try {
        viewStateValues(modal, form, known);
        return null;
      } catch (error) {
        expect(error).toBeInstanceOf(FormValueError);
        return (error as Error).message;
      }
    };
    expect(refused({ reason: { pick: "made-up" } })).toBe("values.reason.pick: not one of the options");
    expect(refused({ flags: { boxes: ["notify", "x"] } })).toBe("values.flags.boxes: not one of the options");
    expect(refused({ owner: { user: "U0NOBODY" } })).toBe(
      "values.owner.user: not a person in this workspace",
    );
    expect(refused({ until: { date: "tomorrow" } })).toBe("values.until.date: a date is written YYYY-MM-DD");
    expect(refused({ note: { text: "x".repeat(501) } })).toBe("values.note.text: longer than 500 characters");
  });
});
