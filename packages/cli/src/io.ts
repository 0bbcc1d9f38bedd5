/** Terminal conventions: data on stdout, diagnostics on stderr, colour only when wanted. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  color: boolean;
  /** True when stderr is a terminal: progress lines are shown only then. */
  interactive: boolean;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export function processIo(noColorFlag: boolean): Io {
  const color = !noColorFlag && process.stdout.isTTY === true && !('NO_COLOR' in process.env) && process.env.TERM !== 'dumb';
  return {
    out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
    err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
    color,
    interactive: process.stderr.isTTY === true,
    env: process.env,
    cwd: process.cwd(),
  };
}

export function progress(io: Io, message: string): void {
  if (io.interactive) io.err(`… ${message}`);
}
