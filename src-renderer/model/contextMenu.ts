/**
 * The canvas's right-click menu: which items it offers on a node, an edge or the empty
 * canvas, and how the arrow keys move through them. Plain TypeScript; the component runs
 * the chosen item.
 */
import type { MenuTarget } from './ui';

export type MenuAction = 'duplicate' | 'delete-node' | 'disconnect' | 'show-equation' | 'delete-edge' | 'add-node' | 'fit-view' | 'paste';

export interface MenuItem {
  action: MenuAction;
  label: string;
  /** the keyboard shortcut that does the same, shown beside the label */
  hint?: string;
  disabled?: boolean;
}

export interface MenuContext {
  /** something has been copied (paste is offered only then) */
  hasClip: boolean;
  /** the node's number of edges (disconnect all is disabled without any) */
  edgeCount?: number;
}

export function menuItems(target: MenuTarget, ctx: MenuContext): MenuItem[] {
  if (target.kind === 'node')
    return [
      { action: 'duplicate', label: 'Duplicate' },
      { action: 'delete-node', label: 'Delete', hint: 'Del' },
      { action: 'disconnect', label: 'Disconnect all', disabled: ctx.edgeCount === 0 },
      { action: 'show-equation', label: 'Show equation' },
    ];
  if (target.kind === 'edge') return [{ action: 'delete-edge', label: 'Delete edge', hint: 'Del' }];
  const items: MenuItem[] = [
    { action: 'add-node', label: 'Add node here…' },
    { action: 'fit-view', label: 'Fit view', hint: 'F' },
  ];
  if (ctx.hasClip) items.push({ action: 'paste', label: 'Paste here', hint: 'Ctrl+V' });
  return items;
}

/** the item the arrow keys, Home and End move to from `active`, skipping disabled items (wrapping round); null for other keys */
export function moveActive(items: readonly MenuItem[], active: number, key: string): number | null {
  const enabled = items.map((it, i) => (it.disabled ? -1 : i)).filter((i) => i >= 0);
  if (!enabled.length) return null;
  if (key === 'Home') return enabled[0]!;
  if (key === 'End') return enabled[enabled.length - 1]!;
  if (key !== 'ArrowDown' && key !== 'ArrowUp') return null;
  const step = key === 'ArrowDown' ? 1 : -1;
  for (let k = 1; k <= items.length; k++) {
    const i = (((active + step * k) % items.length) + items.length) % items.length;
    if (!items[i]!.disabled) return i;
  }
  return active;
}

/** the first enabled item */
export const firstEnabled = (items: readonly MenuItem[]): number => Math.max(0, items.findIndex((it) => !it.disabled));

/** whether an event comes from a field being typed into (the menu and the shortcuts leave it alone) */
export function isTyping(target: EventTarget | null): boolean {
  const el = target as { tagName?: string; isContentEditable?: boolean } | null;
  return !!el && (el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT' || !!el.isContentEditable);
}
