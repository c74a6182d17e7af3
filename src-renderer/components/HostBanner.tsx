/**
 * Shown in web mode when the host cannot be reached with this page's address: it restarted
 * (new token: its socket refuses this page) or it has been down for a while. Edits go on
 * being kept in this browser (the localStorage autosave); pasting the address the host
 * printed reconnects without reloading, so nothing on the canvas is lost.
 */
import { useEffect, useState } from 'react';
import { useStore } from '../model/ui';
import { autosaveNow, studio } from '../studio';

/** how long the host may be unreachable before the banner offers a new address */
const DOWN_MS = 6000;

export function HostBanner() {
  const { ui, api } = studio();
  const conn = useStore(ui, (s) => s.connection);
  const [down, setDown] = useState(false);
  const [address, setAddress] = useState('');
  const [err, setErr] = useState<string>();
  useEffect(() => {
    if (conn !== 'closed' && conn !== 'connecting') return setDown(false);
    const t = setTimeout(() => setDown(true), DOWN_MS);
    return () => clearTimeout(t);
  }, [conn]);
  useEffect(() => {
    // keep the local copy current while the host is away
    if (conn === 'refused' || down) void autosaveNow();
  }, [conn, down]);
  if (api.transport !== 'websocket' || !api.retarget || conn === 'open' || !(conn === 'refused' || down)) return null;
  const submit = () => {
    const problem = api.retarget!(address);
    setErr(problem);
    if (!problem) setAddress('');
  };
  return (
    <div className="banner banner-host" role="alert" data-testid="host-banner">
      <span>
        {conn === 'refused' ? <b>The studio restarted</b> : <b>The studio host is not answering</b>}: paste the address it printed (http://…?token=…) to reconnect. Your edits are kept in this browser.
      </span>
      <input
        type="text"
        value={address}
        placeholder="http://127.0.0.1:…/?token=…"
        aria-label="new studio address"
        data-testid="host-address"
        onChange={(e) => setAddress(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter') submit();
        }}
      />
      <button className="primary" onClick={submit} data-testid="host-reconnect">
        Reconnect
      </button>
      {err ? <span className="field-err">{err}</span> : null}
    </div>
  );
}
