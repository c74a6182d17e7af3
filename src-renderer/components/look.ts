/** The theme's colours for what is drawn on a canvas (charts, samples), read from its CSS custom properties. */
import { resolveTheme } from '../model/prefs';
import { useStore } from '../model/ui';
import { studio } from '../studio';

/** a custom property of the root element (the theme in force), or the fallback */
export function cssVar(name: string, fallback: string): string {
  if (typeof document === 'undefined') return fallback;
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

/** changes whenever the colours do: the theme shown and presentation mode */
export function useLookKey(): string {
  const { ui } = studio();
  return useStore(ui, (s) => `${resolveTheme(s.theme, s.systemDark)}${s.presentation ? ':presenting' : ''}`);
}
