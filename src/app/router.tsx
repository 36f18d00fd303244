// A tiny History-API router: one path per page, shareable URLs, and the query string (`?backend=`) carried across
// navigation so a forced backend survives moving between pages. No dependency: the app has a few flat routes.
import { type MouseEvent, type ReactNode, useSyncExternalStore } from 'react';

export const PAGES = [
  { path: '/slides', title: 'Slides' },
  { path: '/federation', title: 'Federation' },
  { path: '/inference', title: 'Inference' },
  { path: '/privacy', title: 'Privacy' },
  { path: '/settings', title: 'Settings' },
  { path: '/demo', title: 'Demo' },
  { path: '/admin', title: 'Admin' },
  { path: '/benchmark', title: 'Workstation check' },
] as const;
export type PagePath = (typeof PAGES)[number]['path'];

/** The page a pathname names, or null for an unknown one ('/' and a trailing slash name the federation page). */
export function pageOf(pathname: string): PagePath | null {
  const trimmed = pathname.length > 1 ? pathname.replace(/\/+$/, '') : pathname;
  if (trimmed === '/' || trimmed === '') return '/federation';
  return PAGES.find((p) => p.path === trimmed)?.path ?? null;
}

const NAVIGATE_EVENT = 'cipherpath:navigate';

function subscribe(onChange: () => void): () => void {
  window.addEventListener('popstate', onChange);
  window.addEventListener(NAVIGATE_EVENT, onChange);
  return () => {
    window.removeEventListener('popstate', onChange);
    window.removeEventListener(NAVIGATE_EVENT, onChange);
  };
}

const snapshot = () => `${window.location.pathname}${window.location.search}`;

/** The current pathname and query, re-rendering on navigation. */
export function useLocation(): { pathname: string; search: string } {
  const current = useSyncExternalStore(subscribe, snapshot);
  const q = current.indexOf('?');
  return q < 0 ? { pathname: current, search: '' } : { pathname: current.slice(0, q), search: current.slice(q) };
}

/** Keeps the app-wide `backend` parameter; page-specific parameters belong to the page they were set on. */
function carriedSearch(): string {
  const backend = new URLSearchParams(window.location.search).get('backend');
  return backend === null ? '' : `?${new URLSearchParams({ backend }).toString()}`;
}

export function hrefFor(path: string, params?: Record<string, string>): string {
  const query = new URLSearchParams(carriedSearch());
  for (const [k, v] of Object.entries(params ?? {})) query.set(k, v);
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

export function navigate(href: string, replace = false): void {
  if (replace) window.history.replaceState(null, '', href);
  else window.history.pushState(null, '', href);
  window.dispatchEvent(new Event(NAVIGATE_EVENT));
}

export function Link({ to, params, children, className, current }: { to: string; params?: Record<string, string>; children: ReactNode; className?: string; current?: boolean }) {
  const href = hrefFor(to, params);
  const onClick = (e: MouseEvent<HTMLAnchorElement>) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(href);
    window.scrollTo(0, 0);
  };
  return (
    <a href={href} onClick={onClick} className={className} aria-current={current ? 'page' : undefined}>
      {children}
    </a>
  );
}
