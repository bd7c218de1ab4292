/* pl-resources.h — what a phone process holds, for tests and benchmarks
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

/* The phone's objects, and the process figures of pl-process.h. */
void pl_resources_get (PlResources *out);

/* Counters the phone's objects keep (internal). */
void _pl_resources_add (int *counter,
                        int  delta);

extern int _pl_resources_calls;
extern int _pl_resources_peers;
extern int _pl_resources_webrtcbins;
extern int _pl_resources_nice_agents;

G_END_DECLS
