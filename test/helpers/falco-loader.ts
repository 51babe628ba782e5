/**
 * How Falco's rule loader turns a rules file's exceptions, lists and macro overrides into condition
 * text, ported line by line from falcosecurity/falco `userspace/engine/rule_loader_compiler.cpp`
 * (`quote_item`, `paren_item`, `build_rule_exception_infos`, `resolve_list`) and
 * `rule_loader_collector.cpp` (appending a macro's condition), so that tests can hand the result to
 * libsinsp's real filter compiler.
 */

/** Wraps in double quotes only a value with a space that does not already start with a quote. */
export function quoteItem(e: string): string {
  return e.includes(" ") && e[0] !== '"' && e[0] !== "'" ? `"${e}"` : e;
}

function parenItem(e: string): string {
  return e[0] !== "(" ? `(${e})` : e;
}

/** Operators whose right-hand side is a list (libsinsp `supported_operators(true)`). */
const LIST_OPERATORS = new Set(["in", "intersects", "pmatch"]);

export interface FalcoException {
  fields: string | string[];
  comps?: string | string[];
  values: unknown[];
}

/** `build_rule_exception_infos`: the rule's condition with ` and not (…)` per exception. */
export function conditionWithExceptions(condition: string, exceptions: FalcoException[]): string {
  let out = `(${condition})`;
  for (const ex of exceptions) {
    let icond = "";
    if (!Array.isArray(ex.fields)) {
      const comp = typeof ex.comps === "string" ? ex.comps : "in";
      for (const val of ex.values) {
        icond += icond === "" ? `(${ex.fields} ${comp} (` : ", ";
        icond += quoteItem(String(val));
      }
      icond += icond === "" ? "" : "))";
    } else {
      const comps = Array.isArray(ex.comps) ? ex.comps : ex.fields.map(() => "=");
      icond = "(";
      for (const values of ex.values as unknown[][]) {
        icond += icond === "(" ? "" : " or ";
        icond += "(";
        ex.fields.forEach((field, k) => {
          icond += k === 0 ? "" : " and ";
          const value = values[k];
          let istr: string;
          if (Array.isArray(value)) istr = `(${value.map((v) => quoteItem(String(v))).join(", ")})`;
          else istr = LIST_OPERATORS.has(comps[k]!) ? parenItem(String(value)) : quoteItem(String(value));
          icond += ` ${field} ${comps[k]} ${istr}`;
        });
        icond += ")";
      }
      icond += ")";
      if (icond === "()") icond = "";
    }
    out += icond === "" ? "" : ` and not ${icond}`;
  }
  return out;
}

const BLANKS = " \t\n\r";
const DELIMS = `${BLANKS}(),=`;

/** `resolve_list`: every delimited occurrence of the list's name, even inside strings, becomes its items. */
export function resolveList(cnd: string, name: string, items: string[]): string {
  let start = cnd.indexOf(name);
  while (start !== -1) {
    let end = start + name.length;
    if (
      (start === 0 || DELIMS.includes(cnd[start - 1]!)) &&
      (end >= cnd.length || DELIMS.includes(cnd[end]!))
    ) {
      while (start > 0 && BLANKS.includes(cnd[start - 1]!)) start--;
      while (end < cnd.length && BLANKS.includes(cnd[end]!)) end++;
      const sub = items.map(quoteItem).join(", ");
      if (sub === "") {
        if (start > 0 && cnd[start - 1] === ",") start--;
        else if (end < cnd.length && cnd[end] === ",") end++;
      }
      let next = start > 0 ? `${cnd.slice(0, start)} ` : "";
      next += `${sub} `;
      if (end <= cnd.length) next += cnd.slice(end);
      cnd = next;
      start += sub.length + 1;
    }
    start = cnd.indexOf(name, start + 1);
  }
  return cnd;
}
