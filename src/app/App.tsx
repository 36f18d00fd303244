import { useMemo } from 'react';
import { readUrlOptions } from './lib/url-params.ts';
import { FederationPage } from './pages/FederationPage.tsx';

export function App() {
  const options = useMemo(() => readUrlOptions(window.location.search), []);
  return (
    <>
      <header className="topbar">
        <span className="brand">cipherpath</span>
        <span className="tagline">Images stay in this browser. Only encrypted features leave it.</span>
      </header>
      <main>
        {options.errors.map((message) => (
          <p key={message} className="notice error" role="alert">
            {message}
          </p>
        ))}
        <FederationPage forcedBackend={options.backend} />
      </main>
    </>
  );
}
