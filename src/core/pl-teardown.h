/* pl-teardown.h — pipelines to NULL off the main loop
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>
#include <gst/gst.h>

G_BEGIN_DECLS

/* Sets @pipeline to GST_STATE_NULL on a small worker pool and calls
 * @callback on the calling thread's default main context when it is there.
 * NULL costs 5–10 ms per call, so a group hang-up done on the main loop
 * would stall it; the pool runs them side by side. The caller must keep its
 * own reference to @pipeline until @callback runs, and drop it on the main
 * thread (the worker's is gone by then). */
void     pl_teardown_to_null_async  (GstElement         *pipeline,
                                     GAsyncReadyCallback callback,
                                     gpointer            user_data);
gboolean pl_teardown_to_null_finish (GAsyncResult *result,
                                     GError      **error);

G_END_DECLS
