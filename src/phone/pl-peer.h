/* pl-peer.h — one call's webrtcbin pipeline
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>
#include <gst/gst.h>
#include <gst/webrtc/webrtc.h>

#include "pl-media-private.h"
#include "pl-types.h"
#include "pl-shared-source.h"

G_BEGIN_DECLS

#define PL_TYPE_PEER (pl_peer_get_type ())

G_DECLARE_FINAL_TYPE (PlPeer, pl_peer, PL, PEER, GObject)

PlPeer     *pl_peer_new                    (const char          *call_id,
                                            const char          *name,
                                            GCancellable        *cancellable,
                                            const PlMediaConfig *config,
                                            PlSharedSource      *shared_source);
/* Builds the pipeline from pipelines/ and sets it PLAYING on the worker pool;
 * completes on the main context (G_IO_ERROR_CANCELLED if it was closed
 * meanwhile). Nothing else may be asked of the peer before. */
void        pl_peer_start_async            (PlPeer             *self,
                                            GAsyncReadyCallback callback,
                                            gpointer            user_data);
gboolean    pl_peer_start_finish           (PlPeer       *self,
                                            GAsyncResult *result,
                                            GError      **error);
void        pl_peer_create_offer           (PlPeer *self);
void        pl_peer_create_answer          (PlPeer *self);
void        pl_peer_set_remote_description (PlPeer          *self,
                                            GstWebRTCSDPType type,
                                            const char      *sdp);
void        pl_peer_add_ice_candidate      (PlPeer     *self,
                                            guint       mline_index,
                                            const char *candidate);
void        pl_peer_set_muted              (PlPeer  *self,
                                            gboolean muted);
void        pl_peer_request_stats          (PlPeer *self);
char       *pl_peer_dump_dot               (PlPeer  *self,
                                            GError **error);

/* The teardown recipe of docs/webrtcbin-1.22.md: stop our callbacks, drain
 * webrtcbin's operation queue, NULL on the teardown pool, drop the pipeline
 * on the main thread. Completes once the pipeline is in NULL. Idempotent. */
void        pl_peer_close_async            (PlPeer             *self,
                                            GAsyncReadyCallback callback,
                                            gpointer            user_data);
gboolean    pl_peer_close_finish           (PlPeer       *self,
                                            GAsyncResult *result,
                                            GError      **error);

G_END_DECLS
