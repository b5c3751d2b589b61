/** Tiny DOM helpers: elements from tags, attributes and children; text is always set as text, never as HTML. */
export type Child = Node | string | number | null | undefined | false;

export function h(tag: string, attrs: Record<string, string | boolean | ((e: Event) => void)> = {}, ...children: Child[]): HTMLElement {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (typeof value === "function") el.addEventListener(key.replace(/^on/, ""), value);
    else if (value === true) el.setAttribute(key, "");
    else if (value !== false) el.setAttribute(key, value);
  }
  append(el, children);
  return el;
}

export function append(el: HTMLElement, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
  }
}

export function replace(el: HTMLElement, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

export function table(headers: string[], rows: Child[][]): HTMLElement {
  return h("table", {}, h("thead", {}, h("tr", {}, ...headers.map((t) => h("th", {}, t)))), h("tbody", {}, ...rows.map((r) => h("tr", {}, ...r.map((c) => h("td", {}, c))))));
}

export function when(iso: unknown): string {
  return typeof iso === "string" ? iso.replace("T", " ").slice(0, 16) + " UTC" : "—";
}

export function text(v: unknown): string {
  return v === null || v === undefined ? "—" : typeof v === "object" ? JSON.stringify(v) : String(v);
}
