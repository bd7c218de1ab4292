/* pl-worker.h — pipeline work off the main loop
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>
#include <gst/gst.h>

G_BEGIN_DECLS

/* Runs @func on a small worker pool of Partyline's own, like
 * g_task_run_in_thread () but not on GIO's shared pool. Building a call's
 * pipeline and changing its state cost 2–10 ms each: on the main loop a
 * group of calls would stall it. The task's callback runs on its context. */
void     pl_worker_run_in_thread    (GTask          *task,
                                     GTaskThreadFunc func);

/* Sets @pipeline to GST_STATE_NULL on the pool and calls @callback on the
 * calling thread's default main context when it is there. The caller must
 * keep its own reference to @pipeline until @callback runs, and drop it on
 * the main thread (the worker's is gone by then). */
void     pl_worker_set_null_async   (GstElement         *pipeline,
                                     GAsyncReadyCallback callback,
                                     gpointer            user_data);
gboolean pl_worker_set_null_finish  (GAsyncResult *result,
                                     GError      **error);

G_END_DECLS
