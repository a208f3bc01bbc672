/** A child of {@link h}: text, a node, or nothing (skipped). */
export type Child = Node | string | number | bigint | null | undefined | false;

/** Attributes of {@link h}: strings (or `true` for a bare attribute); `on*` functions become listeners. */
export type Attrs = Record<string, string | number | boolean | undefined | ((event: Event) => void)>;

/**
 * Creates an element: `h('a', { href: '#/block/1' }, 'Block 1')`. Text children are text nodes,
 * never HTML, so server data can't inject markup.
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Child | readonly Child[])[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.slice(2).toLowerCase(), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

/** Replaces the children of `parent`. */
export function mount(parent: Element, ...children: (Child | readonly Child[])[]): void {
  parent.replaceChildren();
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    parent.append(c instanceof Node ? c : String(c));
  }
}

/** A two-column definition list of label → value rows (rows with an `undefined` value are left out). */
export function fields(rows: readonly (readonly [string, Child | readonly Child[]])[]): HTMLDListElement {
  return h(
    'dl',
    { class: 'fields' },
    rows.filter(([, v]) => v !== undefined).flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, ...[v].flat())]),
  );
}

/** A table with a caption and a header row; `empty` is shown (in one row) when there are no rows. */
export function table(
  caption: string,
  head: readonly string[],
  rows: readonly (readonly Child[])[],
  empty: string,
): HTMLElement {
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      {},
      h('caption', {}, caption),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          head.map((c) => h('th', { scope: 'col' }, c)),
        ),
      ),
      h(
        'tbody',
        {},
        rows.length === 0
          ? h('tr', {}, h('td', { colspan: head.length, class: 'empty' }, empty))
          : rows.map((r) =>
              h(
                'tr',
                {},
                r.map((c) => h('td', {}, c)),
              ),
            ),
      ),
    ),
  );
}
