import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { exposeExtractionBench } from './lib/extraction-bench.ts';
import { exposeStoresForTests } from './stores/inspection.ts';
import './styles.css';

exposeStoresForTests();
exposeExtractionBench();
const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
