import { useEffect, useMemo } from 'react';
import { readUrlOptions } from './lib/url-params.ts';
import { AdminPage } from './pages/AdminPage.tsx';
import { BenchmarkPage } from './pages/BenchmarkPage.tsx';
import { DemoPage } from './pages/DemoPage.tsx';
import { FederationPage } from './pages/FederationPage.tsx';
import { InferencePage } from './pages/InferencePage.tsx';
import { PrivacyPage } from './pages/PrivacyPage.tsx';
import { SettingsPage } from './pages/SettingsPage.tsx';
import { SlidesPage } from './pages/SlidesPage.tsx';
import { Link, PAGES, pageOf, useLocation } from './router.tsx';
import { useTiles } from './stores/tiles.ts';

export function App() {
  const { pathname, search } = useLocation();
  const options = useMemo(() => readUrlOptions(search), [search]);
  const page = pageOf(pathname);
  const hydrate = useTiles((s) => s.hydrate);
  useEffect(() => {
    void hydrate();
  }, [hydrate]);
  useEffect(() => {
    const title = PAGES.find((p) => p.path === page)?.title ?? 'Page not found';
    document.title = `${title} · cipherpath`;
  }, [page]);
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <span className="brand">cipherpath</span>
        <span className="tagline">Images stay in this browser. Only encrypted features leave it.</span>
      </header>
      <nav className="nav" aria-label="Pages">
        <ul>
          {PAGES.map((p) => (
            <li key={p.path}>
              <Link to={p.path} current={p.path === page}>
                {p.title}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" tabIndex={-1}>
        {options.errors.map((message) => (
          <p key={message} className="notice error" role="alert">
            {message}
          </p>
        ))}
        {page === '/federation' ? <FederationPage forcedBackend={options.backend} /> : null}
        {page === '/slides' ? <SlidesPage forcedBackend={options.backend} /> : null}
        {page === '/inference' ? <InferencePage forcedBackend={options.backend} /> : null}
        {page === '/privacy' ? <PrivacyPage /> : null}
        {page === '/settings' ? <SettingsPage /> : null}
        {page === '/demo' ? <DemoPage forcedBackend={options.backend} /> : null}
        {page === '/admin' ? <AdminPage /> : null}
        {page === '/benchmark' ? <BenchmarkPage /> : null}
        {page === null ? (
          <div className="stack">
            <h1>Page not found</h1>
            <p role="alert" className="notice error">
              There is no page at “{pathname.slice(0, 80)}”. Choose one of the pages above, or go to the <Link to="/federation">Federation</Link> page.
            </p>
          </div>
        ) : null}
      </main>
    </>
  );
}
