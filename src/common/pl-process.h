/* pl-process.h — what a process holds, and how long its main loop stalls
 *
 * GLib only: every Partyline program can use it, the server included.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The calling process's threads, open file descriptors (less the one that
 * counts them) and resident set in KiB, read from /proc. */
guint   pl_process_count_threads   (void);
guint   pl_process_count_fds       (void);
guint64 pl_process_get_rss_kib     (void);

/* Raises the process's open-file limit to its hard limit. A call holds
 * 10–30 descriptors: the usual 1024 runs out near 31 calls (docs/webrtcbin-1.22.md,
 * "Measured on this platform").
 * Every Partyline program calls this at start-up. */
void    pl_process_raise_fd_limit  (void);

/* Starts measuring how long the thread-default main loop goes without
 * dispatching (a high-priority tick every 2 ms: any lateness is a stall).
 * Idempotent. */
void    pl_loop_probe_start        (void);
/* The longest stall since the probe started or was last reset, and the
 * longest less the time the main thread waited for a CPU (runnable, but
 * another thread had it): the longest the loop itself was busy or blocked;
 * -1 when off. */
double  pl_loop_probe_take_max_stall_ms (gboolean reset);
double  pl_loop_probe_get_max_busy_ms   (void);

G_END_DECLS
