/** The host's view of the graph: `validate` compiles it and prints the training program. */
import { useEffect, useState } from 'react';
import { errorMessage } from '../api';
import { structureOf, useEditor } from '../model/store';
import { validateDoc } from '../model/validation';
import { studio } from '../studio';

export function ProgramView() {
  const { editor, api } = studio();
  const doc = useEditor(editor, (s) => structureOf(s.doc));
  // validation results are reused while only positions change, so a drag does not re-ask the host
  const structure = validateDoc(doc);
  const [text, setText] = useState<string>('…');
  useEffect(() => {
    let live = true;
    const t = setTimeout(() => {
      api
        .call('validate', { doc })
        .then((r) => {
          if (!live) return;
          const errs = [...(r.documentErrors ?? []).map((e) => `document ${e.path}: ${e.message}`), ...r.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.nodeId ?? 'graph'}: ${d.message}`)];
          setText(r.program ?? (errs.length ? `Not compiled:\n${errs.join('\n')}` : 'Not compiled.'));
        })
        .catch((err) => live && setText(`validate failed: ${errorMessage(err)}`));
    }, 300);
    return () => {
      live = false;
      clearTimeout(t);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [structure, api]);
  return <pre className="program">{text}</pre>;
}
