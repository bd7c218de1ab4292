/* pl-process.c
 *
 * What a process holds, read from /proc, and the main-loop stall probe.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "pl-process"

#include "config.h"

#include "pl-process.h"

#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#define PROBE_TICK_MS 2

static guint probe_id;
static gint64 probe_last;
static gint64 probe_waited_ns;
static double probe_max_stall_ms = -1;
static double probe_max_busy_ms = -1;

static guint
count_entries (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  guint n = 0;

  if (dir == NULL)
    return 0;
  while (g_dir_read_name (dir) != NULL)
    n++;

  return n;
}

guint64
pl_process_get_rss_kib (void)
{
  g_autofree char *status = NULL;
  const char *line;
  guint64 kib = 0;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
    return 0;
  line = strstr (status, "\nVmRSS:");
  if (line != NULL)
    sscanf (line + strlen ("\nVmRSS:"), "%" G_GUINT64_FORMAT, &kib);

  return kib;
}

guint
pl_process_count_threads (void)
{
  return count_entries ("/proc/self/task");
}

guint
pl_process_count_fds (void)
{
  /* The directory handle itself is one of the descriptors. */
  return count_entries ("/proc/self/fd") - 1;
}

void
pl_process_raise_fd_limit (void)
{
  struct rlimit limit;

  if (getrlimit (RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    if (setrlimit (RLIMIT_NOFILE, &limit) != 0)
      g_debug ("could not raise the open-file limit");
  }
}

/* Nanoseconds the calling thread has spent runnable on a run queue while
 * another thread had the CPU (the second field of schedstat); -1 when the
 * kernel does not say. The probe runs on the main thread. */
static gint64
read_run_queue_wait_ns (void)
{
  g_autofree char *text = NULL;
  guint64 on_cpu, waited;

  if (!g_file_get_contents ("/proc/thread-self/schedstat", &text, NULL, NULL) ||
      sscanf (text, "%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT, &on_cpu, &waited) != 2)
    return -1;

  return waited;
}

static gboolean
on_probe_tick (gpointer user_data)
{
  gint64 now = g_get_monotonic_time ();
  gint64 waited = read_run_queue_wait_ns ();
  double stall_ms = (now - probe_last) / 1000.0 - PROBE_TICK_MS;
  double busy_ms = stall_ms;

  /* On two loaded cores, waiting for a CPU is most of a "stall"; what is
   * left is time the loop itself was busy or blocked. */
  if (waited >= 0 && probe_waited_ns >= 0)
    busy_ms -= (waited - probe_waited_ns) / 1e6;

  probe_max_stall_ms = MAX (probe_max_stall_ms, stall_ms);
  probe_max_busy_ms = MAX (probe_max_busy_ms, busy_ms);
  probe_last = now;
  probe_waited_ns = waited;

  return G_SOURCE_CONTINUE;
}

static void
probe_reset (void)
{
  probe_last = g_get_monotonic_time ();
  probe_waited_ns = read_run_queue_wait_ns ();
  probe_max_stall_ms = 0;
  probe_max_busy_ms = 0;
}

void
pl_loop_probe_start (void)
{
  if (probe_id != 0)
    return;

  probe_reset ();
  probe_id = g_timeout_add_full (G_PRIORITY_HIGH, PROBE_TICK_MS, on_probe_tick, NULL, NULL);
}

double
pl_loop_probe_take_max_stall_ms (gboolean reset)
{
  double max = probe_max_stall_ms;

  if (reset && probe_id != 0)
    probe_reset ();

  return max;
}

double
pl_loop_probe_get_max_busy_ms (void)
{
  return probe_max_busy_ms;
}
