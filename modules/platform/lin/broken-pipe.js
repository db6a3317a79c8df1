/*
 * Linux simulator only (the manifest's lin platform): ignore SIGPIPE so that
 * a write to a vanished peer fails with EPIPE instead of ending mcsim. The C
 * side (broken-pipe.c) says why; broken-pipe.d.ts types it.
 */
export function ignoreBrokenPipes() @ "xs_capsync_ignore_broken_pipes";
