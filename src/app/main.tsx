import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { finishPendingErase } from './lib/erase.ts';
import './styles.css';

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
// An erase interrupted by open database connections is finished before any store opens a database again.
void finishPendingErase()
  .catch((e: unknown) => console.error('erasing local data failed', e))
  .finally(() =>
    createRoot(root).render(
      <StrictMode>
        <App />
      </StrictMode>,
    ),
  );
