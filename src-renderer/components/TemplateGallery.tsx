/** Every bundled template with its description and a thumbnail; opening one gives an editable copy. */
import { useEffect } from 'react';
import { useStore } from '../model/ui';
import { loadTemplates, newDocument, openTemplate, studio } from '../studio';
import { Modal } from './Modal';
import { Thumbnail } from './Thumbnail';

export function TemplateGallery() {
  const { ui } = studio();
  const templates = useStore(ui, (s) => s.templates);
  const error = useStore(ui, (s) => s.templatesError);
  useEffect(() => {
    void loadTemplates();
  }, []);
  return (
    <Modal title="Templates" onClose={() => ui.set({ modal: null })} wide>
      <p className="muted">Open a template to get an editable copy. Each shows its structure; colours are node families.</p>
      {error ? <div className="diag-line diag-error">Could not load templates: {error}</div> : null}
      {!templates && !error ? <div className="muted">Loading…</div> : null}
      <div className="gallery" data-testid="template-gallery">
        {templates?.map((t) => (
          <button key={t.id} className="card" onClick={() => openTemplate(t)} data-template={t.id}>
            <Thumbnail doc={t.doc} />
            <div className="card-title">{t.title}</div>
            <div className="card-meta">
              <span className="chip chip-dim">{t.dataset}</span> <span className="muted">{t.doc.nodes.length} nodes</span>
            </div>
            <div className="card-desc">{t.description}</div>
          </button>
        ))}
        <button
          className="card card-blank"
          onClick={() => {
            newDocument();
            ui.set({ modal: null });
          }}
        >
          <div className="blank-plus">+</div>
          <div className="card-title">Blank graph</div>
          <div className="card-desc">Start from an empty canvas and drag nodes from the palette.</div>
        </button>
      </div>
    </Modal>
  );
}
