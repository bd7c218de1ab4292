/* pl-call-private.h — what PlLine uses of PlCall
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "pl-call.h"
#include "pl-protocol.h"
#include "pl-shared-source.h"
#include "pl-signaling-client.h"

G_BEGIN_DECLS

/* Builds the pipeline, fed by @source, and makes the offer; `call` goes out
 * with it. A pipeline that cannot be built ends the call with reason
 * "failed", one that nobody answers in @ring_timeout_s (0: never) with
 * reason "timeout". */
PlCall *_pl_call_new_outgoing   (PlSignalingClient   *signaling,
                                 const char          *peer,
                                 const PlMediaConfig *config,
                                 PlSharedSource      *source,
                                 guint                ring_timeout_s,
                                 gint64               dialed_at);
/* Builds the pipeline for an offer that arrived and applies it; @source
 * sends Opus with the payload type of the offer. */
PlCall *_pl_call_new_incoming   (PlSignalingClient   *signaling,
                                 const PlMessage     *call_msg,
                                 const PlMediaConfig *config,
                                 PlSharedSource      *source);
/* A message for this call (same call_id), already validated. */
void    _pl_call_handle_message (PlCall          *self,
                                 const PlMessage *msg);
/* The signaling connection is gone: end without telling anyone. */
void    _pl_call_lost           (PlCall         *self,
                                 PlHangupReason  reason);

G_END_DECLS
