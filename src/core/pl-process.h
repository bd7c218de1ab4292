/* pl-process.h — what a phone process holds, for tests and benchmarks
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  guint   calls;        /* PlCall objects not yet finalized */
  guint   peers;        /* PlPeer objects not yet finalized */
  guint   webrtcbins;   /* webrtcbin elements not yet finalized */
  guint   nice_agents;  /* libnice agents not yet finalized */
  guint   threads;
  guint   fds;
  guint64 rss_kib;
  double  max_stall_ms; /* longest main-loop stall since the last reset, or -1 */
  double  max_busy_ms;  /* the same less the time the main thread waited for a
                         * CPU (runnable, but another thread had it): the
                         * longest the loop itself was busy or blocked */
} PlResources;

void pl_resources_get (PlResources *out);

/* Raises the process's open-file limit to its hard limit. A call holds
 * 10–30 descriptors: the usual 1024 runs out near 31 calls (docs/webrtcbin-1.22.md,
 * "Measured on this platform").
 * Every Partyline program calls this at start-up. */
void pl_resources_raise_fd_limit (void);

/* Starts measuring how long the thread-default main loop goes without
 * dispatching (a high-priority tick every 2 ms: any lateness is a stall).
 * Idempotent. */
void pl_loop_probe_start (void);
/* The longest stall since the probe started or was last reset, and the
 * longest less run-queue waits (see PlResources); -1 when off. */
double pl_loop_probe_take_max_stall_ms (gboolean reset);
double pl_loop_probe_get_max_busy_ms   (void);

/* Counters the core's objects keep (internal). */
void _pl_resources_add (int *counter,
                        int  delta);

extern int _pl_resources_calls;
extern int _pl_resources_peers;
extern int _pl_resources_webrtcbins;
extern int _pl_resources_nice_agents;

G_END_DECLS
