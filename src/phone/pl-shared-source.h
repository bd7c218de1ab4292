/* pl-shared-source.h — one capture and one Opus encoder for many calls
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>
#include <gst/gst.h>

#include "pl-media-private.h"
#include "pl-phone-error.h"

G_BEGIN_DECLS

#define PL_TYPE_SHARED_SOURCE (pl_shared_source_get_type ())

/* The Opus payload type of the offers Partyline makes. */
#define PL_OFFER_PAYLOAD_TYPE 96

G_DECLARE_FINAL_TYPE (PlSharedSource, pl_shared_source, PL, SHARED_SOURCE, GObject)

/* One call's tap on the shared source. */
typedef struct _PlSharedBranch PlSharedBranch;

/* What the calls of a process send, encoded once per source and payload type:
 *
 *   source-*.pipeline ! audio-send.pipeline (payload @payload_type) ! tee
 *
 * in a pipeline of its own. Each call's pipeline starts with a proxysrc fed
 * by a proxysink on a tee pad, and runs on the shared pipeline's clock and
 * base time. Every call holds a ref; the last one, dropped once that call's
 * pipeline is in NULL, takes the shared pipeline to NULL.
 *
 * Signals, on the main context: "failed" (const GError *, PL_CALL_ERROR_SOURCE)
 * when the source cannot go on, "level" (double dB) ten times a second. */
/* The process's shared source for what @config sends, encoded with
 * @payload_type: every line and call of the process that sends the same
 * thing shares it. A new ref. Main thread. */
PlSharedSource *pl_shared_source_get              (const PlMediaConfig *config,
                                                   int                  payload_type);
int             pl_shared_source_get_payload_type (PlSharedSource *self);

/* The RTP payload of one encoded frame of silence, as audio-send.pipeline
 * encodes it (same frame duration); NULL until the source has started. A
 * muted call sends it in place of each frame, keeping its RTP stream going. */
GBytes         *pl_shared_source_get_silence      (PlSharedSource *self);

/* Worker threads only (they block). */

/* Encodes the silence of @payload_type ahead of the first call. */
void            pl_shared_source_prewarm          (int payload_type);


/* Starts the shared pipeline if it is not running, puts a proxysrc (returned
 * in @out_src, a full ref) for the head of @call_pipeline and slaves
 * @call_pipeline to the shared clock. The branch carries no data until
 * pl_shared_source_connect (), once @call_pipeline is PLAYING. */
PlSharedBranch *pl_shared_source_add_branch       (PlSharedSource *self,
                                                   GstElement     *call_pipeline,
                                                   GstElement    **out_src,
                                                   GError        **error);
gboolean        pl_shared_source_connect          (PlSharedSource *self,
                                                   PlSharedBranch *branch,
                                                   GError        **error);
/* Unlinks the branch while no buffer crosses it and releases its tee pad:
 * before the call's pipeline goes to NULL. Frees @branch. */
void            pl_shared_source_remove_branch    (PlSharedSource *self,
                                                   PlSharedBranch *branch);

G_END_DECLS
