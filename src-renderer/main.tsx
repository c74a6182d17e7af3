import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import '@xyflow/react/dist/style.css';
import 'katex/dist/katex.min.css';
import 'uplot/dist/uPlot.min.css';
import './styles/app.css';
import { App } from './components/App';
import { loadDocument, studio } from './studio';
import { asDocument } from './studio';

// a small handle for end-to-end tests and the devtools console
(window as unknown as { __genloom: unknown }).__genloom = {
  getDoc: () => studio().editor.getState().doc,
  loadDoc: (raw: unknown) => {
    const d = asDocument(raw);
    if (!d.doc) throw new Error(d.error);
    loadDocument(d.doc);
  },
  state: () => ({ editor: studio().editor.getState(), run: studio().training.getState(), ui: studio().ui.getState() }),
};

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
