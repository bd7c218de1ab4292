/* pl-teardown.h — what is still to be released after a pipeline is in NULL
 *
 * The process-wide end of the teardown recipe (docs/webrtcbin-1.22.md,
 * teardown step 6): the count of lingering pipelines and who waits for none
 * to be left, the queue that drops their last refs on the main thread, and
 * the guard that finalizes every DTLS connection there (bug 20). Used by
 * pl-peer.c for the calls' pipelines and by pl-shared-source.c for its own.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>
#include <gst/gst.h>

G_BEGIN_DECLS

/* A pipeline going to NULL, or in NULL and not yet released, counts as
 * lingering between these two calls. Main thread. */
void     pl_teardown_lingering_hold          (void);
void     pl_teardown_lingering_release       (void);

/* Takes @pipeline, in NULL and held as lingering, and drops its last ref on
 * the main thread soon, but not in this dispatch (bug 13); then releases it
 * as lingering. Main thread. */
void     pl_teardown_release_pipeline_later  (GstElement *pipeline);

/* Completes, on the main context, when nothing is lingering any more:
 * pipelines held, and DTLS connections not yet released (bug 20). Main
 * thread. */
void     pl_teardown_wait_lingering_async    (GAsyncReadyCallback callback,
                                              gpointer            user_data);
gboolean pl_teardown_wait_lingering_finish   (GAsyncResult *result,
                                              GError      **error);

/* Any thread. Once GstDtlsConnection is registered (the first dtlsdec does
 * it), every connection made from then on is finalized on the main thread
 * and lingers until it is. Call it before a dtlsdec makes its connection. */
void     pl_teardown_guard_dtls_connections  (void);

G_END_DECLS
