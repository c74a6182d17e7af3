/** The Electron main bundle's entry (out/main/index.js). */
import { app } from 'electron';
import { startElectronApp } from './electronMain';

startElectronApp().catch((e) => {
  console.error('[genloom] cannot start:', e);
  app.exit(1);
});
