/*
 * capsync, Linux simulator only: a peer that vanishes must not kill the app.
 *
 * A send() on a TCP socket whose peer has gone raises SIGPIPE, whose default
 * action ends the process (exit 141). The SDK ignores SIGPIPE while it
 * connects to the debugger and then restores the default
 * (xs/platforms/lin_xs.c, fxConnect), and the lin socket sends without
 * MSG_NOSIGNAL, so a cloud that dies mid-request would take mcsim with it.
 * Ignoring the signal turns it into what a board sees: send() fails with
 * EPIPE, the socket reports an error, sync backs off and retries.
 *
 * Called at boot and before each connection (fxConnect may run again if the
 * debugger reconnects). Returns true when the disposition was the default
 * (the call changed something), false when SIGPIPE was already ignored.
 */
#include "xsmc.h"
#include <signal.h>
#include <string.h>

void xs_capsync_ignore_broken_pipes(xsMachine *the)
{
	struct sigaction ignore, previous;
	memset(&ignore, 0, sizeof(ignore));
	ignore.sa_handler = SIG_IGN;
	sigemptyset(&ignore.sa_mask);
	if (sigaction(SIGPIPE, &ignore, &previous) != 0)
		xsUnknownError("sigaction(SIGPIPE) failed");
	xsmcSetBoolean(xsResult, previous.sa_handler != SIG_IGN);
}
