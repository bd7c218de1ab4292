/* pl-call.h — one call between this line and a remote number
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "pl-protocol.h"
#include "pl-types.h"
#include "pl-phone-error.h"

G_BEGIN_DECLS

typedef enum {
  PL_CALL_STATE_NEW,        /* outgoing, the offer is being made */
  PL_CALL_STATE_DIALING,    /* offer sent */
  PL_CALL_STATE_RINGING,    /* the callee is alerting */
  PL_CALL_STATE_INCOMING,   /* waits for our answer */
  PL_CALL_STATE_CONNECTING, /* answer applied, ICE and DTLS running */
  PL_CALL_STATE_ACTIVE,     /* webrtcbin's connection-state is connected */
  PL_CALL_STATE_ENDED,      /* the pipeline is in NULL */
} PlCallState;

typedef enum {
  PL_CALL_DIRECTION_OUTGOING,
  PL_CALL_DIRECTION_INCOMING,
} PlCallDirection;

#define PL_TYPE_CALL (pl_call_get_type ())

G_DECLARE_FINAL_TYPE (PlCall, pl_call, PL, CALL, GObject)

const char     *pl_call_get_id             (PlCall *self);
const char     *pl_call_get_peer           (PlCall *self);
PlCallDirection pl_call_get_direction      (PlCall *self);
PlCallState     pl_call_get_state          (PlCall *self);
gboolean        pl_call_is_ending          (PlCall *self);
/* The hang-up reason (a protocol reason) once ending, else NULL. */
const char     *pl_call_get_reason         (PlCall *self);
/* Why the call failed on this side (PL_CALL_ERROR_SOURCE: the microphone
 * or source file cannot be opened), or NULL. */
const GError   *pl_call_get_error          (PlCall *self);
/* Milliseconds, or a negative value while unknown. */
double          pl_call_get_setup_ms       (PlCall *self);
double          pl_call_get_duration_ms    (PlCall *self);
double          pl_call_get_teardown_ms    (PlCall *self);
gboolean        pl_call_get_muted          (PlCall *self);
void            pl_call_set_muted          (PlCall  *self,
                                            gboolean muted);

gboolean        pl_call_answer             (PlCall  *self,
                                            GError **error);
/* Answers after @delay_ms, unless the call ends first. */
void            pl_call_answer_after       (PlCall *self,
                                            guint   delay_ms);
/* Ends the call from any state; tells the other side with @reason when it
 * knows the call. Idempotent. The state becomes ENDED once the pipeline is
 * in NULL. */
void            pl_call_hang_up            (PlCall         *self,
                                            PlHangupReason  reason);
void            pl_call_request_stats      (PlCall *self);
char           *pl_call_dump_dot           (PlCall  *self,
                                            GError **error);

const char     *pl_call_state_to_string     (PlCallState state);
const char     *pl_call_direction_to_string (PlCallDirection direction);

G_END_DECLS
