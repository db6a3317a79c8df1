/**
 * Linux simulator only: set SIGPIPE to SIG_IGN (broken-pipe.c). True when it
 * was not ignored before this call.
 */
export function ignoreBrokenPipes(): boolean;
