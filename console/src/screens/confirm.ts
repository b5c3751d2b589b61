/**
 * Every destructive action: show the dry run first (what would change), then act only on an explicit confirm.
 * `preview` is the dry-run call (or, for an operation without one, a description of its effect).
 */
import { ApiError, type Json } from "../api";
import { h, replace, type Child } from "../dom";

export interface ConfirmFlow {
  title: string;
  preview: () => Promise<Child>;
  confirmLabel: string;
  apply: () => Promise<Json>;
  done: (result: Json) => Child;
}

export function errorBox(error: unknown): HTMLElement {
  const msg = error instanceof ApiError || error instanceof Error ? error.message : String(error);
  return h("div", { class: "error", role: "alert" }, msg);
}

/** Renders the dry run into `slot`, with Confirm and Cancel; Confirm applies and shows the outcome. */
export async function dryRunThenConfirm(slot: HTMLElement, flow: ConfirmFlow, afterApply?: () => void): Promise<void> {
  replace(slot, h("div", { class: "dryrun" }, h("strong", {}, `${flow.title} — dry run`), h("p", { class: "muted" }, "Nothing has changed yet.")));
  let preview: Child;
  try {
    preview = await flow.preview();
  } catch (error) {
    replace(slot, errorBox(error));
    return;
  }
  const box = h("div", { class: "dryrun", "data-testid": "dry-run" }, h("strong", {}, `${flow.title} — dry run (nothing changed yet)`), preview);
  const confirm = h("button", {
    class: "danger",
    "data-testid": "confirm",
    onclick: () => {
      confirm.setAttribute("disabled", "");
      flow
        .apply()
        .then((result) => {
          replace(slot, h("div", { class: "card", "data-testid": "applied" }, flow.done(result)));
          afterApply?.();
        })
        .catch((error: unknown) => replace(slot, errorBox(error)));
    },
  }, flow.confirmLabel);
  const cancel = h("button", { onclick: () => replace(slot) }, "Cancel");
  box.append(h("p", {}, confirm, " ", cancel));
  replace(slot, box);
}
