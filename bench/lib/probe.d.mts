/** Types of bench/lib/probe.mjs (plain JavaScript, so that the peer runs without a TS loader). */
export function answerCommands(
  extra?: Record<string, (args: Record<string, unknown>) => unknown>,
): void;
