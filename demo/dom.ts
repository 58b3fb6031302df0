/** Typed element lookup for the page's fixed ids. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (!e) throw new Error(`demo page is missing #${id}`);
  return e as T;
}
