import { isApiError } from '@aitbc/sdk';
import { type Child, h, mount } from './dom.js';

/** The page frame both apps share: header with navigation, the main region, and a polite live region. */
export interface AppShell {
  readonly main: HTMLElement;
  /** Announces a short message to screen readers (and shows it in the status line). */
  announce(message: string): void;
  /** Marks the navigation link of the current route. */
  setCurrent(href: string): void;
}

/** Builds the frame inside `#app`. `extra` goes in the header (the explorer's search form). */
export function createShell(
  title: string,
  home: string,
  nav: readonly (readonly [string, string])[],
  extra?: Child,
): AppShell {
  const root = document.getElementById('app') as HTMLElement;
  const status = h('p', { class: 'status', role: 'status', 'aria-live': 'polite', id: 'live' });
  const links = nav.map(([href, label]) => h('a', { href }, label));
  const main = h('main', { id: 'main', tabindex: '-1' });
  mount(
    root,
    h(
      'header',
      { class: 'top' },
      h('a', { class: 'brand', href: home }, title),
      h('nav', { 'aria-label': 'Sections' }, links),
      extra,
      h(
        'nav',
        { class: 'apps', 'aria-label': 'Apps' },
        h('a', { href: '/explorer/' }, 'Explorer'),
        h('a', { href: '/marketplace/' }, 'Marketplace'),
      ),
    ),
    main,
    status,
  );
  return {
    main,
    announce(message) {
      status.textContent = message;
    },
    setCurrent(href) {
      for (const a of links)
        if (a.getAttribute('href') === href) a.setAttribute('aria-current', 'page');
        else a.removeAttribute('aria-current');
    },
  };
}

/** A user-facing sentence for an error from the SDK (or anything else). */
export function describeError(e: unknown): string {
  if (isApiError(e)) {
    if (e.status === 404) return `Not found (${e.code}).`;
    if (e.status === 502) return `The ${e.service} service is unreachable (${e.code}).`;
    return `${e.message} (${e.code}).`;
  }
  const code = (e as { code?: unknown })?.code;
  if (code === 'SDK_NETWORK') return 'The server is unreachable: check that the node is running.';
  if (code === 'SDK_TIMEOUT') return 'The server did not answer in time.';
  if (typeof code === 'string') return `${(e as Error).message} (${code}).`;
  return e instanceof Error ? e.message : String(e);
}

/** An error panel (role `alert`) with a heading and the error's sentence. */
export function errorPanel(heading: string, e: unknown): HTMLElement {
  return h('section', { class: 'panel error', role: 'alert' }, h('h2', {}, heading), h('p', {}, describeError(e)));
}

/** A panel with a heading and children. */
export function panel(heading: string, ...children: Child[]): HTMLElement {
  return h('section', { class: 'panel' }, h('h2', {}, heading), ...children);
}

/**
 * A hash router: `#/block/5` → the handler of `block` with `['5']`. Each navigation gets a fresh
 * `AbortSignal` (aborted when the route changes) so views can stop their subscriptions.
 */
export function startHashRouter(
  routes: Readonly<Record<string, (args: string[], signal: AbortSignal) => Promise<void> | void>>,
  onRoute: (href: string) => void,
): void {
  let current: AbortController | undefined;
  const run = () => {
    current?.abort();
    const ac = new AbortController();
    current = ac;
    const path = location.hash.replace(/^#\/?/, '').split('?')[0] ?? '';
    const parts = path.split('/').map((p) => decodeURIComponent(p));
    const name = parts[0] ?? '';
    const handler = routes[name] ?? routes['404'];
    onRoute(`#/${name}`);
    void Promise.resolve(handler?.(parts.slice(1), ac.signal)).catch(() => undefined);
  };
  window.addEventListener('hashchange', run);
  run();
}
