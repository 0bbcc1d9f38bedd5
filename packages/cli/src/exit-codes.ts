import { DependencyError, IntegrityError, PhaseMirrorError } from '@phase-mirror/mirror-dissonance';

/** Exit codes of DESIGN §5. */
export const EXIT = {
  /** pass or warn */
  OK: 0,
  BLOCK: 1,
  /** a fail-closed dependency is down: the oracle did not decide */
  UNDECIDABLE: 2,
  /** usage or configuration error */
  USAGE: 3,
} as const;

export function exitCodeFor(error: unknown): number {
  if (error instanceof DependencyError || error instanceof IntegrityError) return EXIT.UNDECIDABLE;
  if (error instanceof PhaseMirrorError) return EXIT.USAGE;
  // An unexpected failure is not a decision either: fail closed.
  return EXIT.UNDECIDABLE;
}
