/* pl-prewarm.h — the first call of a process costs what the others do
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Generates the process's DTLS key and certificate, loads the plugins
 * every call uses and encodes the shared source's silence for our offers'
 * payload type, on a worker thread and once per process, so that the
 * first call of a process is not slower than the others; completes when
 * it is ready. */
void     pl_prewarm_async  (GCancellable       *cancellable,
                            GAsyncReadyCallback callback,
                            gpointer            user_data);
gboolean pl_prewarm_finish (GAsyncResult *result,
                            GError      **error);

G_END_DECLS
