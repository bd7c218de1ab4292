/* pl-resources.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "pl-resources"

#include "config.h"

#include "pl-resources.h"
#include "pl-process.h"

int _pl_resources_calls;
int _pl_resources_peers;
int _pl_resources_webrtcbins;
int _pl_resources_nice_agents;

void
_pl_resources_add (int *counter,
                   int  delta)
{
  g_atomic_int_add (counter, delta);
}

void
pl_resources_get (PlResources *out)
{
  g_return_if_fail (out != NULL);

  out->calls = g_atomic_int_get (&_pl_resources_calls);
  out->peers = g_atomic_int_get (&_pl_resources_peers);
  out->webrtcbins = g_atomic_int_get (&_pl_resources_webrtcbins);
  out->nice_agents = g_atomic_int_get (&_pl_resources_nice_agents);
  out->fds = pl_process_count_fds ();
  out->threads = pl_process_count_threads ();
  out->rss_kib = pl_process_get_rss_kib ();
  out->max_busy_ms = pl_loop_probe_get_max_busy_ms ();
  out->max_stall_ms = pl_loop_probe_take_max_stall_ms (FALSE);
}
