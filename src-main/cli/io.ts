/** where a command writes: the terminal, or a buffer in tests */
export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  /** draw progress bars (a terminal), or print plain lines */
  isTTY?: boolean;
}
